"""Complaints on the real broker and database: a complaint about an application lands on its owning agency's
desk with a due date in working days, only that desk (and auditors and operators) see it (another desk's officer
is refused, and the refusal recorded against the application, so it is on the application's audit timeline), the
desk answers it once, and a complaint left open past its due date is reported once."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from satupintu.common.auth import Role
from satupintu.contract.topics import Topic
from tests.support import wait_for_events

from .conftest import RunningMall

pytestmark = pytest.mark.integration
WIB = ZoneInfo("Asia/Jakarta")
ACCESS = Topic.ACCESS.name_for()


async def test_a_complaint_about_an_application_is_a_task_for_its_agencys_desk_with_its_own_due_date(
    mall: RunningMall,
) -> None:
    # Friday 14 August 2026: the five working days skip the weekend and Monday 17 August (Independence Day):
    # Tuesday 18 to Friday 21 are four, Monday 24 the fifth.
    mall.clock.now = datetime(2026, 8, 14, 10, 0, tzinfo=WIB)
    application = await mall.submit("akta-kelahiran")

    filed = await mall.client.post(
        "/complaints",
        json={
            "tracking_code": application.payload.tracking_code,
            "category": "slow",
            "description": "Akta belum terbit padahal sudah lewat lima hari kerja.",
            "contact": "siti@example.id",
        },
    )

    assert filed.status_code == 201, filed.text
    receipt = filed.json()
    assert receipt["agency"] == "disdukcapil"
    assert receipt["reference"].startswith("ADU-20260814-")
    assert receipt["state"] == "open"
    assert datetime.fromisoformat(receipt["due_at"]) == datetime(2026, 8, 24, 23, 59, 59, tzinfo=WIB)
    async with mall.app.state.runtime.sessions() as session:
        stored = (
            await session.execute(
                text("SELECT description_ciphertext, contact_ciphertext FROM complaints WHERE complaint_id = :id"),
                {"id": receipt["complaint_id"]},
            )
        ).one()
    assert all(value.startswith("v1.") and "Akta" not in value and "siti" not in value for value in stored)
    event = (await mall.mall_events(receipt["complaint_id"], "complaint.filed"))[0]
    assert (event.payload.application_id, event.payload.service_code) == (application.subject, "akta-kelahiran")
    assert {"description", "contact"} <= type(event.payload).personal_fields()

    desk = await mall.client.get("/complaints", headers=mall.officer("disdukcapil"))
    other_desk = await mall.client.get("/complaints", headers=mall.officer("polres"))
    peeking = await mall.client.get(f"/complaints/{receipt['complaint_id']}", headers=mall.officer("polres"))
    asking_for_another = await mall.client.get(
        "/complaints", params={"agency": "disdukcapil"}, headers=mall.officer("polres")
    )
    auditor = await mall.client.get("/complaints", params={"agency": "disdukcapil"}, headers=mall.headers(Role.AUDITOR))
    anonymous = await mall.client.get("/complaints")

    assert receipt["complaint_id"] in [complaint["complaint_id"] for complaint in desk.json()]
    assert receipt["complaint_id"] not in [complaint["complaint_id"] for complaint in other_desk.json()]
    assert peeking.status_code == 403
    assert asking_for_another.status_code == 403
    [refused] = await wait_for_events(mall.kafka, ACCESS, application.subject, "access.recorded")
    assert (refused.actor, refused.payload.resource, refused.payload.action, refused.payload.outcome) == (
        "officer:polres:budi",
        f"complaint/{receipt['complaint_id']}",
        "read",
        "denied",
    )
    listed = await wait_for_events(mall.kafka, ACCESS, "complaints", "access.recorded")
    assert ("officer:polres:budi", "complaints/disdukcapil", "denied") in [
        (event.actor, event.payload.resource, event.payload.outcome) for event in listed
    ]
    seen = next(c for c in auditor.json() if c["complaint_id"] == receipt["complaint_id"])
    assert (seen["description"], seen["tracking_code"], seen["overdue"]) == (
        "Akta belum terbit padahal sudah lewat lima hari kerja.",
        application.payload.tracking_code,
        False,
    )
    assert anonymous.status_code == 401


async def test_the_desk_answers_a_complaint_once_and_the_complainant_reads_the_answer(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 8, 3, 9, 0, tzinfo=WIB)
    filed = (
        await mall.client.post(
            "/complaints",
            json={"agency": "bpjs-kes", "category": "behaviour", "description": "Petugas loket tidak ramah."},
        )
    ).json()
    mall.clock.now += timedelta(days=1)

    wrong_desk = await mall.client.post(
        f"/complaints/{filed['complaint_id']}/resolve",
        json={"response": "Bukan urusan kami."},
        headers=mall.officer("dlh"),
    )
    answered = await mall.client.post(
        f"/complaints/{filed['complaint_id']}/resolve",
        json={"response": "Kami mohon maaf; petugas sudah kami tegur."},
        headers=mall.officer("bpjs-kes", subject="dewi"),
    )
    again = await mall.client.post(
        f"/complaints/{filed['complaint_id']}/resolve",
        json={"response": "Sekali lagi."},
        headers=mall.officer("bpjs-kes"),
    )
    status = await mall.client.get(f"/complaints/{filed['complaint_id']}/status")
    page = await mall.client.get(f"/complaint/{filed['complaint_id']}")

    assert wrong_desk.status_code == 403
    [refused] = await wait_for_events(mall.kafka, ACCESS, filed["complaint_id"], "access.recorded")
    assert (refused.actor, refused.payload.action, refused.payload.outcome) == ("officer:dlh:budi", "resolve", "denied")
    assert answered.status_code == 200, answered.text
    assert (answered.json()["state"], answered.json()["resolved_by"]) == ("resolved", "officer:bpjs-kes:dewi")
    assert again.status_code == 409
    assert (status.json()["state"], status.json()["response"]) == (
        "resolved",
        "Kami mohon maaf; petugas sudah kami tegur.",
    )
    assert "petugas sudah kami tegur" in page.text
    resolved = (await mall.mall_events(filed["complaint_id"], "complaint.resolved"))[0]
    assert resolved.payload.within_sla is True
    assert resolved.actor == "officer:bpjs-kes:dewi"


async def test_a_complaint_left_open_past_its_due_date_is_reported_once_to_the_escalation_target(
    mall: RunningMall,
) -> None:
    mall.clock.now = datetime(2026, 8, 4, 9, 0, tzinfo=WIB)
    filed = (
        await mall.client.post(
            "/complaints",
            json={
                "agency": "dlh",
                "category": "information",
                "description": "Syarat persetujuan lingkungan tidak jelas.",
            },
        )
    ).json()
    watch = mall.app.state.mall.complaint_watch

    assert await watch.check_once() == 0
    mall.clock.now = datetime.fromisoformat(filed["due_at"]) + timedelta(seconds=1)
    reported = await watch.check_once()
    again = await watch.check_once()

    assert reported >= 1
    assert again == 0
    breach = (await mall.mall_events(filed["complaint_id"], "complaint.sla_breached"))[0]
    assert breach.payload.escalation_target
    assert breach.payload.due_at == datetime.fromisoformat(filed["due_at"])
    overdue = await mall.client.get("/complaints", params={"overdue": "true"}, headers=mall.headers(Role.OPERATOR))
    assert filed["complaint_id"] in [c["complaint_id"] for c in overdue.json()]


async def test_a_complaint_must_name_a_known_application_or_agency(mall: RunningMall) -> None:
    unknown_code = await mall.client.post(
        "/complaints", json={"tracking_code": "SP-NOPE-1", "category": "other", "description": "Tidak ada kabar."}
    )
    neither = await mall.client.post("/complaints", json={"category": "other", "description": "Tidak ada kabar."})
    short = await mall.client.post("/complaints", json={"agency": "dlh", "category": "Bribes!", "description": "?"})
    unknown_category = await mall.client.post(
        "/complaints", json={"agency": "dlh", "category": "bribes", "description": "Diminta uang rokok di loket."}
    )

    assert unknown_code.status_code == 422
    assert unknown_code.json()["errors"][0]["field"] == "tracking_code"
    assert neither.status_code == 422
    assert neither.json()["errors"][0]["field"] == "agency"
    assert short.status_code == 422
    assert sorted(error["field"] for error in short.json()["errors"]) == ["category", "description"]
    assert unknown_category.status_code == 422
    assert unknown_category.json()["errors"][0]["field"] == "category"


async def test_the_complaint_form_shows_errors_beside_fields_then_the_status_page(mall: RunningMall) -> None:
    form = await mall.client.get("/complaint")
    invalid = await mall.client.post("/complaint", data={"category": "fees", "description": "x"})
    filed = await mall.client.post(
        "/complaint",
        data={"agency": "bpn", "category": "fees", "description": "Diminta biaya tambahan di luar tarif resmi."},
    )

    assert form.status_code == 200
    assert invalid.status_code == 422
    assert 'href="#field-description"' in invalid.text
    assert filed.status_code == 303
    status = await mall.client.get(filed.headers["location"])
    assert "ADU-" in status.text
    assert "Kantor Pertanahan" in status.text


async def test_a_complaint_is_due_after_its_categorys_own_service_standard(mall: RunningMall) -> None:
    # the catalogue gives illegal charges (`fees`) one working day: filed on Friday 14 August 2026, the next working
    # day is Tuesday 18 (the weekend, then Independence Day on Monday 17)
    mall.clock.now = datetime(2026, 8, 14, 10, 0, tzinfo=WIB)

    filed = await mall.client.post(
        "/complaints",
        json={"agency": "bpn", "category": "fees", "description": "Diminta biaya tambahan di luar tarif resmi."},
    )

    assert filed.status_code == 201, filed.text
    assert datetime.fromisoformat(filed.json()["due_at"]) == datetime(2026, 8, 18, 23, 59, 59, tzinfo=WIB)
    event = (await mall.mall_events(filed.json()["complaint_id"], "complaint.filed"))[0]
    assert (event.payload.category, event.payload.due_at) == ("fees", datetime(2026, 8, 18, 23, 59, 59, tzinfo=WIB))


async def test_the_desk_takes_a_complaint_up_once_before_answering_it_and_the_complainant_sees_it(
    mall: RunningMall,
) -> None:
    mall.clock.now = datetime(2026, 8, 5, 9, 0, tzinfo=WIB)
    filed = (
        await mall.client.post(
            "/complaints",
            json={
                "agency": "bpjs-kes",
                "category": "behaviour",
                "description": "Petugas loket membentak saya.",
                "contact": "ana@example.id",
                "language": "en",
            },
        )
    ).json()

    wrong_desk = await mall.client.post(f"/complaints/{filed['complaint_id']}/take-up", headers=mall.officer("dlh"))
    taken = await mall.client.post(f"/complaints/{filed['complaint_id']}/take-up", headers=mall.officer("bpjs-kes"))
    again = await mall.client.post(f"/complaints/{filed['complaint_id']}/take-up", headers=mall.officer("bpjs-kes"))
    status = await mall.client.get(f"/complaints/{filed['complaint_id']}/status")
    desk = await mall.client.get("/complaints", params={"state": "in_progress"}, headers=mall.officer("bpjs-kes"))
    answered = await mall.client.post(
        f"/complaints/{filed['complaint_id']}/resolve",
        json={"response": "We apologise; the officer was spoken to."},
        headers=mall.officer("bpjs-kes"),
    )
    taken_after_answer = await mall.client.post(
        f"/complaints/{filed['complaint_id']}/take-up", headers=mall.officer("bpjs-kes")
    )

    assert wrong_desk.status_code == 403
    assert taken.status_code == 200, taken.text
    assert taken.json()["state"] == "in_progress"
    assert again.status_code == 409
    assert status.json()["state"] == "in_progress"
    assert filed["complaint_id"] in [complaint["complaint_id"] for complaint in desk.json()]
    assert answered.json()["state"] == "resolved"
    assert taken_after_answer.status_code == 409
    [changed] = await mall.mall_events(filed["complaint_id"], "complaint.status_changed")
    assert (changed.payload.state, changed.actor) == ("in_progress", "officer:bpjs-kes:budi")
    [complaint_filed] = await mall.mall_events(filed["complaint_id"], "complaint.filed")
    assert complaint_filed.payload.language == "en"
