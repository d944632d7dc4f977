"""Assessment drafts: one per city per cycle, on the catalog version current when it
starts; saved one criterion at a time with optimistic concurrency; a progress summary
per practice area; the previous cycle's answers offered as a starting point."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import domain, snapshot
from services.intake.accounts import user_names
from services.intake.domain import AssessmentState
from services.intake.errors import (
    AssessmentLocked,
    EditConflict,
    InvalidInput,
    NotEligible,
    NotFound,
    NothingToCarryOver,
    SnapshotNeeded,
)
from services.intake.models import Assessment, City, Evidence, Response
from shared.catalog import Catalog
from shared.catalog.loader import load_catalog
from shared.contracts.vocabulary import Answer, EvidenceKind
from shared.infra.orm import insert_if_absent, new_id, utcnow


# --- schemas --------------------------------------------------------------------------------


class ResponseUpdate(BaseModel):
    """One criterion's answer. `version` is the version you read (0 for a criterion not
    saved yet); it may instead be sent as `If-Match: "<version>"`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "response": "YES", "narrative": "Our data inventory is published and updated quarterly.", "version": 2,
    }]})

    response: Answer
    narrative: str = Field(default="", max_length=20000)
    version: int | None = Field(default=None, ge=0, le=domain.MAX_VERSION)


class EvidenceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    criterion_id: str
    kind: str
    filename: str | None = None
    size: int | None = None
    sha256: str | None = None
    content_type: str | None = None
    url: str | None = None
    title: str = ""
    clarification_id: str | None = None
    uploaded_by: str | None = None
    created_at: datetime


class ResponseRead(BaseModel):
    criterion_id: str
    area: str
    response: Answer | None = None
    narrative: str = ""
    version: int = 0
    updated_by: str | None = None
    updated_by_name: str | None = None
    updated_at: datetime | None = None
    evidence: list[EvidenceRead] = Field(default_factory=list)


class AreaProgress(BaseModel):
    area: str
    name: str
    total: int
    answered: int
    yes: int
    yes_with_evidence: int
    yes_without_evidence: int
    in_progress: int
    no: int


class ProgressRead(BaseModel):
    cycle: str
    catalog_version: str
    status: str
    total: int
    answered: int
    yes_with_evidence: int
    yes_without_evidence: int
    areas: list[AreaProgress]
    ready_to_submit: bool
    missing: list[dict] = Field(description="what still stops a submission (field and reason)")


class AssessmentRead(BaseModel):
    id: str
    city_id: str
    cycle: str
    catalog_version: str
    status: str
    created_at: datetime
    updated_at: datetime
    responses: list[ResponseRead]
    progress: ProgressRead


class CarryOverItem(BaseModel):
    criterion_id: str
    previous_response: str | None
    previous_narrative: str
    in_current_catalog: bool
    current_response: str | None = None
    will_copy: bool


class CarryOverProposal(BaseModel):
    cycle: str
    from_cycle: str
    from_catalog_version: str
    items: list[CarryOverItem]
    note: str = "Responses and narratives are copied; evidence files are not: upload this cycle's evidence."


class CarryOverApply(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"criteria": ["DG1", "DG2"], "overwrite": False}]})

    from_cycle: str | None = Field(default=None, description="default: the latest earlier cycle")
    criteria: list[str] | None = Field(default=None, description="default: every criterion of the proposal")
    overwrite: bool = Field(default=False, description="also replace responses already given in this draft")


class CarryOverResult(BaseModel):
    cycle: str
    from_cycle: str
    copied: list[str]
    skipped: list[dict]


class BulkResponse(BaseModel):
    response: Answer
    narrative: str = Field(default="", max_length=20000)
    links: list[HttpUrl] = Field(default_factory=list, max_length=20)


class BulkResponses(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"responses": {
        "DG1": {"response": "YES", "narrative": "Inventory published.", "links": ["https://data.example.gov/inventory"]},
        "DG2": {"response": "IN_PROGRESS", "narrative": "Drafting the policy."},
    }}]})

    responses: dict[str, BulkResponse]


# --- use cases ------------------------------------------------------------------------------


async def find(session: AsyncSession, city_id: str, cycle: str, *, lock: bool = False) -> Assessment | None:
    stmt = select(Assessment).where(Assessment.city_id == city_id, Assessment.cycle == cycle)
    if lock:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def get(session: AsyncSession, city_id: str, cycle: str, *, lock: bool = False) -> Assessment:
    assessment = await find(session, city_id, cycle, lock=lock)
    if assessment is None:
        raise NotFound(f"No assessment for cycle {cycle}; start one with POST /api/v1/assessments/{cycle}.")
    return assessment


