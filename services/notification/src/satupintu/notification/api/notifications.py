"""``/notifications``: what an application's applicant and subscribers were told, for operators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.auth import Principal, Role, require_roles
from satupintu.notification.api import dependencies
from satupintu.notification.domain import DeliveryStatus
from satupintu.notification.schemas import AttemptRead, DeliveryRead, NotificationsRead
from satupintu.notification.storage.repository import DeliveryRepository

router = APIRouter(tags=["notifications"])


@router.get("/notifications", summary="An application's messages: deliveries, attempts and outcomes")
async def list_notifications(
    sessions: Annotated[async_sessionmaker[AsyncSession], Depends(dependencies.sessions)],
    application_id: Annotated[str, Query(min_length=1, max_length=100, description="The application's id.")],
    _operator: Annotated[Principal, Depends(require_roles(Role.OPERATOR))],
) -> NotificationsRead:
    """The deliveries about ``application_id`` with their attempts; recipients masked, contents never shown."""
    async with sessions() as session:
        repository = DeliveryRepository(session)
        deliveries = await repository.for_application(application_id)
        attempts = await repository.attempts_of([delivery.message_id for delivery in deliveries])
    by_message: dict[str, list[AttemptRead]] = {}
    for attempt in attempts:
        by_message.setdefault(attempt.message_id, []).append(
            AttemptRead(
                number=attempt.number,
                started_at=attempt.started_at,
                finished_at=attempt.finished_at,
                outcome=attempt.outcome,
                detail=attempt.detail,
            )
        )
    return NotificationsRead(
        application_id=application_id,
        deliveries=[
            DeliveryRead(
                message_id=delivery.message_id,
                cause_event_id=delivery.cause_event_id,
                channel=delivery.channel,
                template=delivery.template,
                language=delivery.language,
                recipient=delivery.recipient_masked,
                status=delivery.status,
                attempt_count=delivery.attempts,
                next_attempt_at=delivery.next_attempt_at if delivery.status == DeliveryStatus.PENDING else None,
                last_error=delivery.last_error,
                created_at=delivery.created_at,
                sent_at=delivery.sent_at,
                failed_at=delivery.failed_at,
                attempts=by_message.get(delivery.message_id, []),
            )
            for delivery in deliveries
        ],
    )
