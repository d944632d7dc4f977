"""Render a ReportDocument as HTML (the browser's copy) or as a tagged PDF (PDF/UA-1).

The HTML is one self-contained file: styles inline, charts as SVG data URIs. The PDF is
WeasyPrint's rendering of that same HTML, so both always say the same thing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel import Locale
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from services.reporting.report.charts import COLORS, Chart, Series, bar_chart
from services.reporting.report.document import AreaSection, ReportDocument, Text
from services.reporting.report.locales import LANGUAGES, Strings
from shared.scoring.engine import Response

TEMPLATES = Path(__file__).parent / "templates"
PDF_OPTIONS = {"pdf_variant": "pdf/ua-1"}  # tagged, with XMP metadata, title and language


@cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(("j2",)),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["css_string"] = _css_string
    env.globals["css"] = (TEMPLATES / "report.css").read_text("utf-8")
    return env


def _css_string(value: str) -> Markup:
    """A quoted CSS string: the <style> element is raw text, so HTML escaping would
    show up literally (a city named O'Fallon), and "</style>" must not appear."""
    escaped = "".join(c if c.isalnum() or c in " .,-_()'&" else f"\\{ord(c):x} " for c in value)
    return Markup(f'"{escaped}"')


def render_html(doc: ReportDocument, lang: str | None = None) -> str:
    """The report in ``lang`` (default: the city's preferred language)."""
    lang = lang or doc.language
    if lang not in LANGUAGES or lang not in doc.languages:
        raise ValueError(f"the report is not available in {lang!r}")
    t = Strings(lang)
    view = _View(doc, lang, t)
    return _environment().get_template("report.html.j2").render(doc=doc, lang=lang, t=t, v=view)


def render_pdf(doc: ReportDocument, lang: str | None = None) -> bytes:
    from weasyprint import HTML  # heavy import (Pango via cffi): only when a PDF is wanted

    return HTML(string=render_html(doc, lang)).write_pdf(**PDF_OPTIONS)


class _View:
    """Wording and charts the template needs beyond the document's plain fields."""

    def __init__(self, doc: ReportDocument, lang: str, t: Strings) -> None:
        self.doc, self.lang, self.t = doc, lang, t
        self.locale = Locale.parse(lang)

    def tx(self, text: Text) -> str:
        return text.get(self.lang) or next(iter(text.values()))

    # -- numbers and words -----------------------------------------------------------
    def pct(self, value: int | None) -> str:
        return self.t("common.not_shown") if value is None else self.t.percent(value)

    def withheld(self) -> str:
        return self.t("common.withheld", count=self.t.words(self.doc.min_cohort))

    def response(self, value: Response) -> str:
        return self.t(f"responses.{value.value}")

    def region(self, region: str | None) -> str:
        return self.t(f"regions.{region}") if region else self.t("common.no_region")

    def band(self, band: str) -> str:
        return self.t(f"bands.{band}")

    def country(self) -> str:
        return self.locale.territories.get(self.doc.city.country, self.doc.city.country)

    def tier_name(self, tier_id: str) -> str:
        return self.tx(self.doc.tier_facts(tier_id).name)

    def tier_rank(self, tier_id: str) -> int:
        return [t.id for t in self.doc.tiers].index(tier_id)

    # -- sentences -------------------------------------------------------------------
    def headline(self) -> str:
        doc = self.doc
        top = doc.tier is not None and doc.tier == doc.tiers[-1].id
        return self.t("cover.headline", cheer=self.t("cover.cheer_top" if top else "cover.cheer"),
                      met=self.t.number(doc.met), total=self.t.number(doc.total),
                      areas=self.t.words(len(doc.areas)))

    def next_tier_gap(self) -> str | None:
        """How far the next tier is, in one sentence; None at the highest tier."""
        nt = self.doc.next_tier
        if nt is None:
            return None
        return self.t.plural("cover.next_gap", len(nt.steps), tier=self.tier_name(nt.tier))

    def breadth_note(self) -> str | None:
        """Said when the score reaches the next tier's percentage but not its breadth."""
        nt = self.doc.next_tier
        if nt is None:
            return None
        target = self.doc.tier_facts(nt.tier)
        if self.doc.percent < target.min_percent:
            return None
        return self.t("cover.breadth", tier=self.tier_name(nt.tier),
                      percent=self.t.percent(target.min_percent),
                      need=self.t.number(target.min_components),
                      total=self.t.number(len(self.doc.components)),
                      have=self.t.number(self.doc.components_met))

    def tier_range(self, tier_id: str) -> str:
        tier = self.doc.tier_facts(tier_id)
        return self.t("tiers.range", low=self.t.number(tier.min_percent),
                      high=self.t.percent(tier.max_percent))

    # -- charts ----------------------------------------------------------------------
    def _series(self, values_city, values_all, values_band, short: bool = False
                ) -> list[Series]:
        t = self.t
        band_label = (t("chart.band_short") if short else
                      t("chart.band", band=self.band(self.doc.city.population_band)))
        if self.doc.your_size.withheld:
            band_label = f"{band_label}: {self.t('common.not_shown')}"
        return [Series(t("chart.city"), COLORS["city"], values_city),
                Series(t("chart.all"), COLORS["all"], values_all),
                Series(band_label, COLORS["band"], values_band)]

    def overview_chart(self) -> Chart:
        areas = self.doc.areas
        names = [self.tx(a.name) for a in areas]
        desc = "; ".join(self._area_numbers(a) for a in areas) + "."
        return bar_chart(names, self._series([a.percent for a in areas],
                                             [a.average_all for a in areas],
                                             [a.average_band for a in areas]),
                         title=self.t("chart.overview_title"), desc=desc, width_in=7.0,
                         bar_height_in=0.1, value_label=self.t.percent,
                         # the table under the chart has the numbers: not read out twice
                         alt=f'{self.t("chart.overview_title")}. {self.t("overview.figcaption")}')

    def area_chart(self, area: AreaSection) -> Chart:
        """One bar each for the city, all applicants and (unless withheld) its size."""
        rows = [s for s in self._series([area.percent], [area.average_all],
                                        [area.average_band], short=True)
                if s.values[0] is not None]
        return bar_chart([s.label for s in rows],
                         [Series("", [s.color for s in rows], [s.values[0] for s in rows])],
                         title=self.t("chart.area_title", area=self.tx(area.name)),
                         desc=self._area_numbers(area) + ".", width_in=3.6,
                         bar_height_in=0.22, legend=False, value_label=self.t.percent)

    def _area_numbers(self, area: AreaSection) -> str:
        return self.t("chart.area_numbers", area=self.tx(area.name),
                      city=self.pct(area.percent), all=self.pct(area.average_all),
                      band=self.pct(area.average_band) if area.average_band is not None
                      else self.withheld())
