"""The satisfaction survey (SKM, Permen PANRB 14/2017): the nine questions an applicant is invited to answer once
their application is finished, each with the four answers of the regulation's scale."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from satupintu.common.web.uploads import read_text_form
from satupintu.contract.mall import SkmAnswers
from satupintu.mall.api.limits import WriteGroup, limit
from satupintu.mall.domain import (
    SKM_ELEMENTS,
    SKM_SCALE_LABELS,
    SurveyAlreadyAnswered,
    SurveyExpired,
    SurveyNotFound,
)
from satupintu.mall.i18n import Translator
from satupintu.mall.web.rendering import page_context, render_notice, render_page, translator

router = APIRouter(tags=["pages"], include_in_schema=False)


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
        t = translator(request)
        return render_notice(request, t("survey_title"), t("survey_unknown"), 404)
    t = translator(request, request.query_params.get("lang") or survey.invitation.language)
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
    form = await read_text_form(request)
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
