"""The example worker: BPJS Kesehatan's automatic enrolment check for a newborn (service ``akta-kelahiran``).

The civil registry (disdukcapil) decides first and outputs the birth certificate number; BPJS Kesehatan's stage then
needs it (``needs_outputs_from: [disdukcapil]``). The check approves with a member number (nomor kartu, 13 digits)
when the certificate number is there, or asks the citizen for it once; if the answer still has no number, the task is
left to an officer at the desk. Started by the console script ``satupintu-agency-worker``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from satupintu.agency_sdk import AgencyWorker, Outcome, PostgresLedger, Task, approve, request_information
from satupintu.common.database import ensure_database
from satupintu.common.logs import configure_logging
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.applications import JsonScalar

LEDGER_SERVICE = "agency_worker"
"""The service name of the example worker's own database (``<prefix>agency_worker``)."""

AGENCY = "bpjs-kes"
REGISTRY_AGENCY = "disdukcapil"
CERTIFICATE_OUTPUT = "birth_certificate_number"
QUESTION = (
    "Nomor akta kelahiran anak belum tercatat. Tuliskan nomor akta kelahiran (contoh: 3171-LT-15062026-0001). / "
    "The child's birth certificate number is missing; please give it (e.g. 3171-LT-15062026-0001)."
)
# Nomor akta kelahiran: region code, LT (lahir tetap), date of registration, serial.
_CERTIFICATE_NUMBER = re.compile(r"\b\d{4}-LT-\d{8}-\d{4,7}\b", re.IGNORECASE)


class ExampleWorkerSettings(BaseSettings):
    """The example BPJS enrolment worker; environment variables start with ``AGENCY_WORKER_`` (Kafka: ``KAFKA_``,
    the PostgreSQL server of its ledger: ``DATABASE_``)."""

    model_config = SettingsConfigDict(env_prefix="AGENCY_WORKER_", extra="ignore")

    name: str = Field(
        default="bpjs-enrolment",
        pattern=r"^[a-z0-9][a-z0-9-]{0,40}$",
        description="The worker's name: part of its consumer group and of the actor on its decisions.",
    )
    ledger_dsn: str | None = Field(
        default=None,
        description=(
            "PostgreSQL DSN (`postgresql://...`) of the database where the worker remembers the assignments it has "
            "decided, across restarts. Unset: the worker's own database `<DATABASE_NAME_PREFIX>agency_worker` on "
            "the `DATABASE_URL` server, created at start."
        ),
    )
    reader_key_path: Path | None = Field(
        default=None,
        description=(
            "PEM file of the agency's private reader key (`reader-agency.<code>.pem` from make secrets), which opens "
            "the citizens' keys on its key topic (decision 0016). Unset: the development pair in the auth keys "
            "directory, made when missing, which an intake on the same machine wraps for."
        ),
    )
    log_level: str = Field(default="info", description="Log level of the worker's structured logs.")
    kafka: KafkaSettings = Field(default_factory=KafkaSettings, description="The Kafka cluster.")
    database: DatabaseSettings = Field(
        default_factory=DatabaseSettings, description="The PostgreSQL server of the default ledger database."
    )

    def ledger_url(self) -> str:
        """The DSN of the ledger: ``ledger_dsn``, or the worker's own database on the configured server."""
        return self.ledger_dsn or self.database.service_url(LEDGER_SERVICE, driver="postgresql")


def birth_certificate_number(task: Task) -> str | None:
    """The child's birth certificate number: disdukcapil's output, or the citizen's answer to our question."""
    registry: Mapping[str, JsonScalar] = task.previous_outputs.get(REGISTRY_AGENCY, {})
    for value in (registry.get(CERTIFICATE_OUTPUT), task.answers.get(CERTIFICATE_OUTPUT)):
        if isinstance(value, str) and value.strip():
            return value.strip().upper()
    for answer in task.answers.values():
        if isinstance(answer, str) and (found := _CERTIFICATE_NUMBER.search(answer)):
            return found.group(0).upper()
    return None


def member_number(certificate_number: str, task: Task) -> str:
    """A 13-digit BPJS Kesehatan card number (nomor kartu), derived from the certificate so a retry yields the same."""
    seed = f"{certificate_number}|{task.fields.get('child_birth_date', '')}|{task.application_id}".encode()
    return "0001" + str(int(hashlib.sha256(seed).hexdigest(), 16) % 10**9).zfill(9)


async def bpjs_enrolment_check(task: Task) -> Outcome | None:
    """Approve the baby's enrolment when the birth certificate number is known; ask for it once; else an officer."""
    certificate = birth_certificate_number(task)
    if certificate is not None:
        return approve(
            {
                "member_number": member_number(certificate, task),
                "birth_certificate_number": certificate,
                "class": "3",
            }
        )
    if task.answers:
        return None  # asked once already and the answer has no number: a person should look at it
    return request_information(QUESTION)


def build_worker(settings: ExampleWorkerSettings) -> AgencyWorker:
    """The BPJS enrolment worker on ``settings``' cluster, remembering its decisions in its PostgreSQL ledger and
    opening citizens' keys with ``AGENCY_WORKER_READER_KEY_PATH`` (development: the local pair)."""
    return AgencyWorker(
        AGENCY,
        settings.kafka,
        bpjs_enrolment_check,
        worker_name=settings.name,
        ledger=PostgresLedger(settings.ledger_url(), agency=AGENCY, worker=settings.name),
        reader_key=settings.reader_key_path,
    )


async def serve(settings: ExampleWorkerSettings) -> None:
    """Create the worker's own ledger database (unless a ledger DSN is given), then run the worker until signalled."""
    if settings.ledger_dsn is None:
        database = settings.database
        await ensure_database(database.server_url(), database.database_name(LEDGER_SERVICE))
    await build_worker(settings).run()


def main() -> None:
    """Console script ``satupintu-agency-worker``: run the example BPJS enrolment worker until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(
        prog="satupintu-agency-worker",
        description=(
            "BPJS Kesehatan's automatic enrolment check, on the agency.bpjs-kes topics (Kafka from KAFKA_*), "
            "remembering its decisions in PostgreSQL (DATABASE_*) and opening citizens' keys with the agency's "
            "reader key (AGENCY_WORKER_READER_KEY_PATH, reader-agency.bpjs-kes.pem from make secrets)."
        ),
    )
    parser.add_argument("--name", help="worker name (default: AGENCY_WORKER_NAME or bpjs-enrolment)")
    parser.add_argument(
        "--ledger-dsn",
        help=(
            "postgresql:// DSN of the ledger of decided assignments (default: AGENCY_WORKER_LEDGER_DSN, else the "
            "worker's own database on the DATABASE_URL server)"
        ),
    )
    arguments = parser.parse_args()
    overrides: dict[str, object] = {}
    if arguments.name:
        overrides["name"] = arguments.name
    if arguments.ledger_dsn:
        overrides["ledger_dsn"] = arguments.ledger_dsn
    settings = ExampleWorkerSettings(**overrides)  # type: ignore[arg-type]
    configure_logging("agency-worker", settings.log_level)
    asyncio.run(serve(settings))
