"""Charts as SVG, drawn by matplotlib: your city, all applicants and cities your size.

Each chart comes back as an ``<img>`` source (a data URI) plus its text alternative, so
several charts never clash over matplotlib's element ids, and the SVG itself carries a
``<title>`` and ``<desc>`` for anyone who opens it alone. The numbers are also in a
table next to every chart. Output is deterministic: fixed hash salt, no date.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass
from functools import cache
from xml.sax.saxutils import escape

SVG = "http://www.w3.org/2000/svg"
_SVG_START = re.compile(rb"<svg\b[^>]*>")

# Each colour has at least 3:1 contrast on white (WCAG 1.4.11 for graphics) and they
# differ in lightness as well as hue, so they stay apart in grey print and for
# colour-blind readers.
COLORS = {"city": "#1b4f72", "all": "#6b7280", "band": "#b45309"}
TEXT, GRID = "#1f2937", "#d1d5db"
FONTS = ["Lato", "Liberation Sans", "DejaVu Sans", "sans-serif"]

_STYLE = {
    "svg.fonttype": "none",  # real text: selectable, searchable, drawn in the page's font
    "svg.hashsalt": "wwc-report",
    "font.family": "sans-serif",
    "font.sans-serif": FONTS,
    "font.size": 9,
    "text.color": TEXT,
    "axes.edgecolor": GRID,
    "axes.labelcolor": TEXT,
    "xtick.color": TEXT,
    "ytick.color": TEXT,
}


@dataclass(frozen=True)
class Chart:
    src: str  # data:image/svg+xml;base64,...
    alt: str  # the text alternative (default: title and description)
    svg: str  # the SVG itself


@dataclass(frozen=True)
class Series:
    label: str
    color: str | list[str]  # one colour, or one per category
    values: list[int | None]  # None: withheld, no bar


def bar_chart(categories: list[str], series: list[Series], *, title: str, desc: str,
              width_in: float, bar_height_in: float, legend: bool = True,
              value_label=str, alt: str | None = None) -> Chart:
    """Horizontal grouped bars, 0-100 %, one group per category, values at the bar ends."""
    drawn = [s for s in series if any(v is not None for v in s.values)]
    n_groups, n_bars = len(categories), max(len(drawn), 1)
    group = bar_height_in * n_bars + 0.13  # inches per category, with a gap
    # All legend entries on one line when they fit (about 0.065 in per character at
    # 9 pt, plus the key), else one per line.
    one_line = sum(0.45 + 0.065 * len(s.label) for s in drawn) <= width_in - 0.2
    legend_cols = len(drawn) if one_line else 1
    legend_rows = 1 if one_line else len(drawn)
    top = 0.25 + 0.2 * legend_rows if legend else 0.08
    height_in = n_groups * group + top + 0.35
    matplotlib, Figure = _matplotlib()
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(width_in, height_in))
        # Room for the longest category name (about 0.075 in per character at 9 pt).
        label_width = min(0.5, (0.15 + 0.075 * max(len(c) for c in categories)) / width_in)
        ax = fig.add_axes((label_width, 0.35 / height_in, 0.95 - label_width,
                           1 - (top + 0.35) / height_in))
        step = bar_height_in / group
        for j, s in enumerate(drawn):
            shown = [(i, v) for i, v in enumerate(s.values) if v is not None]
            ys = [i + (j - (n_bars - 1) / 2) * step for i, _ in shown]
            xs = [v for _, v in shown]
            color = s.color if isinstance(s.color, str) else [s.color[i] for i, _ in shown]
            bars = ax.barh(ys, xs, height=step * 0.92, color=color, label=s.label)
            ax.bar_label(bars, labels=[value_label(x) for x in xs], padding=3, fontsize=7)
        ax.set_yticks(range(n_groups), labels=categories)
        ax.set_ylim(n_groups - 0.5, -0.5)  # first category on top, as in the table
        ax.set_xlim(0, 112)  # room for a "100%" label at the end of a full bar
        ax.set_xticks(range(0, 101, 25), labels=[value_label(x) for x in range(0, 101, 25)])
        ax.xaxis.grid(True, color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", length=0)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        if legend and drawn:
            fig.legend(loc="upper left", bbox_to_anchor=(0.01, 1), ncols=legend_cols,
                       frameon=False, handlelength=1.2, columnspacing=1.4)
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Title": title})
    svg = _with_text_alternative(buf.getvalue(), title, desc)
    src = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
    return Chart(src=src, alt=alt or f"{title}. {desc}", svg=svg)


@cache
def _matplotlib():
    """Imported on first use: a second of start-up that the `wwc` CLI and the service
    should not pay until a report is drawn."""
    import matplotlib

    matplotlib.use("Agg")  # no display, whatever the environment says
    from matplotlib.figure import Figure

    return matplotlib, Figure


def _with_text_alternative(raw: bytes, title: str, desc: str) -> str:
    """Put <title> and <desc> first in the SVG and mark it as one image.

    Done on matplotlib's text, not through ElementTree: ElementTree's namespace prefixes
    are process-wide, and WeasyPrint's PDF metadata re-registers the default one, after
    which every element would come out as `ns0:svg`, `ns0:title`..."""
    match = _SVG_START.search(raw)
    if match is None or SVG.encode() not in match.group(0):
        raise ValueError("matplotlib gave no <svg> root")
    start = match.group(0)[:-1].rstrip()
    opening = start + b' role="img" aria-labelledby="chart-title chart-desc">'
    alternative = (f'<title id="chart-title">{escape(title)}</title>'
                   f'<desc id="chart-desc">{escape(desc)}</desc>').encode()
    # From the root on, as before: no XML declaration, no DOCTYPE (nothing to fetch).
    return (opening + alternative + raw[match.end():]).decode()
