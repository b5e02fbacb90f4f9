"""Production mode (``SATUPINTU_ENVIRONMENT=production``): settings holding a key or a password refuse a built-in
development default or an unset secret that would be made up on the spot, and verify staff tokens only with the keys
of a sign-in provider named by its issuer URL, without echoing any secret; development keeps its defaults;
``satupintu-token`` gives no local user's token and uses no development secret."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from satupintu.common.auth import generate_keypair
from satupintu.common.production import Secret, development_defaults
from satupintu.common.settings import AuthSettings, DatabaseSettings, ServiceSettings
from satupintu.common.token_command import main as token_main

pytestmark = pytest.mark.unit


class ExampleSettings(ServiceSettings):
    """A service with one secret of each kind."""

    model_config = SettingsConfigDict(env_prefix="EXAMPLE_", extra="ignore")

    hash_key: Annotated[str, Secret()] = Field(default="local-development-key", description="A built-in default.")
    data_key: Annotated[str | None, Secret()] = Field(default=None, description="Unset: made up on the spot.")
    smtp_password: Annotated[SecretStr | None, Secret(required=False)] = Field(
        default=None, description="Unset: a feature off."
    )
    page_size: int = Field(default=100, description="Not a secret.")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SATUPINTU_ENVIRONMENT", "DATABASE_URL", "AUTH_PUBLIC_KEY_PEM", "AUTH_PRIVATE_KEY_PATH"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AUTH_PUBLIC_KEY_PATH", "AUTH_JWKS_URL", "AUTH_ISSUER", "EXAMPLE_HASH_KEY", "EXAMPLE_DATA_KEY"):
        monkeypatch.delenv(name, raising=False)


PROVIDER_ISSUER = "https://login.mpp.example.go.id/realms/satupintu"


def fit_settings(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "database": DatabaseSettings(url="postgresql://example:s3cret-password@db.example:5432/postgres"),
        "auth": AuthSettings(issuer=PROVIDER_ISSUER, jwks_url=f"{PROVIDER_ISSUER}/protocol/openid-connect/certs"),
        "hash_key": "installation-hash-key-0123456789",
        "data_key": "installation-data-key-0123456789",
    }
    return values | overrides


def test_development_keeps_its_defaults_and_lists_what_production_would_refuse() -> None:
    settings = ExampleSettings()

    assert settings.environment == "development"
    assert development_defaults(settings) == [
        "DATABASE_URL is the built-in development default; set the installation's own",
        "AUTH_JWKS_URL is not set, so tokens would be checked against a local key instead of the sign-in provider's "
        "published keys; set it to the provider's JWKS URL (<issuer>/protocol/openid-connect/certs for Keycloak)",
        "AUTH_ISSUER is the local default 'satupintu-local'; set it to the sign-in provider's issuer URL",
        "EXAMPLE_HASH_KEY is the built-in development default; set the installation's own",
        "EXAMPLE_DATA_KEY is not set, so a development key would be made up on the spot; set it",
    ]


def test_production_accepts_settings_that_set_every_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATUPINTU_ENVIRONMENT", "production")

    settings = ExampleSettings(**fit_settings())

    assert settings.environment == "production"
    assert settings.smtp_password is None, "an optional secret may stay unset"
    assert development_defaults(settings) == []


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        pytest.param({"hash_key": "local-development-key"}, "EXAMPLE_HASH_KEY", id="the-default-set-explicitly"),
        pytest.param({"data_key": None}, "EXAMPLE_DATA_KEY", id="unset"),
        pytest.param({"database": DatabaseSettings()}, "DATABASE_URL", id="the-local-database"),
        pytest.param({"auth": AuthSettings()}, "AUTH_JWKS_URL", id="no-sign-in-provider"),
        pytest.param(
            {"auth": AuthSettings(public_key_pem=generate_keypair()[1].decode())},
            "AUTH_JWKS_URL",
            id="a-local-verifying-key-instead-of-the-providers-keys",
        ),
        pytest.param(
            {"auth": AuthSettings(jwks_url=f"{PROVIDER_ISSUER}/protocol/openid-connect/certs")},
            "AUTH_ISSUER",
            id="the-providers-keys-but-the-local-issuer",
        ),
        pytest.param(
            {
                "auth": AuthSettings(
                    issuer=PROVIDER_ISSUER,
                    jwks_url=f"{PROVIDER_ISSUER}/protocol/openid-connect/certs",
                    private_key_path=Path("/keys/auth.pem"),
                )
            },
            "AUTH_PRIVATE_KEY_PATH",
            id="a-service-holding-the-signing-key",
        ),
    ],
)
def test_production_refuses_a_development_default_naming_it_without_echoing_secrets(
    monkeypatch: pytest.MonkeyPatch, overrides: dict[str, object], named: str
) -> None:
    monkeypatch.setenv("SATUPINTU_ENVIRONMENT", "production")

    with pytest.raises(ValidationError) as refused:
        ExampleSettings(**fit_settings(**overrides))

    message = str(refused.value)
    assert "SATUPINTU_ENVIRONMENT=production refuses to start on development defaults" in message
    assert named in message
    assert "installation-hash-key" not in message
    assert "s3cret-password" not in message


def test_the_token_command_in_production_refuses_local_users_and_development_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SATUPINTU_ENVIRONMENT", "production")

    refusals = []
    for argv in (["--user", "officer-polres"], ["--user", "auditor", "--password", "x"], ["--agency", "polres"]):
        with pytest.raises(SystemExit) as refused:
            token_main(argv)
        refusals.append((refused.value.code, capsys.readouterr()))

    assert [code for code, _ in refusals] == [2, 2, 2]
    assert all(output.out == "" for _, output in refusals)
    assert "no local users" in refusals[0][1].err
    assert "--client-secret" in refusals[2][1].err
