"""The e-mail channel against a real SMTP server that requires STARTTLS and AUTH (aiosmtpd with a certificate made
for the test): the configured credentials are accepted over TLS, wrong ones are a permanent failure."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from satupintu.notification.channels import OutgoingMessage
from satupintu.notification.channels.smtp import EmailChannel, SmtpConfig
from satupintu.notification.domain import DeliveryFailed

pytestmark = pytest.mark.integration

USER, PASSWORD = "satupintu", "correct horse battery staple"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = directory / "smtp.pem", directory / "smtp.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate_file, key_file


@dataclass
class SecureMailServer:
    """Accepts mail only after STARTTLS and AUTH with the right password."""

    port: int = 0
    received: list[bytes] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        assert session.ssl is not None, "mail arrived without TLS"
        self.received.append(envelope.content if isinstance(envelope.content, bytes) else b"")
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append(auth_data.login.decode())
        valid = auth_data.login.decode() == USER and auth_data.password.decode() == PASSWORD
        return AuthResult(success=valid, handled=False)  # not handled: the server answers 535 itself


@pytest.fixture
async def secure_mail(tmp_path: Path) -> AsyncIterator[tuple[SecureMailServer, Path]]:
    certificate, key = self_signed_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    mail = SecureMailServer()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(
            mail,
            hostname="localhost",
            tls_context=context,
            require_starttls=True,
            auth_required=True,
            authenticator=mail.authenticate,
        ),
        "127.0.0.1",
        0,
    )
    mail.port = server.sockets[0].getsockname()[1]
    try:
        yield mail, certificate
    finally:
        server.close()
        await server.wait_closed()


def message() -> OutgoingMessage:
    return OutgoingMessage(
        message_id="7d1f5c1e-0c0a-5b38-8d8e-6b1b4f0e2a11",
        channel="email",
        address="siti@example.id",
        recipient_masked="s***@example.id",
        template="application.submitted",
        language="id",
        subject="Permohonan SKCK diterima: SP-1",
        body="Yth. Siti,\n",
    )


async def test_email_goes_over_starttls_with_the_configured_credentials(
    secure_mail: tuple[SecureMailServer, Path],
) -> None:
    mail, certificate = secure_mail
    channel = EmailChannel(
        SmtpConfig(
            host="localhost",
            port=mail.port,
            security="starttls",
            username=USER,
            password=PASSWORD,
            ca_file=certificate,
            timeout=5,
        )
    )

    await channel.send(message())

    [received] = mail.received
    assert b"Message-ID: <7d1f5c1e-0c0a-5b38-8d8e-6b1b4f0e2a11@" in received.replace(b"\r\n ", b" ")
    assert mail.logins == [USER]


async def test_wrong_smtp_credentials_are_a_permanent_failure(secure_mail: tuple[SecureMailServer, Path]) -> None:
    mail, certificate = secure_mail
    channel = EmailChannel(
        SmtpConfig(host="localhost", port=mail.port, username=USER, password="wrong", ca_file=certificate, timeout=5)
    )

    with pytest.raises(DeliveryFailed) as failed:
        await channel.send(message())

    assert not failed.value.transient
    assert failed.value.reason.startswith("SMTP 535 SMTPAuthenticationError")
    assert mail.received == []