def ensure_draft(assessment: Assessment) -> None:
    if assessment.status != AssessmentState.DRAFT:
        raise AssessmentLocked(f"The assessment for cycle {assessment.cycle} is {assessment.status}; "
                               f"a submitted assessment can no longer change.", state=assessment.status)


async def start(session: AsyncSession, *, city_id: str, cycle: str, catalog_version: str) -> tuple[Assessment, bool]:
    """The city's draft for the cycle (created on the current catalog version if new).

    A new draft needs an eligible Data Snapshot for the cycle."""
    existing = await find(session, city_id, cycle)
    if existing is not None:
        return existing, False
    catalog = load_catalog(catalog_version)
    snap = await snapshot.find(session, city_id, cycle)
    city = await session.get(City, city_id)
    if city is None:
        raise NotFound(f"no city {city_id}")
    if snap is None:
        raise SnapshotNeeded(f"Answer the Data Snapshot for cycle {cycle} first (POST /api/v1/snapshots/{cycle}); "
                             f"it decides whether the city may go on to the full Assessment.")
    result = snapshot.eligibility(catalog, city)
    if not snap.eligible or not result.eligible:
        raise NotEligible(result.message, reasons=result.reasons, reason_kinds=result.reason_kinds)
    now = utcnow()
    created = await insert_if_absent(session, Assessment, id=new_id(), city_id=city_id, cycle=cycle,
                                     catalog_version=catalog.version, status=AssessmentState.DRAFT,
                                     created_at=now, updated_at=now)
    # Not created: a colleague started it at the same moment; both get the same draft.
    return await get(session, city_id, cycle), created


async def _responses(session: AsyncSession, assessment_id: str) -> dict[str, Response]:
    rows = await session.scalars(select(Response).where(Response.assessment_id == assessment_id))
    return {r.criterion_id: r for r in rows.all()}


async def _evidence(session: AsyncSession, assessment_id: str, *, drafts_only: bool = True) -> dict[str, list[Evidence]]:
    stmt = select(Evidence).where(Evidence.assessment_id == assessment_id)
    if drafts_only:
        stmt = stmt.where(Evidence.clarification_id.is_(None))
    out: dict[str, list[Evidence]] = {}
    for ev in (await session.scalars(stmt.order_by(Evidence.created_at, Evidence.id))).all():
        out.setdefault(ev.criterion_id, []).append(ev)
    return out


def progress_of(catalog: Catalog, assessment: Assessment, responses: dict[str, Response],
                evidence: dict[str, list[Evidence]]) -> ProgressRead:
    areas = []
    for area in catalog.areas:
        crits = catalog.criteria_in_area(area.id)
        given = [responses[c.id] for c in crits if c.id in responses and responses[c.id].response]
        yes = [r for r in given if r.response == Answer.YES]
        with_ev = [r for r in yes if evidence.get(r.criterion_id)]
        areas.append(AreaProgress(
            area=area.id, name=catalog.text(area), total=len(crits), answered=len(given), yes=len(yes),
            yes_with_evidence=len(with_ev), yes_without_evidence=len(yes) - len(with_ev),
            in_progress=sum(r.response == Answer.IN_PROGRESS for r in given),
            no=sum(r.response == Answer.NO for r in given),
        ))
    missing = [m.problem() for m in domain.missing_items(
        catalog, {cid: r.response for cid, r in responses.items()}, {cid: len(e) for cid, e in evidence.items()})]
    return ProgressRead(
        cycle=assessment.cycle, catalog_version=assessment.catalog_version, status=assessment.status,
        total=len(catalog.criteria), answered=sum(a.answered for a in areas),
        yes_with_evidence=sum(a.yes_with_evidence for a in areas),
        yes_without_evidence=sum(a.yes_without_evidence for a in areas),
        areas=areas, ready_to_submit=not missing and assessment.status == AssessmentState.DRAFT, missing=missing,
    )


async def progress(session: AsyncSession, assessment: Assessment) -> ProgressRead:
    catalog = load_catalog(assessment.catalog_version)
    return progress_of(catalog, assessment, await _responses(session, assessment.id),
                       await _evidence(session, assessment.id))


