"""Charts as SVG, drawn by pygal: your city, all applicants and cities your size.

pygal writes SVG directly (no rasterising figure model in between), which makes a chart
a few milliseconds instead of matplotlib's fifty; `bench/report_bench.py` measures the
two side by side. Each chart comes back as SVG text plus its text alternative: the page
shows it as an ``<img>`` (a data URI, so several charts never clash over element ids),
the PDF embeds the same SVG, and the SVG itself carries a ``<title>`` and ``<desc>`` for
anyone who opens it alone. The numbers are also in a table next to every chart.

Output is deterministic (no random element ids, no dates, no script), so a report
rendered again a year later is byte-for-byte the one first issued.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import cache
from xml.sax.saxutils import escape

SVG = "http://www.w3.org/2000/svg"
_SVG_START = re.compile(r"<svg\b[^>]*>")
# pygal always adds its interactive configuration as a script; a report carries none.
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>|<script\b[^>]*/>", re.S)
_VALUE_TEXT = re.compile(r'<text text-anchor="middle"([^>]*class="value[" ])')
PX_PER_IN = 96

# Each colour has at least 3:1 contrast on white (WCAG 1.4.11 for graphics) and they
# differ in lightness as well as hue, so they stay apart in grey print and for
# colour-blind readers.
COLORS = {"city": "#1b4f72", "all": "#6b7280", "band": "#b45309"}
TEXT, GRID = "#1f2937", "#d1d5db"
FONTS = "Lato, 'Liberation Sans', 'DejaVu Sans', sans-serif"


@dataclass(frozen=True)
class Chart:
    alt: str  # the text alternative (default: title and description)
    svg: str  # the SVG itself

    @property
    def src(self) -> str:
        """The chart as an ``<img>`` source."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode("ascii")


@dataclass(frozen=True)
class Series:
    label: str
    color: str | list[str]  # one colour, or one per category
    values: list[int | None]  # None: withheld, no bar


def bar_chart(categories: list[str], series: list[Series], *, title: str, desc: str,
              width_in: float, bar_height_in: float, legend: bool = True,
              value_label=str, alt: str | None = None) -> Chart:
    """Horizontal grouped bars, 0-100 %, one group per category (the first on top),
    values at the bar ends."""
    import pygal

    drawn = [s for s in series if any(v is not None for v in s.values)]
    n_bars = max(len(drawn), 1)
    group_in = bar_height_in * n_bars + 0.13  # inches per category, with a gap
    # All legend entries on one line when they fit (about 0.07 in per character at 11 px,
    # plus the key), else one per line.
    one_line = sum(0.35 + 0.07 * len(s.label) for s in drawn) <= width_in - 0.3
    legend_rows = 0 if not (legend and drawn) else 1 if one_line else len(drawn)
    height_in = len(categories) * group_in + 0.45 + 0.22 * legend_rows
    chart = pygal.HorizontalBar(
        _config(), width=round(width_in * PX_PER_IN), height=round(height_in * PX_PER_IN),
        show_legend=bool(legend_rows), legend_at_bottom_columns=len(drawn) if one_line else 1,
        value_formatter=value_label,
        # Room for the longest category name (about 6.5 px per character at 11 px).
        truncate_label=-1, truncate_legend=-1,
    )
    # pygal stacks horizontal groups from the bottom up: reversed, the first is on top.
    chart.x_labels = list(reversed(categories))
    for s in drawn:
        values = list(reversed(s.values))
        colors = list(reversed(s.color)) if isinstance(s.color, list) else [s.color] * len(values)
        chart.add(s.label, [None if v is None else {"value": v, "color": c} for v, c in zip(values, colors, strict=True)],
                  stroke=False)
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    # Values start just past the end of their bar rather than centred on it.
    svg = _VALUE_TEXT.sub(r'<text text-anchor="start"\1', svg)
    return Chart(svg=_with_text_alternative(svg, title, desc), alt=alt or f"{title}. {desc}")


@cache
def _config():
    import pygal
    from pygal.style import Style

    style = Style(
        background="white", plot_background="white", foreground=TEXT, foreground_strong=TEXT,
        foreground_subtle=GRID, opacity="1", opacity_hover="1", transition="none",
        colors=(COLORS["city"], COLORS["all"], COLORS["band"]), font_family=FONTS,
        label_font_size=11, major_label_font_size=11, value_font_size=10, legend_font_size=11,
        value_label_font_size=10, tooltip_font_size=10, guide_stroke_color=GRID, guide_stroke_dasharray="0",
        major_guide_stroke_color=GRID, major_guide_stroke_dasharray="0",
    )
    return pygal.Config(
        style=style, range=(0, 112), print_values=True, print_values_position="top",
        legend_at_bottom=True, legend_box_size=10, show_y_guides=True, show_x_guides=False,
        js=[], no_prefix=True, disable_xml_declaration=True,
        explicit_size=True, spacing=6, margin=6, tooltip_border_radius=0, show_dots=False,
        y_labels=[0, 25, 50, 75, 100],
    )


def _with_text_alternative(svg: str, title: str, desc: str) -> str:
    """Put <title> and <desc> first in the SVG and mark it as one image."""
    match = _SVG_START.search(svg)
    if match is None or SVG not in match.group(0):
        raise ValueError("pygal gave no <svg> root")
    start = match.group(0)[:-1].rstrip()
    opening = start + ' role="img" aria-labelledby="chart-title chart-desc">'
    alternative = (f'<title id="chart-title">{escape(title)}</title>'
                   f'<desc id="chart-desc">{escape(desc)}</desc>')
    return opening + alternative + svg[match.end():]
