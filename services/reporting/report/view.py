"""The report in one language, as words and charts: what both renderers lay out.

Every sentence, number and label of a report is decided here, from the frozen document
and the language's strings; the HTML template (`html.py`) and the Typst template
(`pdf.py`) only place them. So the page and the PDF cannot say different things, and no
text is written twice. A view is plain data (dataclasses of strings, numbers and
charts): the PDF renderer hands it to Typst as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.reporting.report.charts import COLORS, Chart, Series, bar_chart
from services.reporting.report.document import AreaSection, CriterionLine, ReportDocument, Text
from shared.catalog import places
from shared.i18n import Translator, languages
from shared.scoring.engine import Response

STRINGS = Path(__file__).parent / "locales"  # the report's own words, <lang>.yaml


# --- the shapes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    rank: int | None  # the tier's place on the ladder; None: not certified
    heading: str
    range: str | None
    description: str | None
    gap: str | None
    breadth: str | None  # said when the percentage is reached but not the breadth


@dataclass(frozen=True)
class LadderRow:
    rank: int
    current: bool
    tier: str
    range: str
    breadth: str
    meaning: str


@dataclass(frozen=True)
class ComponentItem:
    name: str
    met: bool
    answer: str


@dataclass(frozen=True)
class Verification:
    label: str
    code: str
    at_label: str
    url: str | None


@dataclass(frozen=True)
class Cover:
    kicker: str
    doc_type: str
    city: str
    where: str
    preview: str | None
    score: str
    score_caption: str
    headline: str
    badge: Badge
    note: str | None
    ladder_caption: str
    ladder_heads: tuple[str, ...]
    you: str
    ladder: tuple[LadderRow, ...]
    components: str
    component_items: tuple[ComponentItem, ...]
    verification: Verification | None
    revision: str | None = None  # a reissue: which version, what it replaces, since when


@dataclass(frozen=True)
class FindingRow:
    criterion: str
    text: str
    finding: str  # the audited response the city appealed
    outcome_class: str  # upheld | overturned
    decision: str
    reason_name: str | None
    reason_label: str
    explanation: str


@dataclass(frozen=True)
class RevisionView:
    """The section of a reissued report that says what changed on appeal."""

    heading: str
    replaces: str
    before: str
    now: str
    caption: str
    heads: tuple[str, ...]
    rows: tuple[FindingRow, ...]


@dataclass(frozen=True)
class AreaRow:
    name: str
    cells: tuple[str, ...]  # your city, then each cohort compared (one not shown has no column)


@dataclass(frozen=True)
class Overview:
    heading: str
    intro: str
    chart: Chart
    figcaption: str
    caption: str
    heads: tuple[str, ...]
    rows: tuple[AreaRow, ...]
    total: AreaRow
    note: str | None


@dataclass(frozen=True)
class FieldLine:
    name: str
    you: str | None
    applicants: str
    average: str


@dataclass(frozen=True)
class FieldTable:
    """The regions (or population bands) that may be shown; those that may not are never
    rows: one sentence (``rest``) says how many applicants they hold together."""

    kind: str  # region | band
    caption: str
    heads: tuple[str, ...]
    rows: tuple[FieldLine, ...]
    rest: str | None


@dataclass(frozen=True)
class PlayingField:
    heading: str
    intro: str
    shown: str  # what is shown and why, said once
    map: Chart | None  # applicants' average score by region (the seed report's region map)
    map_caption: str
    tables: tuple[FieldTable, ...]  # only those with a row to show
    note: str


@dataclass(frozen=True)
class ChangeView:
    what: str
    reason_name: str
    standard_text: str
    auditor_label: str
    explanation: str
    satisfy_label: str
    satisfy: str | None


@dataclass(frozen=True)
class CriterionView:
    id: str
    text: str
    blocked: str | None  # why a YES earned no point
    met: bool
    response_class: str  # yes | in_progress | no
    response: str
    audited: str | None
    appealed: str | None  # said when an appeal overturned this criterion's finding
    share_all: str
    share_band: str
    changes: tuple[ChangeView, ...]


@dataclass(frozen=True)
class AreaView:
    id: str
    name: str
    achieved: str
    count: str
    description: str
    bench: str
    changed_note: str | None
    chart: Chart
    caption: str
    heads: tuple[str, ...]
    criteria: tuple[CriterionView, ...]


@dataclass(frozen=True)
class Entry:
    term: str
    detail: str


@dataclass(frozen=True)
class Link:
    name: str
    url: str | None


@dataclass(frozen=True)
class StepView:
    criterion: str
    area: str
    text: str
    entries: tuple[Entry, ...]
    resources_label: str | None
    resources: tuple[Link, ...]


@dataclass(frozen=True)
class ResourceView:
    name: str
    for_tier: str | None
    description: str
    url: str | None


@dataclass(frozen=True)
class NextSteps:
    heading: str
    lead: str
    ranked: str | None
    steps: tuple[StepView, ...]
    resources_heading: str
    resources: tuple[ResourceView, ...]


@dataclass(frozen=True)
class Closing:
    debrief_heading: str
    debrief_intro: str
    debrief_action: str
    debrief_url: str | None
    debrief_link: str  # the link's words on screens (paper prints the address itself)
    about_heading: str
    verification: Verification | None
    about_code_note: str | None  # said instead of a code
    about: tuple[str, ...]


@dataclass(frozen=True)
class ReportView:
    lang: str
    title: str
    description: str
    author: str
    created: str
    footer: str
    page_label: str
    of_label: str
    skip: str
    cover: Cover
    revision: RevisionView | None
    overview: Overview
    field: PlayingField
    areas: tuple[AreaView, ...]
    next: NextSteps
    closing: Closing


# --- building one -------------------------------------------------------------------------


def report_view(doc: ReportDocument, lang: str | None = None) -> ReportView:
    """The report in ``lang`` (default: the city's preferred language)."""
    lang = lang or doc.language
    if lang not in languages() or lang not in doc.languages:
        raise ValueError(f"the report is not available in {lang!r}")
    return _Words(doc, lang).view()


class _Words:
    def __init__(self, doc: ReportDocument, lang: str) -> None:
        self.doc, self.lang = doc, lang
        self.t = Translator(lang, (STRINGS,))
        self.locale = self.t.locale
        self.overturned = {f.criterion for f in doc.revision.findings if f.outcome == "overturned"} \
            if doc.revision else set()

    # -- small words -----------------------------------------------------------------
    def tx(self, text: Text) -> str:
        return text.get(self.lang) or next(iter(text.values()))

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

    def tier_name(self, tier_id: str) -> str:
        return self.tx(self.doc.tier_facts(tier_id).name)

    def tier_range(self, tier_id: str) -> str:
        tier = self.doc.tier_facts(tier_id)
        return self.t("tiers.range", low=self.t.number(tier.min_percent), high=self.t.percent(tier.max_percent))

    def verification(self) -> Verification | None:
        doc = self.doc
        if not doc.verification_code:
            return None
        return Verification(label=self.t("about.verify_code"), code=doc.verification_code,
                            at_label=self.t("about.verify_at"), url=doc.verification_url)

    # -- the whole -------------------------------------------------------------------
    def view(self) -> ReportView:
        doc, t = self.doc, self.t
        overview = self.overview()
        areas = tuple(self.area(a) for a in doc.areas)
        return ReportView(
            lang=self.lang, title=t("meta.title", city=doc.city.name, cycle=doc.cycle),
            description=self.headline(), author="What Works Cities", created=doc.rendered_at.isoformat(),
            footer=t("meta.footer", city=doc.city.name, cycle=doc.cycle), page_label=t("meta.page"),
            of_label=t("meta.of"), skip=t("meta.skip"), cover=self.cover(), revision=self.revision(),
            overview=overview,
            field=self.field(), areas=areas, next=self.next_steps(), closing=self.closing())

    def headline(self) -> str:
        doc = self.doc
        top = doc.tier is not None and doc.tier == doc.tiers[-1].id
        return self.t("cover.headline", cheer=self.t("cover.cheer_top" if top else "cover.cheer"),
                      met=self.t.number(doc.met), total=self.t.number(doc.total),
                      areas=self.t.words(len(doc.areas)))

    def next_tier_gap(self) -> str | None:
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
        return self.t("cover.breadth", tier=self.tier_name(nt.tier), percent=self.t.percent(target.min_percent),
                      need=self.t.number(target.min_components), total=self.t.number(len(self.doc.components)),
                      have=self.t.number(self.doc.components_met))

    def cover(self) -> Cover:
        doc, t = self.doc, self.t
        city = doc.city
        country = self.locale.territories.get(city.country, city.country)
        state = places.name(city.state, self.lang) if city.state else ""
        where = " · ".join([f"{state}, {country}" if state else country,
                            t("cover.population", population=t.number(city.population)),
                            t("cover.issued", date=t.date(doc.rendered_at))])
        tier_ids = [x.id for x in doc.tiers]
        if doc.tier:
            badge = Badge(rank=tier_ids.index(doc.tier), heading=t("tiers.certification", tier=self.tier_name(doc.tier)),
                          range=self.tier_range(doc.tier), description=self.tx(doc.tier_facts(doc.tier).description),
                          gap=self.next_tier_gap(), breadth=None)
            note = self.breadth_note()
        else:
            badge = Badge(rank=None, heading=t("tiers.not_certified"), range=None, description=None,
                          gap=self.next_tier_gap(), breadth=self.breadth_note())
            note = None
        total = t.number(len(doc.components))
        return Cover(
            kicker=f'{t("cover.kicker")} · {t("cover.cycle", cycle=doc.cycle)}', doc_type=t("cover.title"),
            city=city.name, where=where, preview=t("cover.preview") if doc.preview else None,
            score=t.percent(doc.percent),
            score_caption=t("cover.score_caption", met=t.number(doc.met), total=t.number(doc.total)),
            headline=self.headline(), badge=badge, note=note, ladder_caption=t("tiers.caption"),
            ladder_heads=(t("tiers.tier"), t("tiers.criteria_met"), t("tiers.breadth"), t("tiers.meaning")),
            you=t("tiers.yours"),
            ladder=tuple(LadderRow(rank=i, current=tier.id == doc.tier, tier=self.tx(tier.name),
                                   range=self.tier_range(tier.id),
                                   breadth=t("tiers.breadth_value", need=t.number(tier.min_components), total=total),
                                   meaning=self.tx(tier.description)) for i, tier in enumerate(doc.tiers)),
            components=t("tiers.components", have=t.number(doc.components_met), total=total),
            component_items=tuple(ComponentItem(name=self.tx(c.name), met=c.met,
                                                answer=t("common.yes") if c.met else t("common.no"))
                                  for c in doc.components),
            verification=self.verification(), revision=self.revision_note())

    # -- a reissue after an appeal ------------------------------------------------------
    def tier_or_none(self, tier_id: str | None) -> str:
        return self.tier_name(tier_id) if tier_id else self.t("tiers.not_certified")

    def revision_note(self) -> str | None:
        r = self.doc.revision
        if r is None:
            return None
        return self.t("appeal.replaces", version=self.t.number(r.version), old=self.t.number(r.replaces_version),
                      issued=self.t.date(r.replaces_issued_at), decided=self.t.date(r.decided_at))

    def revision(self) -> RevisionView | None:
        doc, t, r = self.doc, self.t, self.doc.revision
        if r is None:
            return None
        rows = []
        for f in r.findings:
            decision = (t("appeal.overturned", new=self.response(f.after)) if f.outcome == "overturned"
                        else t("appeal.upheld", old=self.response(f.before)))
            rows.append(FindingRow(
                criterion=f.criterion, text=self.tx(f.text), finding=self.response(f.before),
                outcome_class=f.outcome, decision=decision,
                reason_name=self.tx(f.reason_name) if f.reason_name else None, reason_label=t("appeal.why"),
                explanation=f.explanation))
        return RevisionView(
            heading=t("appeal.heading"), replaces=self.revision_note() or "",
            before=t("appeal.before", tier=self.tier_or_none(r.previous_tier), percent=t.percent(r.previous_percent)),
            now=t("appeal.now", tier=self.tier_or_none(doc.tier), percent=t.percent(doc.percent)),
            caption=t("appeal.caption"),
            heads=(t("area.id"), t("area.criterion"), t("appeal.finding"), t("appeal.decision")),
            rows=tuple(rows))

    # -- overview and playing field ---------------------------------------------------
    def _series(self, city, everyone, band, short: bool = False) -> list[Series]:
        t = self.t
        label = t("chart.band_short") if short else t("chart.band", band=self.band(self.doc.city.population_band))
        return [Series(t("chart.city"), COLORS["city"], city), Series(t("chart.all"), COLORS["all"], everyone),
                Series(label, COLORS["band"], band)]

    def _area_numbers(self, area: AreaSection) -> str:
        return self.t("chart.area_numbers", area=self.tx(area.name), city=self.pct(area.percent),
                      all=self.pct(area.average_all),
                      band=self.pct(area.average_band) if area.average_band is not None else self.withheld())

    def overview(self) -> Overview:
        doc, t = self.doc, self.t
        areas = doc.areas
        # The intro and the title name only the comparisons the chart draws.
        compared = "band" if not doc.your_size.withheld else "all" if not doc.all_cities.withheld else "alone"
        title = t(f"chart.overview_title_{compared}")
        chart = bar_chart(
            [self.tx(a.name) for a in areas],
            self._series([a.percent for a in areas], [a.average_all for a in areas], [a.average_band for a in areas]),
            title=title, desc="; ".join(self._area_numbers(a) for a in areas) + ".", width_in=7.0,
            bar_height_in=0.1, value_label=t.percent,
            # the table under the chart has the numbers: not read out twice
            alt=f'{title}. {t("overview.figcaption")}')
        withheld = doc.your_size.withheld or doc.all_cities.withheld or any(a.average_all is None for a in areas)
        # A column for each cohort shown: a withheld one would be a column of "not shown".
        cohorts = [(t("chart.all"), doc.all_cities, "average_all")] if not doc.all_cities.withheld else []
        if not doc.your_size.withheld:
            cohorts.append((t("chart.band", band=self.band(doc.city.population_band)), doc.your_size, "average_band"))
        return Overview(
            heading=t("overview.heading"),
            intro=t(f"overview.intro_{compared}"),
            chart=chart, figcaption=t("overview.figcaption"), caption=t("overview.table_caption"),
            heads=(t("common.area"), t("chart.city"), *(head for head, _, _ in cohorts)),
            rows=tuple(AreaRow(name=self.tx(a.name), cells=(self.pct(a.percent),
                                                            *(self.pct(getattr(a, key)) for _, _, key in cohorts)))
                       for a in areas),
            total=AreaRow(name=t("overview.overall"), cells=(t.percent(doc.percent),
                                                             *(self.pct(c.average_percent) for _, c, _ in cohorts))),
            note=t("field.note", count=t.words(doc.min_cohort)) if withheld else None)

    def field(self) -> PlayingField:
        doc, t = self.doc, self.t
        everyone = doc.all_cities
        intro = []
        if doc.applied is not None:
            # The dashboard's count, by its definition; a handful of applicants is not shown.
            intro.append(t.plural("field.applied", doc.applied, cycle=doc.cycle, date=t.date(doc.rendered_at))
                         if doc.applied >= doc.min_cohort else
                         t("field.applied_few", count=t.words(doc.min_cohort), cycle=doc.cycle,
                           date=t.date(doc.rendered_at)))
        min_words = t.words(doc.min_cohort)
        if everyone.withheld:
            shown = t("field.shown_none", count=min_words, cycle=doc.cycle)
        else:
            intro.append(t.plural("field.scored", everyone.applicants, cycle=doc.cycle,
                                  average=t.percent(everyone.average_percent)))
            shown = t.plural("field.shown", everyone.applicants, min=min_words)
        tables = []
        if not everyone.withheld:
            for kind, cells in (("region", doc.regions), ("band", doc.bands)):
                visible = [r for r in cells if not r.cohort.withheld]
                # The withheld cells (and, for regions, the cities outside the eight) together:
                # publish keeps that residual at 0 or at least min_cohort cities.
                rest = everyone.applicants - sum(r.cohort.applicants for r in visible)
                lines = tuple(FieldLine(
                    name=self.region(r.id) if kind == "region" else self.band(r.id),
                    you=t(f"field.yours_{kind}") if r.yours else None,
                    applicants=t.number(r.cohort.applicants), average=t.percent(r.cohort.average_percent))
                    for r in visible)
                rest_text = (t.plural(f"field.rest_{kind}", rest) if visible else
                             t(f"field.none_{kind}", count=min_words)) if rest > 0 else None
                tables.append(FieldTable(kind=kind, caption=t(f"field.{kind}_caption"),
                                         heads=(t(f"field.{kind}"), t("field.applicants"), t("field.average")),
                                         rows=lines, rest=rest_text))
        return PlayingField(heading=t("field.heading"), intro=" ".join(intro), shown=shown,
                            map=self.region_map(), map_caption=t("field.map_caption"), tables=tuple(tables),
                            note=t("field.note", count=min_words))

    def region_map(self) -> Chart | None:
        """Where applicants come from: a bar per region that may be shown, labelled with its
        applicants, its length the region's average score (decisions: a labelled chart,
        not a drawn map). None when no region may be shown."""
        doc, t = self.doc, self.t
        shown = [r for r in doc.regions if not r.cohort.withheld] if not doc.all_cities.withheld else []
        if not shown:
            return None
        # Your region is named in words as well as in colour.
        labels = [t.plural("field.map_label", r.cohort.applicants, region=self.region(r.id))
                  + (f' · {t("field.yours_region")}' if r.yours else "") for r in shown]
        title = t("field.map_title")
        return bar_chart(
            labels, [Series(t("field.average"), [COLORS["city"] if r.yours else COLORS["all"] for r in shown],
                            [r.cohort.average_percent for r in shown])],
            title=title, desc="; ".join(t.plural("field.map_numbers", r.cohort.applicants, region=self.region(r.id),
                                                 average=t.percent(r.cohort.average_percent)) for r in shown) + ".",
            width_in=7.0, bar_height_in=0.22, legend=False, value_label=t.percent,
            # the table under the chart has the numbers: not read out twice
            alt=f'{title}. {t("field.map_caption")}')

    # -- practice areas ----------------------------------------------------------------
    def area(self, area: AreaSection) -> AreaView:
        t = self.t
        name = self.tx(area.name)
        bench_all = (t("area.bench_all", percent=t.percent(area.average_all), area=name)
                     if area.average_all is not None else t("area.bench_all_withheld", withheld=self.withheld()))
        bench_band = (t("area.bench_band", percent=t.percent(area.average_band), area=name)
                      if area.average_band is not None else t("area.bench_band_withheld", withheld=self.withheld()))
        # One bar each for the city, all applicants and (unless withheld) its size.
        rows = [s for s in self._series([area.percent], [area.average_all], [area.average_band], short=True)
                if s.values[0] is not None]
        chart = bar_chart([s.label for s in rows], [Series("", [s.color for s in rows], [s.values[0] for s in rows])],
                          title=t("chart.area_title", area=name), desc=self._area_numbers(area) + ".", width_in=3.6,
                          bar_height_in=0.22, legend=False, value_label=t.percent)
        return AreaView(
            id=area.id, name=name, achieved=t("area.achieved", percent=t.percent(area.percent), area=name),
            count=t("area.count", met=t.number(area.met), total=t.number(area.total)),
            description=self.tx(area.description), bench=f"{bench_all} {bench_band}",
            changed_note=t("change.note") if any(c.changes for c in area.criteria) else None, chart=chart,
            caption=t("area.table_caption", area=name),
            heads=(t("area.id"), t("area.criterion"), t("area.final"), t("area.share_all"), t("area.share_band")),
            criteria=tuple(self.criterion(c) for c in area.criteria))

    def criterion(self, c: CriterionLine) -> CriterionView:
        t = self.t
        return CriterionView(
            id=c.id, text=self.tx(c.text),
            blocked=t("area.prerequisite", ids=", ".join(c.missing_prerequisites))
            if c.response == Response.YES and not c.met else None,
            met=c.met, response_class=c.response.value.lower(), response=self.response(c.response),
            audited=t("area.audited") if c.changes else None,
            appealed=t("appeal.tag") if c.id in self.overturned else None, share_all=self.pct(c.share_all),
            share_band=self.pct(c.share_band),
            changes=tuple(ChangeView(
                what=t("change.changed", old=self.response(ch.from_response), new=self.response(ch.to_response)),
                reason_name=self.tx(ch.reason_name), standard_text=self.tx(ch.standard_text),
                auditor_label=t("change.auditor"), explanation=ch.reason, satisfy_label=t("change.satisfy"),
                satisfy=ch.what_would_satisfy) for ch in c.changes))

    # -- next steps and closing --------------------------------------------------------
    def next_steps(self) -> NextSteps:
        doc, t = self.doc, self.t
        nt = doc.next_tier
        steps: tuple[StepView, ...] = ()
        if nt:
            lead = t.plural("next.intro", len(nt.steps), tier=self.tier_name(nt.tier), percent=t.percent(nt.percent_after))
            ranked = t(f"next.ranked_{nt.ranked_by}")
            if nt.unlocked:
                ranked += " " + t("next.unlocked", ids=", ".join(nt.unlocked))
            views = []
            for s in nt.steps:
                if s.share_band is not None:
                    adoption = t("next.adoption_band", percent=t.percent(s.share_band))
                elif s.share_all is not None:
                    adoption = t("next.adoption_all", percent=t.percent(s.share_all))
                else:
                    adoption = self.withheld()
                entries = [Entry(t("next.current"), self.response(s.response)), Entry(t("next.adoption"), adoption)]
                entries += [Entry(t("change.satisfy"), w) for w in s.what_would_satisfy]
                links = tuple(Link(self.tx(doc.resource(r).name), doc.resource(r).url) for r in s.resources)
                views.append(StepView(criterion=s.criterion, area=self.tx(doc.area(s.area).name), text=self.tx(s.text),
                                      entries=tuple(entries), resources_label=t("next.resources") if links else None,
                                      resources=links))
            steps = tuple(views)
        else:
            lead, ranked = t("next.top", tier=self.tier_name(doc.tier)), None
        return NextSteps(
            heading=t("next.heading"), lead=lead, ranked=ranked, steps=steps,
            resources_heading=t("next.resources_heading"),
            resources=tuple(ResourceView(name=self.tx(r.name),
                                         for_tier=t("next.for_tier") if r.id in doc.tier_resources else None,
                                         description=self.tx(r.description), url=r.url) for r in doc.resources))

    def closing(self) -> Closing:
        doc, t = self.doc, self.t
        if doc.verification_code:
            code_note = None
        else:
            code_note = t("about.preview") if doc.preview else t("about.no_code")
        return Closing(
            debrief_heading=t("debrief.heading"), debrief_intro=t("debrief.intro"),
            debrief_action=t("debrief.book") if doc.debrief_url else t("debrief.ask"), debrief_url=doc.debrief_url,
            debrief_link=t("debrief.link"),
            about_heading=t("about.heading"), verification=self.verification(), about_code_note=code_note,
            about=(t("about.scoring", total=t.number(doc.total)),
                   t("about.benchmarks", cycle=doc.cycle, count=t.words(doc.min_cohort)),
                   t("about.catalog", version=doc.catalog_version, date=t.date(doc.rendered_at)),
                   *((t("about.trail", seq=t.number(cp.seq), head=cp.head, date=t.date(cp.at)),)
                     if (cp := doc.trail_checkpoint) else ())))
