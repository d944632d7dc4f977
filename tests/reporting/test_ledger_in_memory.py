"""Reporting's pipeline projection on FastStream's in-memory broker: what operators see of
a certification as its events arrive (tests/reporting/test_operations.py follows the same
over real NATS and Temporal)."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from services.reporting.main import build
from services.reporting.models import PipelineEntry
from shared.contracts.events import (
    CaseAssigned,
    SignoffRequested,
    SignoffReturned,
    StatusChanged,
    StepFailed,
    StepRetried,
    Subject,
    SubmissionSubmitted,
    UserRegistered,
    make_event,
)
from shared.contracts.vocabulary import Role, Stage, WaitingFor
from shared.web.pages import TOKEN_COOKIE
from tests.conftest import token
from tests.inmemory import deliver, on_test_broker


@pytest.fixture
async def reporting(tmp_path):
    async with on_test_broker(build, "reporting", tmp_path) as service:
        yield service


async def entry(runtime, submission_id: str) -> PipelineEntry:
    async with runtime.db.sessionmaker() as session:
        return (await session.execute(select(PipelineEntry).where(PipelineEntry.submission_id == submission_id))
                ).scalar_one()


def status(stage: Stage, waiting: WaitingFor, previous: Stage | None = None):
    return make_event(Subject.STATUS_CHANGED, StatusChanged(
        submission_id="s-1", status=stage, previous=previous, waiting_for=waiting), submission_id="s-1")


async def test_a_failed_step_names_the_operator_and_the_step_apart(reporting):
    runtime, broker = reporting
    await deliver(broker, status(Stage.SCORING, WaitingFor.SCORING, Stage.IN_REVIEW))
    await deliver(broker, make_event(Subject.STEP_FAILED, StepFailed(
        submission_id="s-1", stage=Stage.SCORING, step="scoring.score_submission", error="catalog not installed"),
        submission_id="s-1"))
    failing = await entry(runtime, "s-1")
    assert (failing.stage, failing.waiting_for, failing.failing_step) == (
        "scoring", "operator", "scoring.score_submission")
    assert "catalog not installed" in failing.failing

    await deliver(broker, make_event(Subject.STEP_RETRIED, StepRetried(
        submission_id="s-1", stage=Stage.SCORING, step="scoring.score_submission", by="op-1"), submission_id="s-1"))
    await deliver(broker, status(Stage.REPORTING, WaitingFor.REPORT, Stage.SCORING))
    moved_on = await entry(runtime, "s-1")
    assert (moved_on.stage, moved_on.waiting_for, moved_on.failing_step, moved_on.failing) == (
        "reporting", "report", "", "")


async def test_an_older_stage_arriving_late_does_not_move_the_certification_back(reporting):
    runtime, broker = reporting
    early = status(Stage.IN_REVIEW, WaitingFor.AUDITOR, Stage.EVIDENCE_CHECK)
    late = status(Stage.SCORING, WaitingFor.SCORING, Stage.IN_REVIEW)
    await deliver(broker, late)
    await deliver(broker, early)  # replayed by an operator after the newer one
    assert (await entry(runtime, "s-1")).stage == "scoring"


def person(user_id: str, name: str):
    return make_event(Subject.USER_REGISTERED, UserRegistered(user_id=user_id, email=f"{user_id}@wwc.example",
                                                              name=name, role=Role.AUDITOR))


def in_review(submission_id: str, city: str, auditor: str | None):
    events = [make_event(Subject.SUBMISSION_SUBMITTED, SubmissionSubmitted(
        submission_id=submission_id, city_id=f"c-{submission_id}", cycle="2026", catalog_version="wwc-2019",
        answered=45, evidence_count=20, city_name=city), submission_id=submission_id, city_id=f"c-{submission_id}"),
        make_event(Subject.STATUS_CHANGED, StatusChanged(submission_id=submission_id, status=Stage.IN_REVIEW,
                                                         waiting_for=WaitingFor.AUDITOR), submission_id=submission_id)]
    if auditor:
        events.append(make_event(Subject.CASE_ASSIGNED, CaseAssigned(
            submission_id=submission_id, case_id=f"case-{submission_id}", auditor_id=auditor, assigned_by=auditor),
            submission_id=submission_id))
    return events


async def operator_page(runtime, path: str) -> str:
    cookie = f"{TOKEN_COOKIE}={token(Role.OPERATOR, sub='op-1')}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=runtime.app), base_url="http://reporting") as c:
        r = await c.get(path, headers={"cookie": cookie})
    assert r.status_code == 200, r.text[:300]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r.text))


async def test_a_review_awaiting_sign_off_waits_for_a_second_auditor_not_its_holder(reporting):
    runtime, broker = reporting
    for e in [person("ana", "Ana Ramos"), *in_review("s-1", "Riverton", "ana")]:
        await deliver(broker, e)
    await deliver(broker, make_event(Subject.SIGNOFF_REQUESTED, SignoffRequested(
        submission_id="s-1", case_id="case-s-1", reviewer_id="ana"), submission_id="s-1"))
    waiting = await entry(runtime, "s-1")
    assert (waiting.waiting_for, waiting.signoff_by) == (WaitingFor.SIGNOFF, "ana")
    page = await operator_page(runtime, "/operator/submissions/s-1")
    assert "a second auditor to sign off (asked by Ana Ramos)" in page

    await deliver(broker, make_event(Subject.SIGNOFF_RETURNED, SignoffReturned(
        submission_id="s-1", case_id="case-s-1", reviewer_id="ana", returned_by="ben", comments="DG1?"),
        submission_id="s-1"))
    back = await entry(runtime, "s-1")
    assert (back.waiting_for, back.signoff_by) == (WaitingFor.AUDITOR, None)
    assert "an auditor (Ana Ramos)" in await operator_page(runtime, "/operator/submissions/s-1")


async def test_operators_find_certifications_by_city_name_and_by_auditor(reporting):
    runtime, broker = reporting
    for e in [person("ana", "Ana Ramos"), person("ben", "Ben Okafor"), *in_review("s-1", "Riverton", "ana"),
              *in_review("s-2", "River Falls", "ben"), *in_review("s-3", "Lakeside", None)]:
        await deliver(broker, e)

    def rows(page: str) -> set[str]:
        return {city for city in ("Riverton", "River Falls", "Lakeside") if city in page}

    assert rows(await operator_page(runtime, "/operator/submissions?city=river")) == {"Riverton", "River Falls"}
    assert rows(await operator_page(runtime, "/operator/submissions?city=%25")) == set()  # % is a character
    by_ben = await operator_page(runtime, "/operator/submissions?auditor=ben")
    assert rows(by_ben) == {"River Falls"}
    assert "Ben Okafor" in by_ben and "Ana Ramos" in by_ben  # the filter names both auditors
    # The reference a city quotes from its portal finds its certification.
    for e in in_review("0635ab6b5464", "Quoted City", None):
        await deliver(broker, e)
    found = await operator_page(runtime, "/operator/submissions?city=0635-AB6B")
    assert rows(found) == set() and "Quoted City" in found


async def test_the_timeline_names_the_city_staff_member_who_submitted(reporting):
    runtime, broker = reporting
    lisa = make_event(Subject.USER_REGISTERED, UserRegistered(
        user_id="u-lisa", email="lisa@springfield.gov", name="Lisa Simpson", role=Role.CITY, city_id="c-s-9"))
    submitted = make_event(Subject.SUBMISSION_SUBMITTED, SubmissionSubmitted(
        submission_id="s-9", city_id="c-s-9", cycle="2026", catalog_version="wwc-2019", answered=45,
        evidence_count=20, city_name="Springfield", submitted_by="u-lisa"), submission_id="s-9", city_id="c-s-9")
    for e in (lisa, submitted):
        await deliver(broker, e)
    page = await operator_page(runtime, "/operator/submissions/s-9")
    assert "Submitted for cycle 2026" in page and "by Lisa Simpson" in page
