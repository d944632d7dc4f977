"""The Data Snapshot: its questions, the city's answers once per cycle, the result."""

from __future__ import annotations

from fastapi import APIRouter, status

from services.intake import snapshot
from services.intake.api.docs import AUTH, problems
from services.intake.deps import CurrentCity, Cycle, OpenCycle, Options
from services.intake.errors import NotFound
from shared.catalog.loader import load_catalog
from shared.i18n import Lang
from shared.web.deps import Runtime, Session

router = APIRouter(tags=["snapshot"])


@router.get("/snapshot/questions", response_model=list[snapshot.SnapshotQuestionRead],
            summary="The Data Snapshot's questions",
            description="The screening questions of the current catalog, each with its practice area.",
            responses=problems("invalid_input"))
async def snapshot_questions(options: Options, lang: Lang = "en"):
    return snapshot.questions(load_catalog(options.catalog_version), lang)


@router.post("/snapshots/{cycle}", status_code=status.HTTP_201_CREATED, response_model=snapshot.SnapshotRead,
             summary="Answer the Data Snapshot (once per cycle)",
             description="Records the answers and returns the result at once: what the city already does, what "
                         "is missing (per question, with its practice area) and whether it may go on to the full "
                         "Assessment (population and country, from the catalog).",
             responses=problems(*AUTH, "snapshot_already_taken", "snapshot_incomplete", "invalid_cycle",
                                "invalid_input"))
async def take_snapshot(cycle: OpenCycle, data: snapshot.SnapshotCreate, principal: CurrentCity, runtime: Runtime,
                        options: Options, lang: Lang = "en") -> snapshot.SnapshotRead:
    async with runtime.db.transaction() as session:
        snap, city = await snapshot.take(session, city_id=principal.city_id or "", cycle=cycle,
                                         catalog_version=options.catalog_version, data=data)
    return snapshot.read(load_catalog(snap.catalog_version), snap, city, lang)


@router.get("/snapshots/{cycle}", response_model=snapshot.SnapshotRead,
            summary="The city's Data Snapshot result for a cycle",
            responses=problems(*AUTH, NotFound, "invalid_cycle", "invalid_input"))
async def get_snapshot(cycle: Cycle, principal: CurrentCity, session: Session,
                       lang: Lang = "en") -> snapshot.SnapshotRead:
    snap, city = await snapshot.get(session, principal.city_id or "", cycle)
    return snapshot.read(load_catalog(snap.catalog_version), snap, city, lang)
