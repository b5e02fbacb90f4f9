"""What production demands of settings: every key and password set by the installation, none left at a built-in
development default, and none made up on the spot.

``SATUPINTU_ENVIRONMENT=production`` (set by the Compose file and the Kubernetes manifests) turns the check on;
unset, a service runs as in development and makes its local keys itself. A setting that holds a secret is marked
``Annotated[..., Secret()]``; :func:`development_defaults` lists those left at their default, and a settings class
may add rules of its own with a ``production_problems()`` method (:class:`ProductionChecked`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

ENVIRONMENT_VARIABLE = "SATUPINTU_ENVIRONMENT"


class Environment(StrEnum):
    """Where a process runs: a developer's machine or tests (keys made locally), or an installation (none are)."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


def environment_field() -> Any:
    """The ``environment`` setting, read from ``SATUPINTU_ENVIRONMENT`` whatever the settings' prefix."""
    return Field(
        default=Environment.DEVELOPMENT,
        validation_alias=ENVIRONMENT_VARIABLE,
        description=(
            "`production` refuses to start while any key or password is left at its built-in development default or "
            "unset (which would make the process create a key of its own); `development` (default) creates local "
            "keys in the auth keys directory."
        ),
    )


@dataclass(frozen=True)
class Secret:
    """Marks a setting that holds a key or a password, as ``Annotated[str | None, Secret()]``: in production it must
    be set to something other than its default. ``required=False`` for a secret whose absence only turns a feature
    off (an SMTP password); a built-in value is refused all the same."""

    required: bool = True


@runtime_checkable
class ProductionChecked(Protocol):
    """Settings with rules of their own about production (which key must be set when, what must never be)."""

    def production_problems(self) -> list[str]:
        """What is wrong with these settings for production, each naming the environment variable to set."""
        ...


def environment_name(settings: BaseModel, field_name: str) -> str:
    """The environment variable a field of ``settings`` is read from: its alias, else the prefix and its name."""
    field = type(settings).model_fields[field_name]
    if isinstance(field.validation_alias, str):
        return field.validation_alias
    prefix = str(settings.model_config.get("env_prefix", ""))
    return f"{prefix}{field_name}".upper()


def secret_fields(settings_class: type[BaseModel]) -> dict[str, Secret]:
    """The fields of ``settings_class`` marked :class:`Secret`, by name (nested settings not included)."""
    marked: dict[str, Secret] = {}
    for name, field in settings_class.model_fields.items():
        marker = next((item for item in field.metadata if isinstance(item, Secret)), None)
        if marker is not None:
            marked[name] = marker
    return marked


def development_defaults(settings: BaseModel) -> list[str]:
    """Why ``settings`` (and the settings nested in it) are not fit for production: each secret left at its
    built-in default or unset, and what the settings' own ``production_problems()`` report; empty when fit."""
    problems: list[str] = []
    markers = secret_fields(type(settings))
    for name, field in type(settings).model_fields.items():
        value = getattr(settings, name)
        if isinstance(value, BaseModel):
            problems += development_defaults(value)
            continue
        marker = markers.get(name)
        if marker is None:
            continue
        default = field.get_default(call_default_factory=True)
        if value != default:
            continue
        variable = environment_name(settings, name)
        if default is not None:
            problems.append(f"{variable} is the built-in development default; set the installation's own")
        elif marker.required:
            problems.append(f"{variable} is not set, so a development key would be made up on the spot; set it")
    if isinstance(settings, ProductionChecked):
        problems += settings.production_problems()
    return problems


class DevelopmentDefaultsError(ValueError):
    """Production settings that still hold a development default; the message lists every one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            f"{ENVIRONMENT_VARIABLE}=production refuses to start on development defaults: " + "; ".join(problems)
        )
        self.problems = problems


def refuse_development_defaults(settings: BaseModel, environment: Environment) -> None:
    """Raise :class:`DevelopmentDefaultsError` when ``environment`` is production and ``settings`` are not fit."""
    if environment is Environment.PRODUCTION:
        problems = development_defaults(settings)
        if problems:
            raise DevelopmentDefaultsError(problems)
