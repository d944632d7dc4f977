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

And from every completed case, the decision-change rate: the share of criteria whose
audited response differs from the submitted one (per criterion, area and auditor).
Appeals do not exist yet: their overturn rate is kept as `None` ("no appeals yet").

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
    alpha: float | None = None
    alpha_ci: Interval | None = None
    decided: int = 0  # audited criteria of completed cases
    changed: int = 0
    change_rate: float | None = None
    appeals: int = 0
    appeal_overturn_rate: float | None = None  # no appeals yet
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


def _interval(per_case: np.ndarray, statistic, resamples: int, seed: int) -> Interval | None:
    """The 95% percentile interval of `statistic` over resamples of the cases."""
    if len(per_case) < 2:
        return None
    from scipy.stats import bootstrap

    def over(idx: np.ndarray, axis: int = -1) -> np.ndarray:
        return statistic(per_case[idx.astype(int)].sum(axis=-3))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a degenerate sample (every resample alike) is said as it is
        res = bootstrap((np.arange(len(per_case)),), over, n_resamples=resamples, vectorized=True,
                        method="percentile", confidence_level=0.95, rng=np.random.default_rng(seed))
    dist = np.asarray(res.bootstrap_distribution)
    dist = dist[np.isfinite(dist)]
    if dist.size == 0:
        return None
    low, high = np.percentile(dist, [2.5, 97.5])
    return Interval(round(float(low), 4), round(float(high), 4))


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
        row.kappa_ci = _interval(per_case, kappa_of, resamples, seed)
        row.alpha_ci = _interval(per_case, alpha_of, resamples, seed)


def _change_row(row: Row, audited: list[Audited]) -> None:
    row.decided = len(audited)
    row.changed = sum(a.audited != a.submitted for a in audited)
    row.change_rate = _round(row.changed / row.decided) if audited else None


def measure(pairs: Sequence[Pair], audited: Sequence[Audited], *, threshold: float, resamples: int = 1000,
            seed: int = 21) -> Report:
    """Every group's agreement and change rate; criteria (and other groups) whose kappa is
    below `threshold` are flagged."""
    groups: dict[tuple[str, str], tuple[list[Pair], list[Audited]]] = defaultdict(lambda: ([], []))
    for p in pairs:
        for key in (("overall", ""), ("area", p.area), ("criterion", p.criterion), ("auditor", p.first_auditor),
                    ("auditor", p.second_auditor)):
            groups[key][0].append(p)
    for a in audited:  # a review confirmed automatically has no auditor
        for key in (("overall", ""), ("area", a.area), ("criterion", a.criterion), ("auditor", a.auditor)):
            if key[0] != "auditor" or key[1]:
                groups[key][1].append(a)
    report = Report(threshold=threshold, resamples=resamples, seed=seed,
                    cases=len({p.case_id for p in pairs}))
    for (scope, key), (ps, aus) in sorted(groups.items(), key=lambda kv: (SCOPES.index(kv[0][0]), kv[0][1])):
        row = Row(scope=scope, key=key)
        _agreement_row(row, ps, resamples, seed)
        _change_row(row, aus)
        row.flagged = row.kappa is not None and row.kappa < threshold
        report.rows.append(row)
    return report


# --- export -----------------------------------------------------------------------------------

CSV_COLUMNS = ("scope", "key", "cases", "pairs", "agreement", "kappa", "kappa_low", "kappa_high", "alpha",
               "alpha_low", "alpha_high", "decided", "changed", "change_rate", "appeals", "appeal_overturn_rate",
               "flagged")


def csv_rows(report: Report) -> list[list[str]]:
    """The report as CSV rows (header first); undefined figures are empty cells."""
    def cell(x) -> str:
        return "" if x is None else str(x).lower() if isinstance(x, bool) else str(x)

    out = [list(CSV_COLUMNS)]
    for r in report.rows:
        out.append([cell(v) for v in (
            r.scope, r.key, r.cases, r.pairs, r.agreement, r.kappa, r.kappa_ci and r.kappa_ci.low,
            r.kappa_ci and r.kappa_ci.high, r.alpha, r.alpha_ci and r.alpha_ci.low, r.alpha_ci and r.alpha_ci.high,
            r.decided, r.changed, r.change_rate, r.appeals, r.appeal_overturn_rate, r.flagged)])
    return out
