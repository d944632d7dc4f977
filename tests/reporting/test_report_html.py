"""The HTML report as a reader (and a screen reader) gets it: structure, languages,
withheld cohorts in words only, and the strings files."""

from __future__ import annotations

import base64
import re
import string
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from shared.catalog import parse_catalog
from shared.catalog.geography import POPULATION_BANDS, REGIONS
from shared.i18n import languages, messages
from services.reporting.report import render_html
from services.reporting.report.view import STRINGS
from services.reporting.report.preview import preview_document
from tests.reporting.helpers import RENDERED_AT, benchmarks, cohort, report

CSS = Path(__file__).parents[2] / "services" / "reporting" / "report" / "templates" / "report.css"
MINI = Path(__file__).parents[1] / "scoring" / "data" / "mini-catalog.yaml"


class Page(HTMLParser):
    """Headings, tables, images and the text of elements by class."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = None
        self.headings: list[tuple[int, str]] = []
        self.tables: list[dict] = []
        self.images: list[dict] = []
        self.by_class: dict[str, list[str]] = {}
        self._open: list[tuple[str, list[str], list[str]]] = []  # tag, classes, text
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "table":
            self.tables.append({"first": None, "th": []})
        elif self.tables and self.tables[-1]["first"] is None:
            self.tables[-1]["first"] = tag
        if tag == "th":
            self.tables[-1]["th"].append(a.get("scope"))
        if tag == "img":
            self.images.append(a)
            return
        if tag in ("br", "meta", "col", "link"):
            return
        self._open.append((tag, (a.get("class") or "").split(), []))

    def handle_endtag(self, tag):
        while self._open:
            open_tag, classes, text = self._open.pop()
            content = " ".join("".join(text).split())
            if re.fullmatch(r"h[1-6]", open_tag):
                self.headings.append((int(open_tag[1]), content))
            for c in classes:
                self.by_class.setdefault(c, []).append(content)
            if self._open:
                self._open[-1][2].append("".join(text))
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self._open:
            self._open[-1][2].append(data)


@pytest.fixture(scope="module")
def html_en(example_doc) -> str:
    return render_html(example_doc, "en")


# -- structure and accessibility ---------------------------------------------------------


@pytest.mark.parametrize("lang", languages())
def test_structure_is_accessible(example_doc, lang):
    html = render_html(example_doc, lang)
    page = Page(html)
    assert page.lang == lang
    levels = [level for level, _ in page.headings]
    assert levels.count(1) == 1 and levels[0] == 1  # one h1, first
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, page.headings  # no skipped level
    assert page.tables
    for table in page.tables:
        assert table["first"] == "caption"
        assert table["th"] and all(scope in ("col", "row") for scope in table["th"])
    assert page.images and all(img.get("alt", "").strip() for img in page.images)
    for img in page.images:
        svg = base64.b64decode(img["src"].split(",", 1)[1]).decode()
        assert "<title" in svg and "<desc" in svg and 'role="img"' in svg
    assert "<title>Port Alder: " in html
    assert "@page" in html  # printable from the browser too
    assert "@media screen" in html


def test_text_colours_have_enough_contrast():
    css = CSS.read_text(encoding="utf-8")
    var = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    texts = [var[k] for k in ("ink", "muted", "navy", "amber", "green", "red")] + ["#7c2d12"]
    backgrounds = ["#ffffff", var["navy-tint"], var["zebra"], "#fff7ed", "#f3f4f6",
                   "#fefce8", "#eef2f7"]
    for fg in texts:
        for bg in backgrounds:
            assert _contrast(fg, bg) >= 4.5, (fg, bg)
    assert _contrast("#ffffff", var["navy"]) >= 4.5  # the white-on-navy badges


def _contrast(a: str, b: str) -> float:
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# -- content -----------------------------------------------------------------------------


def test_english_report_says_it_all(example_doc, html_en, wwc):
    page = Page(html_en)
    assert page.headings[0] == (1, "Certification Report Port Alder")
    assert ("Keep it up! Your city has achieved 27 of 45 criteria across eight "
            "foundational practice areas.") in html_en
    assert "Silver Certification" in html_en and "51–66% of criteria met" in html_en
    assert "Meeting 3 more criteria would reach Gold." in html_en
    for area in wwc.areas:
        assert (2, wwc.text(area)) in page.headings
    for cid in wwc.criterion_ids:
        assert f'id="crit-{cid}"' in html_en
    assert "The requested documents were not submitted for review." in html_en
    assert "WWC-2026-7K3Q-9MXD" in html_en and example_doc.verification_url in html_en
    assert example_doc.debrief_url in html_en
    assert "https://wwc.govex.academy/catalog" in html_en  # the resources' links
    assert "Preview:" not in html_en


def test_translations_come_from_the_same_document(example_doc, wwc):
    es, pt = render_html(example_doc, "es"), render_html(example_doc, "pt")
    assert ("¡Siga así! Su ciudad ha cumplido 27 de 45 criterios en ocho áreas de práctica "
            "fundamentales.") in es
    assert "Continue assim! Sua cidade atingiu 27 de 45 critérios em oito áreas" in pt
    assert "Certificación Plata" in es and "Certificação Prata" in pt
    assert "Los documentos solicitados no se presentaron para su revisión." in es
    assert "Os documentos solicitados não foram enviados para análise." in pt
    assert wwc.text(wwc.criterion("OD4"), "es") in es
    assert wwc.text(wwc.area("RDC"), "pt") in pt
    assert "184.300 habitantes" in es and "21 de noviembre de 2026" in es
    assert "21 de novembro de 2026" in pt
    for html in (es, pt):
        for english in ("Final response", "Next steps", "Your city", "fewer than"):
            assert english not in html
    # The auditor's own words are kept as written.
    assert example_doc.areas[1].criteria[0].changes[0].reason in es


def test_withheld_cohorts_are_words_never_numbers(wwc):
    # Six cities of 500K+ in the South: "all" is shown, this city's size and region are not.
    bench = benchmarks(wwc, cohort(wwc, [(600_000, "TX", "US")] * 6))
    doc = report(wwc, cycle="2026",
                         city={"name": "Small", "population": 40_000, "state": "VT",
                               "country": "US"},
                         responses={cid: "YES" for cid in list(wwc.criterion_ids)[:24]},
                         benchmarks=bench, language="en", rendered_at=RENDERED_AT)
    assert doc.your_size.withheld
    html = render_html(doc, "en")
    page = Page(html)
    assert ("Cities of your size: not shown (fewer than five cities, or it would reveal a "
            "group that small).") in html
    # Cities your size: words in every criterion row, never a number; the overview table
    # has no column for them (it would be nine rows of "not shown").
    assert len(re.findall(r"<td class=\"num\"[^>]*>not shown</td>", html)) == len(wwc.criteria)
    table = _section(html, "overview").split("<table", 1)[1]
    assert "Cities your size" not in table and "not shown" not in table
    for sentence in page.by_class["bench"]:
        band = sentence.split("Cities of your size")[1]
        assert not re.search(r"\d", band), sentence
    # The intro promises only the comparison the chart draws.
    assert "next to the average of all applicant cities. Cities your size are too few" in html
    assert "and of cities your size" not in html
    # The playing field: the South and the 500K+ band, the only groups that may be shown,
    # with their published numbers; no row for any other group.
    south = next(r for r in doc.regions if r.id == "South")
    assert south.cohort.applicants == 6 and f">{south.cohort.average_percent}%<" in html
    field = _field_rows(html)
    assert field == {"South": ["6", f"{south.cohort.average_percent}%"],
                     "500K+": ["6", f"{south.cohort.average_percent}%"]}
    assert "not shown" not in _section(html, "field")
    assert ("A region or population band is shown when it has at least five cities with a published "
            "score (and no smaller group can be worked out from it); this cycle has 6 such cities in all.") in html


def _section(html: str, name: str) -> str:
    return html.split(f'<section class="{name}"', 1)[1].split("</section>", 1)[0]


def _field_rows(html: str) -> dict[str, list[str]]:
    """The playing field's table rows: name -> the numbers in the row."""
    rows = re.findall(r'<th scope="row">(.*?)</th>\s*(.*?)</tr>', _section(html, "field"), re.S)
    return {re.sub(r"<.*", "", name).strip(): re.findall(r'<td class="num">([^<]*)</td>', cells)
            for name, cells in rows}


