"""The frozen submission: what a city submitted, immutable from the moment it is frozen.

Intake builds it when the assessment is submitted and stores it; the same model is the
workflow's input (so audit receives its own copy with the review request, never reading
intake's tables) and what the API returns. Evidence travels as object keys with sizes and
hashes, never bytes.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.vocabulary import Answer, EvidenceKind


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class FrozenCity(_Frozen):
    id: str
    name: str
    state: str = ""  # ISO 3166-2 code (US-IL); a submission frozen before codes may hold a spelling
    country: str
    population: int
    region: str | None = None
    population_band: str | None = None
    contact_email: str | None = None
    # The contact's language and the city's time zone when it submitted (mail, report).
    language: str = "en"
    timezone: str = "UTC"


class FrozenResponse(_Frozen):
    response: Answer
    narrative: str = ""


class EvidenceItem(_Frozen):
    """One entry of the evidence manifest: a stored file (key, size, SHA-256) or a link."""

    id: str
    criterion_id: str
    kind: EvidenceKind
    filename: str | None = None
    object_key: str | None = None
    size: int | None = None
    sha256: str | None = None
    content_type: str | None = None
    url: str | None = None
    title: str = ""


class FrozenSubmission(_Frozen):
    catalog_version: str
    cycle: str
    city: FrozenCity
    responses: dict[str, FrozenResponse]
    evidence: list[EvidenceItem] = Field(default_factory=list)

    def answers(self) -> dict[str, Answer]:
        return {cid: r.response for cid, r in self.responses.items()}

    def evidence_keys(self) -> list[str]:
        return [e.object_key for e in self.evidence if e.object_key]
