"""The city portal as a `Console` (shared page machinery), and what its journeys share:
the signed-in city's page, the cycle's catalog, and look-ups of the city's records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import drafts, submissions
from services.intake.config import IntakeOptions
from services.intake.errors import NotFound
from services.intake.models import Assessment, City, Submission
from shared.catalog.loader import load_catalog
from shared.catalog.model import Catalog
from shared.infra.auth import Role
from shared.web.pages import Console, NavItem, Page, Redirect, signed_in

HERE = Path(__file__).parent


def options_of(page: Page) -> IntakeOptions:
    return page.request.app.state.intake_options


def catalog_of(page: Page) -> Catalog:
    """The catalog new work is done on (a submitted assessment keeps its own version)."""
    return load_catalog(options_of(page).catalog_version)


PORTAL = Console(
    name="portal", prefix="/portal", templates_dir=HERE / "templates", locales_dir=HERE / "locales",
    static_dirs=(HERE / "static",),
    home="/portal/home", sign_in="/portal/sign-in", roles=(Role.CITY,),
    nav=(NavItem("home", "/portal/home"), NavItem("snapshot", "/portal/snapshot"),
         NavItem("assessment", "/portal/assessment"), NavItem("submission", "/portal/submission")),
    # Catalog texts (areas, criteria, questions, guidance) in the page's language.
    globals=lambda page: {"ctext": lambda obj: catalog_of(page).text(obj, page.lang)},
)

async def city_signed_in(request: Request) -> Page:
    """A page for a signed-in member of a city's staff (anyone else goes to the sign-in
    page), its moments shown in the city's own time zone."""
    page = signed_in(request)
    async with page.runtime.db.sessionmaker() as session:
        zone = await session.scalar(select(City.timezone).where(City.id == city_id(page)))
    page.timezone = zone or "UTC"
    return page


CityPage = Annotated[Page, Depends(city_signed_in)]


def city_id(page: Page) -> str:
    assert page.principal is not None and page.principal.city_id
    return page.principal.city_id


def cycle_of(page: Page) -> str:
    return options_of(page).current_cycle


async def load_city(page: Page, session: AsyncSession) -> City:
    city = await session.get(City, city_id(page))
    if city is None:
        raise NotFound("city")
    return city


async def current_assessment(page: Page, session: AsyncSession) -> Assessment | None:
    return await drafts.find(session, city_id(page), cycle_of(page))


async def require_assessment(page: Page, session: AsyncSession) -> Assessment:
    """The cycle's assessment (a draft, or read-only once submitted), or off to the
    overview, which offers to start one."""
    assessment = await current_assessment(page, session)
    if assessment is None:
        raise Redirect("/portal/assessment")
    return assessment


async def city_submission(page: Page, session: AsyncSession) -> Submission | None:
    assert page.principal is not None
    found = await submissions.list_for(session, page.principal, cycle_of(page))
    return found[0] if found else None


async def require_submission(page: Page) -> Submission:
    async with page.runtime.db.sessionmaker() as session:
        sub = await city_submission(page, session)
    if sub is None:
        raise Redirect("/portal/submission")
    return sub
