"""The trail in words: each record as a sentence a person reads — who did what, to which
criterion, when — in the page's language, with people's names, criterion titles, reason
names and localized dates. The JSON and CSV exports keep the records as they are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.catalog.model import Catalog
from shared.i18n import Translator

# Reasons the platform itself recorded (in English, in the chained record): worded per language.
SYSTEM_REASONS = {
    "the review clock stopped during a clarification round": "clock_stopped",
    "the city withdrew the submission": "city_withdrew",
    "review mode auto": "auto_review",
    "confirmed as submitted": "confirmed_as_submitted",
    "new answers or evidence since these decisions": "changed_since_decided",
}
# Actors that are not people.
SYSTEM_ROLES = ("workflow", "intake", "system")


def criterion_label(catalog: Catalog | None, criterion_id: str, lang: str) -> str:
    """A criterion as people read it: its id and its text (ids alone mean little)."""
    if catalog is None:
        return criterion_id
    try:
        return f"{criterion_id} — {catalog.text(catalog.criterion(criterion_id), lang)}"
    except KeyError:
        return criterion_id


def criterion_title(catalog: Catalog | None, criterion_id: str, lang: str) -> str:
    """A criterion's text to quote inside a sentence: without its closing period, which would
    otherwise end the sentence in the middle ("…accessible. from Yes to No")."""
    if catalog is None:
        return ""
    try:
        text = catalog.text(catalog.criterion(criterion_id), lang).strip()
    except KeyError:
        return ""
    return text[:-1].rstrip() if text.endswith(".") and not text.endswith("..") else text


@dataclass(frozen=True)
class Line:
    seq: int
    at: datetime
    who: str
    what: str
    details: list[str] = field(default_factory=list)
    why: str = ""
    hash: str = ""


@dataclass
class Words:
    """What a sentence needs from the page: its strings, names, the case's catalog, dates."""

    t: Translator
    names: dict[str, str]
    catalog: Catalog | None
    fmt_dt: Callable[[Any], str]
    city_name: str = ""

    def person(self, user_id: str | None) -> str:
        return self.names.get(user_id or "", "") or self.t("trail.someone")

    def criterion(self, cid: str) -> str:
        """In a sentence: the id and the title in the language's quotation marks."""
        title = criterion_title(self.catalog, cid, self.t.lang)
        return self.t("trail.criterion", id=cid, title=title) if title else cid

    def criteria(self, ids: list[str]) -> str:
        return ", ".join(ids)

    def reason(self, code: str) -> str:
        if self.catalog is not None and code and self.catalog.has_audit_reason(code):
            return self.catalog.text(self.catalog.audit_reason(code).name, self.t.lang)
        return code and self.t("trail.other_reason")

    def response(self, value: str | None) -> str:
        return self.t(f"responses.{value}") if value else self.t("responses.none")

    def when(self, iso: str | None) -> str:
        if not iso:
            return "—"
        try:
            return self.fmt_dt(datetime.fromisoformat(iso))
        except ValueError:
            return "—"

    def who(self, record) -> str:
        if record.actor_role in SYSTEM_ROLES:
            return self.t("trail.platform")
        if record.actor_role == "city":
            return self.t("trail.the_city", city=self.city_name) if self.city_name else self.t("trail.a_city")
        return self.person(record.actor_id)

    def why(self, reason: str | None) -> str:
        if not reason:
            return ""
        key = SYSTEM_REASONS.get(reason)
        return self.t(f"trail.reasons.{key}") if key else reason


