"""The operator console as a `Console` (shared page machinery) and what its pages share."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from babel.dates import format_timedelta
from fastapi import Depends, Request

from services.reporting.operations import service as operations
from services.reporting.operations.service import UNDER_REVIEW
from shared.catalog import texts as catalog_texts
from shared.contracts.vocabulary import WaitingFor
from shared.infra.auth import Role
from shared.web.nav import OPERATOR_NAV
from shared.web.pages import CSP, Console, Page, signed_in

HERE = Path(__file__).parent
# The live page runs its one script (static/operator.js: server-sent events, panel
# refresh); every other console forbids scripts. Same origin only.
LIVE_CSP = CSP.replace("script-src 'none'", "script-src 'self'")


def _globals(page: Page) -> dict:
    def age(since: datetime | None) -> str:
        """How long ago, in the page's language ("3 days")."""
        if since is None:
            return "—"
        return format_timedelta(datetime.now(UTC) - since, threshold=1.1, locale=page.lang)

    def stage_name(stage: str | None) -> str:
        key = f"stages.{stage}"
        return page.t(key) if stage and page.t.has(key) else (stage or "—")

    def tier(tier_id: str | None) -> str:
        return catalog_texts.tier_name(tier_id, page.lang) if tier_id else page.t("operator.no_tier")

    def step_name(step: str | None) -> str:
        """A workflow step (an activity's name) in words."""
        key = f"steps.{step}"
        return page.t(key) if step and page.t.has(key) else page.t("operator.a_step")

    def wait_text(value: str | None, step: str = "") -> str:
        """What a certification waits for, in the page's language (for an operator: which
        failed step, when the page knows it)."""
        if not value:
            return "—"
        if value == WaitingFor.OPERATOR and step:
            return page.t("waiting.failed_step", step=step_name(step))
        try:
            return page.t(f"waiting.{WaitingFor(value).name.lower()}")
        except ValueError:
            return value  # a text this console does not know yet: shown as it came

    def outcome(value: str | None) -> str:
        key = f"outcomes.{value}"
        return page.t(key) if value and page.t.has(key) else (value or "—")

    return {"age": age, "stage_name": stage_name, "tier_name": tier,
            "criterion_label": lambda criterion_id: catalog_texts.criterion_label(criterion_id, page.lang),
            "under_review": UNDER_REVIEW,
            "wait_text": wait_text, "outcome": outcome, "step_name": step_name, "signoff": WaitingFor.SIGNOFF.value}


OPERATOR = Console(
    name="operator", prefix="/operator", templates_dir=HERE / "templates", locales_dir=HERE / "locales",
    home="/operator/", sign_in="/operator/sign-in", roles=(Role.OPERATOR,),
    # The operator's navigation (shared/web/nav.py): calibration (audit's) and the programme
    # dashboard carry it too, so they are this console's pages.
    nav=OPERATOR_NAV, service="reporting",
    static_dirs=(HERE / "static",), globals=_globals,
)

async def operator_signed_in(request: Request) -> Page:
    """A signed-in operator's page, its moments in the operator's own zone once they chose
    one (set in the auditor console's settings; reporting knows it from intake's events)."""
    page = signed_in(request)
    async with page.runtime.db.sessionmaker() as session:
        page.timezone = await operations.zone_of(session, page.principal.sub)
    return page


OperatorPage = Annotated[Page, Depends(operator_signed_in)]
