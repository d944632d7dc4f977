"""The public roster of certified cities (`/roster`, no sign-in), filtered by cycle and tier."""

from __future__ import annotations

from fastapi.responses import HTMLResponse

from services.reporting import roster
from services.reporting.console.console import ROSTER
from shared.web.pages import PageContext

router = ROSTER.router()


@router.get("")
async def roster_page(page: PageContext) -> HTMLResponse:
    params = page.request.query_params
    async with page.runtime.db.sessionmaker() as session:
        facets = await roster.facets(session)
        chosen = {k: params.get(k, "") if params.get(k, "") in facets[k] else "" for k in ("cycle", "tier")}
        entries = await roster.roster(session, roster.RosterFilter(cycle=chosen["cycle"] or None,
                                                                    tier=chosen["tier"] or None))
    return page.render("roster.html", title=page.t("roster.title"), nav="roster", principal=None,
                       entries=entries, facets=facets, chosen=chosen)
