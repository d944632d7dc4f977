"""The report as a tagged PDF (PDF/UA-1), typeset by Typst from the view (`view.py`)
that the HTML is laid out from too.

Typst was chosen over WeasyPrint after measuring both on the same report
(`bench/report_bench.py`): tens of milliseconds instead of seconds. The PDF's dates come
from the document, never from the clock, so rendering the same document again gives the
same bytes (the hash recorded at issue keeps matching).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from functools import cache
from pathlib import Path

from services.reporting.report.view import ReportView
from shared.infra.logging import get_logger

log = get_logger(__name__)
TEMPLATE = Path(__file__).parent / "templates" / "report.typ"
PDF_STANDARDS = ["ua-1"]  # tagged, with title, language and alternative texts


@cache
def _compiler():
    """One compiler per process: it keeps the fonts it found between reports."""
    import typst

    return typst.Compiler(str(TEMPLATE), root=str(TEMPLATE.parent))


def typeset(view: ReportView, rendered_at: datetime) -> tuple[bytes, list[str]]:
    """The PDF and what Typst warned about (a test keeps that list empty)."""
    pdf, warnings = _compiler().compile_with_warnings(
        format="pdf", sys_inputs={"view": json.dumps(asdict(view))}, pdf_standards=PDF_STANDARDS,
        timestamp=int(rendered_at.timestamp()))
    return pdf, [str(w) for w in warnings]


def pdf_of(view: ReportView, rendered_at: datetime) -> bytes:
    pdf, warnings = typeset(view, rendered_at)
    if warnings:
        log.warning("report.typst_warnings", warnings=warnings[:5])
    return pdf
