"""The officers' desk: server-rendered pages in Indonesian that work without JavaScript. Officers sign in through the
provider (``/auth/*``, satupintu.common.oidc): the desk keeps no passwords, the session is kept server-side and its
cookie holds an opaque id; the officer's agency comes from their token, never from the request. Every form carries
the session's CSRF token. The pages call the same use cases as the JSON API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from satupintu.agency.api import dependencies
from satupintu.agency.api.dependencies import DeskOfficer, desk_service, sign_in, signed_in_officer
from satupintu.agency.domain import (
    DecisionInput,
    DeskError,
    FieldProblem,
    InvalidDecision,
    InvalidReassignment,
    SupervisorRequired,
)
from satupintu.agency.services import TaskView
from satupintu.common.oidc.web import SignIn
from satupintu.common.web.csrf import CsrfField
from satupintu.common.web.dates import local_time
from satupintu.common.web.templates import render_html
from satupintu.contract.base import Decision

router = APIRouter(include_in_schema=False)
FLASH_KEY = "flash"
PAGE_PATHS = ("/login", "/auth", "/desk")
_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)

SLA_LABELS = {"on_time": "Tepat waktu", "due_soon": "Segera jatuh tempo", "breached": "Melewati tenggat"}
DECISION_LABELS = {
    "approved": "Disetujui",
    "rejected": "Ditolak",
    "needs_information": "Informasi diminta",
}
# What became of a decision, in the desk's two languages: routing's reasons themselves are in English.
DECISION_SENT_TEXT = "Keputusan terkirim, menunggu routing / Decision sent, waiting for routing"
DECISION_REFUSED_TEXT = "Keputusan ditolak routing / Decision refused"
_FIELD_MESSAGES = {
    "decision": "Pilih keputusan.",
    "outputs": "Tulis hasil sebagai `nama = nilai`, satu per baris (nama: huruf kecil, angka dan _); "
    "hanya persetujuan yang punya hasil.",
    "reason": "Penolakan perlu alasan yang akan dibaca pemohon (maks. 2000 karakter).",
    "questions": "Tulis minimal satu pertanyaan untuk pemohon, satu per baris (maks. 10).",
}


def install_page_security(app: FastAPI, officers: SignIn) -> None:
    """Headers for the desk's pages: no framing, no foreign content, no caching of personal data; forms post here
    (signing out continues at the provider)."""
    policy = officers.allowing_sign_out(_CSP)

    @app.middleware("http")
    async def page_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        path = request.url.path
        if path == "/" or path.startswith(PAGE_PATHS):
            response.headers["Content-Security-Policy"] = policy
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Cache-Control"] = "no-store"
        return response


def _flash(request: Request, kind: str, text: str) -> None:
    request.session[FLASH_KEY] = {"kind": kind, "text": text}


def _agency_name(request: Request, code: str) -> str:
    agency = dependencies.catalogue(request).agency(code)
    return agency.name.id if agency else code


def _render(
    request: Request,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    officer: DeskOfficer | None = context.get("officer")
    full = {
        "officer": None,
        "csrf_token": sign_in(request).csrf_token(request),
        "flash": request.session.pop(FLASH_KEY, None),
        "agency_name": _agency_name(request, officer.agency) if officer else "",
        "sla_labels": SLA_LABELS,
        "decision_labels": DECISION_LABELS,
        "decision_sent_text": DECISION_SENT_TEXT,
        "decision_refused_text": DECISION_REFUSED_TEXT,
        **context,
    }
    return render_html("satupintu.agency", template, full, status_code=status_code, headers=headers)


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _refused_form(request: Request) -> HTMLResponse:
    return _render(
        request,
        "error.html",
        {
            "title": "Formulir tidak sah",
            "message": "Formulir kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi.",
        },
        status_code=403,
    )


@router.get("/")
async def home() -> RedirectResponse:
    """The desk lives at /desk."""
    return _redirect("/desk")


@router.get("/login")
async def login_page(request: Request, signed_out: str = "") -> Response:
    """The desk's sign-in page: a link to the provider's login (an officer already signed in goes to the desk)."""
    if await signed_in_officer(request) is not None:
        return _redirect("/desk")
    return _render(
        request, "login.html", {"sign_in_url": sign_in(request).login_url("/desk"), "signed_out": bool(signed_out)}
    )


@router.get("/desk")
async def task_list(request: Request) -> Response:
    """The agency's open tasks, and those waiting for routing, with due dates and SLA state."""
    officer = await signed_in_officer(request)
    if officer is None:
        return _redirect("/login")
    desk = desk_service(request)
    tasks = await desk.open_tasks(officer.principal)
    return _render(request, "tasks.html", {"officer": officer, "tasks": tasks, "now": desk.now()})


