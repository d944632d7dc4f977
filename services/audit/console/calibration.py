"""The calibration page: reviewer consistency on the double-review sample for programme
managers and auditors — agreement (kappa, alpha, with their intervals) and decision-change
rates per area, criterion and auditor; a chart of kappa by area against the programme's
threshold; flagged criteria first; a CSV export of the same figures."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse, Response

from services.audit import calibration
from services.audit.console.trail_text import criterion_label
from services.audit.api.calibration import columns_csv, to_csv
from services.audit.console.console import AUDIT, StaffPage, options_of, staff_names
from services.audit.second_review import sample
from shared.catalog.loader import load_catalog
from shared.web.pages import Page

router = AUDIT.router()
CATALOG = "wwc-2019"


async def _report(page: Page) -> calibration.Report:
    async with page.runtime.db.sessionmaker() as session:
        return await sample.report(session, options_of(page))


def kappa_chart(bars: list[tuple[str, float | None]], threshold: float, *, title: str, desc: str,
                threshold_label: str, fmt) -> str:
    """A horizontal bar chart of kappa (one bar a group) with the threshold as a dashed
    line: plain SVG with a title and a description (the page's table has every figure)."""
    row, left, width, top = 30, 230, 360, 26
    low = min([0.0, *(v for _, v in bars if v is not None)])
    span = 1 - low or 1

    def x(v: float) -> float:
        return left + (v - low) / span * width

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-title chart-desc" '
             f'viewBox="0 0 {left + width + 80} {top + row * len(bars) + 10}" class="chart">',
             f'<title id="chart-title">{escape(title)}</title><desc id="chart-desc">{escape(desc)}</desc>']
    for i, (label, value) in enumerate(bars):
        y = top + i * row
        parts.append(f'<text x="{left - 8}" y="{y + 18}" text-anchor="end" font-size="13">{escape(label)}</text>')
        if value is None:
            parts.append(f'<text x="{x(0) + 4}" y="{y + 18}" font-size="13" fill="#5b6770">—</text>')
            continue
        start, end = sorted((x(0), x(value)))
        fill = "#b3261e" if value < threshold else "#1f5f8b"
        parts.append(f'<rect x="{start:.1f}" y="{y + 4}" width="{max(end - start, 1):.1f}" height="{row - 10}" '
                     f'fill="{fill}"/>')
        parts.append(f'<text x="{end + 4:.1f}" y="{y + 18}" font-size="13">{escape(fmt(value))}</text>')
    tx = x(threshold)
    parts.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top - 6}" y2="{top + row * len(bars)}" stroke="#222" '
                 f'stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{tx:.1f}" y="{top - 10}" text-anchor="middle" font-size="12">'
                 f'{escape(threshold_label)}</text></svg>')
    return "".join(parts)


@router.get("/calibration")
async def calibration_page(page: StaffPage) -> HTMLResponse:
    report = await _report(page)
    options = options_of(page)
    catalog = load_catalog(CATALOG)
    t = page.t
    people = await staff_names(page, {r.key for r in report.of("auditor")})

    def label(row: calibration.Row) -> str:
        if row.scope == "area":
            return catalog.text(catalog.area(row.key).name, page.lang) if row.key in {a.id for a in catalog.areas} else row.key
        if row.scope == "criterion":
            return criterion_label(catalog, row.key, page.lang)
        if row.scope == "auditor":
            return people.get(row.key) or t("trail.someone")
        return t("calibration.overall")

    def figure(value: float | None) -> str:
        return "—" if value is None else t.number(round(value, 2))

    def interval(ci: calibration.Interval | None, degenerate: int = 0, value: float | None = None) -> str:
        """The 95% interval, and how many resamples left the figure undefined (never hidden)."""
        resamples = t.number(report.resamples)
        if ci is None:
            return t("calibration.no_interval", count=t.number(degenerate), resamples=resamples) \
                if degenerate and value is not None else ""
        shown = t("calibration.interval", low=figure(ci.low), high=figure(ci.high))
        return f"{shown} · {t('calibration.degenerate', count=t.number(degenerate), resamples=resamples)}" \
            if degenerate else shown

    def rate(value: float | None) -> str:
        return "—" if value is None else t.percent(round(value * 100, 1))

    areas = [r for r in report.of("area") if r.pairs]
    chart = kappa_chart([(label(r), r.kappa) for r in areas], options.agreement_threshold,
                        title=t("calibration.chart_title"), desc=t("calibration.chart_desc"),
                        threshold_label=t("calibration.threshold_short", threshold=figure(options.agreement_threshold)),
                        fmt=figure) if areas else ""
    return page.render("calibration.html", title=t("calibration.title"), nav="calibration", report=report,
                       overall=next(iter(report.of("overall")), None), label=label, figure=figure,
                       interval=interval, rate=rate, chart=chart, options=options,
                       share=t.percent(round(options.double_review_share * 100, 1)),
                       threshold=figure(options.agreement_threshold))


@router.get("/calibration.csv")
async def calibration_csv(page: StaffPage) -> Response:
    return Response(to_csv(await _report(page)), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="calibration.csv"'})


@router.get("/calibration-columns.csv")
async def calibration_columns_csv(page: StaffPage) -> Response:
    """What each column of the CSV means (its headers are the API's field names: English)."""
    return Response(columns_csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="calibration-columns.csv"'})
