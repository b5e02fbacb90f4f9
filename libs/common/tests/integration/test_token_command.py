"""``satupintu-token`` prints the provider's access tokens: a local user's (password grant on ``satupintu-cli``) and an
agency system's (client credentials), which the services' verifier accepts; a wrong password prints no token. Run
against a throwaway copy of the realm (``--issuer``), so it does not depend on what a running Keycloak imported."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from satupintu.common.auth import Principal, Role, TokenVerifier
from satupintu.common.token_command import main
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.keycloak_admin import ThrowawayRealm, throwaway_realm

pytestmark = pytest.mark.integration


@pytest.fixture
def realm(keycloak: LocalKeycloak) -> Iterator[ThrowawayRealm]:
    with throwaway_realm(keycloak) as copy:
        yield copy


def _printed_token(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    main(argv)
    return capsys.readouterr().out.strip()


def test_the_command_prints_tokens_of_local_users_and_agency_systems_that_the_apis_accept(
    realm: ThrowawayRealm, capsys: pytest.CaptureFixture[str]
) -> None:
    verifier = TokenVerifier(realm.auth_settings())

    officer = verifier.verify(_printed_token(["--user", "officer-polres", "--issuer", realm.issuer], capsys))
    auditor = verifier.verify(_printed_token(["--user", "auditor", "--issuer", realm.issuer], capsys))
    system = verifier.verify(_printed_token(["--agency", "imigrasi", "--issuer", realm.issuer], capsys))

    assert officer == Principal(
        subject="officer-polres", roles=frozenset({Role.OFFICER}), agency="polres", name="Budi Santoso"
    )
    assert auditor == Principal(subject="auditor", roles=frozenset({Role.AUDITOR}), name="Dewi Lestari")
    assert system == Principal(
        subject="service-account-agency-imigrasi", roles=frozenset({Role.OFFICER}), agency="imigrasi"
    )


def test_a_wrong_password_prints_no_token_and_says_why(
    realm: ThrowawayRealm, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["--user", "auditor", "--password", "not-the-password", "--issuer", realm.issuer])
    output = capsys.readouterr()

    assert refused.value.code == 1
    assert output.out == ""
    assert "invalid_grant" in output.err
