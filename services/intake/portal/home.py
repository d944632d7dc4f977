"""The overview: where the city stands (snapshot, assessment progress, submission)."""

from __future__ import annotations

from fastapi.responses import HTMLResponse

from services.intake import drafts, snapshot
from services.intake.portal.console import (
    PORTAL,
    CityPage,
    city_submission,
    current_assessment,
    cycle_of,
    load_city,
)

router = PORTAL.router()


@router.get("/home")
async def home(page: CityPage) -> HTMLResponse:
    async with page.runtime.db.sessionmaker() as session:
        city = await load_city(page, session)
        snap = await snapshot.find(session, city.id, cycle_of(page))
        assessment = await current_assessment(page, session)
        progress = await drafts.progress(session, assessment) if assessment else None
        sub = await city_submission(page, session)
    return page.render("home.html", title=page.t("home.title"), nav="home", city=city, snap=snap,
                       assessment=assessment, progress=progress, sub=sub, cycle=cycle_of(page))
