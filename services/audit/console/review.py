"""A case's clarification rounds and review call: ask the city (criteria, message, due
date), see each round with the city's answers beside what was submitted; the call's
agenda (every criterion flagged so far) and its notes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse, Response

from services.audit.calls import service as calls
from services.audit.cases import service as cases
from services.audit.rounds import service as rounds
from services.audit.console.case import case_context
from services.audit.second_review import service as second_review
from services.audit.console.console import AUDIT, StaffPage, case_url, ensure_auditor, options_of
from services.audit.errors import (
    InvalidInput,
    NotHolder,
    RoundInvalid,
    RoundLimitReached,
    RoundOpen,
    WrongState,
)
from shared.web.pages import FieldError, Page, redirect_on

router = AUDIT.router()


# --- clarification ----------------------------------------------------------------------------


async def render_clarification(page: Page, submission_id: str, *, status_code: int = 200,
                               errors: list[FieldError] | None = None, values: dict | None = None) -> HTMLResponse:
    ctx = await case_context(page, submission_id)
    # The rounds' questions are the first auditor's: hidden from the blind second reviewer.
    second_review.ensure_not_blind(ctx["case"], page.principal)
    options = options_of(page)
    default_due = (datetime.now(UTC) + timedelta(days=options.round_days)).date().isoformat()
    flagged = {i.criterion_id for i in await _agenda(page, ctx)}
    return page.render("clarification.html", status_code=status_code, title=page.t("clarification.title"),
                       nav="queue", **ctx, values=values or {"criteria": sorted(flagged), "message": "",
                                                             "due_date": default_due},
                       rounds_left=max(options.max_clarification_rounds - len(ctx["read"].rounds), 0),
                       max_rounds=options.max_clarification_rounds, errors=errors or [],
                       submitted={c.criterion_id: c for c in ctx["read"].criteria})


async def _agenda(page: Page, ctx: dict) -> list[calls.AgendaItemRead]:
    # The agenda lists the first auditor's changes: not for the blind second reviewer.
    if not ctx["case"].received_at or second_review.is_blind(ctx["case"], page.principal):
        return []
    async with page.runtime.db.sessionmaker() as session:
        return await calls.agenda(session, ctx["case"])


@router.get("/cases/{submission_id}/clarification")
async def clarification_page(submission_id: str, page: StaffPage) -> HTMLResponse:
    return await render_clarification(page, submission_id)


def _end_of_day(value: str) -> datetime | None:
    """A due date typed as a day: the end of that day, UTC."""
    try:
        return datetime.combine(date.fromisoformat(value), time(23, 59), tzinfo=UTC)
    except ValueError:
        return None


@router.post("/cases/{submission_id}/clarification")
async def request_clarification(submission_id: str, page: StaffPage) -> Response:
    form = await page.form()
    ensure_auditor(page)
    values = {"criteria": [str(c) for c in form.getlist("criteria")][:100],
              "message": str(form.get("message", "")).strip(), "due_date": str(form.get("due_date", "")).strip()}
    due_at = _end_of_day(values["due_date"])
    data, errors = page.parse(rounds.RoundCreate, {**values, "due_at": due_at}, messages="clarification.errors")
    if due_at is None:
        errors.append(FieldError("due_date", page.t("clarification.errors.due_date")))
    if not errors:
        try:
            with redirect_on(NotHolder, WrongState, to=case_url(submission_id), done="case_moved"):
                async with page.runtime.db.transaction() as session:
                    case = await cases.by_submission(session, submission_id)
                    await rounds.request(session, page.principal, case, data, options_of(page))
        except RoundInvalid as exc:
            options = options_of(page)
            for field in dict.fromkeys(e["field"] for e in exc.errors):
                if field == "due_at":
                    errors.append(FieldError("due_date", page.t("clarification.errors.due_range",
                                                                min=f"{options.min_round_days:g}",
                                                                max=f"{options.max_round_days:g}")))
                else:
                    errors.append(FieldError(field, page.t(f"clarification.errors.{field}")))
        except (RoundOpen, RoundLimitReached) as exc:
            errors.append(FieldError(None, page.problem(exc)))
        else:
            page.runtime.wake_relay()
            return page.redirect(case_url(submission_id, "/clarification"), done="round_requested")
    return await render_clarification(page, submission_id, status_code=422 if errors[0].field else 409,
                                      errors=errors, values=values)


# --- the review call --------------------------------------------------------------------------


def viewer_zone(page: Page) -> ZoneInfo:
    """The staff member's own zone (their settings), else UTC."""
    return ZoneInfo(page.timezone) if page.timezone else ZoneInfo("UTC")


async def render_calls(page: Page, submission_id: str, *, status_code: int = 200,
                       errors: list[FieldError] | None = None, values: dict | None = None) -> HTMLResponse:
    ctx = await case_context(page, submission_id)
    second_review.ensure_not_blind(ctx["case"], page.principal)  # the call's notes and agenda are the first's
    agenda = await _agenda(page, ctx)
    now = datetime.now(viewer_zone(page))  # typed and shown in the viewer's own zone
    return page.render("calls.html", status_code=status_code, title=page.t("calls.title"), nav="queue", **ctx,
                       agenda=agenda, errors=errors or [], zone=page.timezone or "UTC",
                       values=values or {"held_date": now.date().isoformat(), "held_time": now.strftime("%H:%M"),
                                         "attendees": "", "notes": "", "criteria": [i.criterion_id for i in agenda]})


@router.get("/cases/{submission_id}/calls")
async def calls_page(submission_id: str, page: StaffPage) -> HTMLResponse:
    return await render_calls(page, submission_id)


@router.post("/cases/{submission_id}/calls")
async def add_call(submission_id: str, page: StaffPage) -> Response:
    form = await page.form()
    ensure_auditor(page)
    values = {k: str(form.get(k, "")).strip() for k in ("held_date", "held_time", "attendees", "notes")}
    values["criteria"] = [str(c) for c in form.getlist("criteria")][:100]
    try:
        held_at = datetime.combine(date.fromisoformat(values["held_date"]),
                                   time.fromisoformat(values["held_time"] or "00:00"), tzinfo=viewer_zone(page))
    except ValueError:
        held_at = None  # refused by the model below, on the date's input
    data, errors = page.parse(calls.CallNoteCreate, {**values, "held_at": held_at, "attendees": values["attendees"][:2000]},
                              messages="calls.errors", inputs={"held_at": "held_date"})
    if not errors:
        try:
            with redirect_on(NotHolder, WrongState, to=case_url(submission_id), done="case_moved"):
                async with page.runtime.db.transaction() as session:
                    await calls.add(session, page.principal, await cases.by_submission(session, submission_id), data)
        except InvalidInput as exc:
            field = "held_date" if exc.field == "held_at" else exc.field
            errors.append(FieldError(field if field in ("held_date",) else None,
                                     page.t("calls.errors.held_at_future") if field == "held_date"
                                     else page.problem(exc)))
        else:
            return page.redirect(case_url(submission_id, "/calls"), done="call_noted")
    return await render_calls(page, submission_id, status_code=422, errors=errors, values=values)