def test_every_withheld_group_is_left_out_of_the_playing_field(wwc):
    """Whatever publish withholds (small cohorts, or ones that would let a small one be
    worked out by subtraction) is no row of the playing field; one sentence tells how many
    applicants the rest hold together (publish keeps that at 0 or at least five)."""
    places = [(600_000, "TX", "US")] * 6 + [(45_000, "PR", "US")] * 2 + [(70_000, "ON", "CA")]
    bench = benchmarks(wwc, cohort(wwc, places, seed=3))
    doc = report(wwc, cycle="2026",
                         city={"name": "Bayamón", "population": 45_000, "state": "PR",
                               "country": "US"},
                         responses={}, benchmarks=bench, language="pt", rendered_at=RENDERED_AT)
    rows = (*doc.regions, *doc.bands)
    html = render_html(doc, "pt")
    field = _field_rows(html)
    assert len(field) == sum(not r.cohort.withheld for r in rows)
    # The South's six would give away the three elsewhere: no region may be shown.
    assert all(r.cohort.withheld for r in doc.regions)
    assert "Nenhuma região tem ainda cinco ou mais candidatas com pontuação publicada" in html
    # Likewise the 500K+ band's six would give away the three of 30K–100K.
    assert all(b.cohort.withheld for b in doc.bands)
    assert "Nenhuma faixa de população tem ainda cinco ou mais candidatas" in html
    assert "<table" not in _section(html, "field")
    assert "não exibido" not in _section(html, "field")


