"""A submission's timeline in words: each recorded event as who did what and why.

Pure: the operator console translates the key with the params (`timeline.<key>` in its
locales); the CLI uses the English strings. An event this module does not know is shown
by its subject, so a new event is never hidden."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.contracts.events import Subject

# subject -> (key, the payload field naming who acted, the payload fields shown)
_LINES: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    Subject.SUBMISSION_SUBMITTED: ("submitted", "submitted_by", ("cycle", "answered", "evidence_count")),
    Subject.SUBMISSION_WITHDRAWN: ("withdrawn", None, ("reason",)),
    Subject.STATUS_CHANGED: ("stage", None, ("status", "waiting_for", "detail")),
    Subject.STEP_FAILED: ("step_failed", None, ("step", "error")),
    Subject.STEP_RETRIED: ("step_retried", "by", ("step",)),
    Subject.REVIEW_CASE_OPENED: ("case_opened", None, ("due_at",)),
    Subject.CASE_ASSIGNED: ("case_assigned", "assigned_by", ("auditor_id",)),
    Subject.CASE_RELEASED: ("case_released", "auditor_id", ("reason",)),
    Subject.CLARIFICATION_REQUESTED: ("clarification_requested", "requested_by", ("criteria", "due_at", "message")),
    Subject.CLARIFICATION_ANSWERED: ("clarification_answered", "answered_by", ("request_id",)),
    Subject.REVIEW_DUE_SOON: ("review_due_soon", "auditor_id", ("due_at",)),
    Subject.REVIEW_OVERDUE: ("review_overdue", "auditor_id", ("due_at",)),
    Subject.SIGNOFF_REQUESTED: ("signoff_requested", "reviewer_id", ()),
    Subject.SIGNOFF_RETURNED: ("signoff_returned", "returned_by", ("comments",)),
    Subject.REVIEW_COMPLETED: ("review_completed", "approved_by", ("corrections",)),
    Subject.SCORE_COMPUTED: ("scored", None, ("met", "total", "percent", "tier")),
    Subject.REPORT_READY: ("report_ready", None, ("language", "tier")),
    Subject.DEBRIEF_OFFERED: ("debrief_offered", None, ("expires_at",)),
    Subject.DEBRIEF_BOOKED: ("debrief_booked", None, ("starts_at",)),
    Subject.DEBRIEF_RESCHEDULED: ("debrief_rescheduled", "by", ("starts_at",)),
    Subject.DEBRIEF_CANCELLED: ("debrief_cancelled", "by", ("reason",)),
    Subject.DEBRIEF_COMPLETED: ("debrief_completed", None, ("outcome",)),
    Subject.MAIL_FAILED: ("mail_failed", None, ("kind", "to", "attempts", "error")),
    Subject.MAIL_RETRIED: ("mail_retried", None, ("mail_id",)),
}
# Events that name the person who acted by their display name (a city's staff member is
# not in every service's directory): shown instead of the actor id's role ("city").
_NAMED_BY = {Subject.SUBMISSION_WITHDRAWN: "by_name", Subject.DEBRIEF_RESCHEDULED: "by_name",
             Subject.DEBRIEF_CANCELLED: "by_name"}


@dataclass(frozen=True)
class Line:
    at: datetime
    subject: str
    key: str
    actor_id: str | None
    params: dict[str, str] = field(default_factory=dict)
    actor_name: str | None = None  # the person's name when the event carries it


def _text(value: Any, name: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if name.endswith("_at") and isinstance(value, str):
        try:
            return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        except ValueError:
            return value
    return str(value)


def criteria_of(value: Any) -> list[str]:
    """Criterion ids from an event's list: ids, or objects naming theirs (`criterion_id`)."""
    out = []
    for item in value or ():
        cid = (item.get("criterion_id") or item.get("id")) if isinstance(item, dict) else item
        if cid:
            out.append(str(cid))
    return out


def _appeal(subject: str, payload: dict, at: datetime) -> Line:
    """An appeal's own events (filed by the city, opened, reminded, escalated and decided
    by audit), told by
    what they carry whatever service publishes them."""
    actor = payload.get("filed_by") or payload.get("decided_by") or None
    if subject.endswith("filed"):
        return Line(at, subject, "appeal_filed", actor, {"criteria": ", ".join(criteria_of(payload.get("criteria")))},
                    actor_name=payload.get("filed_by_name") or None)
    if subject.endswith("decided"):
        outcomes = [str(d.get("outcome", "")) for d in payload.get("decisions") or () if isinstance(d, dict)]
        return Line(at, subject, "appeal_decided", actor, {"overturned": str(outcomes.count("overturned")),
                                                           "upheld": str(outcomes.count("upheld"))})
    if subject.endswith(("due_soon", "overdue")):  # audit's reminder and escalation (once per due date)
        return Line(at, subject, "appeal_due_soon" if subject.endswith("due_soon") else "appeal_overdue", None,
                    {"due_at": _text(payload.get("due_at"), "due_at")})
    if subject.endswith("opened") and payload.get("due_at"):
        return Line(at, subject, "appeal_opened", None, {"due_at": _text(payload.get("due_at"), "due_at")})
    return Line(at, subject, "appeal_event", None, {})


