"""The satisfaction survey on the real broker and database: an application's end invites its applicant (for
notification to deliver), the survey is answerable once per application, and the index of a fixed set of answers
is the one worked out by hand from Permen PANRB 14/2017."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .conftest import RunningMall

pytestmark = pytest.mark.integration

ELEMENTS = (
    "requirements",
    "procedure",
    "completion_time",
    "cost",
    "product",
    "competence",
    "behaviour",
    "complaints_handling",
    "facilities",
)


def scores(*values: int) -> dict[str, int]:
    return dict(zip(ELEMENTS, values, strict=True))


async def test_completion_and_rejection_invite_the_applicant_in_their_language(mall: RunningMall) -> None:
    completed = await mall.submit("paspor", language="en")
    rejected = await mall.submit("paspor", language="id")
    await mall.complete(completed, mall.clock.now)
    await mall.reject(rejected, mall.clock.now, "imigrasi")

    invited = (await mall.mall_events(completed.subject, "survey.invited"))[0]
    other = (await mall.mall_events(rejected.subject, "survey.invited"))[0]

    assert invited.payload.tracking_code == completed.payload.tracking_code
    assert (invited.payload.service_code, invited.payload.agency) == ("paspor", "imigrasi")
    assert (invited.payload.outcome, invited.payload.language) == ("completed", "en")
    assert invited.payload.survey_url.startswith("https://mpp.example.go.id/survey/")
    assert invited.payload.expires_at == mall.clock.now + timedelta(days=30)
    assert invited.causation_id is not None
    assert (other.payload.outcome, other.payload.language) == ("rejected", "id")
    assert "survey_url" in type(invited.payload).personal_fields()

    token = await mall.survey_token(completed.subject)
    survey = (await mall.client.get(f"/surveys/{token}")).json()
    assert survey["tracking_code"] == completed.payload.tracking_code
    assert (survey["service_name"], survey["answered"]) == ("New Passport", False)


async def test_index_and_grade_of_fixed_answers_are_those_worked_out_by_hand(mall: RunningMall) -> None:
    # Four respondents about "cek-sertifikat-tanah" (BPN), scores U1..U9:
    #   R1 4 4 4 4 4 4 4 4 4   R2 3 3 3 3 3 3 3 3 3   R3 4 3 2 4 3 4 4 3 1   R4 3 4 3 4 3 3 4 2 3
    # Element sums: U1 14, U2 14, U3 12, U4 15, U5 13, U6 14, U7 15, U8 12, U9 11 (120 in all).
    # NRR = sum / 4: 3.5, 3.5, 3.0, 3.75, 3.25, 3.5, 3.75, 3.0, 2.75; their sum is 30.
    # IKM = 30 x 1/9 = 3.333...; unit index = 3.333... x 25 = 83.333... -> 83.33: grade B (76.61-88.30), "Baik".
    answer_sets = [
        scores(4, 4, 4, 4, 4, 4, 4, 4, 4),
        scores(3, 3, 3, 3, 3, 3, 3, 3, 3),
        scores(4, 3, 2, 4, 3, 4, 4, 3, 1),
        scores(3, 4, 3, 4, 3, 3, 4, 2, 3),
    ]
    applications = [await mall.submit("cek-sertifikat-tanah") for _ in answer_sets]
    for application in applications:
        await mall.complete(application, mall.clock.now)
    for application, answers in zip(applications, answer_sets, strict=True):
        token = await mall.survey_token(application.subject)
        answer = await mall.client.post(f"/surveys/{token}", json={"answers": answers})
        assert answer.status_code == 201, answer.text

    index = await mall.client.get("/satisfaction", params={"service_code": "cek-sertifikat-tanah"})
    by_agency = await mall.client.get("/satisfaction", params={"agency": "bpn"})

    assert index.status_code == 200, index.text
    body = index.json()
    assert body["respondents"] == 4
    assert body["index"] == 3.333
    assert body["converted"] == 83.33
    assert (body["grade"], body["grade_label"]) == ("B", "Baik")
    assert [element["average"] for element in body["elements"]] == [3.5, 3.5, 3.0, 3.75, 3.25, 3.5, 3.75, 3.0, 2.75]
    assert [element["code"] for element in body["elements"]] == [f"U{n}" for n in range(1, 10)]
    assert (by_agency.json()["converted"], by_agency.json()["grade"]) == (83.33, "B")
    answered = await mall.mall_events(applications[2].subject, "survey.answered")
    assert answered[0].payload.answers.facilities == 1
    assert answered[0].payload.agency == "bpn"


async def test_the_survey_is_answerable_once_and_refuses_scores_outside_the_scale(mall: RunningMall) -> None:
    application = await mall.submit("paspor")
    await mall.complete(application, mall.clock.now)
    token = await mall.survey_token(application.subject)

    bad = await mall.client.post(f"/surveys/{token}", json={"answers": scores(4, 4, 4, 5, 4, 4, 4, 4, 4)})
    first = await mall.client.post(f"/surveys/{token}", json={"answers": scores(4, 4, 4, 4, 4, 4, 4, 4, 4)})
    second = await mall.client.post(f"/surveys/{token}", json={"answers": scores(1, 1, 1, 1, 1, 1, 1, 1, 1)})
    page = await mall.client.get(f"/survey/{token}")
    unknown = await mall.client.post("/surveys/not-a-token", json={"answers": scores(4, 4, 4, 4, 4, 4, 4, 4, 4)})

    assert bad.status_code == 422
    assert [error["field"] for error in bad.json()["errors"]] == ["answers/cost"]
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["type"].endswith("/survey-answered")
    assert page.status_code == 409
    assert "satu kali" in page.text
    assert unknown.status_code == 404
    assert len(await mall.mall_events(application.subject, "survey.answered")) == 1


async def test_an_expired_link_no_longer_takes_an_answer(mall: RunningMall) -> None:
    application = await mall.submit("paspor")
    await mall.complete(application, mall.clock.now)
    token = await mall.survey_token(application.subject)
    mall.clock.now += timedelta(days=31)

    late = await mall.client.post(f"/surveys/{token}", json={"answers": scores(3, 3, 3, 3, 3, 3, 3, 3, 3)})

    assert late.status_code == 410


async def test_the_survey_page_marks_every_question_left_out_then_thanks_the_citizen(mall: RunningMall) -> None:
    application = await mall.submit("paspor", language="en")
    await mall.complete(application, mall.clock.now)
    token = await mall.survey_token(application.subject)

    form = await mall.client.get(f"/survey/{token}")
    partial = await mall.client.post(f"/survey/{token}", data={"requirements": "4", "procedure": "3"})
    complete = await mall.client.post(
        f"/survey/{token}", data=dict.fromkeys(ELEMENTS, "3") | {"suggestion": "More seats, please."}
    )

    assert form.status_code == 200
    assert "Requirements" in form.text
    assert 'name="facilities" value="4"' in form.text
    assert partial.status_code == 422
    assert partial.text.count('class="field-error"') == 7
    assert 'value="4" checked' in partial.text
    assert complete.status_code == 201
    assert "Thank you" in complete.text
    answered = (await mall.mall_events(application.subject, "survey.answered"))[0]
    assert answered.payload.suggestion == "More seats, please."