def describe(record, words: Words) -> Line:
    """One record as a sentence (and its details)."""
    t, w = words.t, words
    after, before = record.after or {}, record.before or {}
    action = record.action
    details: list[str] = []
    if action == "case.opened":
        what = t("trail.do.case_opened", due=w.when(after.get("due_at")))
        if after.get("double_review"):
            details.append(t("trail.detail.double_review"))
    elif action == "case.received":
        what = t.plural("trail.do.case_received", int(after.get("responses") or 0),
                        evidence=t.number(int(after.get("evidence") or 0)))
    elif action == "case.claimed":
        what = t("trail.do.case_claimed")
    elif action == "case.assigned":
        what = t("trail.do.case_assigned", person=w.person(after.get("holder_id")))
    elif action == "case.released":
        what = t("trail.do.case_released")
    elif action == "case.due_moved":
        what = t("trail.do.case_due_moved", due=w.when(after.get("due_at")))
    elif action == "review.reminded":
        what = t("trail.do.review_reminded", person=w.person(after.get("holder_id")), due=w.when(after.get("due_at")))
    elif action == "review.escalated":
        what = t("trail.do.review_escalated", due=w.when(after.get("due_at")))
    elif action == "case.withdrawn":  # named when intake said who withdrew (older records: the city)
        what = t("trail.do.case_withdrawn_by", person=after["by_name"]) if after.get("by_name") \
            else t("trail.do.case_withdrawn")
    elif action == "review.confirmed_automatically":
        what = t("trail.do.review_confirmed_automatically")
    elif action == "decision.saved":
        cid = after.get("criterion", "")
        if after.get("response") == after.get("submitted"):
            what = t("trail.do.decision_confirmed", criterion=w.criterion(cid), response=w.response(after.get("response")))
        else:
            what = t("trail.do.decision_changed", criterion=w.criterion(cid), submitted=w.response(after.get("submitted")),
                     response=w.response(after.get("response")))
        if after.get("reason_code"):
            details.append(t("trail.detail.reason", reason=w.reason(after["reason_code"])))
        if after.get("what_would_satisfy"):
            details.append(t("trail.detail.satisfy", text=after["what_would_satisfy"]))
        if before.get("response") and before.get("response") != after.get("response"):
            details.append(t("trail.detail.was", response=w.response(before["response"])))
    elif action == "decision.reconfirmed":
        cid = after.get("criterion", "")
        what = t("trail.do.decision_reconfirmed", criterion=w.criterion(cid), response=w.response(after.get("response")))
    elif action == "decisions.changed_since_decided":
        flagged = sorted(after.get("decisions") or {})
        what = t.plural("trail.do.changed_since_decided", len(flagged), round=after.get("round", "?"))
        details += [w.criterion(c) for c in flagged]
    elif action == "decisions.confirmed":
        confirmed = sorted(after)
        what = t.plural("trail.do.decisions_confirmed", len(confirmed))
        details.append(w.criteria(confirmed))
    elif action == "round.requested":
        what = t("trail.do.round_requested", round=after.get("round", "?"), due=w.when(after.get("due_at")))
        details += [w.criterion(c) for c in after.get("criteria", [])]
    elif action == "round.answered":
        what = t("trail.do.round_answered", round=after.get("round", "?"))
        details += [w.criterion(c) for c in after.get("criteria", [])]
    elif action == "round.expired":
        what = t("trail.do.round_expired", round=after.get("round", "?"))
    elif action == "signoff.requested":
        what = t("trail.do.signoff_requested")
    elif action == "signoff.approved":
        what = t("trail.do.signoff_approved")
    elif action == "signoff.returned":
        what = t("trail.do.signoff_returned")
    elif action == "second_review.assigned" and after.get("replaces"):
        what = t("trail.do.second_review_replaced", person=w.person(after.get("second_reviewer_id")),
                 previous=w.person(after["replaces"]))
    elif action == "second_review.assigned":
        what = t("trail.do.second_review_assigned", person=w.person(after.get("second_reviewer_id")))
    elif action == "second_review.released":
        what = t.plural("trail.do.second_review_released", int(after.get("discarded") or 0),
                        person=w.person(before.get("second_reviewer_id")))
    elif action == "second_review.decided":
        what = t("trail.do.second_review_decided", criterion=w.criterion(after.get("criterion", "")))
    elif action == "second_review.disclosed":
        differ = list(after.get("differences") or [])
        what = t.plural("trail.do.second_review_disclosed", len(differ))
        details += [t("trail.detail.two_reviews", criterion=w.criterion(c),
                      first=w.response((after.get("first") or {}).get(c)),
                      second=w.response((after.get("second") or {}).get(c))) for c in differ]
    elif action == "second_review.resolved":
        taken = after.get("outcome") == "take_second"
        what = t("trail.do.second_review_taken" if taken else "trail.do.second_review_kept",
                 criterion=w.criterion(after.get("criterion", "")),
                 response=w.response(after.get("second") if taken else after.get("first")))
    elif action == "conflict.declared":
        what = t("trail.do.conflict_declared")
    elif action == "conflict.withdrawn":
        what = t("trail.do.conflict_withdrawn")
    elif action == "call.noted":
        what = t("trail.do.call_noted", held=w.when(after.get("held_at")))
        details += [w.criterion(c) for c in after.get("criteria", [])]
    else:  # an action this console has no words for yet: said plainly, never as a code
        what = t("trail.do.other")
    return Line(seq=record.seq, at=record.at, who=w.who(record), what=what, details=details,
                why=w.why(record.reason), hash=record.hash)
