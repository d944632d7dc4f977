"""The public roster of certified cities and the Honor Roll.

Source: certified reports only (a tier), so no applicant, score or uncertified city can
appear. One line per city and cycle: a city certified in several cycles has a line for
each; should a city ever hold two certified reports in one cycle (the workflow runs once
per submission and a city submits once per cycle), the later one stands; of a submission's
report versions (a reissue after an appeal) only the latest counts. A submission the
programme's events say was withdrawn never shows. State and country come from the city
directory (intake's city events) to tell apart cities of the same name."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import and_, exists, insert, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.ext.asyncio import AsyncSession

from certification.contract import Stage
from services.reporting.errors import NotCertified, NotFound
from services.reporting.models import CityEntry, HonorRollChange, PipelineEntry, Report
from shared.catalog import texts as catalog_texts
from shared.infra.auth import Principal
from shared.infra.orm import utcnow


class RosterEntry(BaseModel):
    city: str
    state: str
    country: str
    cycle: str
    tier: str
    honor_roll: bool


class RosterFilter(BaseModel):
    cycle: str | None = None
    tier: str | None = None


def current_only():
    """Reports no later version of the same submission replaced (an appeal's reissue is the
    one that counts, whatever tier either version has)."""
    newer = aliased(Report)
    return ~exists().where(newer.submission_id == Report.submission_id, newer.version > Report.version)


async def roster(session: AsyncSession, f: RosterFilter | None = None) -> list[RosterEntry]:
    """Certified cities, by cycle (newest first), tier (highest first) and name."""
    f = f or RosterFilter()
    query = (select(Report, CityEntry.state, CityEntry.country)
             .outerjoin(CityEntry, CityEntry.city_id == Report.city_id)
             .outerjoin(PipelineEntry, PipelineEntry.submission_id == Report.submission_id)
             .where(Report.tier.is_not(None), current_only(),
                    or_(PipelineEntry.stage.is_(None), PipelineEntry.stage != Stage.WITHDRAWN.value))
             .order_by(Report.created_at))
    if f.cycle:
        query = query.where(Report.cycle == f.cycle)
    if f.tier:
        query = query.where(Report.tier == f.tier)
    latest: dict[tuple[str, str], RosterEntry] = {}
    for report, state, country in (await session.execute(query)).all():
        latest[(report.city_id, report.cycle)] = RosterEntry(
            city=report.city_name, state=state or "", country=country or "", cycle=report.cycle,
            tier=report.tier, honor_roll=report.honor_roll)
    by_tier = sorted(latest.values(), key=lambda e: (-catalog_texts.tier_rank(e.tier), e.city.casefold()))
    return sorted(by_tier, key=lambda e: e.cycle, reverse=True)  # stable: tiers stay in order


async def facets(session: AsyncSession) -> dict[str, list[str]]:
    """The cycles and tiers the roster can be filtered by."""
    rows = (await session.execute(select(Report.cycle, Report.tier).where(Report.tier.is_not(None), current_only())
                                  .distinct())).all()
    return {"cycle": sorted({r.cycle for r in rows}, reverse=True),
            "tier": sorted({r.tier for r in rows}, key=catalog_texts.tier_rank, reverse=True)}


# --- the Honor Roll ------------------------------------------------------------------------------


class HonorRollRead(BaseModel):
    report_id: str
    honor_roll: bool
    changed_at: datetime | None = None


async def set_honor_roll(session: AsyncSession, principal: Principal, report_id: str, value: bool) -> HonorRollRead:
    """Put a certified report's city on the Honor Roll or take it off (operators; the
    caller checks the role). One conditional UPDATE, so two operators at once cannot
    record a change twice; each real change is kept with who made it."""
    changed = await session.execute(update(Report).where(
        and_(Report.id == report_id, Report.tier.is_not(None), Report.honor_roll != value))
        .values(honor_roll=value))
    report = await session.get(Report, report_id)
    if report is None:
        raise NotFound("no such report")
    if report.tier is None:
        raise NotCertified("Only a certified city's report can be on the Honor Roll.")
    if changed.rowcount:
        await session.execute(insert(HonorRollChange).values(report_id=report_id, honor_roll=value,
                                                             changed_by=principal.sub[:64], changed_at=utcnow()))
    await session.refresh(report)
    return await honor_roll_of(session, report)


async def honor_roll_of(session: AsyncSession, report: Report) -> HonorRollRead:
    last = await session.scalar(select(HonorRollChange.changed_at).where(HonorRollChange.report_id == report.id)
                                .order_by(HonorRollChange.changed_at.desc()).limit(1))
    return HonorRollRead(report_id=report.id, honor_roll=report.honor_roll, changed_at=last)
