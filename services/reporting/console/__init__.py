"""Reporting's pages: `/reports` (a report in the browser), `/programme` (the dashboard),
and the public `/verify` and `/roster`; one module per journey on the shared console
machinery (`shared.web.pages`)."""

from __future__ import annotations

from fastapi import APIRouter

from services.reporting.console import programme, report_page, roster, verify
from services.reporting.console.console import PROGRAMME, REPORTS, ROSTER, VERIFY
from shared.web.signin import sign_in_router

router = APIRouter()
for console in (REPORTS, PROGRAMME, VERIFY, ROSTER):
    router.include_router(console.router(assets=True))
for console in (REPORTS, PROGRAMME):
    router.include_router(sign_in_router(console))
# Fixed paths (static, sign-in) are matched before `/reports/{report_id}`.
for module in (report_page, programme, verify, roster):
    router.include_router(module.router)

__all__ = ["PROGRAMME", "REPORTS", "ROSTER", "VERIFY", "router"]