def test_a_small_cohort_says_what_is_shown_and_why(wwc):
    """Four scored cities: nothing of other cities may be shown. The playing field says so
    once, with the cycle's count of applicants, and prints no table of withheld rows."""
    bench = benchmarks(wwc, cohort(wwc, [(600_000, "TX", "US")] * 3))
    doc = report(wwc, cycle="2026", city={"name": "Early", "population": 90_000, "state": "IL", "country": "US"},
                 responses={}, benchmarks=bench, language="en", rendered_at=RENDERED_AT, applied=17)
    assert doc.all_cities.withheld
    html = render_html(doc, "en")
    field = _section(html, "field")
    assert ("17 cities applied in the 2026 cycle (cities that submitted an application for the cycle, "
            "counted on November 21, 2026).") in field
    assert ("Comparisons appear once at least five cities have a published audited score in the 2026 "
            "cycle.") in field
    assert "<table" not in field and "not shown" not in field and "<img" not in field
    for lang, words in (("es", "17 ciudades se presentaron al ciclo 2026"),
                        ("pt", "17 cidades se candidataram no ciclo 2026")):
        assert words in render_html(doc, lang)
    few = report(wwc, cycle="2026", city={"name": "Early", "population": 90_000, "state": "IL", "country": "US"},
                 responses={}, benchmarks=bench, language="en", rendered_at=RENDERED_AT, applied=3)
    assert "Fewer than five cities had applied in the 2026 cycle" in render_html(few, "en")


def test_the_region_map_shows_where_applicants_come_from(example_doc):
    """The seed report's map of applicants by region: a chart of the regions that may be
    shown (applicants and average score), with a text alternative and the same numbers in a
    table."""
    html = render_html(example_doc, "en")
    field = _section(html, "field")
    page = Page(field)
    (img,) = page.images
    assert img["alt"].startswith("Where applicants come from: average score by region.")
    svg = base64.b64decode(img["src"].split(",", 1)[1]).decode()
    shown = [r for r in example_doc.regions if not r.cohort.withheld]
    assert shown and any(r.cohort.withheld for r in example_doc.regions)
    for r in shown:
        assert f"{r.id} ({r.cohort.applicants} applicants)" in svg
        assert f"{r.id}: {r.cohort.applicants} applicants, average score {r.cohort.average_percent}%" in svg
        assert _field_rows(html)[r.id] == [str(r.cohort.applicants), f"{r.cohort.average_percent}%"]
    for r in example_doc.regions:
        if r.cohort.withheld:
            assert r.id not in svg
    assert "· Your region" in svg  # named in words, not by colour alone
    # The withheld regions and the cities outside them, together (publish keeps that at 0
    # or at least five): a count in one sentence, never a row each.
    rest = example_doc.all_cities.applicants - sum(r.cohort.applicants for r in shown)
    assert rest >= example_doc.min_cohort
    assert f"{rest} more applicants are in regions with too few cities to show on their own" in field


def test_breadth_is_explained_when_the_percentage_is_not_enough():
    """60% of criteria but all in one Standard component: not certified, and it says why."""
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    for c in data["criteria"]:
        c["components"] = {"A1": ["commit"], "B2": ["take_stock"], "B3": ["act"]}.get(
            c["id"], ["measure"])
    mini = parse_catalog(data, source="mini-one-component")
    answers = {cid: "YES" for cid in ("A2", "A3", "A4", "B1", "C1", "C2", "C3")}
    doc = report(mini, cycle="2026",
                         city={"name": "Narrow", "population": 50_000, "state": "NY",
                               "country": "US"},
                         responses=answers, benchmarks=benchmarks(mini, []), language="en",
                         rendered_at=RENDERED_AT)
    assert doc.percent == 60 and doc.tier is None
    html = render_html(doc, "en")
    assert "Not yet certified" in html
    assert ("Your score reaches the 51% that Silver requires, but Silver also needs a "
            "criterion met in at least 2 of the 4 Standard components; your city has 1.") in html
    assert "Meeting 1 more criterion would reach Silver." in html


