"""What each decision judged. Audit's copy of a criterion's material is the frozen
submission (response, narrative, evidence manifest) and, after a clarification round, the
city's answer on it (from intake's `clarification.answered`). Each is a version
(`domain.material`); a decision records the version and fingerprint it judged, and newer
material marks it "changed since decided" until it is decided again or confirmed with a
note. Sign-off is refused while any is open; the sign-off page lists every change since.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from services.audit import domain
from services.audit.cases import evidence
from services.audit.models import ClarificationRound, Decision, ReviewCase


class EvidenceSeen(BaseModel):
    id: str
    name: str
    fingerprint: str


class MaterialChangeRead(BaseModel):
    version: int
    round: int | None = Field(description="the clarification round that brought it; null: as submitted")
    at: datetime | None = None
    narrative: str
    evidence: list[EvidenceSeen] = Field(default_factory=list)


class ChangedDecision(BaseModel):
    """A decision whose criterion got new answers or evidence after it was made."""

    criterion_id: str
    decided_by: str
    decided_at: datetime
    judged_version: int
    version: int
    changes: list[MaterialChangeRead]


class ReconfirmedDecision(BaseModel):
    """A decision that stands although the material changed: the auditor's note says why."""

    criterion_id: str
    decided_by: str
    decided_at: datetime
    judged_version: int
    note: str


def _items(views: Iterable[evidence.EvidenceView]) -> list[tuple[str, str, str]]:
    return [(e.id, e.title or e.filename or e.url or "", e.fingerprint) for e in views]


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def materials(case: ReviewCase, rounds: Iterable[ClarificationRound]) -> dict[str, domain.Material]:
    """Every criterion's material, version by version."""
    responses = (case.submission or {}).get("responses", {})
    submitted = evidence.by_criterion(evidence.of_case(case))
    answers: dict[str, list] = {}
    for r in rounds:
        for cid, a in (r.answers or {}).items():
            views = [evidence._view({**e, "criterion_id": e.get("criterion_id") or cid}, r.number)
                     for e in a.get("evidence", [])]
            answers.setdefault(cid, []).append((r.number, _iso(r.answered_at), a.get("narrative", ""),
                                                _items(views)))
    return {cid: domain.material(cid, response=str(given.get("response", "")), narrative=given.get("narrative", ""),
                                 evidence=_items(submitted.get(cid, [])), answers=answers.get(cid, []))
            for cid, given in responses.items()}


def judged(m: domain.Material) -> dict:
    """The columns a decision saves: what it judged."""
    return {"judged_version": m.version, "judged_fingerprint": m.fingerprint}


def is_changed(d: Decision, mats: Mapping[str, domain.Material]) -> bool:
    m = mats.get(d.criterion_id)
    return m is not None and domain.changed_since_decided(m, judged_version=d.judged_version or 1,
                                                          judged_fingerprint=d.judged_fingerprint or "")


def changed(decisions: Mapping[str, Decision], mats: Mapping[str, domain.Material]) -> list[ChangedDecision]:
    """Every decision changed since decided, with each change since (in criterion order)."""
    out = []
    for cid in mats:
        d = decisions.get(cid)
        if d is None or not is_changed(d, mats):
            continue
        since = mats[cid].since(d.judged_version or 1)
        out.append(ChangedDecision(
            criterion_id=cid, decided_by=d.decided_by, decided_at=d.decided_at, judged_version=d.judged_version or 1,
            version=mats[cid].version,
            changes=[MaterialChangeRead(version=c.version, round=c.round, at=c.at, narrative=c.narrative,
                                        evidence=[EvidenceSeen(id=i, name=n, fingerprint=f) for i, n, f in c.evidence])
                     for c in since]))
    return out


def reconfirmed(decisions: Mapping[str, Decision]) -> list[ReconfirmedDecision]:
    return [ReconfirmedDecision(criterion_id=d.criterion_id, decided_by=d.decided_by, decided_at=d.decided_at,
                                judged_version=d.judged_version or 1, note=d.note)
            for d in sorted(decisions.values(), key=lambda d: d.criterion_id) if d.note]


def in_open_rounds(rounds: Iterable[ClarificationRound]) -> set[str]:
    return {cid for r in rounds if r.status == "open" for cid in r.criteria}
