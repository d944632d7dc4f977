"""Reporting's consoles on the shared page machinery, one per audience (a `Console` has one
prefix and one sign-in rule), sharing one templates directory and one locales directory:

- REPORTS `/reports`: a report in the browser, for its city's staff, auditors and operators;
- PROGRAMME `/programme`: the programme dashboard, for operators and auditors;
- VERIFY `/verify` and ROSTER `/roster`: public, no sign-in (their pages show no session).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

from babel.dates import format_timedelta
from fastapi import Depends, Request

from services.reporting.throttle import LookupThrottle
from shared.catalog import texts as catalog_texts
from shared.infra.auth import Role
from shared.web.nav import OPERATOR_NAV, for_role
from shared.web.pages import Console, NavItem, Page, signed_in

HERE = Path(__file__).parent


def _globals(page: Page) -> dict:
    lang = page.lang

    def duration(seconds: float | None) -> str:
        if seconds is None:
            return "—"
        return format_timedelta(seconds, threshold=1.5, format="short", locale=lang)

    def date(value: datetime | None) -> str:
        return page.t.date(value) if value else ""

    return {"tier_name": lambda tier: catalog_texts.tier_name(tier, lang),
            "area_name": lambda area: catalog_texts.area_name(area, lang),
            "number": page.t.number, "percent": page.t.percent, "duration": duration, "date": date}


def _console(name: str, prefix: str, *, home: str, roles: tuple[Role, ...], nav: tuple[NavItem, ...] = (),
             role_taglines: tuple[Role, ...] = ()) -> Console:
    return Console(name=name, prefix=prefix, templates_dir=HERE / "templates", locales_dir=HERE / "locales",
                   home=home, sign_in=f"{prefix}/sign-in" if roles else home, roles=roles, nav=nav,
                   static_dirs=(HERE / "static",), globals=_globals, service="reporting", role_taglines=role_taglines)


REPORTS = _console("reports", "/reports", home="/reports/", roles=(Role.CITY, Role.AUDITOR, Role.OPERATOR),
                   nav=(NavItem("reports", "/reports/"), NavItem("roster", "/roster")))
PROGRAMME = _console("programme", "/programme", home="/programme", roles=(Role.OPERATOR, Role.AUDITOR),
                     # An operator is in the operator console here (its navigation and name).
                     nav=for_role(Role.AUDITOR, (NavItem("programme", "/programme"), NavItem("reports", "/reports/"),
                                                 NavItem("roster", "/roster"))) + for_role(Role.OPERATOR, OPERATOR_NAV),
                     role_taglines=(Role.OPERATOR,))
VERIFY = _console("verify", "/verify", home="/verify", roles=())
ROSTER = _console("roster", "/roster", home="/roster", roles=())

# A signed-in page of REPORTS or PROGRAMME (anyone else goes to its sign-in page).
SignedInPage = Annotated[Page, Depends(signed_in)]


def throttle_of(request: Request) -> LookupThrottle:
    return request.app.state.verify_throttle


def client_address(page: Page) -> str:
    """The caller's address (the real one behind a trusted proxy: see create_app)."""
    return page.request.client.host if page.request.client else "unknown"
