"""Audit's review cases: the subscriber and the review activity may open the same case at
the same moment; both succeed, one case exists, one case.opened event is published."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from shared.contracts.events import Subject
from shared.infra.tables import outbox
from services.audit import service
from services.audit.models import ReviewCase
from devtools.harness import migrated_database


@pytest.fixture
async def db(backend, tmp_path):
    async with migrated_database("audit", backend, tmp_path) as database:
        yield database


async def test_concurrent_openings_make_one_case_and_one_event(db):
    async def open_once(responses):
        async with db.transaction() as session:
            case = await service.open_case(session, submission_id="sub-1", city_id="c1",
                                           correlation_id="sub-1", responses=responses)
            return case.id

    ids = await asyncio.gather(open_once(None), open_once({"DG1": "YES"}), open_once(None))
    assert len(set(ids)) == 1
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ReviewCase)) == 1
        events = await session.scalar(select(func.count()).select_from(outbox)
                                      .where(outbox.c.subject == Subject.REVIEW_CASE_OPENED))
        assert events == 1


async def test_completing_twice_publishes_once(db):
    async with db.transaction() as session:
        case = await service.open_case(session, submission_id="sub-2", city_id="c1", correlation_id="x",
                                       responses={"DG1": "YES", "DG2": "NO"})
        await service.complete_review(session, case, {"DG1": "IN_PROGRESS", "DG2": "NO"}, "x")
    async with db.transaction() as session:
        case = await session.scalar(select(ReviewCase).where(ReviewCase.submission_id == "sub-2"))
        await service.complete_review(session, case, {"DG1": "YES", "DG2": "YES"}, "x")  # a retry
    async with db.sessionmaker() as session:
        case = await session.scalar(select(ReviewCase).where(ReviewCase.submission_id == "sub-2"))
        assert case.status == "completed" and case.corrections == 1
        assert case.audited_responses == {"DG1": "IN_PROGRESS", "DG2": "NO"}
        completed = await session.scalar(select(func.count()).select_from(outbox)
                                         .where(outbox.c.subject == Subject.REVIEW_COMPLETED))
        assert completed == 1