def test_preview_and_missing_links_are_said_in_words(example, wwc):
    doc = preview_document(example, language="es", rendered_at=RENDERED_AT)
    html = render_html(doc)  # the preferred language by default
    assert 'lang="es"' in html and "Vista previa" in html
    assert "Esta vista previa no lleva código de verificación." in html
    assert "Para solicitar una llamada de devolución" in html


def test_city_names_cannot_break_the_page(wwc):
    name = "O'Fallon \"</style><script>alert(1)</script>"
    doc = report(wwc, cycle="2026",
                         city={"name": name, "population": 90_000, "state": "IL",
                               "country": "US"},
                         responses={}, benchmarks=benchmarks(wwc, []), language="en",
                         rendered_at=RENDERED_AT)
    html = render_html(doc, "en")
    assert "<script>" not in html and "</style><script>" not in html
    assert "O&#39;Fallon" in html or "O'Fallon" in html


# -- strings files ------------------------------------------------------------------------


def test_locale_files_have_identical_keys_and_placeholders():
    files = sorted(p.stem for p in STRINGS.glob("*.yaml"))
    assert files == sorted(languages())
    english = messages("en", (STRINGS,))
    fields = lambda text: {f for _, f, _, _ in string.Formatter().parse(text) if f}
    for lang in languages():
        strings = messages(lang, (STRINGS,))
        assert set(strings) == set(english), lang
        for key, text in strings.items():
            assert text.strip(), (lang, key)
            assert fields(text) == fields(english[key]), (lang, key)
        if lang != "en":
            same = [k for k in strings if strings[k] == english[k] and len(english[k]) > 12]
            assert not same, (lang, same)  # translated, not copied


def test_every_region_and_band_has_a_name():
    for lang in languages():
        strings = messages(lang, (STRINGS,))
        for region in REGIONS:
            assert f"regions.{region}" in strings
        for band in POPULATION_BANDS:
            assert f"bands.{band}" in strings


def test_charts_are_plain_deterministic_svg_whatever_else_registered_namespaces():
    """ElementTree's namespace prefixes are process-wide (a PDF library once re-registered
    the default one, and charts came out as `<ns0:svg>`): a chart must still be plain
    `<svg xmlns=...>` with its title and description, carry no script, and come out the
    same every time (a report rendered again must be the same bytes)."""
    import xml.etree.ElementTree as ET

    from services.reporting.report.charts import COLORS, Series, bar_chart

    ET.register_namespace("", "http://ns.adobe.com/pdf/1.3/")
    try:
        draw = lambda: bar_chart(["A & B", "C"], [Series("x", COLORS["city"], [10, 90])], title="T <1>",  # noqa: E731
                                 desc="D & d", width_in=4, bar_height_in=0.2, legend=False)
        chart = draw()
    finally:
        ET.register_namespace("", "http://www.w3.org/2000/svg")
    assert chart.svg.startswith("<svg ") and 'xmlns="http://www.w3.org/2000/svg"' in chart.svg
    assert "ns0:" not in chart.svg and "<!DOCTYPE" not in chart.svg and "<script" not in chart.svg
    assert '<title id="chart-title">T &lt;1&gt;</title><desc id="chart-desc">D &amp; d</desc>' in chart.svg
    assert draw().svg == chart.svg


@pytest.mark.parametrize("lang,state,where", [
    ("en", "Ontario", "Ontario, Canada"), ("es", "CA-BC", "Columbia Británica, Canadá"),
    ("pt", "ON", "Ontario, Canadá"),
])
def test_the_cover_names_the_province_in_the_readers_language(wwc, lang, state, where):
    """The state travels as its ISO 3166-2 code and is named, never printed as a code."""
    doc = report(wwc, cycle="2026", city={"name": "Lakeside", "population": 140_000, "state": state,
                                          "country": "CA"},
                 responses={}, benchmarks=benchmarks(wwc, []), language=lang, rendered_at=RENDERED_AT)
    assert doc.city.state in ("CA-ON", "CA-BC")
    html = render_html(doc, lang)
    assert where in html and f"{doc.city.state}," not in html
