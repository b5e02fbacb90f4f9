"""An application a clerk submitted at the counter for a ticket's visitor (intake's ``application.submitted`` with the
channel ``counter`` and the ticket, decision 0036), on the real broker and database: the mall links the ticket at
once and marks it served, intake's acceptance being the end of the visit."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from satupintu.contract.applications import ApplicationSubmitted
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from tests.support import produce, record_of, submitted_event

from .conftest import RunningMall

pytestmark = pytest.mark.integration
WIB = ZoneInfo("Asia/Jakarta")
CLERK = "officer:dpmptsp:clerk-mall"


async def submitted_at_the_counter(mall: RunningMall, ticket_id: str, at: datetime) -> Event[ApplicationSubmitted]:
    """Publish intake's event of a clerk's submission for the ticket, and wait until the mall knows it."""
    event = submitted_event("nib", submitted_at=at)
    payload = event.payload.model_copy(update={"channel": "counter", "ticket_id": ticket_id})
    event = Event(payload=payload, source=event.source, subject=event.subject, actor=CLERK, id=event.id)
    await produce(mall.kafka, Topic.APPLICATIONS.name_for(), [record_of(event)])
    await mall.wait_until_known(payload.tracking_code)
    return event


async def test_a_counter_submission_links_the_called_ticket_and_marks_it_served(mall: RunningMall) -> None:
    start = datetime(2026, 8, 3, 9, 0, tzinfo=WIB)
    mall.clock.now = start
    clerk = mall.officer("dpmptsp", subject="clerk-mall")
    ticket = (await mall.client.post("/queue/tickets", json={"service_code": "nib"})).json()
    called = await mall.client.post("/queue/services/nib/call", json={"counter": "Loket 7"}, headers=clerk)
    assert called.status_code == 200, called.text
    mall.clock.now = start + timedelta(minutes=4)

    submitted = await submitted_at_the_counter(mall, ticket["ticket_id"], mall.clock.now)

    linked = (await mall.mall_events(ticket["ticket_id"], "ticket.linked"))[0]
    served = (await mall.mall_events(ticket["ticket_id"], "ticket.served"))[0]
    shown = (await mall.client.get(f"/queue/tickets/{ticket['ticket_id']}")).json()
    assert (linked.payload.tracking_code, linked.payload.application_id) == (
        submitted.payload.tracking_code,
        submitted.payload.application_id,
    )
    assert linked.actor == served.actor == CLERK
    assert (served.payload.counter, served.payload.tracking_code) == ("Loket 7", submitted.payload.tracking_code)
    assert (shown["state"], shown["tracking_code"]) == ("served", submitted.payload.tracking_code)


async def test_a_ticket_the_clerk_already_served_is_only_linked(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 8, 4, 9, 0, tzinfo=WIB)
    clerk = mall.officer("dpmptsp", subject="clerk-mall")
    ticket = (await mall.client.post("/queue/tickets", json={"service_code": "nib"})).json()
    await mall.client.post("/queue/services/nib/call", json={"counter": "Loket 7"}, headers=clerk)
    served_by_hand = await mall.client.post(f"/queue/tickets/{ticket['ticket_id']}/served", headers=clerk)
    assert served_by_hand.status_code == 200, served_by_hand.text

    submitted = await submitted_at_the_counter(mall, ticket["ticket_id"], mall.clock.now)

    linked = (await mall.mall_events(ticket["ticket_id"], "ticket.linked"))[0]
    served = await mall.mall_events(ticket["ticket_id"], "ticket.served")
    assert linked.payload.tracking_code == submitted.payload.tracking_code
    assert len(served) == 1  # the clerk's own; the submission served nothing twice
    assert served[0].payload.tracking_code is None