async def read(session: AsyncSession, assessment: Assessment) -> AssessmentRead:
    catalog = load_catalog(assessment.catalog_version)
    responses = await _responses(session, assessment.id)
    evidence = await _evidence(session, assessment.id)
    names = await user_names(session, {r.updated_by for r in responses.values()})
    items = []
    for crit in catalog.criteria:
        r = responses.get(crit.id)
        items.append(ResponseRead(
            criterion_id=crit.id, area=crit.area,
            response=r.response if r else None, narrative=r.narrative if r else "",
            version=r.version if r else 0, updated_by=r.updated_by if r else None,
            updated_by_name=names.get(r.updated_by) if r and r.updated_by else None,
            updated_at=r.updated_at if r else None,
            evidence=[EvidenceRead.model_validate(e) for e in evidence.get(crit.id, [])],
        ))
    return AssessmentRead(
        id=assessment.id, city_id=assessment.city_id, cycle=assessment.cycle,
        catalog_version=assessment.catalog_version, status=assessment.status,
        created_at=assessment.created_at, updated_at=assessment.updated_at, responses=items,
        progress=progress_of(catalog, assessment, responses, evidence),
    )


def check_criterion(catalog: Catalog, criterion_id: str) -> None:
    if not catalog.has_criterion(criterion_id):
        raise NotFound(f"No criterion {criterion_id} in catalog {catalog.version}.", field="criterion_id",
                       reason=f"not a criterion of {catalog.version}")


async def response_read(session: AsyncSession, assessment: Assessment, criterion_id: str) -> ResponseRead:
    catalog = load_catalog(assessment.catalog_version)
    check_criterion(catalog, criterion_id)
    row = await session.get(Response, (assessment.id, criterion_id), populate_existing=True)
    evidence = (await _evidence(session, assessment.id)).get(criterion_id, [])
    names = await user_names(session, {row.updated_by} if row and row.updated_by else set())
    return ResponseRead(
        criterion_id=criterion_id, area=catalog.criterion(criterion_id).area,
        response=row.response if row else None, narrative=row.narrative if row else "",
        version=row.version if row else 0, updated_by=row.updated_by if row else None,
        updated_by_name=names.get(row.updated_by) if row and row.updated_by else None,
        updated_at=row.updated_at if row else None,
        evidence=[EvidenceRead.model_validate(e) for e in evidence],
    )


async def _conflict(session: AsyncSession, assessment: Assessment, criterion_id: str, sent: int) -> EditConflict:
    current = await session.get(Response, (assessment.id, criterion_id), populate_existing=True)
    version = current.version if current else 0
    by = current.updated_by if current else None
    name = (await user_names(session, {by} if by else set())).get(by or "", by)
    when = f" at {current.updated_at:%Y-%m-%d %H:%M:%S} UTC" if current and current.updated_at else ""
    return EditConflict(
        f"{criterion_id} was changed by {name or 'someone else'}{when} and is now at version {version}; "
        f"you sent version {sent}. Reload it, merge your changes and save again.",
        errors=[{"field": "version", "reason": f"stale: the current version is {version}"}],
        criterion_id=criterion_id, current_version=version, updated_by=by, updated_by_name=name,
        updated_at=current.updated_at.isoformat() if current and current.updated_at else None,
        current={"response": current.response, "narrative": current.narrative} if current else None,
    )