def describe(subject: str, payload: dict, at: datetime) -> Line:
    if subject.endswith(".message.parked"):
        return Line(at, subject, "parked", None, {"consumer": _text(payload.get("consumer")),
                                                   "error": _text(payload.get("error"))})
    if subject.endswith(".message.replayed"):
        return Line(at, subject, "replayed", payload.get("requested_by") or None,
                    {"status": _text(payload.get("status")), "error": _text(payload.get("error"))})
    if "appeal" in subject:
        return _appeal(subject, payload, at)
    # A score or report again after an appeal (version 2 and later).
    if subject == Subject.SCORE_COMPUTED and int(payload.get("version") or 1) > 1:
        return Line(at, subject, "rescored", None, {n: _text(payload.get(n)) for n in ("met", "total", "percent", "tier")})
    if subject == Subject.REPORT_READY and int(payload.get("version") or 1) > 1:
        return Line(at, subject, "report_reissued", None,
                    {"version": _text(payload.get("version")), "language": _text(payload.get("language"))})
    known = _LINES.get(subject)
    if known is None:
        return Line(at, subject, "other", None, {"subject": subject})
    key, actor, shown = known
    # Held or declined: the debrief's outcome names its stage too.
    named = payload.get(_NAMED_BY[subject]) if subject in _NAMED_BY else None
    return Line(at, subject, key, payload.get(actor) if actor else None,
                {name: _text(payload.get(name), name) for name in shown}, actor_name=named or None)


def english(line: Line, names: dict[str, str] | None = None) -> str:
    """The line as the CLI prints it."""
    p = line.params
    who = line.actor_name or (names or {}).get(line.actor_id or "", line.actor_id or "")
    text = {
        "submitted": "submitted for cycle {cycle} ({answered} answers, {evidence_count} evidence items)",
        "withdrawn": "withdrawn by the city: {reason}",
        "stage": "stage {status}" + (" - waiting for {waiting_for}" if p.get("waiting_for") else "")
                 + (" ({detail})" if p.get("detail") else ""),
        "step_failed": "step {step} failed: {error}",
        "step_retried": "step {step} retried",
        "case_opened": "review case opened, due {due_at}",
        "case_assigned": "case assigned to {auditor_id}",
        "case_released": "case released to the queue" + (": {reason}" if p.get("reason") else ""),
        "clarification_requested": "clarification requested on {criteria}, due {due_at}: {message}",
        "clarification_answered": "clarification {request_id} answered",
        "review_due_soon": "review due soon ({due_at})",
        "review_overdue": "review overdue since {due_at}",
        "signoff_requested": "sent for sign-off",
        "signoff_returned": "returned by the reviewer: {comments}",
        "review_completed": "review approved with {corrections} correction(s)",
        "scored": "scored {met}/{total} ({percent}%), tier {tier}",
        "report_ready": "report ready ({language})",
        "report_reissued": "report reissued as version {version} ({language})",
        "rescored": "scored again after the appeal {met}/{total} ({percent}%), tier {tier}",
        "appeal_filed": "the city appealed the findings on {criteria}",
        "appeal_opened": "appeal opened, decision due {due_at}",
        "appeal_due_soon": "appeal decision due soon ({due_at})",
        "appeal_overdue": "appeal overdue since {due_at}",
        "appeal_decided": "appeal decided: {overturned} overturned, {upheld} upheld",
        "appeal_event": "a step of the appeal",
        "debrief_offered": "debrief offered until {expires_at}",
        "debrief_booked": "debrief booked for {starts_at}",
        "debrief_rescheduled": "debrief moved to {starts_at}",
        "debrief_cancelled": "debrief cancelled" + (": {reason}" if p.get("reason") else ""),
        "debrief_completed": "debrief {outcome}",
        "mail_failed": "mail {kind} to {to} failed after {attempts} attempts: {error}",
        "mail_retried": "mail {mail_id} sent again by an operator",
        "parked": "a message to {consumer} was parked: {error}",
        "replayed": "parked message replayed: {status} {error}",
        "other": "{subject}",
    }[line.key].format(**{k: v or "-" for k, v in p.items()})
    return f"{text} (by {who})" if who else text
