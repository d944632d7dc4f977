"""The programme dashboard (`/programme`, operators and auditors): applicants, tiers,
practice areas, audit changes and their reasons, time in each stage; by cycle. Tables
carry every figure; the one chart repeats the area table for the eye."""

from __future__ import annotations

from fastapi.responses import HTMLResponse

from services.reporting import programme
from services.reporting.console.console import PROGRAMME, SignedInPage
from services.reporting.report.charts import COLORS, Chart, Series, bar_chart
from shared.web.pages import Page

router = PROGRAMME.router()


@router.get("")
async def dashboard(page: SignedInPage) -> HTMLResponse:
    asked = page.request.query_params.get("cycle", "")[:16] or None
    async with page.runtime.db.sessionmaker() as session:
        figures = await programme.programme(session, cycle=asked, lang=page.lang)
        if asked and asked not in figures.cycles:  # an unknown cycle: every cycle instead
            asked, figures = None, await programme.programme(session, lang=page.lang)
    tiers_by_cycle: dict[str, list] = {}
    for row in figures.tiers:
        tiers_by_cycle.setdefault(row.cycle, []).append(row)
    return page.render("programme.html", title=page.t("programme.title"), nav="programme", figures=figures,
                       chosen=asked or "", chart=area_chart(page, figures), tiers_by_cycle=tiers_by_cycle)


def area_chart(page: Page, figures: programme.ProgrammeRead) -> Chart | None:
    if not figures.areas:
        return None
    return bar_chart([a.name for a in figures.areas],
                     [Series("", COLORS["city"], [round(a.average_percent) for a in figures.areas])],
                     title=page.t("programme.areas.chart_title"), desc=page.t("programme.areas.chart_desc"),
                     width_in=7.0, bar_height_in=0.22, legend=False,
                     value_label=page.t.percent)
