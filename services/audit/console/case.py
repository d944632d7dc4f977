"""The case and its criteria: the overview, and per criterion its text, the city's
narrative (and the new one from a round beside it), the evidence (PDFs and images shown in
the page) and the decision form, side by side; the access key S saves and opens the next one."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import ValidationError

from services.audit import directory, domain
from services.audit.cases import service as cases
from services.audit.conflicts import service as conflicts
from services.audit.debriefs import service as debriefs
from services.audit.decisions import service as decisions
from services.audit.cases import evidence
from services.audit.rounds import service as rounds
from services.audit.second_review import service as second_review
from services.audit.cases import views
from services.audit.console.console import (
    AUDIT,
    StaffPage,
    case_url,
    ensure_auditor,
    load_case,
    options_of,
    token_of,
)
from services.audit.domain import DECIDABLE, RELEASABLE, CaseState
from services.audit.errors import DecisionConflict, DecisionInvalid, NotFound, NotHolder, NothingChanged, WrongState
from services.audit.cases.evidence import IntakeFiles
from shared.catalog.loader import load_catalog
from shared.contracts.vocabulary import Answer
from shared.catalog.places import name as place_name
from shared.infra.settings import service_urls
from shared.web.pages import FieldError, Page, format_datetime, format_moment, redirect_on

router = AUDIT.router()
DECISION_FIELDS = ("response", "reason_code", "explanation", "what_would_satisfy", "call_note_id", "evidence_ids")


async def case_context(page: Page, submission_id: str) -> dict:
    """What every page of a case shows: the whole case, names, and what the person may do."""
    async with page.runtime.db.sessionmaker() as session:
        case = await cases.by_submission(session, submission_id)
        read = await views.case_read(session, page.principal, case, options_of(page), page.lang)
        people = {case.holder_id, case.reviewer_id, case.approved_by}
        people |= {c.decision.decided_by for c in read.criteria if c.decision}
        people |= {r.requested_by for r in read.rounds} | {h.by for h in read.signoff.history}
        people |= {n.recorded_by for n in read.call_notes}
        names = await directory.names(session, people)
        mine = await conflicts.rules(session, page.principal.sub)
        corrections = await directory.fact_changes(session, case.city_id)
    principal = page.principal
    auditor = principal.role.value == "auditor"
    conflict = domain.conflict_with(mine, conflicts.place_of(case)) if auditor else None
    holder = auditor and case.holder_id == principal.sub and conflict is None
    returned = next((h for h in reversed(read.signoff.history) if h.action == "returned"), None) \
        if case.status == CaseState.IN_REVIEW else None
    open_rounds = {r.number for r in read.rounds if r.status == "open"}
    undecided = [c for c in read.criteria if c.decision is None]
    return {"case": case, "read": read, "summary": read.case, "names": names, "conflict": conflict,
            "blind": second_review.is_blind(case, principal),
            "is_holder": holder, "can_decide": holder and case.status in DECIDABLE and case.received_at is not None,
            "can_release": holder and case.status in RELEASABLE, "returned": returned,
            "undecided": [c.criterion_id for c in undecided],
            # What "confirm the remaining" covers: never a criterion asked in an open round or
            # with a round's answer (the same rule as `domain.bulk_confirmable`).
            "confirmable": [c.criterion_id for c in undecided
                            if not c.round_answers and not open_rounds & set(c.asked_in_rounds)],
            "catalog": load_catalog(case.catalog_version) if case.catalog_version else None,
            "fact_changes": [(c.changed_at, fact_change_text(page, c)) for c in corrections]}


def _fact_value(page: Page, fact: str, value) -> str:
    if fact == "population" and isinstance(value, int):
        return page.t.number(value)
    if fact == "country" and value:
        return page.t(f"countries.{value}")
    if fact == "state":
        return place_name(value, page.lang) if value else page.t("case.no_state")
    return str(value)


def fact_change_text(page: Page, change) -> str:
    """"population 25,000 → 31,000 by Ana Ramos (reason: the 2025 census)", in the page's language."""
    facts = "; ".join(page.t("case.fact_change", fact=page.t(f"case.facts.{c['fact']}"),
                             old=_fact_value(page, c["fact"], c["old"]), new=_fact_value(page, c["fact"], c["new"]))
                      for c in change.changes if page.t.has(f"case.facts.{c['fact']}"))
    return page.t("case.facts_changed_item", changes=facts, who=change.changed_by_name or page.t(f"case.by_{change.changed_by_role}"),
                  reason=change.reason)


