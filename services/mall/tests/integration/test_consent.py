"""The consent ledger on the real broker and database: a citizen grants and withdraws consent per agency and per
field or for every agency (identified by a tracking code and their NIK), each change and each reuse of profile data
is an event on the ``mall`` topic keyed by the citizen's ledger, a reuse after withdrawal is recorded as without
consent, and wrong NIKs lock a tracking code's ledger for a while (audited)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from satupintu.contract.topics import Topic
from satupintu.devtools.testing.kafka import read_to_end
from satupintu.devtools.testing.waiting import eventually
from satupintu.mall.main import create_app
from tests.conftest import running

from .conftest import RunningMall

pytestmark = pytest.mark.integration


async def test_grant_reuse_withdraw_reuse_each_is_an_event_and_the_ledger_tells_them_apart(mall: RunningMall) -> None:
    nik = "3273014107850003"
    first = await mall.submit("skck", nik=nik)
    who = {"tracking_code": first.payload.tracking_code, "nik": nik}

    empty = (await mall.client.post("/consents/lookup", json=who)).json()
    granted = await mall.client.post("/consents/grants", json=who | {"agency": "polres", "fields": ["address"]})
    ledger_id = granted.json()["ledger_id"]
    reused_with_consent = await mall.submit("skck", nik=nik, reused_fields=("address",))
    await mall.mall_events(ledger_id, "consent.used")
    withdrawn = await mall.client.post("/consents/withdrawals", json=who | {"agency": "polres", "fields": ["address"]})
    reused_without = await mall.submit("skck", nik=nik, reused_fields=("address",))
    used = await mall.mall_events(ledger_id, "consent.used", count=2)
    ledger = (await mall.client.post("/consents/lookup", json=who)).json()

    assert empty["ledger_id"] is None
    assert {"agency": "polres", "field": "address", "granted": False} in [
        {key: line[key] for key in ("agency", "field", "granted")} for line in empty["lines"]
    ]
    assert granted.status_code == 200, granted.text
    assert withdrawn.status_code == 200, withdrawn.text
    grant_event = (await mall.mall_events(ledger_id, "consent.granted"))[0]
    withdraw_event = (await mall.mall_events(ledger_id, "consent.withdrawn"))[0]
    assert (grant_event.payload.agency, grant_event.payload.fields) == ("polres", ("address",))
    assert grant_event.payload.application_id == first.subject
    assert grant_event.subject == ledger_id
    assert withdraw_event.payload.fields == ("address",)
    assert [(u.payload.application_id, u.payload.uses) for u in used] == [
        (reused_with_consent.subject, used[0].payload.uses),
        (reused_without.subject, used[1].payload.uses),
    ]
    assert [(use.agency, use.field, use.consented) for use in used[0].payload.uses] == [("polres", "address", True)]
    assert [(use.agency, use.field, use.consented) for use in used[1].payload.uses] == [("polres", "address", False)]
    polres_address = next(line for line in ledger["lines"] if (line["agency"], line["field"]) == ("polres", "address"))
    assert polres_address["granted"] is False
    assert [(entry["kind"], entry["consented"]) for entry in ledger["history"]] == [
        ("used", False),
        ("withdrawn", False),
        ("used", True),
        ("granted", True),
    ]
    assert ledger["history"][1]["event_id"] == withdraw_event.id


async def test_only_the_applicant_opens_the_ledger_and_only_reusable_fields_can_be_granted(mall: RunningMall) -> None:
    nik = "3578012002920004"
    application = await mall.submit("akta-kelahiran", nik=nik)
    who = {"tracking_code": application.payload.tracking_code, "nik": nik}

    wrong_nik = await mall.client.post(
        "/consents/lookup", json={"tracking_code": application.payload.tracking_code, "nik": "3171015506900002"}
    )
    unknown = await mall.client.post("/consents/lookup", json={"tracking_code": "SP-NOPE-2", "nik": nik})
    wrong_field = await mall.client.post("/consents/grants", json=who | {"agency": "polres", "fields": ["kk_number"]})
    wrong_agency = await mall.client.post(
        "/consents/grants", json=who | {"agency": "dinas-pupr", "fields": ["address"]}
    )
    both = await mall.client.post(
        "/consents/grants", json=who | {"agency": "bpjs-kes", "fields": ["kk_number", "kk_number"]}
    )
    again = await mall.client.post("/consents/grants", json=who | {"agency": "bpjs-kes", "fields": ["kk_number"]})

    assert wrong_nik.status_code == 403
    assert wrong_nik.json()["errors"][0]["field"] == "nik"
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "tracking_code"
    assert wrong_field.status_code == 422
    assert wrong_field.json()["errors"][0]["field"] == "fields/0"
    assert wrong_agency.status_code == 422
    assert wrong_agency.json()["errors"][0]["field"] == "agency"
    assert both.status_code == 200
    assert again.status_code == 200
    grants = await mall.mall_events(both.json()["ledger_id"], "consent.granted")
    assert [event.payload.fields for event in grants] == [("kk_number",)]  # granting twice changes nothing


async def test_the_citizen_withdraws_consent_from_the_ledger_page(mall: RunningMall) -> None:
    nik = "3171016512880005"
    application = await mall.submit("skck", nik=nik)
    code = application.payload.tracking_code
    await mall.client.post(
        "/consents/grants", json={"tracking_code": code, "nik": nik, "agency": "polres", "fields": ["address"]}
    )

    ask = await mall.client.get(f"/consent/{code}")
    opened = await mall.client.post(f"/consent/{code}", data={"nik": nik})
    withdrawn = await mall.client.post(f"/consent/{code}", data={"nik": nik, "withdraw": "polres:address"})
    refused = await mall.client.post(f"/consent/{code}", data={"nik": "3171015506900002"})

    assert ask.status_code == 200
    assert 'name="nik"' in ask.text
    assert 'name="withdraw" value="polres:address"' in opened.text
    assert 'name="grant" value="polres:address"' in withdrawn.text
    assert "Persetujuan ditarik" in withdrawn.text
    assert refused.status_code == 403
    ledger_id = (await mall.client.post("/consents/lookup", json={"tracking_code": code, "nik": nik})).json()[
        "ledger_id"
    ]
    events = await mall.mall_events(ledger_id, "consent.withdrawn")
    assert events[0].actor == "citizen"


async def test_a_grant_for_every_agency_holds_until_a_later_withdrawal_for_one(mall: RunningMall) -> None:
    nik = "3173015203910006"
    first = await mall.submit("akta-kelahiran", nik=nik)
    who = {"tracking_code": first.payload.tracking_code, "nik": nik}

    everyone = await mall.client.post("/consents/grants", json=who | {"agency": "*", "fields": ["kk_number"]})
    ledger_id = everyone.json()["ledger_id"]
    both = await mall.submit("akta-kelahiran", nik=nik, reused_fields=("kk_number",))
    await mall.mall_events(ledger_id, "consent.used")
    one_out = await mall.client.post(
        "/consents/withdrawals", json=who | {"agency": "bpjs-kes", "fields": ["kk_number"]}
    )
    one = await mall.submit("akta-kelahiran", nik=nik, reused_fields=("kk_number",))
    used = await mall.mall_events(ledger_id, "consent.used", count=2)
    bad = await mall.client.post("/consents/grants", json=who | {"agency": "*", "fields": ["purpose"]})

    def line(view: dict[str, Any], agency: str) -> bool:
        return bool(next(x["granted"] for x in view["lines"] if (x["agency"], x["field"]) == (agency, "kk_number")))

    assert everyone.status_code == 200, everyone.text
    assert (line(everyone.json(), "*"), line(everyone.json(), "bpjs-kes"), line(everyone.json(), "disdukcapil")) == (
        True,
        True,
        True,
    )
    [granted] = await mall.mall_events(ledger_id, "consent.granted")
    assert (granted.payload.agency, granted.payload.fields) == ("*", ("kk_number",))
    assert [u.payload.application_id for u in used] == [both.subject, one.subject]
    assert [(use.agency, use.consented) for use in used[0].payload.uses] == [("bpjs-kes", True), ("disdukcapil", True)]
    assert [(use.agency, use.consented) for use in used[1].payload.uses] == [("bpjs-kes", False), ("disdukcapil", True)]
    assert (line(one_out.json(), "bpjs-kes"), line(one_out.json(), "disdukcapil")) == (False, True)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "fields/0"


async def test_wrong_niks_lock_a_tracking_codes_ledger_across_two_instances_and_the_lock_is_audited(
    mall: RunningMall,
) -> None:
    nik = "3171016907930007"
    application = await mall.submit("skck", nik=nik)
    code = application.payload.tracking_code
    second_app = create_app(mall.settings, clock=mall.clock)
    tries = mall.settings.wrong_niks_per_tracking_code
    async with running(second_app) as second:
        guesses = [
            await (mall.client, second)[index % 2].post(
                "/consents/lookup", json={"tracking_code": code, "nik": f"3171014107900{index + 10:03d}"}
            )
            for index in range(tries)
        ]
        right = await second.post(
            "/consents/grants", json={"tracking_code": code, "nik": nik, "agency": "polres", "fields": ["address"]}
        )
        page = await mall.client.post(f"/consent/{code}", data={"nik": nik, "grant": "polres:address"})
    # The lock is a sliding window over windows aligned to the epoch, so how long it lasts depends on the time of day
    # of the wrong guesses (up to two windows): it lasts exactly as long as its Retry-After says.
    mall.clock.now += timedelta(seconds=int(right.headers["retry-after"]) + 1)
    later = await mall.client.post("/consents/lookup", json={"tracking_code": code, "nik": nik})
    records = await eventually(
        lambda: access_records(mall),
        lambda found: any(r["subject_id"] == application.subject for r in found),
        what="the lock in the audit log",
    )

    assert [guess.status_code for guess in guesses] == [403] * tries
    assert right.status_code == 429
    assert right.headers["content-type"] == "application/problem+json"
    assert int(right.headers["retry-after"]) > 0
    assert [error["field"] for error in right.json()["errors"]] == ["nik"]
    assert page.status_code == 429
    assert int(page.headers["retry-after"]) > 0
    assert later.status_code == 200  # the lock lasts as long as it said, then passes
    assert later.json()["ledger_id"] is None  # nothing was granted while locked
    [lock] = [r for r in records if r["subject_id"] == application.subject]
    assert (lock["outcome"], lock["action"]) == ("denied", "identify")
    assert nik not in str(lock)


async def access_records(mall: RunningMall) -> list[dict[str, Any]]:
    records = await read_to_end(mall.kafka.bootstrap_servers, mall.kafka.topic_name(Topic.ACCESS.name_for()))
    return [json.loads(record.value) for record in records if record.header("ce_type") == "access.recorded"]
