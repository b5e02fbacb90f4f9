"""Configuration of the mall service, read once in ``create_app()``."""

from __future__ import annotations

import tempfile
from datetime import time
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import SettingsConfigDict

from satupintu.common.oidc.settings import OidcSettings
from satupintu.common.production import Secret
from satupintu.common.settings import ServiceSettings
from satupintu.mall.domain import BookingRule, OpeningPeriod

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class OpeningHours(BaseModel):
    """One stretch of a day the counter takes booked visitors, local time (``08:00`` to ``12:00``)."""

    opens: time = Field(description="When the first slot of the stretch starts.")
    closes: time = Field(description="When the last slot of the stretch must have ended.")

    @model_validator(mode="after")
    def _opens_before_closing(self) -> OpeningHours:
        if self.opens >= self.closes:
            raise ValueError("opens must be before closes")
        return self


class BookableService(BaseModel):
    """A service citizens may book a visit for: opening hours per weekday (only working days of the SLA calendar,
    holidays and cuti bersama excluded, are ever open), slot length and the places of each slot."""

    hours: dict[Weekday, list[OpeningHours]] = Field(description="Opening hours per weekday; a day left out is closed.")
    slot_minutes: int = Field(default=30, ge=5, le=240, description="How long a slot is.")
    quota_per_slot: int = Field(default=4, ge=1, le=500, description="Citizens who may book one slot.")

    def rule(self) -> BookingRule:
        """The domain's view of these hours."""
        return BookingRule(
            hours={
                day: tuple(OpeningPeriod(p.opens, p.closes) for p in periods) for day, periods in self.hours.items()
            },
            slot_minutes=self.slot_minutes,
            quota_per_slot=self.quota_per_slot,
        )


_WEEK = {
    day: [OpeningHours(opens=time(8), closes=time(12)), OpeningHours(opens=time(13), closes=time(15))]
    for day in ("monday", "tuesday", "wednesday", "thursday")
}
_FRIDAY = [OpeningHours(opens=time(8), closes=time(11, 30)), OpeningHours(opens=time(13, 30), closes=time(15))]


def _default_bookable() -> dict[str, BookableService]:
    hours: dict[Weekday, list[OpeningHours]] = {**_WEEK, "friday": _FRIDAY}  # type: ignore[dict-item]
    return {
        code: BookableService(hours=hours, slot_minutes=30, quota_per_slot=4) for code in ("paspor", "sim-perpanjangan")
    }