@router.get("/cases/{submission_id}")
async def case_page(submission_id: str, page: StaffPage) -> HTMLResponse:
    ctx = await case_context(page, submission_id)
    async with page.runtime.db.sessionmaker() as session:
        call = await debriefs.of(session, submission_id)
        with_whom = (await directory.names(session, {call.auditor_id})).get(call.auditor_id, "") if call else ""
    # The call itself is notify's page (part of the auditor console: shared/web/nav.py).
    booking_url = f"{service_urls()['notify'].rstrip('/')}/slots/debriefs/{submission_id}"
    return page.render("case.html", title=ctx["case"].city_name or submission_id, nav="queue", **ctx,
                       debrief=call, debrief_auditor=with_whom, debrief_url=booking_url,
                       debrief_when=_call_time(page, call))


def _call_time(page: Page, call) -> str:
    """In the viewer's zone when the console knows it, else in the zone the slot was
    published in (its auditor's), named; UTC only when neither is known."""
    if call is None or call.starts_at is None:
        return ""
    zone = page.timezone or call.timezone
    return format_moment(call.starts_at, zone, page.lang) if zone else format_datetime(call.starts_at)


@router.post("/cases/{submission_id}/confirm-remaining")
async def confirm_remaining(submission_id: str, page: StaffPage) -> Response:
    await page.form()
    ensure_auditor(page)
    with redirect_on(NotHolder, WrongState, to=case_url(submission_id), done="case_moved"):
        async with page.runtime.db.transaction() as session:
            done = await decisions.confirm_remaining(session, page.principal,
                                                     await cases.by_submission(session, submission_id))
    return page.redirect(case_url(submission_id), done="confirmed" if done else "nothing_to_confirm")


# --- a criterion ------------------------------------------------------------------------------


async def render_criterion(page: Page, submission_id: str, criterion_id: str, *, status_code: int = 200,
                           errors: list[FieldError] | None = None, values: dict | None = None,
                           conflict: decisions.DecisionRead | None = None) -> HTMLResponse:
    ctx = await case_context(page, submission_id)
    read = ctx["read"]
    order = [c.criterion_id for c in read.criteria]
    if criterion_id not in order:
        raise NotFound(f"{criterion_id} is not a criterion of this case")
    position = order.index(criterion_id)
    crit = read.criteria[position]
    catalog = ctx["catalog"]
    decision = crit.decision
    form = values or {
        "response": decision.response.value if decision else crit.submitted.value,
        "reason_code": decision.reason_code if decision else "",
        "explanation": decision.explanation if decision else "",
        "what_would_satisfy": decision.what_would_satisfy if decision else "",
        "call_note_id": decision.call_note_id or "" if decision else "",
        "version": decision.version if decision else 0,
    }
    if conflict is not None:  # saved meanwhile: the form now builds on what is there
        form["version"] = conflict.version
    items = crit.evidence + [e for a in crit.round_answers for e in a.evidence]
    return page.render(
        "criterion.html", status_code=status_code, title=f"{criterion_id} — {ctx['case'].city_name}", nav="queue",
        **ctx, crit=crit, area=catalog.area(crit.area), position=position + 1, total=len(order),
        previous_id=order[position - 1] if position else None,
        next_id=order[position + 1] if position + 1 < len(order) else None,
        reasons=[(r.id, catalog.text(r.name, page.lang), catalog.text(r.text, page.lang))
                 for r in catalog.audit_reasons],
        notes=read.call_notes, items=items, values=form, errors=errors or [], stale=conflict)


@router.get("/cases/{submission_id}/criteria/{criterion_id}")
async def criterion_page(submission_id: str, criterion_id: str, page: StaffPage) -> HTMLResponse:
    return await render_criterion(page, submission_id, criterion_id)


# The domain's reasons are for API readers; the page says it in the person's language.
def _field_message(page: Page, field: str, changed: bool) -> str:
    if field == "reason_code":
        return page.t("decision.errors.reason" if changed else "decision.errors.no_reason")
    if field == "what_would_satisfy":
        return page.t("decision.errors.satisfy" if changed else "decision.errors.no_satisfy")
    if field == "explanation":
        return page.t("decision.errors.explanation")
    return page.t(f"decision.errors.{field}")


