"""The Certification Report's renderers against the alternatives they were chosen over, on
the shipped example (`examples/report-preview.json`: 45 criteria, 3 audited changes,
benchmarks over 26 cities), in the same run.

* charts: the report's nine (one overview, eight per area) drawn by pygal (the report's),
  matplotlib (the first report's) and Vega-Lite through vl-convert;
* HTML: the view (every sentence and the nine charts) laid out by the template;
* PDF: the same view typeset by Typst (the report's) and the same HTML typeset by WeasyPrint
  (the first report's), both tagged PDF/UA-1.

Medians of several renders after a warm-up (first use loads fonts); alternatives alternate
with the report's renderer, so a busy moment hits both alike.
"""

from __future__ import annotations

import io
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.people import progress
from bench.report_alternatives import matplotlib_chart, vega_lite_chart, weasyprint_pdf
from services.reporting.report import render_pdf, report_view
from services.reporting.report.charts import bar_chart
from services.reporting.report.html import html_of
from services.reporting.report.pdf import pdf_of
from services.reporting.report.preview import preview_document, read_preview_file
from shared.i18n import languages

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "report-preview.json"
LANGS = languages()
REPEATS = 5


def _timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _median(fn, repeats: int = REPEATS) -> tuple[float, object]:
    samples = [_timed(fn) for _ in range(repeats)]
    return statistics.median(s for s, _ in samples), samples[-1][1]


def _chart_inputs(doc, lang):
    """The nine charts' inputs, as the view draws them (captured from one rendering)."""
    import services.reporting.report.view as view_module

    calls = []
    real = view_module.bar_chart

    def capture(categories, series, **kw):
        calls.append((categories, series, kw))
        return real(categories, series, **kw)

    view_module.bar_chart = capture
    try:
        report_view(doc, lang)
    finally:
        view_module.bar_chart = real
    return calls


def charts(doc) -> dict[str, float]:
    calls = _chart_inputs(doc, "en")
    keep = ("width_in", "bar_height_in", "legend", "value_label")

    def draw(fn):
        return lambda: [fn(c, s, **{k: v for k, v in kw.items() if k in keep}) for c, s, kw in calls]

    pygal_all = lambda: [bar_chart(c, s, **kw) for c, s, kw in calls]  # noqa: E731
    out = {}
    for name, fn in (("pygal", pygal_all), ("matplotlib", draw(matplotlib_chart)), ("vega-lite", draw(vega_lite_chart))):
        fn()  # warm-up
        out[name] = _median(fn)[0]
    return out


def bench() -> dict:
    from pypdf import PdfReader

    at = datetime(2026, 11, 21, tzinfo=UTC)
    doc = preview_document(read_preview_file(EXAMPLE), language="en", rendered_at=at)
    chart_times = charts(doc)
    render_pdf(doc, "en")  # warm-up
    weasyprint_pdf(html_of(report_view(doc, "en")))
    rows = []
    for lang in LANGS:
        view_s, view = _median(lambda lang=lang: report_view(doc, lang))
        html_s, html = _median(lambda view=view: html_of(view))
        typst_times, weasy_times = [], []
        for _ in range(REPEATS):
            elapsed, pdf = _timed(lambda view=view: pdf_of(view, at))
            typst_times.append(elapsed)
            weasy_times.append(_timed(lambda html=html: weasyprint_pdf(html))[0])
        rows.append({"lang": lang, "view": view_s, "html": html_s, "html_kib": len(html) / 1024,
                     "typst": statistics.median(typst_times), "weasy": statistics.median(weasy_times),
                     "pages": len(PdfReader(io.BytesIO(pdf)).pages), "pdf_kib": len(pdf) / 1024})
    return {"charts": chart_times, "rows": rows}


async def run() -> str:
    progress("report: renderers and their alternatives")
    r = bench()
    c = r["charts"]
    table = "\n".join(
        f"| {x['lang']} | {x['pages']} | {(x['view'] + x['html']) * 1e3:.0f} ms ({x['html_kib']:.0f} KiB) "
        f"| {(x['view'] + x['typst']) * 1e3:.0f} ms ({x['pdf_kib']:.0f} KiB) "
        f"| {(x['view'] + x['html'] + x['weasy']) * 1e3:.0f} ms | {(x['html'] + x['weasy']) / x['typst']:.0f}x |"
        for x in r["rows"])
    mean = lambda key: statistics.mean(x[key] for x in r["rows"])  # noqa: E731
    return f"""### Certification Report (`bench/report_bench.py`)

The shipped example (`examples/report-preview.json`: 45 criteria, 3 audited changes,
benchmarks over 26 cities), median of {REPEATS} renders after a warm-up. Every rendering starts
from the view: the report's sentences in one language and its nine charts.

The nine charts, drawn from the same figures:

| pygal (the report's) | matplotlib | Vega-Lite (vl-convert) |
|---|---|---|
| {c['pygal'] * 1e3:.0f} ms | {c['matplotlib'] * 1e3:.0f} ms ({c['matplotlib'] / c['pygal']:.1f}x) | {c['vega-lite'] * 1e3:.0f} ms ({c['vega-lite'] / c['pygal']:.1f}x) |

The whole report: the view, then the HTML (Jinja) and the tagged PDF (PDF/UA-1) typeset by
Typst (the report's) or by WeasyPrint from the HTML (the alternative):

| language | pages | HTML | PDF, Typst | PDF, WeasyPrint | WeasyPrint / Typst |
|---|---|---|---|---|---|
{table}

A report's HTML costs **{(mean('view') + mean('html')) * 1e3:.0f} ms** (the view {mean('view') * 1e3:.0f} ms, most of it the nine
charts) and its PDF **{(mean('view') + mean('typst')) * 1e3:.0f} ms**: Typst typesets the document
{(mean('html') + mean('weasy')) / mean('typst'):.0f}x faster than WeasyPrint does from the HTML. Both PDFs are tagged
(PDF/UA-1) and say the same thing; a report is rendered once per language and stored."""
