"""Reviewer consistency, measured on the double-review sample (pure: no I/O).

For every group — all criteria together, each area, each criterion, each auditor — from
the pairs of responses (first review, blind second review) of the double-reviewed cases:

- observed agreement (the share of pairs with the same response);
- Cohen's kappa for the two raters (scikit-learn's `cohen_kappa_score`);
- Krippendorff's alpha, nominal, across all auditors (the `krippendorff` package);
- 95% bootstrap confidence intervals of both (`scipy.stats.bootstrap`, percentile method),
  resampling cases (not pairs: a case's criteria are judged together), from a fixed seed.
  Each resample's statistic is computed in closed form from the cases' confusion counts
  (vectorised: a thousand resamples of sixty groups in well under a second); it equals the
  libraries' figures on the same data, which `tests/unit/test_calibration.py` checks.
  A resample can be degenerate: every response in it one and the same (say, the only
  resampled cases are unanimous YES), where kappa and alpha are undefined. Those resamples
  are counted (`kappa_degenerate`, `alpha_degenerate`), never silently dropped: the interval
  is the percentile range of the defined resamples, and none is given when more than
  `MAX_DEGENERATE_SHARE` of them are degenerate (the defined ones would then describe a
  biased part of the resamples: the unanimous ones are missing). docs/DECISIONS.md.

Per auditor, a pair counts for each of its two reviewers, whichever role they had: the
auditor's figures are over every double-reviewed criterion they judged, first or second
(`as_first`, `as_second` say how many of each), with each pair read as (this auditor's
response, the other reviewer's response) — so the auditor's kappa compares their own
responses with their colleagues', not the first role's with the second's. An auditor's
decision-change rate is over the completed cases they reviewed (first role: the second
review does not decide what the city gets).

And from every completed case, the decision-change rate: the share of criteria whose
audited response differs from the submitted one (per criterion, area and auditor).
And from every decided appeal, the overturn rate: the share of appealed criteria that the
independent appeal decision overturned (per criterion, area and the auditor whose review
was appealed); `None` where nothing was appealed.

A figure is `None` where it is undefined: kappa and alpha when every response in the
group is one and the same (chance agreement is then certain), rates without data.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

# scipy, scikit-learn and krippendorff are imported where used: scipy.stats and sklearn take
# seconds to import, which every start of the audit service would otherwise pay.

# The responses, as the categories of both statistics (nominal: no order assumed).
CATEGORIES = ("NO", "IN_PROGRESS", "YES")
_INDEX = {c: i for i, c in enumerate(CATEGORIES)}
SCOPES = ("overall", "area", "criterion", "auditor")
# Above this share of degenerate resamples no interval is given (module docstring).
MAX_DEGENERATE_SHARE = 0.05


@dataclass(frozen=True)
class Pair:
    """One criterion of one double-reviewed case: both reviewers' responses."""

    case_id: str
    criterion: str
    area: str
    first_auditor: str
    second_auditor: str
    first: str
    second: str


@dataclass(frozen=True)
class Audited:
    """One criterion of one completed case: submitted and audited responses."""

    case_id: str
    criterion: str
    area: str
    auditor: str
    submitted: str
    audited: str


@dataclass(frozen=True)
class Appealed:
    """One criterion of a decided appeal: whose review it contested, and whether it was overturned."""

    case_id: str
    criterion: str
    area: str
    auditor: str  # the reviewer of the appealed case
    overturned: bool


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass
class Row:
    scope: str  # overall | area | criterion | auditor
    key: str  # "" for overall; the area, criterion or auditor id
    cases: int = 0  # double-reviewed cases in the group
    pairs: int = 0
    agreement: float | None = None
    kappa: float | None = None
    kappa_ci: Interval | None = None
    kappa_degenerate: int = 0  # bootstrap resamples where kappa is undefined
    alpha: float | None = None
    alpha_ci: Interval | None = None
    alpha_degenerate: int = 0
    as_first: int = 0  # auditor rows: pairs in which the auditor was the first reviewer
    as_second: int = 0  # ... and the second reviewer
    decided: int = 0  # audited criteria of completed cases
    changed: int = 0
    change_rate: float | None = None
    appeals: int = 0
    appeal_overturn_rate: float | None = None  # None: nothing appealed in the group
    flagged: bool = False


@dataclass
class Report:
    threshold: float
    resamples: int
    seed: int
    cases: int  # double-reviewed cases in the sample
    rows: list[Row] = field(default_factory=list)

    def of(self, scope: str) -> list[Row]:
        return [r for r in self.rows if r.scope == scope]

    @property
    def flagged(self) -> list[Row]:
        return [r for r in self.rows if r.scope == "criterion" and r.flagged]


# --- the statistics ---------------------------------------------------------------------------


def _defined(first: Sequence[str], second: Sequence[str]) -> bool:
    """Kappa and alpha need pairs and more than one response among them."""
    return bool(first) and len(set(first) | set(second)) > 1


def kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Cohen's kappa of the two reviewers (scikit-learn)."""
    if not _defined(first, second):
        return None
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score(list(first), list(second), labels=list(CATEGORIES)))


def alpha(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Krippendorff's alpha, nominal (the `krippendorff` package): each pair is a unit
    with two values, whoever gave them."""
    if not _defined(first, second):
        return None
    import krippendorff

    counts = np.zeros((len(first), len(CATEGORIES)), dtype=int)
    for row, (a, b) in enumerate(zip(first, second, strict=True)):
        counts[row, _INDEX[a]] += 1
        counts[row, _INDEX[b]] += 1
    return float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))


def confusion(first: Iterable[str], second: Iterable[str]) -> np.ndarray:
    m = np.zeros((len(CATEGORIES), len(CATEGORIES)))
    for a, b in zip(first, second, strict=True):
        m[_INDEX[a], _INDEX[b]] += 1
    return m


def kappa_of(m: np.ndarray) -> np.ndarray:
    """Cohen's kappa from confusion counts (…, k, k), vectorised over leading axes."""
    n = m.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        p_o = np.trace(m, axis1=-2, axis2=-1) / n
        p_e = (m.sum(axis=-1) * m.sum(axis=-2)).sum(axis=-1) / n**2
        return np.where(p_e < 1, (p_o - p_e) / (1 - p_e), np.nan)


def alpha_of(m: np.ndarray) -> np.ndarray:
    """Krippendorff's nominal alpha from confusion counts of two values per unit: the
    coincidence matrix is m + mᵀ; alpha = 1 - (n-1)·(n - trace) / (n² - Σ n_c²)."""
    o = m + np.swapaxes(m, -2, -1)
    n_c = o.sum(axis=-1)
    n = n_c.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = n**2 - (n_c**2).sum(axis=-1)
        return np.where(expected > 0, 1 - (n - 1) * (n - np.trace(o, axis1=-2, axis2=-1)) / expected, np.nan)


def _interval(per_case: np.ndarray, statistic, resamples: int, seed: int) -> tuple[Interval | None, int]:
    """The 95% percentile interval of `statistic` over resamples of the cases, and how
    many resamples were degenerate (the statistic undefined in them)."""
    if len(per_case) < 2:
        return None, 0
    from scipy.stats import bootstrap

    def over(idx: np.ndarray, axis: int = -1) -> np.ndarray:
        return statistic(per_case[idx.astype(int)].sum(axis=-3))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns of the degenerate resamples: counted below
        res = bootstrap((np.arange(len(per_case)),), over, n_resamples=resamples, vectorized=True,
                        method="percentile", confidence_level=0.95, rng=np.random.default_rng(seed))
    dist = np.asarray(res.bootstrap_distribution)
    defined = dist[np.isfinite(dist)]
    degenerate = int(dist.size - defined.size)
    if defined.size == 0 or degenerate > MAX_DEGENERATE_SHARE * dist.size:
        return None, degenerate
    low, high = np.percentile(defined, [2.5, 97.5])
    return Interval(round(float(low), 4), round(float(high), 4)), degenerate


def _round(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def _agreement_row(row: Row, pairs: list[Pair], resamples: int, seed: int) -> None:
    first, second = [p.first for p in pairs], [p.second for p in pairs]
    by_case: dict[str, list[Pair]] = defaultdict(list)
    for p in pairs:
        by_case[p.case_id].append(p)
    row.cases, row.pairs = len(by_case), len(pairs)
    if not pairs:
        return
    row.agreement = _round(sum(a == b for a, b in zip(first, second, strict=True)) / len(pairs))
    row.kappa, row.alpha = _round(kappa(first, second)), _round(alpha(first, second))
    if row.kappa is not None:
        per_case = np.stack([confusion([p.first for p in ps], [p.second for p in ps])
                             for _, ps in sorted(by_case.items())])
        row.kappa_ci, row.kappa_degenerate = _interval(per_case, kappa_of, resamples, seed)
        row.alpha_ci, row.alpha_degenerate = _interval(per_case, alpha_of, resamples, seed)


def _change_row(row: Row, audited: list[Audited]) -> None:
    row.decided = len(audited)
    row.changed = sum(a.audited != a.submitted for a in audited)
    row.change_rate = _round(row.changed / row.decided) if audited else None


def _appeal_row(row: Row, appealed: list[Appealed]) -> None:
    row.appeals = len(appealed)
    row.appeal_overturn_rate = _round(sum(a.overturned for a in appealed) / len(appealed)) if appealed else None


def seen_by(p: Pair, auditor: str) -> Pair:
    """The pair as `auditor` took part in it: their response first, the other reviewer's second."""
    if p.first_auditor == auditor:
        return p
    return Pair(p.case_id, p.criterion, p.area, auditor, p.first_auditor, p.second, p.first)


def measure(pairs: Sequence[Pair], audited: Sequence[Audited], appealed: Sequence[Appealed] = (), *,
            threshold: float, resamples: int = 1000, seed: int = 21) -> Report:
    """Every group's agreement, change rate and appeal overturn rate; criteria (and other
    groups) whose kappa is below `threshold` are flagged."""
    groups: dict[tuple[str, str], tuple[list[Pair], list[Audited], list[Appealed]]] = \
        defaultdict(lambda: ([], [], []))
    for p in pairs:
        for key in (("overall", ""), ("area", p.area), ("criterion", p.criterion)):
            groups[key][0].append(p)
        for auditor in dict.fromkeys((p.first_auditor, p.second_auditor)):
            if auditor:
                groups[("auditor", auditor)][0].append(seen_by(p, auditor))
    for a in audited:  # a review confirmed automatically has no auditor
        for key in (("overall", ""), ("area", a.area), ("criterion", a.criterion), ("auditor", a.auditor)):
            if key[0] != "auditor" or key[1]:
                groups[key][1].append(a)
    for a in appealed:
        for key in (("overall", ""), ("area", a.area), ("criterion", a.criterion), ("auditor", a.auditor)):
            if key[0] != "auditor" or key[1]:
                groups[key][2].append(a)
    report = Report(threshold=threshold, resamples=resamples, seed=seed,
                    cases=len({p.case_id for p in pairs}))
    for (scope, key), (ps, aus, aps) in sorted(groups.items(), key=lambda kv: (SCOPES.index(kv[0][0]), kv[0][1])):
        row = Row(scope=scope, key=key)
        _agreement_row(row, ps, resamples, seed)
        _change_row(row, aus)
        _appeal_row(row, aps)
        if scope == "auditor":
            row.as_first = sum(p.first_auditor == key for p in pairs)
            row.as_second = sum(p.second_auditor == key for p in pairs)
        row.flagged = row.kappa is not None and row.kappa < threshold
        report.rows.append(row)
    return report


# --- export -----------------------------------------------------------------------------------

# Every CSV column and what it means, in the CSV's order (new columns go at the end: a
# reader of the older export keeps its columns where they were). The API's field
# descriptions and the page's legend say the same; `calibration-columns.csv` is this table.
COLUMNS: dict[str, str] = {
    "scope": "the kind of group: overall, area, criterion or auditor",
    "key": "the area, criterion or auditor id (empty for overall)",
    "cases": "double-reviewed cases in the group (for an auditor: the cases they reviewed, first or second)",
    "pairs": "criteria judged by both reviewers in the group (for an auditor: every pair they took part in, "
             "whichever role)",
    "agreement": "share of the pairs where both reviewers gave the same response (0 to 1)",
    "kappa": "Cohen's kappa of the two reviewers (for an auditor: their responses against the other reviewer's); "
             "empty when undefined (every response the same)",
    "kappa_low": "lower end of the 95% bootstrap interval of kappa (cases resampled); empty when not given",
    "kappa_high": "upper end of that interval",
    "alpha": "Krippendorff's alpha, nominal, across all auditors; empty when undefined",
    "alpha_low": "lower end of the 95% bootstrap interval of alpha",
    "alpha_high": "upper end of that interval",
    "decided": "audited criteria of completed cases (for an auditor: of the cases they reviewed first)",
    "changed": "of those, the criteria whose audited response differs from the submitted one",
    "change_rate": "changed / decided",
    "appeals": "criteria appealed and decided in the group (for an auditor: of the cases they reviewed first)",
    "appeal_overturn_rate": "share of those the appeal's independent decision overturned; empty without appeals",
    "flagged": "true when kappa is below the programme's agreement threshold",
    "kappa_degenerate": "bootstrap resamples in which kappa was undefined (every response the same); the interval is "
                        "over the others, and not given when they exceed 5% of the resamples",
    "alpha_degenerate": "bootstrap resamples in which alpha was undefined",
    "as_first": "auditor rows: the pairs in which the auditor was the first reviewer (empty for other groups)",
    "as_second": "auditor rows: the pairs in which the auditor was the blind second reviewer",
}
CSV_COLUMNS = tuple(COLUMNS)


def csv_rows(report: Report) -> list[list[str]]:
    """The report as CSV rows (header first); undefined figures are empty cells."""
    def cell(x) -> str:
        return "" if x is None else str(x).lower() if isinstance(x, bool) else str(x)

    out = [list(CSV_COLUMNS)]
    for r in report.rows:
        out.append([cell(v) for v in (
            r.scope, r.key, r.cases, r.pairs, r.agreement, r.kappa, r.kappa_ci and r.kappa_ci.low,
            r.kappa_ci and r.kappa_ci.high, r.alpha, r.alpha_ci and r.alpha_ci.low, r.alpha_ci and r.alpha_ci.high,
            r.decided, r.changed, r.change_rate, r.appeals, r.appeal_overturn_rate, r.flagged, r.kappa_degenerate,
            r.alpha_degenerate, r.as_first if r.scope == "auditor" else None,
            r.as_second if r.scope == "auditor" else None)])
    return out


def column_rows() -> list[list[str]]:
    """What each CSV column means, as CSV rows (header first)."""
    return [["column", "meaning"], *([k, v] for k, v in COLUMNS.items())]
