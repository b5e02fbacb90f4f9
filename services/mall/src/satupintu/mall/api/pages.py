"""The mall's server-rendered pages (no script, nothing loaded from elsewhere): the queue kiosk and ticket page,
the performance board for a wall screen (SVG charts, reloads itself), the survey, the complaint form and status,
and the consent ledger. They call the same use cases as the JSON API."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from pydantic import ValidationError

from satupintu.common.consent import ALL_AGENCIES
from satupintu.common.events.mall import SkmAnswers
from satupintu.common.lockout import LockedOut
from satupintu.mall import charts
from satupintu.mall.api import MallContext
from satupintu.mall.api.limits import RateLimited, WriteGroup, limit
from satupintu.mall.domain import (
    COMPLAINT_CATEGORY_LABELS,
    SKM_ELEMENTS,
    SKM_GRADES,
    SKM_SCALE_LABELS,
    ApplicationNotKnown,
    ComplaintCategory,
    ComplaintNotFound,
    ConsentRefused,
    NotTheApplicant,
    SurveyAlreadyAnswered,
    SurveyExpired,
    SurveyNotFound,
    TicketNotFound,
    TicketState,
    UnknownAgency,
    UnknownService,
)
from satupintu.mall.i18n import LANGUAGES, Translator
from satupintu.mall.schemas import BoardRead, ComplaintCreate, ServicePerformance
from satupintu.mall.services.complaints import NewComplaint

router = APIRouter(tags=["pages"], include_in_schema=False)

_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_TICKET_REFRESH_SECONDS = 20


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("satupintu.mall", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _stylesheet() -> str:
    return files("satupintu.mall").joinpath("static/mall.css").read_text(encoding="utf-8")


def page_context(request: Request) -> MallContext:
    """The app's use cases, for a page."""
    context: MallContext = request.app.state.mall
    return context


def page_language(request: Request) -> str:
    """The page's language: ``?lang=en``, else Indonesian."""
    asked = request.query_params.get("lang")
    return asked if asked in LANGUAGES else "id"


def render_page(
    request: Request,
    template: str,
    *,
    title: str,
    status_code: int = 200,
    refresh: int | None = None,
    language: str | None = None,
    **values: Any,
) -> HTMLResponse:
    """A page of ``template`` in the request's language, with the pages' security headers."""
    language = language or page_language(request)
    other = "en" if language == "id" else "id"
    switch_query = {**request.query_params, "lang": other}
    t = Translator(language, page_context(request).settings.timezone)
    html = (
        _templates()
        .get_template(template)
        .render(
            t=t,
            lang=language,
            title=title,
            refresh=refresh,
            switch_url=f"{request.url.path}?{urlencode(switch_query)}",
            query=f"?lang={language}" if language != "id" else "",
            **values,
        )
    )
    return HTMLResponse(html, status_code=status_code, headers=_PAGE_HEADERS)


def render_notice(
    request: Request, title: str, body: str, status_code: int, language: str | None = None
) -> HTMLResponse:
    """A page that only says something: a title and a sentence."""
    return render_page(request, "notice.html", title=title, body=body, status_code=status_code, language=language)


