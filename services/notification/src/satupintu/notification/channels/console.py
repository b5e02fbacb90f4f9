"""The console channel, for local development: a masked log line instead of a message."""

from __future__ import annotations

import logging

from satupintu.notification.channels import OutgoingMessage
from satupintu.notification.domain import ChannelKind
from satupintu.notification.messages import ONE_TIME_CODE

_logger = logging.getLogger(__name__)


class ConsoleChannel:
    """Logs that a message would have gone out: template, masked recipient and subject, never the body (nor a
    one-time code's subject, which carries the code)."""

    kind = ChannelKind.CONSOLE

    async def send(self, message: OutgoingMessage) -> None:
        """Log the message's line."""
        _logger.info(
            "notification %s (%s, %s) to %s: %s",
            message.message_id,
            message.template,
            message.language,
            message.recipient_masked,
            "(withheld)" if message.template == ONE_TIME_CODE else message.subject,
        )

    async def close(self) -> None:
        """Nothing to release."""
