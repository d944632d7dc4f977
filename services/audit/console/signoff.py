"""Sign-off, trail and conflicts of interest.

Sign-off: the holder submits; a second auditor sees every change with its reasons and the
hash of the decisions, and approves exactly that or returns the case with comments. The
trail: every record with its hash and the chain's check, exported as JSON or CSV.
Conflicts: each auditor declares (and may withdraw) their own."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from services.audit.cases import service as cases
from services.audit.conflicts import service as conflicts
from services.audit.second_review import service as second_review
from services.audit.signoff import service as signoff
from services.audit.console.trail_text import Words, describe
from services.audit.trail import service as trail
from services.audit.console.case import case_context
from services.audit.console.console import AUDIT, StaffPage, case_url, ensure_auditor, staff_names
from services.audit.errors import (
    ChangedSinceDecided,
    ConflictOfInterest,
    DecisionsChanged,
    DecisionsIncomplete,
    FourEyes,
    InvalidInput,
    NotFound,
    NotHolder,
    RoundOpen,
    WrongState,
)
from services.audit.models import City
from shared.catalog.loader import load_catalog
from shared.web.pages import FieldError, Page, format_datetime, redirect_on

router = AUDIT.router()


# --- sign-off ---------------------------------------------------------------------------------


async def render_signoff(page: Page, submission_id: str, *, status_code: int = 200,
                         errors: list[FieldError] | None = None, comments: str = "") -> HTMLResponse:
    ctx = await case_context(page, submission_id)
    case, read = ctx["case"], ctx["read"]
    second_review.ensure_not_blind(case, page.principal)  # it lists the first auditor's changes
    changed = [c for c in read.criteria if c.decision and c.decision.changed]
    me = page.principal.sub
    # Four eyes over the whole review: everyone who ever decided or submitted it took part.
    took_part = set(read.signoff.took_part) | {case.reviewer_id}
    people = {c.decided_by for c in read.signoff.changed_since_decided} | {r.decided_by for r in read.signoff.reconfirmed}
    names = {**ctx["names"], **await staff_names(page, people - set(ctx["names"]))}
    second = (ctx["conflict"] is None and page.principal.role.value == "auditor" and case.status == "signoff"
              and me not in took_part)
    return page.render("signoff.html", status_code=status_code, title=page.t("signoff.title"), nav="signoff",
                       **{**ctx, "names": names}, changed=changed, second=second, own=me in took_part,
                       errors=errors or [], comments=comments)


@router.get("/cases/{submission_id}/signoff")
async def signoff_page(submission_id: str, page: StaffPage) -> HTMLResponse:
    return await render_signoff(page, submission_id)


@router.post("/cases/{submission_id}/signoff/request")
async def request_signoff(submission_id: str, page: StaffPage) -> Response:
    await page.form()
    ensure_auditor(page)
    try:
        with redirect_on(NotHolder, WrongState, to=case_url(submission_id, "/signoff"), done="case_moved"):
            async with page.runtime.db.transaction() as session:
                await signoff.request(session, page.principal, await cases.by_submission(session, submission_id))
    except (DecisionsIncomplete, RoundOpen, ChangedSinceDecided) as exc:
        return await render_signoff(page, submission_id, status_code=409, errors=[FieldError(None, page.problem(exc))])
    page.runtime.wake_relay()
    return page.redirect(case_url(submission_id, "/signoff"), done="signoff_requested")


@router.post("/cases/{submission_id}/signoff/approve")
async def approve(submission_id: str, page: StaffPage) -> Response:
    form = await page.form()
    ensure_auditor(page)
    try:
        data = signoff.SignoffApproval(decisions_hash=str(form.get("decisions_hash", "")))
    except ValidationError:
        data = signoff.SignoffApproval(decisions_hash="0" * 64)  # answered as "changed since you read it"
    try:
        with redirect_on(WrongState, to=case_url(submission_id, "/signoff"), done="case_moved"):
            async with page.runtime.db.transaction() as session:
                await signoff.approve(session, page.principal,
                                             await cases.by_submission(session, submission_id), data)
    except (DecisionsChanged, ChangedSinceDecided, FourEyes, ConflictOfInterest) as exc:
        conflict = isinstance(exc, DecisionsChanged | ChangedSinceDecided)
        return await render_signoff(page, submission_id, status_code=409 if conflict else 403,
                                    errors=[FieldError(None, page.problem(exc))])
    page.runtime.wake_relay()
    return page.redirect(case_url(submission_id, "/signoff"), done="approved")


@router.post("/cases/{submission_id}/signoff/return")
async def return_review(submission_id: str, page: StaffPage) -> Response:
    form = await page.form()
    ensure_auditor(page)
    comments = str(form.get("comments", "")).strip()
    data, errors = page.parse(signoff.SignoffReturn, {"comments": comments}, messages="signoff.errors")
    if data is None:
        return await render_signoff(page, submission_id, status_code=422, comments=comments, errors=errors)
    try:
        with redirect_on(WrongState, to=case_url(submission_id, "/signoff"), done="case_moved"):
            async with page.runtime.db.transaction() as session:
                await signoff.return_case(session, page.principal, await cases.by_submission(session, submission_id),
                                          data)
    except (FourEyes, ConflictOfInterest) as exc:
        return await render_signoff(page, submission_id, status_code=403, comments=comments,
                                    errors=[FieldError(None, page.problem(exc))])
    page.runtime.wake_relay()
    return page.redirect(case_url(submission_id, "/signoff"), done="returned")


# --- trail ------------------------------------------------------------------------------------


async def _export(page: Page, submission_id: str) -> trail.TrailExport:
    async with page.runtime.db.sessionmaker() as session:
        case = await cases.by_submission(session, submission_id)
        second_review.ensure_not_blind(case, page.principal)  # the trail records the first decisions
        return await trail.export(session, case.id, case.submission_id)


@router.get("/cases/{submission_id}/trail")
async def trail_page(submission_id: str, page: StaffPage) -> HTMLResponse:
    ctx = await case_context(page, submission_id)
    data = await _export(page, submission_id)
    names = {**ctx["names"], **await staff_names(page, {r.actor_id for r in data.records})}
    ids = {v for r in data.records if isinstance(r.after, dict)
           for v in (r.after.get(k) for k in ("holder_id", "second_reviewer_id")) if v}
    names |= await staff_names(page, ids - set(names))
    words = Words(t=page.t, names=names, catalog=ctx["catalog"], fmt_dt=format_datetime,
                  city_name=ctx["case"].city_name)
    return page.render("trail.html", title=page.t("trail.title"), nav="queue", **{**ctx, "names": names},
                       data=data, lines=[describe(r, words) for r in data.records])


@router.get("/cases/{submission_id}/trail.json")
async def trail_json(submission_id: str, page: StaffPage) -> Response:
    data = await _export(page, submission_id)
    return JSONResponse(data.model_dump(mode="json"), headers={
        "Content-Disposition": f'attachment; filename="trail-{submission_id}.json"'})


@router.get("/cases/{submission_id}/trail.csv")
async def trail_csv(submission_id: str, page: StaffPage) -> Response:
    data = await _export(page, submission_id)
    return Response(trail.to_csv(data), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="trail-{submission_id}.csv"',
        "X-Trail-Verified": "true" if data.verification.ok else "false"})


# --- conflicts of interest --------------------------------------------------------------------


async def render_conflicts(page: Page, *, status_code: int = 200, errors: list[FieldError] | None = None,
                           values: dict | None = None) -> HTMLResponse:
    async with page.runtime.db.sessionmaker() as session:
        mine = [conflicts.read(c) for c in await conflicts.active(session, page.principal.sub)]
        everyone = await conflicts.all_active(session)
        names = await staff_names(page, set(everyone))
        cities = (await session.scalars(select(City).order_by(City.name))).all()
    return page.render("conflicts.html", status_code=status_code, title=page.t("conflicts.title"), nav="conflicts",
                       mine=mine, everyone=everyone, names=names, errors=errors or [], cities=cities,
                       countries=load_catalog("wwc-2019").eligibility.countries,
                       values=values or {"scope": "city", "city_id": "", "country": "", "state": "", "reason": ""})


@router.get("/conflicts")
async def conflicts_page(page: StaffPage) -> HTMLResponse:
    return await render_conflicts(page)


@router.post("/conflicts")
async def declare(page: StaffPage) -> Response:
    form = await page.form()
    ensure_auditor(page)
    values = {k: str(form.get(k, "")).strip() for k in ("scope", "city_id", "country", "state", "reason")}
    if values["scope"] == "state" and not values["country"]:  # the list's code names its country
        values["country"] = values["state"].partition("-")[0]
    data, errors = page.parse(conflicts.ConflictCreate, values, messages="conflicts.errors")
    if data is None:
        return await render_conflicts(page, status_code=422, values=values, errors=errors)
    try:
        async with page.runtime.db.transaction() as session:
            _, released = await cases.declare_conflict(session, page.principal, data)
    except InvalidInput as exc:
        return await render_conflicts(page, status_code=422, values=values, errors=[
            FieldError(exc.field, page.t(f"conflicts.errors.{exc.field}"))])
    page.runtime.wake_relay()
    return page.redirect("/audit/conflicts", done="conflict_released" if released else "conflict_declared")


@router.post("/conflicts/withdraw")
async def withdraw(page: StaffPage) -> Response:
    form = await page.form()
    ensure_auditor(page)
    with redirect_on(NotFound, to="/audit/conflicts"):
        async with page.runtime.db.transaction() as session:
            await conflicts.withdraw(session, page.principal, str(form.get("conflict_id", ""))[:36])
    return page.redirect("/audit/conflicts", done="conflict_withdrawn")

