"""A city's Certification Report in the browser (`/reports/{id}`), its PDF download, the
list of reports a person may open, and the operators' Honor Roll button.

The page is the renderer's own standalone document (the stored render, or one made now in
another language from the same frozen document) with a small toolbar put in after its
skip link: languages, the PDF, verification, the Honor Roll. The document already has
one <h1>, one <main>, its lang attribute, a skip link and landmarks; the toolbar adds a
<nav> and no heading, and is not printed."""

from __future__ import annotations

import re
import unicodedata

from fastapi.responses import HTMLResponse, Response

from services.reporting import roster, visibility
from services.reporting.console.console import REPORTS, SignedInPage
from services.reporting.errors import Forbidden
from services.reporting.models import Report
from services.reporting.renders import renders_of
from shared.i18n import language_name, languages
from shared.infra.auth import Role
from shared.web.pages import Page

router = REPORTS.router()
STYLESHEET = f"{REPORTS.prefix}/static/reporting.css"
_BODY_AND_SKIP = re.compile(r'<body[^>]*>\s*(?:<a class="skip"[^>]*>.*?</a>)?', re.S)


@router.get("/")
async def report_list(page: SignedInPage) -> HTMLResponse:
    cycle = page.request.query_params.get("cycle", "").strip()[:16] or None
    async with page.runtime.db.sessionmaker() as session:
        found = await visibility.visible_reports(session, page.principal, cycle=cycle)
        cycles = await visibility.cycles(session, page.principal)
    return page.render("reports.html", title=page.t("reports.title"), nav="reports", reports=found,
                       cycles=cycles, chosen=cycle or "")


def report_language(page: Page, report: Report) -> str:
    """The language asked for (`?lang=`), else the one the report was issued in."""
    asked = page.request.query_params.get("lang", "").lower()
    return asked if asked in languages() else report.language


def embed(document: str, toolbar: str, stylesheet: str) -> str:
    """The renderer's document with the toolbar's stylesheet in its head and the toolbar
    right after its skip link (so the skip link stays the first thing on the page)."""
    document = document.replace("</head>", f'<link rel="stylesheet" href="{stylesheet}">\n</head>', 1)
    match = _BODY_AND_SKIP.search(document)
    if match is None:
        raise ValueError("the report document has no <body>")
    return f"{document[:match.end()]}\n{toolbar}\n{document[match.end():]}"


@router.get("/{report_id}")
async def report_page(report_id: str, page: SignedInPage) -> HTMLResponse:
    async with page.runtime.db.sessionmaker() as session:
        report = await visibility.visible_report(session, page.principal, report_id=report_id)
        honor = await roster.honor_roll_of(session, report)
        newer = await visibility.current_of(session, report)
    lang = report_language(page, report)
    document = (await renders_of(page.request).rendered(report, lang, "html")).decode()
    t = REPORTS.translator(lang)
    done = page.request.query_params.get("done", "")
    base = f"{REPORTS.prefix}/{report.id}"
    toolbar = REPORTS.templates.env.get_template("report_tools.html").render(
        t=t, lang=lang, report=report, honor=honor, csrf=page.csrf, principal=page.principal,
        is_operator=page.principal.role == Role.OPERATOR, base=base, list_url=f"{REPORTS.prefix}/",
        languages=[(code, language_name(code), f"{base}?lang={code}") for code in languages()],
        pdf_url=f"{base}/report.pdf?lang={lang}", language_name=language_name(lang),
        date=t.date, number=t.number, newer=newer,
        newer_url=f"{REPORTS.prefix}/{newer.id}?lang={lang}" if newer else None,
        verify_url=f"/verify?code={report.verification_code}" if report.tier and report.verification_code else None,
        flash=t(f"flash.{done}") if done.isidentifier() and t.has(f"flash.{done}") else None)
    return HTMLResponse(embed(document, toolbar, STYLESHEET))


def download_name(report: Report, lang: str) -> str:
    """A readable ASCII file name: springfield-certification-report-2026-es.pdf."""
    ascii_name = unicodedata.normalize("NFKD", report.city_name).encode("ascii", "ignore").decode()
    slug = "-".join(re.findall(r"[a-z0-9]+", ascii_name.lower()))[:60] or "city"
    cycle = "-".join(re.findall(r"[A-Za-z0-9]+", report.cycle)) or "cycle"
    return f"{slug}-certification-report-{cycle}-{lang}.pdf"


@router.get("/{report_id}/report.pdf")
async def report_pdf(report_id: str, page: SignedInPage) -> Response:
    async with page.runtime.db.sessionmaker() as session:
        report = await visibility.visible_report(session, page.principal, report_id=report_id)
    lang = report_language(page, report)
    pdf = await renders_of(page.request).rendered(report, lang, "pdf")
    return Response(pdf, media_type="application/pdf",
                    headers={"content-disposition": f'attachment; filename="{download_name(report, lang)}"'})


@router.post("/{report_id}/honor-roll")
async def honor_roll(report_id: str, page: SignedInPage) -> Response:
    form = await page.form()
    if page.principal.role != Role.OPERATOR:
        raise Forbidden("Only operators set the Honor Roll.")
    value = str(form.get("honor_roll", "")) == "1"
    async with page.runtime.db.transaction() as session:
        await roster.set_honor_roll(session, page.principal, report_id, value)
    lang = str(form.get("lang", ""))
    target = f"{REPORTS.prefix}/{report_id}" + (f"?lang={lang}" if lang in languages() else "")
    return page.redirect(target, done="honor_roll_on" if value else "honor_roll_off")
