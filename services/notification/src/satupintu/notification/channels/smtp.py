"""E-mail over SMTP (aiosmtplib): STARTTLS, implicit TLS or plain, with optional AUTH; each message carries its
stable ``Message-ID``. Connections are kept open between messages (a few, as many as are sending at once), so a
backlog costs one SMTP transaction per message, not a connection, a greeting, a TLS handshake and a login each."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

import aiosmtplib

from satupintu.notification.channels import OutgoingMessage
from satupintu.notification.domain import ChannelKind, DeliveryFailed, smtp_code_is_transient


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how e-mail is handed over."""

    host: str
    port: int = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    timeout: float = 30.0
    sender: str = "Satu Pintu <noreply@satupintu.go.id>"
    message_id_domain: str = "notification.satupintu.go.id"
    idle_seconds: float = 10.0
    """A kept connection idle longer than this is closed rather than reused (servers hang up on idle clients)."""
    max_idle_connections: int = 16


class EmailChannel:
    """Sends plain-text e-mail; SMTP 4xx and connection trouble are transient, SMTP 5xx permanent."""

    kind = ChannelKind.EMAIL

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []

    async def _connection(self, *, fresh: bool = False) -> tuple[aiosmtplib.SMTP, bool]:
        """A connected client and whether it was kept: the most recently used idle one still fresh (unless
        ``fresh``), else a new connection."""
        while self._idle and not fresh:
            client, since = self._idle.pop()
            if client.is_connected and time.monotonic() - since < self._config.idle_seconds:
                return client, True
            await _quit(client)
        config = self._config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            use_tls=config.security == "tls",
            start_tls=config.security == "starttls",
            username=config.username,
            password=config.password,
            cert_bundle=str(config.ca_file) if config.ca_file else None,
            timeout=config.timeout,
        )
        await client.connect()
        return client, False

    async def _release(self, client: aiosmtplib.SMTP) -> None:
        if client.is_connected and len(self._idle) < self._config.max_idle_connections:
            self._idle.append((client, time.monotonic()))
        else:
            await _quit(client)

    def compose(self, message: OutgoingMessage) -> EmailMessage:
        """The e-mail of ``message``, with ``Message-ID`` ``<message id@domain>``."""
        mail = EmailMessage()
        mail["From"] = self._config.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail["Message-ID"] = f"<{message.message_id}@{self._config.message_id_domain}>"
        mail["Date"] = email.utils.formatdate(usegmt=True)
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a no-reply sender
        mail.set_content(message.body)
        mail["Content-Language"] = message.language  # after set_content, which resets the Content-* headers
        return mail

    async def send(self, message: OutgoingMessage) -> None:
        """Hand the e-mail to the SMTP server."""
        client: aiosmtplib.SMTP | None = None
        reusable = False
        try:
            client, kept = await self._connection()
            try:
                await client.send_message(self.compose(message))
            except aiosmtplib.SMTPServerDisconnected:
                if not kept:
                    raise
                # The server hung up on a kept connection while it idled: once more on a new one.
                await _quit(client)
                client, _ = await self._connection(fresh=True)
                await client.send_message(self.compose(message))
            reusable = True
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = [recipient.code for recipient in refused.recipients]
            raise DeliveryFailed(
                f"SMTP recipient refused ({', '.join(map(str, codes))})",
                transient=all(smtp_code_is_transient(code) for code in codes),
            ) from refused
        except aiosmtplib.SMTPResponseException as answer:
            text = _without(answer.message, message.address)
            raise DeliveryFailed(
                f"SMTP {answer.code} {type(answer).__name__}: {text}"[:300],
                transient=smtp_code_is_transient(answer.code),
            ) from answer
        except (aiosmtplib.SMTPException, OSError) as trouble:
            raise DeliveryFailed(f"SMTP {type(trouble).__name__}", transient=True) from trouble
        finally:
            if client is not None:
                await (self._release(client) if reusable else _quit(client))

    async def close(self) -> None:
        """Say goodbye on the kept connections."""
        idle, self._idle = self._idle, []
        await asyncio.gather(*(_quit(client) for client, _ in idle))


async def _quit(client: aiosmtplib.SMTP) -> None:
    """Close a connection politely if it still answers, at once otherwise."""
    with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
        if client.is_connected:
            await client.quit()
    client.close()


def _without(text: str, address: str) -> str:
    """A server's answer without the recipient's address in it (it goes to logs, events and operators)."""
    return text.replace(address, "<recipient>").strip()
