"""The auditor console as a `Console` (shared page machinery), and what its journeys share:
the signed-in auditor's (or operator's) page, the case a page is about, the catalog's
texts in the page's language, and whether the person may act."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select

from services.audit import directory
from services.audit.cases import service as cases
from services.audit.config import AuditOptions
from services.audit.errors import Forbidden
from services.audit.models import ReviewCase, Staff
from shared.catalog import places
from services.audit.console.trail_text import criterion_label
from shared.catalog.loader import load_catalog
from shared.infra.auth import COOKIE, Role
from shared.web.nav import STAFF_NAV
from shared.web.pages import Console, Page, signed_in

HERE = Path(__file__).parent


def options_of(page: Page) -> AuditOptions:
    return page.request.app.state.audit_options


def _globals(page: Page) -> dict:
    def ctext(obj, version: str = "wwc-2019") -> str:
        return load_catalog(version).text(obj, page.lang)

    def crit_title(criterion_id: str, version: str = "wwc-2019") -> str:
        return criterion_label(load_catalog(version), criterion_id, page.lang)

    def region_label(region: str) -> str:
        key = f"regions.{region}"
        return page.t(key) if page.t.has(key) else region

    def conflict_label(key: str) -> str:
        """A conflict as people read it: `state:CA-ON` is "Ontario (CA-ON)", `country:MX` is
        Mexico's name; a city's stays its key."""
        scope, _, value = (key or "").partition(":")
        if scope == "state":
            name = places.name(value, page.lang)
            return f"{name} ({value})" if name != value else value
        if scope == "country" and page.t.has(f"countries.{value}"):
            return page.t(f"countries.{value}")
        return key

    def state_groups() -> list[tuple[str, str, list[tuple[str, str]]]]:
        """Every programme country's states and provinces, for a list grouped by country."""
        countries = load_catalog("wwc-2019").eligibility.countries
        return [(c, page.t(f"countries.{c}"), places.choices(c, page.lang)) for c in countries
                if places.has_subdivisions(c)]

    return {"ctext": ctext, "crit_title": crit_title, "region_label": region_label, "conflict_label": conflict_label,
            "state_groups": state_groups, "is_auditor": page.principal is not None and page.principal.role == Role.AUDITOR,
            "me": page.principal.sub if page.principal else None}


AUDIT = Console(
    name="audit", prefix="/audit", templates_dir=HERE / "templates", locales_dir=HERE / "locales",
    home="/audit/queue", sign_in="/audit/sign-in", roles=(Role.AUDITOR, Role.OPERATOR),
    nav=STAFF_NAV, role_taglines=(Role.OPERATOR,), service="audit", static_dirs=(HERE / "static",),
    globals=_globals,
)

async def staff_signed_in(request: Request) -> Page:
    """A page for a signed-in auditor or operator (anyone else goes to the sign-in page), its
    moments shown in the person's own zone once they chose one (else UTC, named)."""
    page = signed_in(request)
    async with page.runtime.db.sessionmaker() as session:
        page.timezone = await session.scalar(select(Staff.timezone).where(Staff.user_id == page.principal.sub))
    return page


StaffPage = Annotated[Page, Depends(staff_signed_in)]


def ensure_auditor(page: Page) -> None:
    """Forms act: auditors only (operators read every page)."""
    if page.principal is None or page.principal.role != Role.AUDITOR:
        raise Forbidden("Only auditors act on review cases; operators read them.")


def token_of(page: Page) -> str:
    """The person's own token (their session), for asking intake for evidence links."""
    return page.request.cookies.get(COOKIE, "")


async def load_case(page: Page, submission_id: str) -> ReviewCase:
    async with page.runtime.db.sessionmaker() as session:
        return await cases.by_submission(session, submission_id)


async def staff_names(page: Page, ids: set[str | None]) -> dict[str, str]:
    async with page.runtime.db.sessionmaker() as session:
        return await directory.names(session, ids)


def case_url(submission_id: str, tail: str = "") -> str:
    return f"/audit/cases/{submission_id}{tail}"
