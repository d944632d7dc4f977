"""The alternatives the report's renderers were chosen against, kept to be measured side by
side with them (`bench/report_bench.py`); installed with the `bench` dependency group only.

* charts: matplotlib (the report's first charts, as they were drawn) and Vega-Lite through
  vl-convert, each drawing the same bars pygal draws for the report;
* PDF: WeasyPrint typesetting the report's own HTML as a tagged PDF (PDF/UA-1), as the
  report's first PDFs were made.
"""

from __future__ import annotations

import io
from functools import cache

from services.reporting.report.charts import COLORS, FONTS, GRID, TEXT, Series


@cache
def _matplotlib():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return matplotlib, Figure


def matplotlib_chart(categories: list[str], series: list[Series], *, width_in: float, bar_height_in: float,
                     legend: bool = True, value_label=str) -> str:
    """Horizontal grouped bars as SVG, drawn by matplotlib (the first report's code)."""
    drawn = [s for s in series if any(v is not None for v in s.values)]
    n_groups, n_bars = len(categories), max(len(drawn), 1)
    group = bar_height_in * n_bars + 0.13
    top = 0.25 + 0.2 * (1 if legend else 0)
    height_in = n_groups * group + top + 0.35
    matplotlib, Figure = _matplotlib()
    style = {"svg.fonttype": "none", "svg.hashsalt": "wwc-report", "font.family": "sans-serif",
             "font.sans-serif": [f.strip(" '") for f in FONTS.split(",")], "font.size": 9, "text.color": TEXT,
             "axes.edgecolor": GRID, "xtick.color": TEXT, "ytick.color": TEXT}
    with matplotlib.rc_context(style):
        fig = Figure(figsize=(width_in, height_in))
        label_width = min(0.5, (0.15 + 0.075 * max(len(c) for c in categories)) / width_in)
        ax = fig.add_axes((label_width, 0.35 / height_in, 0.95 - label_width, 1 - (top + 0.35) / height_in))
        step = bar_height_in / group
        for j, s in enumerate(drawn):
            shown = [(i, v) for i, v in enumerate(s.values) if v is not None]
            ys = [i + (j - (n_bars - 1) / 2) * step for i, _ in shown]
            xs = [v for _, v in shown]
            color = s.color if isinstance(s.color, str) else [s.color[i] for i, _ in shown]
            bars = ax.barh(ys, xs, height=step * 0.92, color=color, label=s.label)
            ax.bar_label(bars, labels=[value_label(x) for x in xs], padding=3, fontsize=7)
        ax.set_yticks(range(n_groups), labels=categories)
        ax.set_ylim(n_groups - 0.5, -0.5)
        ax.set_xlim(0, 112)
        ax.set_xticks(range(0, 101, 25), labels=[value_label(x) for x in range(0, 101, 25)])
        ax.xaxis.grid(True, color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        if legend and drawn:
            fig.legend(loc="upper left", bbox_to_anchor=(0.01, 1), ncols=len(drawn), frameon=False)
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue().decode()


def vega_lite_chart(categories: list[str], series: list[Series], *, width_in: float, bar_height_in: float,
                    legend: bool = True, value_label=str) -> str:
    """The same bars as a Vega-Lite specification, turned into SVG by vl-convert."""
    import vl_convert

    rows = [{"category": c, "series": s.label or str(i), "value": v,
             "color": s.color if isinstance(s.color, str) else s.color[i], "label": value_label(v)}
            for s in series for i, (c, v) in enumerate(zip(categories, s.values, strict=True)) if v is not None]
    bars = {"mark": {"type": "bar"}, "encoding": {"color": {"field": "color", "type": "nominal", "scale": None}}}
    labels = {"mark": {"type": "text", "align": "left", "dx": 3, "fontSize": 9},
              "encoding": {"text": {"field": "label"}}}
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": rows}, "width": width_in * 72, "config": {"font": "Lato", "view": {"stroke": None}},
        "encoding": {"y": {"field": "category", "type": "nominal", "sort": categories, "title": None},
                     "yOffset": {"field": "series"},
                     "x": {"field": "value", "type": "quantitative", "scale": {"domain": [0, 112]}, "title": None}},
        "layer": [bars, labels],
    }
    return vl_convert.vegalite_to_svg(spec)


def weasyprint_pdf(html: str) -> bytes:
    """The report's HTML as a tagged PDF (PDF/UA-1), typeset by WeasyPrint."""
    from weasyprint import HTML

    return HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")


__all__ = ["COLORS", "matplotlib_chart", "vega_lite_chart", "weasyprint_pdf"]
