"""Small builders of contract objects for tests."""

from __future__ import annotations

from shared.contracts.submission import EvidenceItem, FrozenCity, FrozenResponse, FrozenSubmission


def frozen_submission(responses: dict[str, str] | None = None, *, city_id: str = "c1", cycle: str = "2026",
                      name: str = "Springfield", evidence: list[EvidenceItem] | None = None) -> FrozenSubmission:
    responses = responses if responses is not None else {"DG1": "YES"}
    return FrozenSubmission(
        catalog_version="wwc-2019", cycle=cycle,
        city=FrozenCity(id=city_id, name=name, state="US-IL", country="US", population=116_250, region="Midwest",
                        population_band="100K-250K", contact_email="staff@springfield.example"),
        responses={cid: FrozenResponse(response=answer, narrative=f"{cid}: {answer}") for cid, answer in responses.items()},
        evidence=evidence or [],
    )