@router.get("/static/mall.css")
async def stylesheet() -> Response:
    """The pages' one stylesheet."""
    return Response(
        _stylesheet(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def rate_limited_page(request: Request, error: RateLimited) -> Response:
    """What a citizen sees when they sent too many forms: when to try again (status 429)."""
    t = Translator(page_language(request))
    return render_notice(request, t("rate_limited_title"), t("rate_limited", seconds=error.retry_after), 429)


@router.get("/")
async def home(request: Request) -> HTMLResponse:
    """What the mall offers on its own pages."""
    t = Translator(page_language(request))
    return render_page(request, "home.html", title=t("home_title"))


# ----------------------------------------------------------------------------------------------------------------------
# Queue kiosk


@router.get("/kiosk")
async def kiosk(request: Request) -> HTMLResponse:
    """Choose a service and take a number; each shows the wait a number taken now is expected to have."""
    context = page_context(request)
    t = Translator(page_language(request))
    waiting = {row.service_code: row for row in await context.board.queue()}
    services = []
    for service in context.catalogue.services:
        row = waiting.get(service.code)
        count = row.waiting if row else 0
        services.append(
            {
                "code": service.code,
                "name": service.name.in_language(t.language),
                "agency": agency_name(context, service.agency, t.language),
                "waiting": count,
                "estimate": row.estimated_wait_minutes
                if row
                else await context.queue.estimate_for_new(service.code, 0),
            }
        )
    return render_page(request, "kiosk.html", title=t("kiosk_title"), services=services)


@router.post("/kiosk", dependencies=[Depends(limit(WriteGroup.KIOSK, page=True))])
async def take_number(request: Request) -> Response:
    """Issue a number and show its page."""
    form = await request.form()
    service_code = str(form.get("service_code") or "")
    try:
        view = await page_context(request).queue.issue(service_code)
    except UnknownService:
        t = Translator(page_language(request))
        return render_notice(request, t("kiosk_title"), t("not_found"), 404)
    suffix = f"?lang={page_language(request)}" if page_language(request) != "id" else ""
    return RedirectResponse(f"/kiosk/tickets/{view.ticket.ticket_id}{suffix}", status_code=303, headers=_PAGE_HEADERS)


@router.get("/kiosk/tickets/{ticket_id}")
async def ticket_page(ticket_id: str, request: Request) -> HTMLResponse:
    """The visitor's number, where it stands, and (once linked) the application to follow."""
    context = page_context(request)
    t = Translator(page_language(request))
    try:
        view = await context.queue.view(ticket_id)
    except TicketNotFound:
        return render_notice(request, t("ticket_title"), t("not_found"), 404)
    ticket = view.ticket
    service = context.catalogue.service(ticket.service_code)
    state_text = {
        TicketState.WAITING: t("ticket_state_waiting"),
        TicketState.CALLED: t("ticket_state_called", counter=ticket.counter or ""),
        TicketState.SERVED: t("ticket_state_served"),
        TicketState.NO_SHOW: t("ticket_state_no_show"),
    }[TicketState(ticket.state)]
    track_url = (
        f"{context.settings.intake_url.rstrip('/')}/track/{ticket.tracking_code}" if ticket.tracking_code else None
    )
    return render_page(
        request,
        "ticket.html",
        title=t("ticket_title"),
        refresh=_TICKET_REFRESH_SECONDS if ticket.state in (TicketState.WAITING, TicketState.CALLED) else None,
        refresh_seconds=_TICKET_REFRESH_SECONDS,
        ticket=ticket,
        service_name=service.name.in_language(t.language) if service else ticket.service_code,
        waiting=ticket.state == TicketState.WAITING,
        ahead=view.waiting_ahead,
        estimate=view.estimated_wait_minutes,
        state_text=state_text,
        track_url=track_url,
    )


# ----------------------------------------------------------------------------------------------------------------------
# Now-calling display


@router.get("/display")
async def display_page(request: Request) -> HTMLResponse:
    """The wall screen over the waiting area: the number called last and the counter it goes to, then the calls
    before it; numbers, counters and services only, nothing about a visitor. ``?agency=`` shows one agency's calls.
    It reloads itself."""
    context = page_context(request)
    t = Translator(page_language(request), context.settings.timezone)
    agency = request.query_params.get("agency") or None
    if agency is not None and context.catalogue.agency(agency) is None:
        return render_notice(request, t("display_title"), t("not_found"), 404)
    calls = [
        {
            "number": ticket.number,
            "counter": ticket.counter or "",
            "service": service.name.in_language(t.language) if service else ticket.service_code,
            "at": t.clock(ticket.called_at),
        }
        for ticket in await context.queue.recent_calls(context.settings.display_recent_calls + 1, agency)
        for service in [context.catalogue.service(ticket.service_code)]
    ]
    where = agency_name(context, agency, t.language) if agency else t("display_all")
    return render_page(
        request,
        "display.html",
        title=t("display_title"),
        refresh=context.settings.display_refresh_seconds,
        subtitle=t("display_updated", where=where, time=t.clock(context.queue.now())),
        latest=calls[0] if calls else None,
        recent=calls[1:],
    )


# ----------------------------------------------------------------------------------------------------------------------
# Performance board


def agency_name(context: MallContext, code: str, language: str = "id") -> str:
    """An agency's name in ``language`` (its code when the catalogue has none)."""
    agency = context.catalogue.agency(code)
    return agency.name.in_language(language) if agency else code


def _number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _short_name(name: str) -> str:
    """A service's name as a chart row shows it: whole when it fits, else its abbreviation, e.g. ``PBG``."""
    abbreviation = re.search(r"\(([^)]+)\)\s*$", name)
    return abbreviation.group(1) if abbreviation and len(name) > 28 else name


def _flow_chart(t: Translator, rows: Sequence[ServicePerformance]) -> Markup:
    bars = [
        charts.Bar(
            label=_short_name(row.name),
            sublabel=row.agency_name,
            segments=[
                charts.Segment(row.completed, charts.GREEN, t("completed")),
                charts.Segment(row.rejected, charts.VERMILLION, t("rejected")),
                charts.Segment(row.open, charts.BLUE, t("open")),
            ],
            note=f"{row.received} ({row.completed}/{row.rejected}/{row.open})",
            extra={"received": str(row.received)},
        )
        for row in rows
    ]
    return charts.bar_chart(
        "chart-flow",
        t("board_flow"),
        t("board_flow_desc"),
        bars,
        maximum=max([row.received for row in rows] + [1]),
        legend=[
            charts.Legend(charts.GREEN, t("completed")),
            charts.Legend(charts.VERMILLION, t("rejected")),
            charts.Legend(charts.BLUE, t("open")),
        ],
    )


def _time_chart(t: Translator, rows: Sequence[ServicePerformance]) -> Markup:
    """Median and p90 as a share of each service's own standard, so a 1-day and a 28-day service compare."""
    bars = []
    shares: list[float] = []
    for row in rows:
        standard = float(row.standard_working_days or 1)
        median = None if row.median_working_days is None else 100 * row.median_working_days / standard
        p90 = None if row.p90_working_days is None else 100 * row.p90_working_days / standard
        shares += [value for value in (median, p90) if value is not None]
        bars.append(
            charts.Bar(
                label=_short_name(row.name),
                sublabel=f"{t('standard')}: {row.standard_working_days} {t('days_short')}",
                segments=[charts.Segment(median, charts.BLUE, t("median"))] if median is not None else [],
                markers=[charts.Marker(p90, charts.ORANGE, t("p90"))] if p90 is not None else [],
                note=(
                    f"{_number(row.median_working_days)} / {_number(row.p90_working_days)} {t('days_short')}"
                    if row.median_working_days is not None
                    else t("no_data")
                ),
            )
        )
    maximum = min(max([200.0, *shares]), 400.0) * 1.05
    return charts.bar_chart(
        "chart-time",
        t("board_time"),
        t("board_time_desc"),
        bars,
        maximum=maximum,
        legend=[
            charts.Legend(charts.BLUE, t("median")),
            charts.Legend(charts.ORANGE, t("p90"), "line"),
            charts.Legend(charts.YELLOW, t("standard"), "line"),
        ],
        reference=(100.0, t("standard")),
        ticks=[float(value) for value in range(0, int(maximum) + 1, 100)],
        tick_format="{:g}%",
    )


def _compliance_chart(t: Translator, rows: Sequence[ServicePerformance]) -> Markup:
    bars = []
    for row in rows:
        share = row.sla_compliance
        colour = (
            charts.GREEN
            if share is not None and share >= 0.9
            else charts.ORANGE
            if share is not None and share >= 0.75
            else charts.VERMILLION
        )
        bars.append(
            charts.Bar(
                label=_short_name(row.name),
                segments=[charts.Segment(100 * share, colour, t("compliance"))] if share is not None else [],
                note=f"{100 * share:.0f}% ({row.on_time}/{row.on_time + row.late})" if share is not None else "—",
            )
        )
    return charts.bar_chart(
        "chart-sla",
        t("board_sla"),
        t("board_sla_desc"),
        bars,
        maximum=100,
        ticks=[0, 25, 50, 75, 100],
        tick_format="{:g}%",
    )


_GRADE_COLOURS = {"A": charts.GREEN, "B": charts.BLUE, "C": charts.ORANGE, "D": charts.VERMILLION}


def _satisfaction_chart(t: Translator, rows: Sequence[ServicePerformance], chart_id: str) -> Markup:
    bars = []
    for row in rows:
        skm = row.satisfaction
        bars.append(
            charts.Bar(
                label=_short_name(row.name),
                sublabel=f"{skm.respondents} {t('respondents')}" if skm else "",
                segments=[charts.Segment(skm.converted - 25, _GRADE_COLOURS[skm.grade], "IKM")] if skm else [],
                note=f"{skm.converted:.2f} {skm.grade}" if skm else "—",
                extra={"grade": skm.grade} if skm else {},
            )
        )
    return charts.bar_chart(
        chart_id,
        t("board_skm"),
        t("board_skm_desc"),
        bars,
        minimum=25,
        maximum=100,
        ticks=[25, *(float(grade.minimum) for grade in reversed(SKM_GRADES[:-1])), 100],
        tick_format="{:g}",
        legend=[charts.Legend(colour, letter) for letter, colour in _GRADE_COLOURS.items()],
    )


def _queue_chart(t: Translator, board: BoardRead) -> Markup:
    rows = board.queue
    bars = [
        charts.Bar(
            label=_short_name(row.service_name),
            sublabel=f"{row.waiting} {t('kiosk_waiting')}",
            segments=[charts.Segment(row.average_wait_minutes or 0, charts.BLUE, t("average_wait"))],
            markers=[charts.Marker(row.longest_wait_minutes, charts.ORANGE, t("longest_wait"))]
            if row.longest_wait_minutes is not None
            else [],
            note=(
                f"{_number(row.average_wait_minutes, 0)} / {_number(row.longest_wait_minutes, 0)} {t('minutes_short')}"
            ),
        )
        for row in rows
    ]
    top = max([row.longest_wait_minutes or 0 for row in rows] + [row.average_wait_minutes or 0 for row in rows] + [10])
    return charts.bar_chart(
        "chart-queue",
        t("board_queue"),
        t("board_queue_desc"),
        bars,
        maximum=top * 1.1,
        legend=[charts.Legend(charts.BLUE, t("average_wait")), charts.Legend(charts.ORANGE, t("longest_wait"), "line")],
    )


@router.get("/board")
async def board_page(request: Request) -> HTMLResponse:
    """The wall screen: charts per service, a table per agency, today's queue; it reloads itself."""
    context = page_context(request)
    t = Translator(page_language(request), context.settings.timezone)
    days = context.settings.board_days
    board = await context.board.board(days)
    return render_page(
        request,
        "board.html",
        title=t("board_title"),
        refresh=context.settings.board_refresh_seconds,
        period=t("board_period", days=days, time=t.moment(board.generated_at)),
        board=board,
        flow=_flow_chart(t, board.services),
        time_chart=_time_chart(t, board.services),
        compliance=_compliance_chart(t, board.services),
        satisfaction=_satisfaction_chart(t, board.services, "chart-skm"),
        queue=_queue_chart(t, board),
        number=_number,
    )


# ----------------------------------------------------------------------------------------------------------------------
# Survey


def _survey_elements(t: Translator, chosen: dict[str, str], errors: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "name": element.name,
            "code": element.code,
            "label": element.label_en if t.language == "en" else element.label_id,
            "chosen": chosen.get(element.name, ""),
            "error": errors.get(element.name),
            "options": [
                {"value": str(score), "label": labels[1] if t.language == "en" else labels[0]}
                for score, labels in SKM_SCALE_LABELS.items()
            ],
        }
        for element in SKM_ELEMENTS
    ]


async def _survey_or_notice(request: Request, token: str) -> tuple[Any, Translator] | HTMLResponse:
    context = page_context(request)
    try:
        survey = await context.surveys.open(token)
    except SurveyNotFound:
        t = Translator(page_language(request))
        return render_notice(request, t("survey_title"), t("survey_unknown"), 404)
    language = request.query_params.get("lang") or survey.invitation.language
    t = Translator(language if language in LANGUAGES else "id")
    if survey.answered:
        return render_notice(request, t("survey_title"), t("survey_answered"), 409, t.language)
    if survey.expired:
        return render_notice(request, t("survey_title"), t("survey_expired"), 410, t.language)
    return survey, t


def _survey_form(
    request: Request,
    survey: Any,
    t: Translator,
    *,
    chosen: dict[str, str],
    errors: dict[str, str],
    suggestion: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context = page_context(request)
    invitation = survey.invitation
    service = context.catalogue.service(invitation.service_code)
    return render_page(
        request,
        "survey.html",
        title=t("survey_title"),
        language=t.language,
        status_code=status_code,
        lead=t(
            "survey_lead",
            code=invitation.tracking_code,
            service=service.name.in_language(t.language) if service else invitation.service_code,
            outcome=t(f"survey_outcome_{invitation.outcome}"),
        ),
        elements=_survey_elements(t, chosen, errors),
        errors=[(f"#element-{name}", message) for name, message in errors.items()],
        suggestion=suggestion,
    )


@router.get("/survey/{token}")
async def survey_page(token: str, request: Request) -> HTMLResponse:
    """The nine questions, each with the four answers of the regulation's scale."""
    found = await _survey_or_notice(request, token)
    if isinstance(found, HTMLResponse):
        return found
    survey, t = found
    return _survey_form(request, survey, t, chosen={}, errors={})


@router.post("/survey/{token}", dependencies=[Depends(limit(WriteGroup.CITIZEN, page=True))])
async def submit_survey(token: str, request: Request) -> HTMLResponse:
    """Record the answer, or show the questions again with every one left out marked."""
    found = await _survey_or_notice(request, token)
    if isinstance(found, HTMLResponse):
        return found
    survey, t = found
    form = await request.form()
    chosen = {element.name: str(form.get(element.name) or "") for element in SKM_ELEMENTS}
    suggestion = str(form.get("suggestion") or "").strip()[:1000]
    errors = {
        element.name: t("survey_missing", element=element.label_en if t.language == "en" else element.label_id)
        for element in SKM_ELEMENTS
        if chosen[element.name] not in {"1", "2", "3", "4"}
    }
    if errors:
        return _survey_form(request, survey, t, chosen=chosen, errors=errors, suggestion=suggestion, status_code=422)
    answers = SkmAnswers.model_validate({name: int(value) for name, value in chosen.items()})
    try:
        await page_context(request).surveys.answer(token, answers, suggestion or None)
    except SurveyAlreadyAnswered:
        return render_notice(request, t("survey_title"), t("survey_answered"), 409, t.language)
    except SurveyExpired:
        return render_notice(request, t("survey_title"), t("survey_expired"), 410, t.language)
    return render_notice(request, t("survey_thanks_title"), t("survey_thanks"), 201, t.language)


# ----------------------------------------------------------------------------------------------------------------------
# Complaints


def _complaint_form(
    request: Request, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    context = page_context(request)
    t = Translator(page_language(request))
    agencies = [(agency.code, agency.name.in_language(t.language)) for agency in context.catalogue.agencies]
    categories = [
        (category.value, labels[1] if t.language == "en" else labels[0])
        for category, labels in COMPLAINT_CATEGORY_LABELS.items()
    ]
    return render_page(
        request,
        "complaint.html",
        title=t("complaint_title"),
        status_code=status_code,
        lead=t("complaint_lead", days=context.settings.complaint_sla_working_days),
        values=values,
        field_errors=errors,
        errors=[(f"#field-{name}", message) for name, message in errors.items()],
        agencies=agencies,
        categories=categories,
    )


@router.get("/complaint")
async def complaint_page(request: Request) -> HTMLResponse:
    """The complaint form (``?tracking_code=`` fills in the application)."""
    return _complaint_form(request, {"tracking_code": request.query_params.get("tracking_code", "")}, {})


@router.post("/complaint", dependencies=[Depends(limit(WriteGroup.CITIZEN, page=True))])
async def submit_complaint(request: Request) -> Response:
    """File the complaint and show its status page, or the form again with its errors."""
    form = await request.form()
    values = {
        name: str(form.get(name) or "").strip()
        for name in ("tracking_code", "agency", "category", "description", "contact")
    }
    payload = {name: value for name, value in values.items() if value}
    errors: dict[str, str] = {}
    body: ComplaintCreate | None = None
    try:
        body = ComplaintCreate.model_validate(payload)
    except ValidationError as invalid:
        for error in invalid.errors():
            name = str(error["loc"][0]) if error["loc"] else "description"
            errors.setdefault(name, str(error["msg"]).removeprefix("Value error, "))
    if body is not None:
        try:
            record = await page_context(request).complaints.file(
                NewComplaint(
                    category=ComplaintCategory(body.category),
                    description=body.description,
                    tracking_code=body.tracking_code,
                    agency=body.agency,
                    contact=body.contact,
                )
            )
        except ApplicationNotKnown:
            errors["tracking_code"] = Translator(page_language(request))("complaint_tracking_unknown")
        except UnknownAgency:
            errors["agency"] = Translator(page_language(request))("complaint_agency_missing")
        else:
            suffix = f"?lang={page_language(request)}" if page_language(request) != "id" else ""
            return RedirectResponse(f"/complaint/{record.complaint_id}{suffix}", status_code=303, headers=_PAGE_HEADERS)
    return _complaint_form(request, values, errors, status_code=422)


@router.get("/complaint/{complaint_id}")
async def complaint_status_page(complaint_id: str, request: Request) -> HTMLResponse:
    """Where the complaint is, and the desk's answer once given."""
    context = page_context(request)
    t = Translator(page_language(request), context.settings.timezone)
    try:
        record = await context.complaints.status(complaint_id)
    except ComplaintNotFound:
        return render_notice(request, t("complaint_title"), t("complaint_unknown"), 404)
    return render_page(
        request,
        "complaint_status.html",
        title=t("complaint_status_title", reference=record.reference),
        record=record,
        agency_name=agency_name(context, record.agency, t.language),
        due=t.moment(record.due_at),
        resolved=t.moment(record.resolved_at),
    )


# ----------------------------------------------------------------------------------------------------------------------
# Consent ledger


def _field_label(context: MallContext, name: str, language: str) -> str:
    for service in context.catalogue.services:
        definition = service.field(name)
        if definition is not None:
            return definition.label.in_language(language)
    return name


@router.get("/consent/{tracking_code}")
async def consent_page(tracking_code: str, request: Request) -> HTMLResponse:
    """Ask for the NIK the application was made with, to open the ledger."""
    t = Translator(page_language(request))
    return render_page(
        request, "consent.html", title=t("consent_title"), tracking_code=tracking_code, ledger=None, nik=""
    )


@router.post("/consent/{tracking_code}", dependencies=[Depends(limit(WriteGroup.CITIZEN, page=True))])
async def consent_ledger_page(tracking_code: str, request: Request) -> HTMLResponse:
    """Show the ledger; a ``grant`` or ``withdraw`` button (``agency:field``) changes one line first."""
    context = page_context(request)
    t = Translator(page_language(request), context.settings.timezone)
    form = await request.form()
    nik = str(form.get("nik") or "").strip()
    action, target = "", ""
    for name in ("grant", "withdraw"):
        if form.get(name):
            action, target = name, str(form.get(name))
    agency, _, field = target.partition(":")
    try:
        if action == "grant":
            view = await context.consent.grant(tracking_code, nik, agency, [field])
        elif action == "withdraw":
            view = await context.consent.withdraw(tracking_code, nik, agency, [field])
        else:
            view = await context.consent.ledger(tracking_code, nik)
    except (ApplicationNotKnown, NotTheApplicant):
        return render_page(
            request,
            "consent.html",
            title=t("consent_title"),
            status_code=403,
            tracking_code=tracking_code,
            ledger=None,
            nik="",
            failure=t("consent_unknown"),
        )
    except LockedOut as locked:
        page = render_page(
            request,
            "consent.html",
            title=t("consent_title"),
            status_code=429,
            tracking_code=tracking_code,
            ledger=None,
            nik="",
            failure=t("consent_locked", seconds=locked.retry_after_seconds),
        )
        page.headers["Retry-After"] = str(locked.retry_after_seconds)
        return page
    except ConsentRefused as refused:
        return render_notice(request, t("consent_title"), str(refused), 422)
    lines = [
        {
            "agency": t("consent_every_agency")
            if line.agency == ALL_AGENCIES
            else agency_name(context, line.agency, t.language),
            "field": _field_label(context, line.field, t.language),
            "granted": line.granted,
            "value": f"{line.agency}:{line.field}",
            "changed": t.moment(line.changed_at),
        }
        for line in view.lines
    ]
    history = [
        {
            "kind": t(f"consent_kind_{entry.kind}"),
            "without": entry.kind == "used" and not entry.consented,
            "agency": (
                t("consent_every_agency")
                if entry.agency == ALL_AGENCIES
                else agency_name(context, entry.agency, t.language)
            ),
            "field": _field_label(context, entry.field, t.language),
            "at": t.moment(entry.at),
        }
        for entry in view.history
    ]
    return render_page(
        request,
        "consent.html",
        title=t("consent_title"),
        tracking_code=tracking_code,
        ledger={"lines": lines, "history": history},
        nik=nik,
    )