async def save_response(session: AsyncSession, *, assessment: Assessment, criterion_id: str,
                        data: ResponseUpdate, expected_version: int, user_id: str) -> Response:
    """Save one criterion if nobody changed it since `expected_version` (else EditConflict)."""
    ensure_draft(assessment)
    catalog = load_catalog(assessment.catalog_version)
    check_criterion(catalog, criterion_id)
    now = utcnow()
    if expected_version == 0:
        inserted = await insert_if_absent(session, Response, assessment_id=assessment.id, criterion_id=criterion_id,
                                          response=data.response, narrative=data.narrative, version=1,
                                          updated_by=user_id, updated_at=now)
        if not inserted:
            raise await _conflict(session, assessment, criterion_id, expected_version)
    else:
        # One conditional UPDATE: the version check and the write are atomic on every backend.
        result = await session.execute(
            update(Response)
            .where(Response.assessment_id == assessment.id, Response.criterion_id == criterion_id,
                   Response.version == expected_version)
            .values(response=data.response, narrative=data.narrative, version=Response.version + 1,
                    updated_by=user_id, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise await _conflict(session, assessment, criterion_id, expected_version)
    assessment.updated_at = now
    row = await session.get(Response, (assessment.id, criterion_id), populate_existing=True)
    assert row is not None
    return row


async def _previous(session: AsyncSession, city_id: str, cycle: str, from_cycle: str | None) -> Assessment:
    stmt = select(Assessment).where(Assessment.city_id == city_id, Assessment.cycle != cycle)
    if from_cycle:
        stmt = stmt.where(Assessment.cycle == from_cycle)
    else:
        stmt = stmt.where(Assessment.cycle < cycle).order_by(Assessment.cycle.desc())
    previous = (await session.scalars(stmt.limit(1))).first()
    if previous is None:
        which = f"cycle {from_cycle}" if from_cycle else f"a cycle before {cycle}"
        raise NothingToCarryOver(f"There is no assessment of {which} to start from.")
    return previous


async def carry_over_proposal(session: AsyncSession, assessment: Assessment,
                              from_cycle: str | None = None) -> CarryOverProposal:
    previous = await _previous(session, assessment.city_id, assessment.cycle, from_cycle)
    catalog = load_catalog(assessment.catalog_version)
    old = await _responses(session, previous.id)
    current = await _responses(session, assessment.id)
    old_catalog = load_catalog(previous.catalog_version)
    order = {cid: i for i, cid in enumerate(old_catalog.criterion_ids)}
    items = []
    for cid in sorted(old, key=lambda c: order.get(c, len(order))):
        r = old[cid]
        if not r.response:
            continue
        in_catalog = catalog.has_criterion(cid)
        now = current.get(cid)
        items.append(CarryOverItem(
            criterion_id=cid, previous_response=r.response, previous_narrative=r.narrative,
            in_current_catalog=in_catalog, current_response=now.response if now else None,
            will_copy=in_catalog and not (now and now.response),
        ))
    return CarryOverProposal(cycle=assessment.cycle, from_cycle=previous.cycle,
                             from_catalog_version=previous.catalog_version, items=items)


async def carry_over(session: AsyncSession, *, assessment: Assessment, data: CarryOverApply,
                     user_id: str) -> CarryOverResult:
    """Copy the earlier cycle's responses and narratives (never its evidence) into the draft."""
    ensure_draft(assessment)
    proposal = await carry_over_proposal(session, assessment, data.from_cycle)
    by_id = {i.criterion_id: i for i in proposal.items}
    wanted = data.criteria if data.criteria is not None else list(by_id)
    copied, skipped = [], []
    now = utcnow()
    for cid in wanted:
        item = by_id.get(cid)
        if item is None:
            skipped.append({"criterion_id": cid, "reason": f"no answer in cycle {proposal.from_cycle}"})
        elif not item.in_current_catalog:
            skipped.append({"criterion_id": cid, "reason": f"not in catalog {assessment.catalog_version}"})
        elif item.current_response and not data.overwrite:
            skipped.append({"criterion_id": cid, "reason": "already answered in this draft"})
        else:
            await _overwrite(session, assessment.id, cid, item.previous_response, item.previous_narrative,
                             user_id, now)
            copied.append(cid)
    assessment.updated_at = now
    return CarryOverResult(cycle=assessment.cycle, from_cycle=proposal.from_cycle, copied=copied, skipped=skipped)


async def _overwrite(session: AsyncSession, assessment_id: str, criterion_id: str, response: str | None,
                     narrative: str, user_id: str, now) -> Response:
    """Replace a response without a version check (carry-over, import); the version still
    goes up, so an editor holding the older one gets a conflict on their next save."""
    row = await session.get(Response, (assessment_id, criterion_id))
    if row is None:
        row = Response(assessment_id=assessment_id, criterion_id=criterion_id, version=0)
        session.add(row)
    row.response, row.narrative = response, narrative
    row.version = (row.version or 0) + 1
    row.updated_by, row.updated_at = user_id, now
    return row


async def import_responses(session: AsyncSession, *, city_id: str, cycle: str, catalog_version: str,
                           data: BulkResponses, user_id: str) -> Assessment:
    """Save many responses at once (e.g. from a spreadsheet); links become evidence.

    An import replaces what it names (each saved response's version goes up, so an
    editor holding an older version gets a conflict on their next save)."""
    assessment, _ = await start(session, city_id=city_id, cycle=cycle, catalog_version=catalog_version)
    ensure_draft(assessment)
    catalog = load_catalog(assessment.catalog_version)
    unknown = [cid for cid in data.responses if not catalog.has_criterion(cid)]
    if unknown:
        raise InvalidInput("unknown criteria",
                           errors=[{"field": f"responses.{c}", "reason": "no such criterion"} for c in unknown])
    existing_links = {(e.criterion_id, e.url) for items in (await _evidence(session, assessment.id)).values()
                      for e in items if e.kind == EvidenceKind.LINK}
    now = utcnow()
    for cid, item in data.responses.items():
        await _overwrite(session, assessment.id, cid, item.response, item.narrative, user_id, now)
        for url in item.links:
            if (cid, str(url)) not in existing_links:
                existing_links.add((cid, str(url)))
                session.add(Evidence(assessment_id=assessment.id, criterion_id=cid, kind=EvidenceKind.LINK,
                                     url=str(url), uploaded_by=user_id))
    assessment.updated_at = now
    return assessment