@router.get("/desk/tasks/{task_id}")
async def task_page(request: Request, task_id: str) -> Response:
    """One task: what the agency may see, and claiming or deciding it."""
    officer = await signed_in_officer(request)
    if officer is None:
        return _redirect("/login")
    return await _task_page(request, officer, task_id)


async def _task_page(
    request: Request,
    officer: DeskOfficer,
    task_id: str,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    desk = desk_service(request)
    try:
        task = await desk.task(officer.principal, task_id)
    except DeskError as error:
        return _render(
            request,
            "error.html",
            {
                "officer": officer,
                "title": "Tugas tidak ditemukan",
                "message": "Instansi Anda tidak memiliki tugas ini.",
            },
            status_code=error.status,
        )
    now = desk.now()
    return _render(
        request,
        "task.html",
        {
            "officer": officer,
            "task": task,
            "now": now,
            "mine": task.claimed_by == officer.username and task.claim_live(now),
            "colleague": task.claimed_by if task.claimed_by_other(officer.username, now) else None,
            "errors": errors or {},
            "form": form or {"decision": "", "outputs": _outputs_to_fill(request, task), "reason": "", "questions": ""},
        },
        status_code=status_code,
    )


@router.post("/desk/tasks/{task_id}/claim")
async def claim(request: Request, task_id: str, csrf_token: CsrfField = "") -> Response:
    """Claim the task; back to the task page."""
    officer = await signed_in_officer(request)
    if officer is None:
        return _redirect("/login")
    if not sign_in(request).csrf_valid(request, csrf_token):
        return _refused_form(request)
    desk = desk_service(request)
    try:
        claimed = await desk.claim(officer.principal, task_id)
    except DeskError as error:
        if error.status == 404:
            _flash(request, "error", "Instansi Anda tidak memiliki tugas ini.")
            return _redirect("/desk")
        _flash(request, "error", _conflict_text(error))
        return _redirect(f"/desk/tasks/{task_id}")
    until = local_time(claimed.expires_at, desk.calendar_for(officer.agency).timezone)
    _flash(request, "ok", f"Tugas ini Anda ambil sampai {until}. Rekan Anda tidak melihatnya selama itu.")
    return _redirect(f"/desk/tasks/{task_id}")


class DecisionForm(BaseModel):
    """The desk's decision form."""

    csrf_token: str = Field(default="", max_length=100)
    decision: str = Field(default="", max_length=40)
    outputs: str = Field(default="", max_length=20_000)
    reason: str = Field(default="", max_length=5_000)
    questions: str = Field(default="", max_length=10_000)


@router.post("/desk/tasks/{task_id}/decision")
async def decide(request: Request, task_id: str, form: Annotated[DecisionForm, Form()]) -> Response:
    """Decide the task held; back to the list, or the form again with what to fix."""
    officer = await signed_in_officer(request)
    if officer is None:
        return _redirect("/login")
    if not sign_in(request).csrf_valid(request, form.csrf_token):
        return _refused_form(request)
    try:
        proposed = decision_from_form(form.decision, form.outputs, form.reason, form.questions)
        decided = await desk_service(request).decide(officer.principal, task_id, proposed)
    except InvalidDecision as invalid:
        errors: dict[str, str] = {}
        for problem in invalid.problems:
            root = problem.field.split("/", 1)[0]
            errors.setdefault(root, _FIELD_MESSAGES.get(root, problem.message))
        kept = form.model_dump(exclude={"csrf_token"})
        return await _task_page(request, officer, task_id, errors=errors, form=kept, status_code=422)
    except DeskError as error:
        if error.status == 404:
            _flash(request, "error", "Instansi Anda tidak memiliki tugas ini.")
            return _redirect("/desk")
        _flash(request, "error", _conflict_text(error))
        return _redirect(f"/desk/tasks/{task_id}")
    _flash(request, "ok", f"Keputusan terkirim: {DECISION_LABELS[decided.decision.value]}.")
    return _redirect("/desk")


def _outputs_to_fill(request: Request, task: TaskView) -> str:
    """The outputs the catalogue says the task's approval gives, as ``name = `` lines for the officer to fill (what
    an issued document prints)."""
    service = dependencies.catalogue(request).service(task.service_code)
    if service is None or task.stage_index >= len(service.stages):
        return ""
    definition = next((t for t in service.stages[task.stage_index].tasks if t.agency == task.agency), None)
    return "".join(f"{name} = \n" for name in (definition.outputs if definition else ()))


STATE_LABELS = {
    "open": "Terbuka",
    "decision_sent": "Keputusan terkirim, menunggu routing",
    "information_requested": "Menunggu jawaban pemohon",
}
_NOT_SUPERVISOR = (
    "Halaman ini untuk pengawas instansi (peran supervisor). Akun Anda petugas biasa; "
    "minta kepala instansi bila perlu mengalihkan tugas."
)


@router.get("/desk/supervisor")
async def supervisor_page(request: Request) -> Response:
    """The supervisor view: the agency's overdue, due and waiting tasks with their holders, and reassigning them."""
    officer = await signed_in_officer(request)
    if officer is None:
        return _redirect("/login")
    desk = desk_service(request)
    try:
        tasks = await desk.supervised_tasks(officer.principal)
    except DeskError as error:
        return _render(
            request,
            "error.html",
            {"officer": officer, "title": "Khusus pengawas", "message": _NOT_SUPERVISOR},
            status_code=error.status,
        )
    return _render(
        request,
        "supervisor.html",
        {"officer": officer, "tasks": tasks, "now": desk.now(), "state_labels": STATE_LABELS},
    )


class ReassignForm(BaseModel):
    """The supervisor view's reassignment form."""

    csrf_token: str = Field(default="", max_length=100)
    officer: str = Field(default="", max_length=300)


@router.post("/desk/supervisor/tasks/{task_id}/reassign")
async def reassign(request: Request, task_id: str, form: Annotated[ReassignForm, Form()]) -> Response:
    """Give the task's claim to another officer; back to the supervisor view with what happened."""
    officer = await signed_in_officer(request)
    if officer is None:
        return _redirect("/login")
    if not sign_in(request).csrf_valid(request, form.csrf_token):
        return _refused_form(request)
    desk = desk_service(request)
    try:
        moved = await desk.reassign(officer.principal, task_id, form.officer)
    except SupervisorRequired:
        return _render(
            request,
            "error.html",
            {"officer": officer, "title": "Khusus pengawas", "message": _NOT_SUPERVISOR},
            status_code=403,
        )
    except InvalidReassignment:
        _flash(request, "error", "Tulis nama pengguna petugas (huruf, angka dan . _ @ -).")
        return _redirect("/desk/supervisor")
    except DeskError as error:
        _flash(
            request,
            "error",
            "Instansi Anda tidak memiliki tugas ini." if error.status == 404 else _conflict_text(error),
        )
        return _redirect("/desk/supervisor")
    until = local_time(moved.expires_at, desk.calendar_for(officer.agency).timezone)
    _flash(request, "ok", f"Tugas dialihkan ke {moved.officer} sampai {until}.")
    return _redirect("/desk/supervisor")


def decision_from_form(decision: str, outputs: str, reason: str, questions: str) -> DecisionInput:
    """A decision from the desk's form: outputs as ``name = value`` lines, one question per line."""
    try:
        chosen = Decision(decision)
    except ValueError as unknown:
        raise InvalidDecision([FieldProblem("decision", "choose approved, rejected or needs_information")]) from unknown
    parsed: dict[str, str] = {}
    problems: list[FieldProblem] = []
    for number, line in enumerate(outputs.splitlines(), start=1):
        if not line.strip():
            continue
        name, separator, value = line.partition("=")
        if not separator or not name.strip():
            problems.append(FieldProblem("outputs", f"line {number}: write name = value"))
            continue
        parsed[name.strip()] = value.strip()
    if problems:
        raise InvalidDecision(problems)
    return DecisionInput(
        chosen,
        outputs=parsed if chosen is Decision.APPROVED else {},
        reason=reason if chosen is Decision.REJECTED else None,
        questions=tuple(questions.splitlines()) if chosen is Decision.NEEDS_INFORMATION else (),
    )


def _conflict_text(error: DeskError) -> str:
    texts = {
        "task-claimed": "Tugas ini sedang dikerjakan rekan Anda.",
        "claim-required": "Ambil tugas ini dulu sebelum memutuskan (klaim Anda mungkin sudah berakhir).",
        "task-not-open": "Tugas ini sudah tidak terbuka (keputusannya menunggu routing atau sudah diterima, "
        "ditarik, atau menunggu jawaban pemohon).",
    }
    return texts.get(error.problem_type, error.detail)
