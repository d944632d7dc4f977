"""The report as one self-contained HTML file (styles inline, charts as SVG data URIs),
laid out from the view (`view.py`) that the PDF is laid out from too."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.reporting.report.view import ReportView

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(("j2",)),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["css"] = (TEMPLATES / "report.css").read_text("utf-8")
    return env


def html_of(view: ReportView) -> str:
    return _environment().get_template("report.html.j2").render(v=view)
