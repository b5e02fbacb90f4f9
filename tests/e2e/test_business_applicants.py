"""A business applies through its representative: from submission at intake, its fee billed by the real payment
service and paid through a gateway's signed callback, through routing and the desk, to completion, named as the
business on its tracking page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from satupintu.payment.config import PaymentSettings
from tests.conftest import running
from tests.payment_gateway import ServedPayment, serving_payment
from tests.support import upload_document, wait_for_events

pytestmark = pytest.mark.e2e

APPLICATIONS = Topic.APPLICATIONS.name_for()
REPRESENTATIVE_NIK = "3171015506900002"
LAND_CHECK_FEE = 50_000


@pytest.fixture
async def payment(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, auth_settings: AuthSettings
) -> AsyncIterator[ServedPayment]:
    """The payment service, served on a free port for the gateway's callbacks."""
    await service_database(database_settings, "payment")
    settings = PaymentSettings(
        kafka=kafka_settings, database=database_settings, auth=auth_settings, watch_interval_seconds=3600
    )
    async with serving_payment(settings) as served:
        yield served


async def land_check_by_a_business(intake: httpx.AsyncClient) -> dict[str, Any]:
    """PT Maju Jaya's land certificate check, applied for by Siti Rahayu with its power of attorney."""
    return {
        "service_code": "cek-sertifikat-tanah",
        "applicant": {
            "kind": "business",
            "business": {"nib": "8120001234567", "npwp": "0012345678901000", "name": "PT Maju Jaya"},
            "nik": REPRESENTATIVE_NIK,
            "name": "Siti Rahayu",
            "email": "siti@majujaya.example.id",
            "language": "id",
        },
        "data": {"certificate_number": "12.01.02.03.1.00123", "certificate_type": "HGB", "village": "Sempaja"},
        "documents": [
            {"name": "certificate_scan", "sha256": await upload_document(intake, "certificate")},
            {"name": "surat_kuasa", "sha256": await upload_document(intake, "surat-kuasa")},
        ],
        "consent_reuse": False,
    }


async def approve_every_task(desk: Any, kafka: KafkaSettings, application_id: str, agencies: list[str]) -> None:
    """Approve, at the desk, every task the application gives each of ``agencies``, in turn."""
    for agency in agencies:
        officer = desk.token(agency, "rina")
        topic = Topic.AGENCY_TASKS.name_for(agency)
        for assignment in await wait_for_events(kafka, topic, application_id, "task.assigned"):
            task_id = assignment.payload.task_id
            assert [document.name for document in assignment.payload.documents] == [
                "certificate_scan",
                "surat_kuasa",
            ]  # the power of attorney reaches the agency
            await desk.wait_for_task(officer, task_id)
            claimed = await desk.client.post(f"/tasks/{task_id}/claim", headers=officer)
            assert claimed.status_code == 200, claimed.text
            decided = await desk.client.post(
                f"/tasks/{task_id}/decision", headers=officer, json={"decision": "approved", "outputs": {}}
            )
            assert decided.status_code == 202, decided.text


async def test_a_business_applies_through_its_representative_and_is_carried_to_completion(
    desk: Any,
    routing: None,
    payment: ServedPayment,
    *,
    make_settings: Callable[..., Any],
    auth_settings: AuthSettings,
    documents_dir: Any,
    kafka_settings: KafkaSettings,
) -> None:
    intake = create_intake(
        await make_settings(IntakeSettings, "intake", auth=auth_settings, documents_dir=documents_dir)
    )
    async with running(intake) as citizen:
        answer = await citizen.post("/applications", json=await land_check_by_a_business(citizen))
        assert answer.status_code == 202, answer.text
        application_id, tracking_code = answer.json()["application_id"], answer.json()["tracking_code"]

        bill = await payment.bill_of(application_id)  # the land check's fee, paid before its first stage
        assert bill["amount"] == LAND_CHECK_FEE
        await payment.pay(bill)
        await approve_every_task(desk, kafka_settings, application_id, ["bpn"])

        await wait_for_events(kafka_settings, APPLICATIONS, application_id, "application.completed")
        await eventually(
            lambda: citizen.get(f"/applications/{tracking_code}"),
            lambda status: status.status_code == 200 and status.json()["status"] == "completed",
            what="intake tracks the application as completed",
        )
        assert (await citizen.get(f"/applications/{tracking_code}")).json()["bill"]["status"] == "paid"
        page = await citizen.get(f"/track/{tracking_code}", headers={"Accept-Language": "id"})
        assert page.status_code == 200, page.text
        assert "PT Maju Jaya, diwakili oleh S. R. (************0002)" in page.text
        assert REPRESENTATIVE_NIK not in page.text
