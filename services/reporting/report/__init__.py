"""The Certification Report: build a frozen document, render it as HTML or tagged PDF.

    doc = build_document(catalog=..., cycle=..., city=..., responses=..., ...)
    stored = doc.model_dump_json()            # keep it; re-render it any time
    html = render_html(ReportDocument.model_validate_json(stored), "es")
    pdf = render_pdf(doc, "pt")
"""

from services.reporting.report.build import (
    ChangeInput,
    CityInput,
    ReportInputError,
    build_document,
)
from services.reporting.report.document import ReportDocument
from services.reporting.report.locales import LANGUAGES
from services.reporting.report.render import render_html, render_pdf

__all__ = [
    "LANGUAGES",
    "ChangeInput",
    "CityInput",
    "ReportDocument",
    "ReportInputError",
    "build_document",
    "render_html",
    "render_pdf",
]
