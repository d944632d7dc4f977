"""The PDF as a person gets it: pdftotext reads what it says, pdftoppm draws its pages,
and pypdf checks it is tagged for assistive technology (PDF/UA-1)."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from PIL import Image
from pypdf import PdfReader

from shared.scoring.engine import score
from services.reporting.report import render_pdf, report_view
from services.reporting.report.pdf import typeset
from tests.reporting.helpers import benchmarks, cohort, flatten, pdf_text, report


@pytest.fixture(scope="module")
def pdfs(example_doc) -> dict[str, bytes]:
    return {lang: render_pdf(example_doc, lang) for lang in ("en", "es", "pt")}


@pytest.mark.parametrize("lang", ["en", "es", "pt"])
def test_typst_has_nothing_to_complain_about(example_doc, lang):
    """No unknown font, no layout that did not fit, no missing alternative text."""
    _, warnings = typeset(report_view(example_doc, lang), example_doc.rendered_at)
    assert warnings == []


def test_the_same_document_always_gives_the_same_pdf(example_doc, pdfs):
    """The hash recorded at issue keeps matching a PDF rendered again later."""
    again = type(example_doc).model_validate_json(example_doc.model_dump_json())
    assert render_pdf(again, "en") == pdfs["en"]


@pytest.fixture(scope="module")
def texts(pdfs, tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("pdf")
    return {lang: pdf_text(pdf, tmp, lang) for lang, pdf in pdfs.items()}


def test_the_pdf_says_what_the_engine_computed(texts, pdfs, example_doc, example, wwc):
    text = texts["en"]
    result = score(wwc, example.responses)
    assert (f"Keep it up! Your city has achieved {result.met} of {result.total} criteria "
            f"across eight foundational practice areas.") in text
    assert f"{result.percent}% {result.met} of {result.total} criteria" in text
    assert "Silver Certification" in text
    for area in wwc.areas:
        name = wwc.text(area)
        assert name in text
        pct = result.area(area.id).percent
        assert f"Your city has achieved {pct}% of the {name} criteria." in text
    for cid in wwc.criterion_ids:
        assert re.search(rf"\b{cid}\b", text), cid
    for change in example.changes:
        assert flatten(change["reason"]) in text
        standard = wwc.text(wwc.audit_reason(change["reason_code"]))
        assert standard in text
    assert "WWC-2026-7K3Q-9MXD" in text and "Debrief call" in text
    pages = len(PdfReader(io.BytesIO(pdfs["en"])).pages)
    assert f"Page 2 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert "Page 1 of" not in text  # the cover has no footer


def test_spanish_and_portuguese_pdfs_are_translated(texts, wwc):
    es, pt = texts["es"], texts["pt"]
    assert "¡Siga así! Su ciudad ha cumplido 27 de 45 criterios" in es
    assert "Continue assim! Sua cidade atingiu 27 de 45 critérios" in pt
    assert "Próximos pasos" in es and "Próximos passos" in pt
    assert "RESPUESTA FINAL" in es and "RESPOSTA FINAL" in pt  # headings set in capitals
    for area in wwc.areas:
        assert wwc.text(area, "es") in es and wwc.text(area, "pt") in pt
    assert "Página 2 de" in es and "Página 2 de" in pt
    assert "Keep it up" not in es + pt


def test_the_playing_field_prints_only_groups_that_may_be_shown(pdfs, example_doc, tmp_path):
    path = tmp_path / "en.pdf"
    path.write_bytes(pdfs["en"])
    layout = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                            capture_output=True, text=True).stdout
    lines = [x.strip() for x in layout.splitlines()]
    withheld = [r.id for r in example_doc.regions if r.cohort.withheld]
    assert "Northeast" in withheld and "Canada" in withheld
    for region in withheld:
        assert not [x for x in lines if x.startswith(region)], region
    assert "not shown (fewer than five" not in layout.split("playing field")[1].split("Data Governance")[0]
    for r in example_doc.regions:
        if not r.cohort.withheld:
            (row,) = [x for x in lines if re.match(rf"{r.id}\b.*\s{r.cohort.applicants}\s+{r.cohort.average_percent}%$", x)]
            assert row


@pytest.mark.parametrize("lang", ["en", "es", "pt"])
def test_the_pdf_is_tagged_with_title_and_language(pdfs, lang):
    reader = PdfReader(io.BytesIO(pdfs[lang]))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == lang
    assert root["/MarkInfo"]["/Marked"] in (True, "true")
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] in (True, "true")
    assert reader.metadata.title.startswith("Port Alder: ")
    assert reader.metadata.title.endswith("2026")
    xmp = root["/Metadata"].get_object().get_data()
    assert b"pdfuaid:part" in xmp and b"1" in xmp
    tags, alts = _structure(root["/StructTreeRoot"])
    assert tags["/H1"] == 1 and tags["/H2"] >= 8 and tags["/Table"] >= 10
    assert tags["/TH"] > 50 and tags["/Caption"] >= 10 and tags["/Link"] >= 1
    # the overview, the region map and one per area: every chart has its text
    assert tags["/Figure"] == 10 and len(alts) == 10 and all(alts)


def _structure(node, tags=None, alts=None):
    tags = {} if tags is None else tags
    alts = [] if alts is None else alts
    node = node.get_object()
    kind = node.get("/S")
    if kind:
        tags[kind] = tags.get(kind, 0) + 1
        if kind == "/Figure":
            alts.append(str(node.get("/Alt", "")))
    kids = node.get("/K")
    if kids is not None:
        for kid in kids if isinstance(kids, list) else [kids]:
            kid = kid.get_object() if hasattr(kid, "get_object") else kid
            if isinstance(kid, dict) and kid.get("/Type") != "/OBJR" and "/S" in kid:
                _structure(kid, tags, alts)
    return tags, alts


def test_every_page_draws(pdfs, tmp_path):
    """pdftoppm renders every page, and none is blank (the layout kept everything)."""
    path = tmp_path / "report.pdf"
    path.write_bytes(pdfs["pt"])
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "page")],
                   check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(PdfReader(io.BytesIO(pdfs["pt"])).pages) >= 10
    for png in pages:
        grey = Image.open(png).convert("L")
        inked = sum(grey.histogram()[:200])
        assert inked > 0.005 * grey.width * grey.height, png.name


# -- layout on paper ------------------------------------------------------------------------

BODY_BOTTOM = 1 - 20 / 279.4  # the bottom margin of a US letter page (report.typ): the footer is below


def _pages(pdf: bytes, tmp_path) -> tuple[list[str], list[float]]:
    """Each page's text as laid out (footer left off), and how far down its body is inked
    (0: blank, 1: down to the bottom margin)."""
    path = tmp_path / "layout.pdf"
    path.write_bytes(pdf)
    count = len(PdfReader(io.BytesIO(pdf)).pages)
    texts = []
    for page in range(1, count + 1):
        layout = subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(path), "-"],
                                check=True, capture_output=True, text=True).stdout
        lines = [x.strip() for x in layout.splitlines() if x.strip()]
        texts.append([x for x in lines if not re.search(r"\d+ (of|de) \d+$", x)])
    subprocess.run(["pdftoppm", "-r", "24", "-gray", "-png", str(path), str(tmp_path / "fill")], check=True)
    filled = []
    for png in sorted(tmp_path.glob("fill-*.png")):
        grey = Image.open(png).convert("L")
        w, h = grey.size
        px = grey.load()
        inked = [y for y in range(int(h * BODY_BOTTOM)) if any(px[x, y] < 200 for x in range(w))]
        filled.append((max(inked) if inked else 0) / (h * BODY_BOTTOM))
    assert len(texts) == len(filled) == count
    return texts, filled


def _headings(view) -> set[str]:
    heads = {view.overview.heading, view.field.heading, view.next.heading, view.next.resources_heading,
             view.closing.debrief_heading, view.closing.about_heading, *(a.name for a in view.areas)}
    heads |= {f"{i}. {s.criterion} {s.area}" for i, s in enumerate(view.next.steps, 1)}
    return heads


def _check_layout(doc, lang, tmp_path):
    texts, filled = _pages(render_pdf(doc, lang), tmp_path)
    heads = _headings(report_view(doc, lang))
    for number, (lines, fill) in enumerate(zip(texts, filled, strict=True), 1):
        assert lines, f"page {number} is empty"
        # A heading with at most one line under it at the foot of a page is orphaned too.
        orphans = heads.intersection(lines[-2:])
        assert not orphans, f"page {number} ends with the heading {orphans}"
        if number < len(texts):
            assert fill >= 0.5, f"page {number} is only {fill:.0%} full"


@pytest.mark.parametrize("lang", ["en", "es", "pt"])
def test_no_heading_ends_a_page_and_no_page_is_left_half_empty(example_doc, lang, tmp_path):
    """Headings stay with what they introduce; long tables run on (their header repeated)
    instead of being pushed whole to the next page."""
    _check_layout(example_doc, lang, tmp_path)


def test_a_small_cohort_report_lays_out_well_too(wwc, tmp_path):
    """Nothing of other cities may be shown: a shorter playing field, the same rules."""
    bench = benchmarks(wwc, cohort(wwc, [(600_000, "TX", "US")] * 3))
    doc = report(wwc, city={"name": "Early", "population": 90_000, "state": "IL", "country": "US"},
                 responses={cid: "YES" for cid in list(wwc.criterion_ids)[:20]}, benchmarks=bench, applied=17)
    _check_layout(doc, "en", tmp_path)
    text = pdf_text(render_pdf(doc, "en"), tmp_path, "small")
    assert "17 cities applied in the 2026 cycle" in text and "Comparisons appear once at least five" in text
