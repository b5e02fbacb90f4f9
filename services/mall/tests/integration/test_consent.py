"""The consent ledger on the real broker and database: a citizen grants and withdraws consent per agency and per
field (identified by a tracking code and their NIK), each change and each reuse of profile data is an event on the
``mall`` topic keyed by the citizen's ledger, and a reuse after withdrawal is recorded as without consent."""

from __future__ import annotations

import pytest

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
