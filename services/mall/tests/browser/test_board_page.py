"""The performance board on a wall screen, in headless Chromium: a run of application lifecycles (submitted, some by
businesses, completed, rejected, reported late; fees billed, paid, withdrawn, or expired and cancelled) published on
the ``applications`` topic, satisfaction surveys answered through their links, and a morning of the counter queue
fill the board; every service's bar shows its count, the charts
are SVG drawn by the server, and the page reloads itself. The screenshot goes to
``docs/screenshots/mall-board.png``."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import ViewportSize, async_playwright, expect

from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.contract.applications import (
    ApplicationCancelled,
    ApplicationCompleted,
    ApplicationRejected,
    ApplicationSlaBreached,
    ApplicationSubmitted,
    Business,
)
from satupintu.contract.envelope import Event, KafkaRecord
from satupintu.contract.payments import PaymentBilled, PaymentCancelled, PaymentConfirmed, PaymentExpired
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.mall.config import MallSettings
from satupintu.mall.main import create_app
from tests.support import produce, record_of, submitted_event, wait_for_events

from .support import CHROMIUM_ARGS, SCREENSHOTS, Clock, chromium, serving

pytestmark = pytest.mark.browser

WIB = ZoneInfo("Asia/Jakarta")
WALL: ViewportSize = {"width": 1920, "height": 1080}
ELEMENTS = (
    "requirements",
    "procedure",
    "completion_time",
    "cost",
    "product",
    "competence",
    "behaviour",
    "complaints_handling",
    "facilities",
)
# service -> (applications, hours a typical one takes, share rejected, share left open, usual score)
RUN = {
    "nib": (9, 20, 0.1, 0.1, 4),
    "skck": (8, 30, 0.1, 0.2, 3),
    "paspor": (7, 70, 0.0, 0.3, 3),
    "akta-kelahiran": (6, 90, 0.2, 0.2, 4),
    "pbg": (5, 400, 0.2, 0.4, 2),
    "npwp": (6, 12, 0.0, 0.0, 4),
    "sim-perpanjangan": (7, 6, 0.1, 0.1, 3),
    "cek-sertifikat-tanah": (4, 150, 0.0, 0.25, 3),
}
# service -> (its fee in rupiah, the agency paid), as the catalogue says
FEES = {
    "pbg": (1_500_000, "dpmptsp"),
    "paspor": (350_000, "imigrasi"),
    "skck": (30_000, "polres"),
    "sim-perpanjangan": (80_000, "satlantas"),
    "cek-sertifikat-tanah": (50_000, "bpn"),
}
BUSINESS_SERVICES = {"pbg", "cek-sertifikat-tanah"}
COMPANY = Business(nib="8120001234567", npwp="sealed.v1.npwp", name="PT Maju Jaya")


@dataclass
class Lifecycle:
    """What the run publishes for one service, and what the board must then show."""

    records: list[KafkaRecord]
    finishes: list[KafkaRecord]
    completed: list[str]
    received: int
    payments: list[KafkaRecord]
    paid: int


def _by_business(submitted: Event[ApplicationSubmitted]) -> Event[ApplicationSubmitted]:
    applicant = submitted.payload.applicant.model_copy(update={"kind": "business", "business": COMPANY})
    return Event(
        payload=submitted.payload.model_copy(update={"applicant": applicant}),
        source=submitted.source,
        subject=submitted.subject,
        actor=submitted.actor,
        id=submitted.id,
    )


def _payment(billed: Event[PaymentBilled], payload: Any) -> KafkaRecord:
    return record_of(billed.caused(payload, source="/satupintu/payment", actor="service:payment"))


def fee_of(
    submitted: Event[ApplicationSubmitted],
    fate: str,
    finished_at: datetime | None,
    now: datetime,
    chance: random.Random,
) -> tuple[list[KafkaRecord], bool]:
    """The bill of a service with a fee and what became of it: paid before a completion, withdrawn on a rejection,
    and, for an open application, still to pay or (one in three) expired and the application cancelled; whether
    it was paid."""
    amount, agency = FEES[submitted.payload.service_code]
    billed_at = submitted.payload.submitted_at + timedelta(minutes=10)
    bill = {"application_id": submitted.subject, "bill_id": f"bill-{submitted.subject[:8]}"}
    code = {"billing_code": "899123456789014"}
    billed = submitted.caused(
        PaymentBilled(
            **bill,
            **code,
            service_code=submitted.payload.service_code,
            agency=agency,
            kind="retribusi" if agency == "dpmptsp" else "pnbp",
            amount=amount,
            qris="00020101021226...6304ABCD",
            pay_before_stage=0,
            expires_at=billed_at + timedelta(days=7),
            billed_at=billed_at,
        ),
        source="/satupintu/payment",
        actor="service:payment",
    )
    records = [record_of(billed)]
    if fate == "completed" and finished_at is not None:
        paid_at = min(billed_at + timedelta(days=chance.uniform(0, 4)), finished_at)
        confirmed = PaymentConfirmed(
            **bill,
            **code,
            amount=amount,
            channel=chance.choice(["gateway", "counter"]),
            reference=f"TRX-{submitted.subject[:8]}",
            paid_at=paid_at,
            confirmed_at=paid_at,
        )
        return [*records, _payment(billed, confirmed)], True
    if fate == "rejected" and finished_at is not None:
        withdrawn = PaymentCancelled(**bill, **code, reason="application_rejected", cancelled_at=finished_at)
        return [*records, _payment(billed, withdrawn)], False
    expires_at = billed_at + timedelta(days=7)
    if chance.random() < 1 / 3 and expires_at < now:
        cancelled = submitted.caused(
            ApplicationCancelled(application_id=submitted.subject, reason="payment_expired", cancelled_at=expires_at),
            source="/satupintu/routing",
            actor="service:routing",
        )
        expired = _payment(billed, PaymentExpired(**bill, **code, expired_at=expires_at))
        return [*records, expired, record_of(cancelled)], False
    return records, False


def lifecycle(service_code: str, now: datetime, chance: random.Random) -> Lifecycle:
    count, hours, rejected_share, open_share, _ = RUN[service_code]
    submissions, finishes, completed, payments, paid = [], [], [], [], 0
    for index in range(count):
        submitted_at = now - timedelta(days=chance.uniform(2, 25))
        submitted = submitted_event(service_code, submitted_at=submitted_at)
        if service_code in BUSINESS_SERVICES and index % 2 == 0:
            submitted = _by_business(submitted)
        submissions.append(record_of(submitted))
        fate = chance.random()
        if fate < open_share:
            if service_code in FEES:
                payments.extend(fee_of(submitted, "open", None, now, chance)[0])
            continue
        finished_at = min(submitted_at + timedelta(hours=hours * chance.uniform(0.3, 2.2)), now - timedelta(hours=1))
        if index % 4 == 3:
            breach = submitted.caused(
                ApplicationSlaBreached(
                    application_id=submitted.subject,
                    due_at=submitted_at + timedelta(hours=hours),
                    breached_at=submitted_at + timedelta(hours=hours, minutes=5),
                    escalation_target="mall",
                ),
                source="/satupintu/routing",
                actor="service:routing",
            )
            finishes.append(record_of(breach))
        end: Event[Any] = submitted.caused(
            ApplicationRejected(
                application_id=submitted.subject,
                agency="dpmptsp",
                task_id="task-1",
                reason="Berkas tidak lengkap.",
                rejected_at=finished_at,
            )
            if fate < open_share + rejected_share
            else ApplicationCompleted(application_id=submitted.subject, outputs={}, completed_at=finished_at),
            source="/satupintu/routing",
            actor="service:routing",
        )
        finishes.append(record_of(end))
        if isinstance(end.payload, ApplicationCompleted):
            completed.append(submitted.subject)
        if service_code in FEES:
            outcome = "completed" if isinstance(end.payload, ApplicationCompleted) else "rejected"
            records, was_paid = fee_of(submitted, outcome, finished_at, now, chance)
            payments.extend(records)
            paid += was_paid
    return Lifecycle(submissions, finishes, completed, count, payments, paid)


async def a_morning_at_the_counters(client: httpx.AsyncClient, clock: Clock, officer: dict[str, str]) -> None:
    """Tickets taken through the morning; each counter calls and serves some of them in a few minutes."""
    chance = random.Random(7)  # noqa: S311 (test data)
    taken: dict[str, list[str]] = {}
    for minute in range(0, 90, 3):
        clock.advance(timedelta(minutes=3))
        service_code = chance.choice(["nib", "skck", "skck", "paspor", "sim-perpanjangan", "npwp", "akta-kelahiran"])
        answer = await client.post("/queue/tickets", json={"service_code": service_code})
        assert answer.status_code == 201, answer.text
        taken.setdefault(service_code, []).append(answer.json()["ticket_id"])
        if minute % 9 == 0:
            for code in taken:
                called = await client.post(f"/queue/services/{code}/call", json={"counter": "Loket 1"}, headers=officer)
                if called.status_code == 200:
                    clock.advance(timedelta(minutes=chance.randint(2, 6)))
                    await client.post(f"/queue/tickets/{called.json()['ticket_id']}/served", headers=officer)


async def test_the_board_on_a_wall_screen_shows_a_run_of_the_flow(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    # A topic prefix and database of its own, so the board shows this run and nothing of the other tests.
    kafka = kafka_settings.model_copy(update={"topic_prefix": f"{kafka_settings.topic_prefix}board."})
    database = database_settings.model_copy(update={"name_prefix": f"{database_settings.name_prefix}board_"})
    await service_database(database, "mall")
    today = datetime.now(WIB).date()
    now = datetime.combine(today, time(11, 30), tzinfo=WIB)
    clock = Clock(datetime.combine(today, time(8, 0), tzinfo=WIB))
    # A morning's tickets and a month's survey answers are sent in seconds from one address: the limits on the
    # public's writes would refuse them.
    settings = MallSettings(
        kafka=kafka,
        database=database,
        board_refresh_seconds=30,
        kiosk_rate_limit_per_minute=0,
        rate_limit_per_minute=0,
    )
    app = create_app(settings, clock=clock)
    private_pem, _ = load_or_create_local_keys(settings.auth.keys_dir)
    token = TokenIssuer(AuthSettings(), private_key_pem=private_pem).issue("rina", {Role.OPERATOR})
    operator = {"Authorization": f"Bearer {token}"}
    chance = random.Random(2026)  # noqa: S311 (test data)
    runs = {service_code: lifecycle(service_code, now, chance) for service_code in RUN}
    applications = Topic.APPLICATIONS.name_for()

    async with serving(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        await a_morning_at_the_counters(client, clock, operator)
        clock.set(now)
        await produce(kafka, applications, [record for run in runs.values() for record in run.records])
        await produce(kafka, applications, [record for run in runs.values() for record in run.finishes])
        await produce(kafka, applications, [record for run in runs.values() for record in run.payments])
        for service_code, run in runs.items():
            usual = RUN[service_code][4]
            for number, application_id in enumerate(run.completed[:4]):
                invited = await wait_for_events(kafka, Topic.MALL.name_for(), application_id, "survey.invited")
                token_part = invited[0].payload.survey_url.rsplit("/", 1)[1]
                scores = {
                    name: max(1, min(4, usual - (index + number) % 3 // 2)) for index, name in enumerate(ELEMENTS)
                }
                answered = await client.post(f"/surveys/{token_part}", json={"answers": scores})
                assert answered.status_code == 201, answered.text

        async def board() -> dict[str, Any]:
            answer: dict[str, Any] = (await client.get("/performance")).json()
            return answer

        expected = {code: run.received for code, run in runs.items()}
        expected_paid = {code: run.paid for code, run in runs.items()}
        await eventually(
            board,
            lambda b: (
                {row["service_code"]: row["received"] for row in b["services"]} == expected
                and sum(row["completed"] + row["rejected"] for row in b["services"])
                == sum(
                    1
                    for run in runs.values()
                    for r in run.finishes
                    if r.headers["ce_type"] != b"application.sla_breached"
                )
                and {row["service_code"]: row["payments"]["paid"] for row in b["services"]} == expected_paid
            ),
            timeout=60,
            what="the board counts the whole run",
        )

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport=WALL)
                await page.goto(f"{base_url}/board")
                await expect(page.get_by_role("heading", name="Papan kinerja layanan", level=1)).to_be_visible()
                await expect(page.locator('meta[http-equiv="refresh"]')).to_have_attribute("content", "30")
                for chart in ("chart-flow", "chart-time", "chart-sla", "chart-skm", "chart-queue"):
                    await expect(page.locator(f"svg#{chart}")).to_be_visible()
                for service_code, run in runs.items():
                    bar = page.locator(f'#chart-flow g.bar[data-received="{run.received}"]')
                    assert await bar.count() >= 1, service_code
                await expect(page.locator("#chart-skm g.bar[data-grade]")).to_have_count(len(RUN))
                await expect(page.locator("#chart-queue g.bar").first).to_be_visible()
                await expect(page.locator("#panel-agencies tbody tr")).to_have_count(7)  # agencies owning a service
                fees = page.locator("#table-fees")
                await expect(fees.locator("tr[data-service]")).to_have_count(len(RUN))
                received = f"Rp{FEES['pbg'][0] * runs['pbg'].paid:,}".replace(",", ".")
                await expect(fees.locator('tr[data-service="pbg"]')).to_contain_text(received)
                await expect(fees.locator('tr[data-service="pbg"]')).to_contain_text("(60.0%)")  # 3 of 5
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(SCREENSHOTS / "mall-board.png"), full_page=True)
                assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            finally:
                await browser.close()
