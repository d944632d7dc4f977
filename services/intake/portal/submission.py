"""Submission: review and submit, the status page with its timeline, withdrawal."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response

from certification.contract import Stage
from datetime import UTC, datetime

from services.intake import appeals, clarifications, domain, drafts, submissions
from services.intake.domain import AssessmentState
from services.intake.errors import NotFound, SubmissionIncomplete, TooLateToWithdraw, WorkflowUnavailable
from services.intake.models import Submission
from services.intake.portal.console import (
    PORTAL,
    CityPage,
    city_id,
    city_submission,
    cycle_of,
    options_of,
    require_assessment,
    require_submission,
)
from shared.catalog.loader import load_catalog
from shared.catalog.model import Catalog
from shared.infra.settings import service_urls
from shared.web.pages import FieldError, Page, Redirect

router = PORTAL.router()

STAGE_ORDER = (Stage.SUBMITTED, Stage.EVIDENCE_CHECK, Stage.IN_REVIEW, Stage.SCORING, Stage.REPORTING,
               Stage.DEBRIEF, Stage.COMPLETED)


def missing_list(page: Page, catalog: Catalog, missing: list[dict]) -> list[dict]:
    """What stops a submission (`domain.Missing` problems) as localized lines linking to
    the criterion."""
    out = []
    for item in missing:
        cid = item.get("criterion_id", "")
        if not catalog.has_criterion(cid):
            continue
        key = "submit.needs_evidence" if item.get("kind") == "needs_evidence" else "submit.not_answered"
        out.append({"criterion": cid, "message": page.t(key, criterion=cid)})
    return out


async def _submit_view(page: Page) -> tuple:
    async with page.runtime.db.sessionmaker() as session:
        assessment = await require_assessment(page, session)
        progress = await drafts.progress(session, assessment)
    return assessment, progress, load_catalog(assessment.catalog_version)


@router.get("/assessment/submit")
async def submit_page(page: CityPage) -> HTMLResponse:
    assessment, progress, catalog = await _submit_view(page)
    if assessment.status != AssessmentState.DRAFT:
        raise Redirect("/portal/submission")
    return page.render("submit.html", title=page.t("submit.title"), nav="assessment", assessment=assessment,
                       progress=progress, missing=missing_list(page, catalog, progress.missing))


@router.post("/assessment/submit")
async def submit(page: CityPage) -> Response:
    await page.form()
    try:
        await submissions.submit(page.runtime, city_id=city_id(page), cycle=cycle_of(page), user_id=page.principal.sub,
                                 review_mode=options_of(page).review_mode,
                                 appeal_window_days=options_of(page).appeal_window_days)
    except SubmissionIncomplete as exc:
        assessment, progress, catalog = await _submit_view(page)
        missing = missing_list(page, catalog, exc.errors)
        errors = [FieldError("missing", page.t.plural("submit.incomplete", len(missing)))]
        return page.render("submit.html", status_code=422, title=page.t("submit.title"), nav="assessment",
                           assessment=assessment, progress=progress, missing=missing, errors=errors)
    return page.redirect("/portal/submission", done="submitted")


def timeline(status: submissions.SubmissionRead) -> list[dict]:
    """Every stage in order with the date it was (last) reached; clarification rounds and
    a withdrawal appear where they happened."""
    if not status.history:
        return [{"stage": status.status, "at": status.status_changed_at, "state": "current"}]
    reached: list[dict] = []
    for entry in status.history:
        reached.append({"stage": entry.stage.value, "at": entry.at, "state": "done"})
    reached[-1]["state"] = "done" if status.status == Stage.COMPLETED else "current"
    if status.status in (Stage.WITHDRAWN, Stage.COMPLETED):
        return reached
    seen = {e["stage"] for e in reached}
    position = max((STAGE_ORDER.index(Stage(e["stage"])) for e in reached if Stage(e["stage"]) in STAGE_ORDER),
                   default=0)
    upcoming = [{"stage": s.value, "at": None, "state": "upcoming"} for s in STAGE_ORDER[position + 1:]
                if s.value not in seen]
    return reached + upcoming


def withdrawable(sub: Submission) -> bool:
    return domain.can_withdraw(Stage(sub.status))


@router.get("/submission")
async def submission_page(page: CityPage) -> HTMLResponse:
    async with page.runtime.db.sessionmaker() as session:
        sub = await city_submission(page, session)
    if sub is None:
        return page.render("submission.html", title=page.t("status.title"), nav="submission", sub=None)
    status = submissions.read(sub)
    tier = status.score.tier if status.score else None
    catalog = load_catalog(sub.catalog_version)
    tier_name = catalog.text(catalog.tier(tier), page.lang) if tier else None
    waiting = [c for c in await clarifications.list_requests(page.runtime, sub) if c.state == "open"]
    try:
        appeal_filed = await appeals.get(page.runtime, sub)
    except NotFound:
        appeal_filed = None
    open_until = status.appeal_open_until
    appeal_link = appeal_filed is not None or (
        bool(appeals.appealable(sub)) and open_until is not None and datetime.now(UTC) <= open_until)
    return page.render("submission.html", title=page.t("status.title"), nav="submission", sub=sub, status=status,
                       appeal_filed=appeal_filed, appeal_link=appeal_link,
                       open_requests=waiting, steps=timeline(status), tier_name=tier_name,
                       can_withdraw=withdrawable(sub),
                       booking_url=f"{service_urls()['notify']}/booking/{sub.id}")


@router.get("/submission/withdraw")
async def withdraw_form(page: CityPage) -> HTMLResponse:
    sub = await require_submission(page)
    return page.render("withdraw.html", title=page.t("withdraw.title"), nav="submission", sub=sub,
                       reason="", can_withdraw=withdrawable(sub))


@router.post("/submission/withdraw")
async def withdraw(page: CityPage) -> Response:
    form = await page.form()
    reason = str(form.get("reason", "")).strip()
    sub = await require_submission(page)
    data, errors = page.parse(submissions.WithdrawalCreate, {"reason": reason}, messages="withdraw.errors")
    if form.get("confirm") != "yes":
        errors.append(FieldError("confirm", page.t("withdraw.errors.confirm")))
    if not errors:
        try:
            await submissions.withdraw(page.runtime, sub, data, by_name=page.principal.name or "")
        except (TooLateToWithdraw, WorkflowUnavailable) as exc:
            errors.append(FieldError(None, page.problem(exc)))
        else:
            return page.redirect("/portal/submission", done="withdrawn")
    return page.render("withdraw.html", status_code=409 if errors[0].field is None else 422,
                       title=page.t("withdraw.title"), nav="submission", sub=sub, reason=reason,
                       errors=errors, can_withdraw=withdrawable(sub))
