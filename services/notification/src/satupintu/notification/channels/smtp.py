"""E-mail over SMTP (aiosmtplib): STARTTLS, implicit TLS or plain, with optional AUTH; each message carries its
stable ``Message-ID``."""

from __future__ import annotations

import email.utils
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


class EmailChannel:
    """Sends plain-text e-mail; SMTP 4xx and connection trouble are transient, SMTP 5xx permanent."""

    kind = ChannelKind.EMAIL

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

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
        config = self._config
        try:
            await aiosmtplib.send(
                self.compose(message),
                hostname=config.host,
                port=config.port,
                use_tls=config.security == "tls",
                start_tls=config.security == "starttls",
                username=config.username,
                password=config.password,
                cert_bundle=str(config.ca_file) if config.ca_file else None,
                timeout=config.timeout,
            )
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

    async def close(self) -> None:
        """Nothing to release: each send opens and closes its own connection."""


def _without(text: str, address: str) -> str:
    """A server's answer without the recipient's address in it (it goes to logs, events and operators)."""
    return text.replace(address, "<recipient>").strip()
