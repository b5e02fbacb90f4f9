"""``/surveys/{token}``: the citizen's survey link (read, answer once); ``/satisfaction``: the SKM index per
service, agency and period, computed and graded as Permen PANRB 14/2017 says."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query

from satupintu.common.problems import Problem, documented_problems
from satupintu.mall.api.dependencies import mall
from satupintu.mall.api.limits import RATE_LIMITED, WriteGroup, limit
from satupintu.mall.domain import SKM_ELEMENTS
from satupintu.mall.factory import MallContext
from satupintu.mall.schemas import ElementRead, SatisfactionIndexRead, SurveyAnswer, SurveyRead, SurveyReceipt
from satupintu.mall.services.board import satisfaction_of

router = APIRouter(tags=["survey"])
Context = Annotated[MallContext, Depends(mall)]


@router.get(
    "/surveys/{token}",
    summary="The survey a citizen's link leads to",
    responses=documented_problems({404: "The survey link is not known.", 410: "The survey link has expired."}),
)
async def read_survey(token: str, context: Context) -> SurveyRead:
    """What is surveyed, and whether it was answered already."""
    survey = await context.surveys.open(token)
    invitation = survey.invitation
    service = context.catalogue.service(invitation.service_code)
    return SurveyRead(
        tracking_code=invitation.tracking_code,
        service_code=invitation.service_code,
        service_name=service.name.in_language(invitation.language) if service else invitation.service_code,
        outcome=invitation.outcome,
        language=invitation.language,
        answered=survey.answered,
        expires_at=invitation.expires_at,
    )


@router.post(
    "/surveys/{token}",
    status_code=201,
    summary="Answer the survey (once per application)",
    dependencies=[Depends(limit(WriteGroup.CITIZEN))],
    responses=RATE_LIMITED
    | documented_problems(
        {
            404: "The survey link is not known.",
            409: "The survey was answered already.",
            410: "The survey link has expired.",
        }
    ),
)
async def answer_survey(token: str, body: SurveyAnswer, context: Context) -> SurveyReceipt:
    """Record the nine scores; a second answer for the same application is refused (409)."""
    response = await context.surveys.answer(token, body.answers, body.suggestion or None)
    return SurveyReceipt(application_id=response.application_id, answered_at=response.answered_at)


def local_bounds(since: date | None, until: date | None, timezone: str) -> tuple[datetime | None, datetime | None]:
    """The moments a period of local days (both inclusive) starts and ends in the mall's time zone."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(since, time(0), tzinfo=zone) if since else None
    end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone) if until else None
    return start, end


@router.get(
    "/satisfaction",
    summary="The satisfaction index (IKM) per service, agency and period",
    responses=documented_problems({404: "No survey answers match (problem+json `no-answers`)."}),
)
async def satisfaction(
    context: Context,
    *,
    service_code: Annotated[str | None, Query(description="Only this service's answers.")] = None,
    agency: Annotated[str | None, Query(description="Only answers about this agency's services.")] = None,
    since: Annotated[date | None, Query(alias="from", description="First day (mall's local date), inclusive.")] = None,
    until: Annotated[date | None, Query(alias="to", description="Last day (mall's local date), inclusive.")] = None,
    applicant_kind: Annotated[
        Literal["person", "business"] | None,
        Query(description="Only answers about applications of this kind of applicant."),
    ] = None,
) -> SatisfactionIndexRead:
    """NRR per element = sum / respondents; IKM = sum of NRR x 1/9; converted = IKM x 25, graded A-D. Also counted
    and indexed separately: the answers about persons' and about businesses' applications."""
    if since and until and until < since:
        raise Problem(
            422,
            "validation-error",
            "The period ends before it starts.",
            errors=[{"field": "to", "message": "must not be before `from`", "code": "period"}],
        )
    start, end = local_bounds(since, until, context.settings.timezone)
    kinded = await context.surveys.index(
        since=start, until=end, service_code=service_code, agency=agency, applicant_kind=applicant_kind
    )
    index = kinded.overall
    if index is None:
        raise Problem(404, "no-answers", "No survey answers match; the index needs at least one respondent.")
    return SatisfactionIndexRead(
        service_code=service_code,
        agency=agency,
        since=start,
        until=end,
        respondents=index.respondents,
        index=float(index.index),
        converted=float(index.converted),
        grade=index.grade.letter,
        grade_label=index.grade.label_id,
        elements=[
            ElementRead(
                code=element.code,
                name=element.name,
                label=element.label_id,
                average=float(index.element_averages[element.name]),
            )
            for element in SKM_ELEMENTS
        ],
        applicant_kind=applicant_kind,
        person_respondents=kinded.by_kind["person"].respondents if "person" in kinded.by_kind else 0,
        business_respondents=kinded.by_kind["business"].respondents if "business" in kinded.by_kind else 0,
        person=satisfaction_of(kinded.by_kind.get("person")),
        business=satisfaction_of(kinded.by_kind.get("business")),
    )
