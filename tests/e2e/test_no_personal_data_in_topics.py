"""No topic carries a personal field in clear (issue 17, decision 0016): after a whole journey (an application with a
personal form field, an agency's question answered with a corrected personal field and a written answer, the
decision, the notices) every record of every topic, dead-letter and key topics included, is read back, and none holds
the citizen's NIK, name, e-mail, phone or a personal form field's value, in its key, value or headers. The agency's
worker still saw the values it needed, opened with its own key. All six services on the real broker and database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from satupintu.agency.config import AgencySettings
from satupintu.agency.main import create_app as create_agency
from satupintu.agency_sdk import AgencyWorker, Outcome, Task, approve, request_information
from satupintu.audit.config import AuditSettings
from satupintu.audit.main import create_app as create_audit
from satupintu.common.settings import KafkaSettings
from satupintu.devtools.testing.payments import pay
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from satupintu.mall.config import MallSettings
from satupintu.mall.main import create_app as create_mall
from satupintu.notification.config import NotificationSettings
from satupintu.notification.main import create_app as create_notification
from satupintu.routing.config import RoutingSettings
from satupintu.routing.main import create_app as create_routing
from tests.conftest import running
from tests.support import every_record, upload_document

pytestmark = pytest.mark.e2e

NIK = "3171015506900002"
NAME = "Siti Rahayu Wulandari"
EMAIL = "siti.wulandari@example.id"
PHONE = "+6281234567890"
ADDRESS = "Jl. Merdeka No. 17, Gambir, Jakarta Pusat"
CORRECTED_ADDRESS = "Jl. Kebon Sirih No. 42, Menteng, Jakarta Pusat"
WRITTEN_ANSWER = "Saya pindah ke Kebon Sirih bulan lalu, Siti Rahayu Wulandari"


async def test_after_a_whole_journey_no_topic_holds_a_personal_value_in_clear(
    make_settings: Callable[..., Any], kafka_settings: KafkaSettings
) -> None:
    apps = [
        create_intake(await make_settings(IntakeSettings, "intake")),
        create_routing(await make_settings(RoutingSettings, "routing")),
        create_agency(await make_settings(AgencySettings, "agency")),
        create_notification(await make_settings(NotificationSettings, "notification")),
        create_audit(await make_settings(AuditSettings, "audit")),
        create_mall(await make_settings(MallSettings, "mall")),
    ]
    seen: list[Task] = []

    async def police(task: Task) -> Outcome:
        seen.append(task)
        if not task.answers:
            return request_information("Alamat domisili sekarang?")
        return approve({"skck_number": "SKCK/2026/12/0042"})

    worker = AgencyWorker("polres", kafka_settings, police, worker_name="privacy")
    intake, routing, agency, notification, audit, mall = apps
    async with running(intake) as citizen, running(routing), running(agency), running(notification):  # noqa: SIM117
        async with running(audit), running(mall):
            await worker.start()
            try:
                answer = await citizen.post(
                    "/applications",
                    json={
                        "service_code": "skck",
                        "applicant": {"nik": NIK, "name": NAME, "email": EMAIL, "phone": PHONE, "language": "id"},
                        "data": {"purpose": "Melamar pekerjaan", "address": ADDRESS},
                        "documents": [{"name": "ktp", "sha256": await upload_document(citizen)}],
                        "consent_reuse": False,
                    },
                )
                assert answer.status_code == 202, answer.text
                code = answer.json()["tracking_code"]
                await pay(kafka_settings, answer.json()["application_id"])

                async def status() -> str:
                    return str((await citizen.get(f"/applications/{code}")).json()["status"])

                await eventually(status, lambda now: now == "information_requested", what="the police's question")
                answered = await citizen.post(
                    f"/applications/{code}/information",
                    json={"nik": NIK, "answers": {"address": CORRECTED_ADDRESS}, "message": WRITTEN_ANSWER},
                )
                assert answered.status_code == 202, answered.text
                await eventually(status, lambda now: now == "completed", what="the SKCK issued", timeout=90)
            finally:
                await worker.stop()

    assert [task.fields["address"] for task in seen] == [ADDRESS, CORRECTED_ADDRESS], "the police opened them"
    assert seen[-1].answers["message"] == WRITTEN_ANSWER

    personal = [NIK, NAME, EMAIL, PHONE, PHONE.removeprefix("+"), ADDRESS, CORRECTED_ADDRESS, WRITTEN_ANSWER]
    records = await every_record(kafka_settings)
    carrying = {topic for topic, _, _ in records}
    found = [
        f"{topic}@{record.offset}: {value!r}" for topic, record, text in records for value in personal if value in text
    ]
    journey = {
        "applications",
        "agency.polres.tasks",
        "agency.polres.decisions",
        "keys.agency.polres",
        "keys.notification",
    }
    assert journey <= carrying, "the journey did not happen on these topics"
    assert found == []
