"""The Certification Report: build a frozen document, render it as HTML or tagged PDF.

    doc = build_document(catalog=..., cycle=..., city=..., result=..., path=..., ...)
    stored = doc.model_dump_json()            # keep it; re-render it any time
    html = render_html(ReportDocument.model_validate_json(stored), "es")
    pdf = render_pdf(doc, "pt")

Both renderings lay out one view of the document (`view.report_view`): every sentence is
decided once, so the page and the PDF say the same thing in every language.
"""

from services.reporting.report.build import (
    AppealInput,
    ChangeInput,
    CityInput,
    ReportInputError,
    RevisionInput,
    build_document,
)
from services.reporting.report.document import ReportDocument
from services.reporting.report.html import html_of
from services.reporting.report.pdf import pdf_of
from services.reporting.report.view import ReportView, report_view


def render_html(doc: ReportDocument, lang: str | None = None) -> str:
    """The report in ``lang`` (default: the city's preferred language) as one HTML file."""
    return html_of(report_view(doc, lang))


def render_pdf(doc: ReportDocument, lang: str | None = None) -> bytes:
    """The report in ``lang`` as a tagged PDF; the same document always gives the same bytes."""
    return pdf_of(report_view(doc, lang), doc.rendered_at)


def render_stored(doc_json: str, lang: str, kinds: tuple[str, ...]) -> dict[str, bytes]:
    """A stored document rendered as each of `kinds` ("html", "pdf") from one view (the
    charts are drawn once). Plain arguments and results: it runs in worker processes."""
    doc = ReportDocument.model_validate_json(doc_json)
    view = report_view(doc, lang)
    out: dict[str, bytes] = {}
    if "html" in kinds:
        out["html"] = html_of(view).encode()
    if "pdf" in kinds:
        out["pdf"] = pdf_of(view, doc.rendered_at)
    return out


__all__ = [
    "AppealInput",
    "ChangeInput",
    "CityInput",
    "ReportDocument",
    "ReportInputError",
    "ReportView",
    "RevisionInput",
    "build_document",
    "render_stored",
    "render_html",
    "render_pdf",
    "report_view",
]
