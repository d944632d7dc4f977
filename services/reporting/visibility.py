"""Issued reports as each person may see them: a city its own, staff every city's.
Another city's report is reported as absent, never as forbidden (no probing)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.errors import NotFound
from services.reporting.models import Report
from shared.infra.auth import Principal, Role

MAX_LISTED = 500


async def visible_report(session: AsyncSession, principal: Principal, *, report_id: str | None = None,
                         submission_id: str | None = None) -> Report:
    """A report by its id (any version), or a submission's current one (its latest version)."""
    where = Report.id == report_id if report_id else Report.submission_id == submission_id
    report = await session.scalar(select(Report).where(where).order_by(Report.version.desc()).limit(1))
    if report is None or not principal.can_see_city(report.city_id):
        raise NotFound("no such report")
    return report


async def current_of(session: AsyncSession, report: Report) -> Report | None:
    """The version that replaced this report (the submission's latest), or None when it is
    the current one."""
    latest = await session.scalar(select(Report).where(Report.submission_id == report.submission_id,
                                                       Report.version > report.version)
                                  .order_by(Report.version.desc()).limit(1))
    return latest


async def visible_versions(session: AsyncSession, principal: Principal, submission_id: str) -> list[Report]:
    """Every version of a submission's report, oldest first (another city's: none)."""
    found = list((await session.scalars(select(Report).where(Report.submission_id == submission_id)
                                        .order_by(Report.version))).all())
    if not found or not principal.can_see_city(found[0].city_id):
        raise NotFound("no such report")
    return found


async def visible_reports(session: AsyncSession, principal: Principal, *, cycle: str | None = None) -> list[Report]:
    """The reports a person may open, newest first (a city: its own)."""
    query = select(Report).order_by(Report.created_at.desc(), Report.id).limit(MAX_LISTED)
    if principal.role == Role.CITY:
        query = query.where(Report.city_id == principal.city_id)
    if cycle:
        query = query.where(Report.cycle == cycle)
    return list((await session.scalars(query)).all())


async def cycles(session: AsyncSession, principal: Principal) -> list[str]:
    query = select(Report.cycle).distinct()
    if principal.role == Role.CITY:
        query = query.where(Report.city_id == principal.city_id)
    return sorted((await session.scalars(query)).all(), reverse=True)
