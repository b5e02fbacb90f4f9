"""Baseline D: the smallest senders of the same messages to the same sinks, to judge notification's delivery
throughput against: ``aiosmtplib`` over ``concurrency`` SMTP connections kept open, and ``httpx`` POSTs with
``concurrency`` in flight on one pooled client. No database, no retries, no records: an upper bound."""

from __future__ import annotations

import asyncio
import time
from email.message import EmailMessage

import aiosmtplib
import httpx


def _mail(number: int) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Satu Pintu <noreply@satupintu.go.id>"
    mail["To"] = f"citizen{number}@example.id"
    mail["Subject"] = "Permohonan Anda sudah kami terima"
    mail.set_content("Halo Siti,\n\npermohonan Anda sudah kami terima.\n")
    return mail


async def send_mail(host: str, port: int, count: int, concurrency: int = 8) -> float:
    """Send ``count`` e-mails over ``concurrency`` connections; messages per second."""
    numbers = iter(range(count))

    async def connection() -> None:
        client = aiosmtplib.SMTP(hostname=host, port=port, start_tls=False)
        await client.connect()
        try:
            for number in numbers:
                await client.send_message(_mail(number))
        finally:
            await client.quit()

    started = time.monotonic()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return count / (time.monotonic() - started)


async def post_messages(url: str, count: int, concurrency: int = 8) -> float:
    """POST ``count`` gateway requests with ``concurrency`` in flight; requests per second."""
    numbers = iter(range(count))
    async with httpx.AsyncClient(timeout=10) as client:

        async def worker() -> None:
            for number in numbers:
                answer = await client.post(
                    url,
                    json={"to": f"+6281{number:09d}", "message": "Permohonan Anda sudah kami terima", "route": "sms"},
                    headers={"Idempotency-Key": str(number)},
                )
                answer.raise_for_status()

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.monotonic() - started)