@router.post("/cases/{submission_id}/criteria/{criterion_id}")
async def decide(submission_id: str, criterion_id: str, page: StaffPage) -> Response:
    form = await page.form()
    ensure_auditor(page)
    values = {k: str(form.get(k, "")).strip() for k in ("response", "reason_code", "explanation",
                                                        "what_would_satisfy", "call_note_id")}
    try:
        values["version"] = max(int(str(form.get("version", "0"))), 0)
    except ValueError:
        values["version"] = 0
    seen = [str(v) for v in form.getlist("evidence_id")]
    case = await load_case(page, submission_id)
    submitted = case.submitted_responses.get(criterion_id)
    changed = bool(values["response"]) and values["response"] != submitted
    if values["response"] not in set(Answer):
        return await render_criterion(page, submission_id, criterion_id, status_code=422, values=values,
                                      errors=[FieldError("response", page.t("decision.errors.response"))])
    try:
        data = decisions.DecisionWrite(response=values["response"], reason_code=values["reason_code"],
                                       explanation=values["explanation"],
                                       what_would_satisfy=values["what_would_satisfy"], version=values["version"],
                                       evidence_ids=seen, call_note_id=values["call_note_id"] or None)
    except ValidationError as exc:
        fields = list(dict.fromkeys(str(e["loc"][0]) for e in exc.errors()))
        return await render_criterion(page, submission_id, criterion_id, status_code=422, values=values,
                                      errors=[FieldError(f, page.t("decision.errors.too_long")) for f in fields])
    try:
        with redirect_on(NotHolder, WrongState, to=case_url(submission_id), done="case_moved"):
            async with page.runtime.db.transaction() as session:
                await decisions.save(session, page.principal, await cases.by_submission(session, submission_id),
                                     criterion_id, data)
    except DecisionInvalid as exc:
        fields = list(dict.fromkeys(e["field"] for e in exc.errors))
        return await render_criterion(page, submission_id, criterion_id, status_code=422, values=values, errors=[
            FieldError(f if f in DECISION_FIELDS[:5] else None, _field_message(page, f, changed)) for f in fields])
    except DecisionConflict:
        async with page.runtime.db.sessionmaker() as session:
            current = (await decisions.of_case(session, case.id)).get(criterion_id)
            latest = decisions.read(current, decisions.catalog_of(case), page.lang) if current else None
        return await render_criterion(page, submission_id, criterion_id, status_code=409, values=values,
                                      conflict=latest, errors=[FieldError(None, page.t("decision.errors.conflict"))])
    order = [c for c in load_catalog(case.catalog_version).criterion_ids if c in case.submitted_responses]
    at = order.index(criterion_id)
    if form.get("action") == "next" and at + 1 < len(order):
        return page.redirect(case_url(submission_id, f"/criteria/{order[at + 1]}"), done="saved_previous")
    return page.redirect(case_url(submission_id, f"/criteria/{criterion_id}"), done="saved")


@router.post("/cases/{submission_id}/criteria/{criterion_id}/confirm")
async def reconfirm(submission_id: str, criterion_id: str, page: StaffPage) -> Response:
    """The decision stands although the answers or evidence changed since: say why."""
    form = await page.form()
    ensure_auditor(page)
    note = str(form.get("note", "")).strip()
    try:
        data = decisions.DecisionReconfirm(version=max(int(str(form.get("version", "1"))), 1), note=note)
    except (ValueError, ValidationError):
        return await render_criterion(page, submission_id, criterion_id, status_code=422,
                                      errors=[FieldError(None, page.t("decision.errors.note"))])
    with redirect_on(NotHolder, WrongState, DecisionConflict, NothingChanged,
                     to=case_url(submission_id, f"/criteria/{criterion_id}"), done="case_moved"):
        async with page.runtime.db.transaction() as session:
            await decisions.reconfirm(session, page.principal, await cases.by_submission(session, submission_id),
                                      criterion_id, data)
    return page.redirect(case_url(submission_id, f"/criteria/{criterion_id}"), done="reconfirmed")


# --- evidence ---------------------------------------------------------------------------------

EVIDENCE_CSP = "default-src 'none'; object-src 'self'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"


@router.get("/cases/{submission_id}/evidence/{evidence_id}")
async def evidence_file(submission_id: str, evidence_id: str, page: StaffPage, download: bool = False) -> Response:
    """The file, through intake's short-lived link asked with the person's own token,
    checked against the manifest's SHA-256; PDFs and images inline (the case's pages
    frame them), anything else as a download."""
    async with page.runtime.db.sessionmaker() as session:
        case = await cases.by_submission(session, submission_id)
        item = evidence.find(evidence.of_case(case, await rounds.of_case(session, case.id)), evidence_id)
    if item.kind != "file":
        raise NotFound("This evidence is a link: open its address.")
    files = IntakeFiles.of(page.request.app.state.identity)
    spool = await files.fetch(item, token_of(page), max_bytes=int(options_of(page).preview_max_mb * 1024 * 1024))
    inline = item.preview is not None and not download
    headers = {"Content-Disposition": f"{'inline' if inline else 'attachment'}; "
                                      f"filename*=UTF-8''{quote(item.filename or 'evidence')}",
               "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": EVIDENCE_CSP, "X-Frame-Options": "SAMEORIGIN"}
    if item.size is not None:
        headers["Content-Length"] = str(item.size)
    return StreamingResponse(evidence.chunks(spool), media_type=item.content_type or "application/octet-stream",
                             headers=headers)