class MallSettings(ServiceSettings):
    """Mall settings; environment variables start with ``MALL_``."""

    model_config = SettingsConfigDict(env_prefix="MALL_", extra="ignore")

    port: int = Field(default=8006, ge=1, le=65535, description="Port the HTTP server listens on.")
    public_url: str = Field(
        default="http://127.0.0.1:8006",
        description="The address citizens reach the mall's pages at; survey links in invitations start with it.",
    )
    intake_url: str = Field(
        default="http://127.0.0.1:8001",
        description="The address of intake's pages, where a linked ticket's visitor follows the application.",
    )
    intake_api_url: str | None = Field(
        default=None,
        description="Where the mall's server reaches intake's API, for the clerk's submissions at the counter "
        "(decision 0036); `intake_url` if unset.",
    )
    timezone: str = Field(
        default="Asia/Jakarta", description="The mall's own time zone: queue numbers restart at its midnight."
    )
    collective_leave: list[str] = Field(
        default_factory=list,
        description="Collective-leave days (cuti bersama) as ISO dates; not working days for complaint SLAs.",
    )
    default_minutes_per_ticket: float = Field(
        default=10.0,
        gt=0,
        description="How long a counter takes per visitor before today's serving rate is known.",
    )
    serving_rate_window_minutes: int = Field(
        default=60, ge=1, description="Counters that called a ticket within this many minutes count as open."
    )
    priority_ratio: int = Field(
        default=3,
        ge=0,
        description="Priority tickets (elderly, disabled, pregnant, with a small child) are called first; after this "
        "many priority calls in a row at a service, the oldest regular ticket goes next if one waits, so walk-ins are "
        "not starved. 0 gives priority tickets no precedence.",
    )
    survey_valid_days: int = Field(default=30, ge=1, description="Days a survey link accepts an answer.")
    complaint_check_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often overdue complaints are looked for."
    )
    board_days: int = Field(default=30, ge=1, le=366, description="Days the performance board covers by default.")
    board_refresh_seconds: int = Field(
        default=15, ge=2, description="How often the board's page reloads itself on a wall screen."
    )
    display_refresh_seconds: int = Field(
        default=5,
        ge=2,
        description="How often the now-calling display (`/display`) looks for new calls (its script fetches the page "
        "again; without script, the page reloads itself).",
    )
    display_recent_calls: int = Field(
        default=4,
        ge=1,
        le=50,
        description="Calls the now-calling display lists below the latest one (with it, the last five calls).",
    )
    display_announce_english: bool = Field(
        default=False,
        description='Announce each call in English after Indonesian ("Ticket number A-012, please go to counter '
        '3"); where the mall has many foreign visitors.',
    )
    announcement_cache_dir: Path = Field(
        default=Path(tempfile.gettempdir()) / "satupintu-mall-announcements",
        description="Where the spoken calls' audio (espeak-ng's WAV, one file per phrase, named by its hash) is kept.",
    )
    announcement_cache_entries: int = Field(
        default=200,
        ge=10,
        description="Phrases kept in the announcement cache (about 130 kB each); past it the oldest are removed.",
    )
    announcement_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Longest espeak-ng may take to speak one phrase; past it the call is silent."
    )
    encryption_keys: Annotated[str | None, Secret()] = Field(
        default=None,
        description=(
            "Keys for personal data at rest (complaints, suggestions), `kid:base64key,...` (first is current). "
            "Unset: a local development key in the auth keys directory."
        ),
    )
    lookup_hash_key: Annotated[str | None, Secret()] = Field(
        default=None,
        description="Base64 key of the keyed NIK hash the consent ledger finds citizens by: intake's "
        "`INTAKE_LOOKUP_HASH_KEY`, since intake sends each application's citizen as that hash (decision 0016); "
        "intake's local one if unset.",
    )
    kiosk_rate_limit_per_minute: int = Field(
        default=60,
        ge=0,
        description=(
            "Queue tickets (`POST /queue/tickets`, the kiosk page) a client address may take per minute; 0 turns "
            "the limit off. A kiosk machine is one address for the whole hall, so this is sized for a busy kiosk."
        ),
    )
    kiosk_rate_limit_burst: int = Field(
        default=20, ge=1, description="Queue tickets a client address may take at once."
    )
    rate_limit_per_minute: int = Field(
        default=20,
        ge=0,
        description=(
            "Citizens' other writes (complaints, survey answers, consent look-ups and changes, by API or page) a "
            "client address may send per minute; 0 turns the limit off. Also slows guessing a NIK for the ledger."
        ),
    )
    rate_limit_burst: int = Field(default=10, ge=1, description="Citizens' writes a client address may send at once.")
    wrong_niks_per_tracking_code: int = Field(
        default=5,
        ge=1,
        description=(
            "Wrong NIKs given with one tracking code to open or change a consent ledger within `lock_hours`, "
            "counted in the database across replicas and restarts; past it, no NIK is checked for that tracking code "
            "(429 with Retry-After) and the lock is recorded in the audit log. Intake keeps the same limit."
        ),
    )
    lock_hours: int = Field(
        default=24, ge=1, le=24 * 30, description="The window of the wrong-NIK limit: a lock's length."
    )
    oidc: OidcSettings = Field(
        default_factory=OidcSettings,
        description="The OpenID Connect provider staff sign in to the staff pages through (`OIDC_*`; client "
        "`satupintu-mall` of the local Keycloak unless set).",
    )
    session_secret: Annotated[str | None, Secret()] = Field(
        default=None,
        description="Secret that signs the staff pages' preferences cookie (the counter's name, the next page's "
        "message; no token, no identity). Unset: a local secret in the auth keys directory.",
    )
    session_max_age_seconds: int = Field(
        default=8 * 3600, gt=0, description="Longest the staff pages' preferences cookie (the counter's name) lasts."
    )
    secure_cookies: bool = Field(
        default=False,
        description="Send the staff pages' preferences cookie only over HTTPS; turn on behind TLS in production (the "
        "sign-in cookie is Secure whenever the request came over HTTPS).",
    )
    appointments: dict[str, BookableService] = Field(
        default_factory=_default_bookable,
        description='Services citizens may book a visit for, by service code (JSON: `{"paspor": {"hours": '
        '{"monday": [{"opens": "08:00", "closes": "12:00"}]}, "slot_minutes": 30, "quota_per_slot": 4}}`). '
        "Paspor and SIM renewal by default, Monday to Thursday 08:00-12:00 and 13:00-15:00, Friday 08:00-11:30 and "
        "13:30-15:00, 30-minute slots of 4 places.",
    )
    booking_days_ahead: int = Field(default=30, ge=1, le=180, description="How many days ahead a slot may be booked.")
    booking_code_minutes: int = Field(
        default=10, ge=1, le=60, description="How long the one-time code that confirms a booking works."
    )
    booking_code_attempts: int = Field(
        default=5, ge=1, le=20, description="Wrong tries one booking code takes before it stops working."
    )
    no_show_grace_minutes: int = Field(
        default=15,
        ge=0,
        le=240,
        description="Minutes after its slot starts that a booking not checked in is released as a no-show.",
    )
    reminder_hours_before: int = Field(
        default=24, ge=1, le=72, description="Hours before its slot a booking's reminder is sent (the day before)."
    )
    appointment_check_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often due reminders and no-shows are looked for."
    )
