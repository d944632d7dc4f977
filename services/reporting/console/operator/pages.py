"""The operator console's pages: the overview, the list of certifications, a submission's
timeline, the two actions (retry a failed step, replay a parked message) and the live
stream the overview listens to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent

from certification.contract import Stage
from services.reporting.operations import service as operations
from services.reporting.operations import api as ops_api
from services.reporting.console.operator.console import LIVE_CSP, OPERATOR, OperatorPage
from services.reporting.models import PipelineEntry
from shared.errors import DomainError, InvalidInput, NotFound
from shared.web.pages import FieldError

router = OPERATOR.router()
# How often the live stream looks for new events (a cheap indexed max()).
LIVE_POLL_SECONDS = 1.0
STAGES = [s.value for s in Stage]


def _live(response: HTMLResponse) -> HTMLResponse:
    response.headers["content-security-policy"] = LIVE_CSP
    return response


async def _engine_problems(page) -> tuple[list, str | None]:
    """Temporal's view; the page still answers when the engine does not."""
    try:
        return await ops_api.engine(page.runtime).problems(), None
    except DomainError as exc:
        return [], page.problem(exc)
    except Exception:  # an RPC error from an unreachable server
        return [], page.t("operator.engine_unreachable")


@router.get("/")
async def overview(page: OperatorPage, cycle: str | None = None) -> HTMLResponse:
    now = datetime.now(UTC)
    async with page.runtime.db.sessionmaker() as session:
        counts = await operations.stage_counts(session, cycle or None)
        waiting = await operations.waiting(session, now=now, limit=10)
        breaches = await operations.breaches(session, now)
        failing = await operations.failing(session)
        parked = await operations.parked(session)
        mails = await operations.mail_failures(session, limit=20)
        changed = await operations.last_change(session)
        names = await operations.people(session, {i for e in [*waiting, *breaches] for i in (e.auditor_id, e.signoff_by)
                                                  if i})
    problems, engine_error = await _engine_problems(page)
    cycles = sorted({c for c, _, _ in counts}, reverse=True)
    matrix = {(c, s): n for c, s, n in counts}
    return _live(page.render(
        "operator_overview.html", title=page.t("operator.title"), nav="overview", cycles=cycles, stages=STAGES,
        matrix=matrix, cycle=cycle or "", waiting=waiting, breaches=breaches, failing=failing, problems=problems,
        engine_error=engine_error, parked=parked, mails=mails, changed=changed, now=now, live=True, names=names))


@router.get("/submissions")
async def submissions(page: OperatorPage, stage: str | None = None, cycle: str | None = None,
                      older_than: str | None = None, city: str | None = None,
                      auditor: str | None = None) -> HTMLResponse:
    errors, age = [], None
    if older_than:
        try:
            age = ops_api.parse_age(older_than)
        except InvalidInput:
            errors.append(FieldError("older_than", page.t("operator.older_than_invalid")))
    async with page.runtime.db.sessionmaker() as session:
        rows = await operations.listing(session, now=datetime.now(UTC), stage=stage or None, cycle=cycle or None,
                                        older_than=age, city=(city or "")[:200] or None, auditor=auditor or None)
        cycles = sorted({c for c, _, _ in await operations.stage_counts(session)}, reverse=True)
        auditors = await operations.auditors(session)
        names = {**auditors, **await operations.people(
            session, {i for e in rows for i in (e.auditor_id, e.signoff_by) if i and i not in auditors})}
    return _live(page.render(
        "operator_submissions.html", names=names, status_code=422 if errors else 200,
        title=page.t("operator.submissions_title"), nav="submissions", rows=rows, stages=STAGES,
        cycles=cycles, auditors=auditors, errors=errors, live=True, now=datetime.now(UTC),
        refresh_url=page.request.url.path + (f"?{page.request.url.query}" if page.request.url.query else ""),
        chosen={"stage": stage or "", "cycle": cycle or "", "older_than": older_than or "", "city": city or "",
                "auditor": auditor or ""}))


@router.get("/appeals")
async def appeals(page: OperatorPage, status: str | None = None) -> HTMLResponse:
    chosen = status if status in ("open", "decided") else ""
    now = datetime.now(UTC)
    async with page.runtime.db.sessionmaker() as session:
        rows = await operations.appeals(session, now=now, status=chosen or None)
    return _live(page.render(
        "operator_appeals.html", title=page.t("appeals.title"), nav="appeals", rows=rows, chosen=chosen, live=True,
        now=now, refresh_url=page.request.url.path + (f"?status={chosen}" if chosen else "")))


@router.get("/submissions/{submission_id}")
async def submission(page: OperatorPage, submission_id: str) -> HTMLResponse:
    async with page.runtime.db.sessionmaker() as session:
        entry = await session.get(PipelineEntry, submission_id)
        try:
            lines, names = await operations.timeline_of(session, submission_id)
        except NotFound:
            if entry is None:
                raise
            lines, names = [], {}
        if entry is not None:
            names = {**names, **await operations.people(
                session, {i for i in (entry.auditor_id, entry.signoff_by) if i and i not in names})}
    temporal_ui = page.runtime.settings.temporal.ui_url
    return _live(page.render(
        "operator_timeline.html", title=page.t("operator.timeline_title",
                                               city=entry.city_name if entry else submission_id),
        nav="submissions", entry=entry, lines=lines, names=names, submission_id=submission_id, live=True,
        now=datetime.now(UTC),
        temporal_url=f"{temporal_ui}/namespaces/{page.runtime.settings.temporal.namespace}"
                     f"/workflows/certification-{submission_id}" if temporal_ui else None))


@router.post("/submissions/{submission_id}/retry-step")
async def retry_step(page: OperatorPage, submission_id: str) -> RedirectResponse:
    await page.form()
    async with page.runtime.db.sessionmaker() as session:
        entry = await operations.entry(session, submission_id)
    if not entry.failing:
        return page.redirect(f"/operator/submissions/{submission_id}", done="nothing_to_retry")
    await operations.retry_step(page.runtime.db, submission_id, by=page.principal.sub)
    page.runtime.wake_relay()
    return page.redirect(f"/operator/submissions/{submission_id}", done="retry_requested")


@router.post("/parked/{event_id}/replay")
async def replay(page: OperatorPage, event_id: str) -> RedirectResponse:
    await page.form()
    async with page.runtime.db.transaction() as session:
        await operations.request_replay(session, event_id, by=page.principal.sub)
    page.runtime.wake_relay()
    return page.redirect("/operator/", done="replay_requested")


@router.get("/live", response_class=EventSourceResponse)
async def live(page: OperatorPage) -> AsyncIterator[ServerSentEvent]:
    """`change` whenever reporting records an event (any replica: it watches the ledger,
    not its own consumer); the page then refreshes its panels."""
    db = page.runtime.db
    last = None
    yield ServerSentEvent(comment="connected", retry=5000)
    while True:
        async with db.sessionmaker() as session:
            current = await operations.last_change(session)
        if current != last:
            if last is not None or current is not None:
                yield ServerSentEvent(event="change", data={"at": current.isoformat() if current else None})
            last = current
        await asyncio.sleep(LIVE_POLL_SECONDS)
