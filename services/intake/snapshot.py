"""The Data Snapshot: the catalog's screening questions, answered once per cycle, with an
immediate result (what the city already does, what is missing, per practice area) and
the eligibility gate to the full Assessment (population and country, from the catalog)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import domain
from services.intake.errors import NotFound, SnapshotAlreadyTaken, SnapshotIncomplete
from services.intake.models import City, Snapshot
from shared.catalog import Catalog
from shared.catalog.loader import load_catalog
from shared.infra.orm import insert_if_absent, new_id

_EXAMPLE_ANSWERS = {f"SNAP{i}": i % 3 != 0 for i in range(1, 9)}


class SnapshotQuestionRead(BaseModel):
    id: str
    text: str
    area: str
    area_name: str
    related_criteria: list[str]


class SnapshotCreate(BaseModel):
    """Yes (true) or no (false) for every question of the Data Snapshot."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"answers": _EXAMPLE_ANSWERS}]})

    answers: dict[str, bool] = Field(description="question id -> does the city already do this?")


class SnapshotItem(BaseModel):
    question_id: str
    text: str
    area: str
    area_name: str
    related_criteria: list[str]
    answer: bool


class Eligibility(BaseModel):
    eligible: bool
    reasons: list[str] = Field(default_factory=list, description="why the city may not go on (empty when eligible)")
    reason_kinds: list[str] = Field(default_factory=list, description="population | country, one per reason")
    message: str


class SnapshotRead(BaseModel):
    id: str
    city_id: str
    cycle: str
    catalog_version: str
    created_at: datetime
    answers: dict[str, bool]
    already_doing: list[SnapshotItem]
    missing: list[SnapshotItem]
    eligibility: Eligibility


def questions(catalog: Catalog, lang: str = "en") -> list[SnapshotQuestionRead]:
    return [
        SnapshotQuestionRead(id=q.id, text=catalog.text(q, lang), area=q.area,
                             area_name=catalog.text(catalog.area(q.area), lang),
                             related_criteria=list(q.related_criteria))
        for q in catalog.snapshot
    ]


def eligibility(catalog: Catalog, city: City) -> Eligibility:
    """The catalog's gate (`domain.eligibility`), with its reasons said in English."""
    found = domain.eligibility(catalog.eligibility, city=city.name, population=city.population, country=city.country)
    reasons = [r.english() for r in found]
    if reasons:
        return Eligibility(eligible=False, reasons=reasons, reason_kinds=[r.kind for r in found],
                           message=f"{city.name} may not go on to the full Assessment: " + " ".join(reasons))
    return Eligibility(eligible=True, message=f"{city.name} is eligible: go on to the full Assessment.")


def _validate_answers(catalog: Catalog, answers: dict[str, bool]) -> None:
    ids = [q.id for q in catalog.snapshot]
    errors = [{"field": f"answers.{k}", "reason": "no such question"} for k in answers if k not in ids]
    errors += [{"field": f"answers.{q}", "reason": "answer yes (true) or no (false)"} for q in ids if q not in answers]
    if errors:
        raise SnapshotIncomplete("Answer each question of the Data Snapshot once.", errors=errors)


def read(catalog: Catalog, snap: Snapshot, city: City, lang: str = "en") -> SnapshotRead:
    items = [
        SnapshotItem(question_id=q.id, text=q.text, area=q.area, area_name=q.area_name,
                     related_criteria=q.related_criteria, answer=bool(snap.answers.get(q.id)))
        for q in questions(catalog, lang)
    ]
    return SnapshotRead(
        id=snap.id, city_id=snap.city_id, cycle=snap.cycle, catalog_version=snap.catalog_version,
        created_at=snap.created_at, answers=snap.answers,
        already_doing=[i for i in items if i.answer], missing=[i for i in items if not i.answer],
        eligibility=eligibility(catalog, city),
    )


async def find(session: AsyncSession, city_id: str, cycle: str) -> Snapshot | None:
    return await session.scalar(select(Snapshot).where(Snapshot.city_id == city_id, Snapshot.cycle == cycle))


async def take(session: AsyncSession, *, city_id: str, cycle: str, catalog_version: str,
               data: SnapshotCreate) -> tuple[Snapshot, City]:
    """Record the one Data Snapshot of a city's cycle; a second one is refused (409)."""
    catalog = load_catalog(catalog_version)
    _validate_answers(catalog, data.answers)
    city = await session.get(City, city_id)
    if city is None:
        raise NotFound(f"no city {city_id}")
    existing = await find(session, city_id, cycle)
    if existing is not None:
        raise _already(existing)
    result = eligibility(catalog, city)
    inserted = await insert_if_absent(
        session, Snapshot, id=new_id(), city_id=city_id, cycle=cycle, catalog_version=catalog.version,
        answers=dict(data.answers), eligible=result.eligible,
        result={"eligibility": result.model_dump(),
                "already_doing": [k for k, v in data.answers.items() if v],
                "missing": [k for k, v in data.answers.items() if not v]},
    )
    snap = await find(session, city_id, cycle)
    if not inserted:  # a colleague's answer won the race
        raise _already(snap)
    assert snap is not None
    return snap, city


def _already(existing: Snapshot | None) -> SnapshotAlreadyTaken:
    when = f" on {existing.created_at:%Y-%m-%d}" if existing else ""
    cycle = existing.cycle if existing else ""
    return SnapshotAlreadyTaken(f"The Data Snapshot for cycle {cycle} was already answered{when}; "
                                f"it is answered once per cycle.")


async def get(session: AsyncSession, city_id: str, cycle: str) -> tuple[Snapshot, City]:
    snap = await find(session, city_id, cycle)
    if snap is None:
        raise NotFound(f"No Data Snapshot for cycle {cycle} yet.")
    city = await session.get(City, city_id)
    assert city is not None
    return snap, city
