"""The desk's pages over HTTP: login with argon2-hashed passwords, signed session cookies, CSRF on every form,
claiming and deciding through the same use cases, another agency's task refused, the officer command. (A decision
routing refused, shown on the pages, is in ``tests/e2e/test_desk_and_routing.py``: it runs routing.)"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from satupintu.agency.web.desk import DECISION_SENT_TEXT
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.topics import Topic
from tests.desk import PASSWORD, csrf_of, log_in, new_officer, row_of
from tests.support import wait_for_events

pytestmark = pytest.mark.integration


async def test_an_officer_logs_in_claims_and_decides_through_the_pages(
    desk: Any, kafka_settings: KafkaSettings
) -> None:
    username = await new_officer(desk, "polres")
    task = await desk.assign("polres", fields={"purpose": "Melamar kerja", "address": "Jl. Kenari 3"})
    await desk.wait_for_task(desk.token("polres"), task.payload.task_id)
    client = desk.client
    page = f"/desk/tasks/{task.payload.task_id}"

    without_token = await client.post("/login", data={"username": username, "password": PASSWORD})
    wrong = await log_in(client, username, "bukan-kata-sandinya")
    unknown = await log_in(client, "tidak-ada", PASSWORD)
    logged_in = await log_in(client, username)
    cookie = logged_in.headers["set-cookie"]
    listing = await client.get("/desk")
    detail = await client.get(page)
    forged = await client.post(f"{page}/claim", data={"csrf_token": "forged"})
    claimed = await client.post(f"{page}/claim", data={"csrf_token": csrf_of(detail)})
    held = await client.get(page)
    incomplete = await client.post(f"{page}/decision", data={"csrf_token": csrf_of(held), "decision": "rejected"})
    decided = await client.post(
        f"{page}/decision",
        data={"csrf_token": csrf_of(held), "decision": "approved", "outputs": "skck_number = SKCK/2026/11/9"},
    )
    after = await client.get("/desk")
    [decision] = await wait_for_events(
        kafka_settings, Topic.AGENCY_DECISIONS.name_for("polres"), task.subject, "task.decided"
    )

    assert without_token.status_code == 403
    assert wrong.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in wrong.text
    assert unknown.status_code == 401
    assert (logged_in.status_code, logged_in.headers["location"]) == (303, "/desk")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert listing.status_code == 200
    assert task.payload.task_id in listing.text
    assert "Surat Keterangan Catatan Kepolisian" in listing.text
    assert listing.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in listing.headers["content-security-policy"]
    assert "Jl. Kenari 3" in detail.text
    assert "Ambil tugas" in detail.text
    assert forged.status_code == 403
    assert (claimed.status_code, claimed.headers["location"]) == (303, page)
    assert "Kirim keputusan" in held.text
    assert incomplete.status_code == 422
    assert "Penolakan perlu alasan" in incomplete.text
    assert (decided.status_code, decided.headers["location"]) == (303, "/desk")
    assert "Keputusan terkirim: Disetujui." in after.text
    assert f'{DECISION_SENT_TEXT}</span><br><span class="muted">Disetujui</span>' in row_of(after, task.payload.task_id)
    assert decision.actor == f"officer:polres:{username}"
    assert decision.payload.outputs == {"skck_number": "SKCK/2026/11/9"}


async def test_another_agencys_task_page_is_refused_and_a_password_change_ends_sessions(
    desk: Any, kafka_settings: KafkaSettings
) -> None:
    username = await new_officer(desk, "polres")
    foreign = await desk.assign("imigrasi", service_code="paspor", fields={"mother_name": "Sri"})
    await desk.wait_for_task(desk.token("imigrasi"), foreign.payload.task_id)
    await log_in(desk.client, username)

    refused = await desk.client.get(f"/desk/tasks/{foreign.payload.task_id}")
    [record] = await wait_for_events(kafka_settings, Topic.ACCESS.name_for(), foreign.subject, "access.recorded")
    await desk.app.state.agency.officers.set_password(username, "kata-sandi-baru-2026")
    after_change = await desk.client.get("/desk")

    assert refused.status_code == 404
    assert "Sri" not in refused.text
    assert (record.payload.outcome, record.payload.principal) == ("denied", f"officer:polres:{username}")
    assert (after_change.status_code, after_change.headers["location"]) == (303, "/login")


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


async def run(script: Path, env: dict[str, str], *arguments: str) -> Completed:
    process = await asyncio.create_subprocess_exec(
        str(script), *arguments, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return Completed(process.returncode, stdout.decode(), stderr.decode())


async def test_the_officer_command_adds_and_lists_officers(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, agency_settings: Any, tmp_path: Path
) -> None:
    script = Path(sys.executable).parent / "satupintu-agency-officer"
    env = {
        **os.environ,
        "DATABASE_URL": database_settings.url,
        "DATABASE_NAME_PREFIX": database_settings.name_prefix,
        "AUTH_KEYS_DIR": str(tmp_path),
    }
    username = f"sari-{uuid.uuid4().hex[:6]}"

    added = await run(
        script, env, "add", "--agency", "djp", "--username", username, "--name", "Sari Dewi", "--password", PASSWORD
    )
    again = await run(script, env, "add", "--agency", "djp", "--username", username, "--password", PASSWORD)
    unknown_agency = await run(script, env, "add", "--agency", "nasa", "--username", "x-ray", "--password", PASSWORD)
    listed = await run(script, env, "list", "--agency", "djp")

    assert added.returncode == 0, added.stderr
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert unknown_agency.returncode == 2
    assert "unknown agency 'nasa'" in unknown_agency.stderr
    assert listed.returncode == 0, listed.stderr
    assert f"{username}\tdjp\tSari Dewi" in listed.stdout.splitlines()
