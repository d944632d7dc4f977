"""The trail's sentences quote a criterion's title without its closing period, so the
sentence goes on: 'changed DG1 “… more discoverable and accessible” from Yes to In
progress.', never '…accessible. from Yes to In progress.', in each language."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from services.audit.console.console import AUDIT
from services.audit.console.trail_text import Words, criterion_title, describe
from shared.catalog.loader import load_catalog
from shared.web.pages import format_datetime

CATALOG = load_catalog("wwc-2019")


def record(action: str, after: dict) -> SimpleNamespace:
    return SimpleNamespace(seq=1, at=datetime(2026, 12, 6, tzinfo=UTC), actor_role="auditor", actor_id="ana",
                           action=action, before={}, after=after, reason=None, hash="")


def words(lang: str) -> Words:
    return Words(t=AUDIT.translator(lang), names={"ana": "Ana Ramos"}, catalog=CATALOG, fmt_dt=format_datetime)


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "changed DG1 “{title}” from Yes to In progress."),
    ("es", "cambió DG1 «{title}» de Sí a En curso."),
    ("pt", "alterou DG1 “{title}” de Sim para Em andamento."),
])
def test_a_changed_decision_reads_as_one_sentence(lang, expected):
    title = CATALOG.text(CATALOG.criterion("DG1"), lang).strip()
    assert title.endswith(".")  # the catalog's titles are sentences; the trail quotes them
    line = describe(record("decision.saved", {"criterion": "DG1", "submitted": "YES", "response": "IN_PROGRESS"}),
                    words(lang))
    assert line.what == expected.format(title=title[:-1])
    assert not re.search(r"\.[»”] ", line.what) and ". " not in line.what.removesuffix(".")


@pytest.mark.parametrize("lang", ["en", "es", "pt"])
def test_every_criterion_is_quoted_without_its_period(lang):
    for criterion in CATALOG.criteria:
        title = criterion_title(CATALOG, criterion.id, lang)
        assert title and not title.endswith("."), criterion.id
        sentence = describe(record("decision.reconfirmed", {"criterion": criterion.id, "response": "YES"}),
                            words(lang)).what
        assert f"{title}»" in sentence or f"{title}”" in sentence


def test_an_unknown_criterion_is_named_by_its_id():
    line = describe(record("decision.saved", {"criterion": "ZZ9", "submitted": "YES", "response": "NO"}), words("en"))
    assert line.what == "changed ZZ9 from Yes to No."
