"""The helpers every service wires with: the clock, the keys loaded from settings or made once for local
development, the agency calendar look-up and the name of an event source."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from satupintu.common.catalogue import load_catalogue
from satupintu.common.clock import utc_now
from satupintu.common.keys import field_cipher, lookup_hasher, session_secret
from satupintu.common.working_days import agency_calendar, parse_dates
from satupintu.contract.envelope import event_source

pytestmark = pytest.mark.unit

KEY = base64.b64encode(bytes(range(32))).decode()


def test_the_clock_tells_an_aware_time_in_utc() -> None:
    before = datetime.now(UTC)

    now = utc_now()

    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)


def test_a_configured_cipher_uses_the_first_key_of_its_spec_and_creates_no_local_key(tmp_path: Path) -> None:
    cipher = field_cipher(f"prod2:{KEY},prod1:{base64.b64encode(bytes(32)).decode()}", tmp_path, "routing")

    assert cipher.current_key_id == "prod2"
    assert cipher.decrypt(cipher.encrypt("Jl. Merdeka 1", "address"), "address") == "Jl. Merdeka 1"
    assert list(tmp_path.iterdir()) == []


def test_an_unconfigured_cipher_keeps_one_local_key_per_service_across_restarts(tmp_path: Path) -> None:
    sealed = field_cipher(None, tmp_path, "mall").encrypt("3201010101010001", "nik")

    reopened = field_cipher(None, tmp_path, "mall")

    assert reopened.current_key_id == "local1"
    assert reopened.decrypt(sealed, "nik") == "3201010101010001"
    assert (tmp_path / "mall-data-key-local1").is_file()
    assert field_cipher(None, tmp_path, "routing").keys != reopened.keys


def test_every_service_hashes_a_nik_alike_with_the_shared_local_lookup_key(tmp_path: Path) -> None:
    intake, mall = lookup_hasher(None, tmp_path), lookup_hasher(None, tmp_path)

    assert intake.hash("3201010101010001") == mall.hash("3201010101010001")
    assert (tmp_path / "intake-lookup-key").is_file()


def test_a_configured_lookup_key_is_used_as_given(tmp_path: Path) -> None:
    hasher = lookup_hasher(KEY, tmp_path)

    assert hasher.key == bytes(range(32))
    assert list(tmp_path.iterdir()) == []


def test_a_session_secret_is_the_configured_one_or_a_stable_local_one(tmp_path: Path) -> None:
    assert session_secret("configured-secret", tmp_path, "agency") == "configured-secret"

    local = session_secret(None, tmp_path, "agency")

    assert session_secret(None, tmp_path, "agency") == local
    assert (tmp_path / "agency-session-key").is_file()
    assert session_secret(None, tmp_path, "mall") != local


def test_an_agency_calendar_counts_in_the_agency_time_zone_and_skips_collective_leave() -> None:
    catalogue = load_catalogue()
    agencies = [
        agency.model_copy(update={"timezone": "Asia/Makassar"}) if agency.code == "polres" else agency
        for agency in catalogue.agencies
    ]
    in_wita = catalogue.model_copy(update={"agencies": agencies})
    leave = parse_dates(["2026-10-12"])

    calendar = agency_calendar(in_wita, "polres", leave)

    assert calendar.timezone == "Asia/Makassar"
    friday = datetime(2026, 10, 9, 2, 0, tzinfo=UTC)
    assert calendar.due_at(friday, 1).isoformat() == "2026-10-13T23:59:59+08:00"


def test_an_unknown_or_missing_agency_gets_the_western_indonesia_calendar() -> None:
    catalogue = load_catalogue()

    for agency in ("no-such-agency", None):
        calendar = agency_calendar(catalogue, agency, frozenset())
        assert calendar.timezone == "Asia/Jakarta"
        assert calendar.due_at(datetime(2026, 10, 9, 3, 0, tzinfo=UTC), 1).utcoffset() == timedelta(hours=7)


def test_an_event_source_names_the_service_and_its_part() -> None:
    assert event_source("intake") == "/satupintu/intake"
    assert event_source("agency", "desk") == "/satupintu/agency/desk"
