"""The operator console's strings: the same keys and placeholders in English, Spanish and
Portuguese, every key its pages use present, and a translation for everything a
certification can wait for and every way a debrief can end."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.reporting.console.operator.console import OPERATOR
from services.reporting.operations.timeline import _LINES
from certification.activities import Activities
from shared.contracts.vocabulary import DebriefEnding, Stage, WaitingFor
from shared.i18n import languages, load_file
from tests.i18n_keys import keys_used, placeholders

CONSOLE = Path(__file__).resolve().parents[2] / "services" / "reporting" / "console" / "operator"
SOURCES = [*sorted(CONSOLE.glob("*.py")), *sorted((CONSOLE / "templates").glob("*.html"))]



@pytest.mark.parametrize("lang", [lang for lang in languages() if lang != "en"])
def test_every_language_has_the_same_keys_and_placeholders(lang):
    english = load_file(CONSOLE / "locales" / "en.yaml")
    other = load_file(CONSOLE / "locales" / f"{lang}.yaml")
    assert sorted(set(english) ^ set(other)) == []
    assert {k: placeholders(v) for k, v in english.items()} == {k: placeholders(v) for k, v in other.items()}


@pytest.mark.parametrize("lang", languages())
def test_every_key_the_console_uses_exists(lang):
    t = OPERATOR.translator(lang)
    used = keys_used(SOURCES)
    used |= {f"waiting.{w.name.lower()}" for w in WaitingFor} | {"waiting.failed_step"}
    used |= {f"outcomes.{o.value}" for o in DebriefEnding}
    plural = {"review_completed"}  # one/other forms
    used |= {f"timeline.{key}" + (".other" if key in plural else "") for key, _, _ in _LINES.values()}
    used |= {f"nav.{item.key}" for item in OPERATOR.nav}
    # Every stage (the appeal's too) by name, the appeal's lines, and every step by what it does.
    used |= {f"stages.{s.value}" for s in Stage}
    used |= {f"timeline.{key}" for key in ("appeal_filed", "appeal_opened", "appeal_due_soon", "appeal_overdue",
                                           "appeal_decided", "appeal_event", "rescored", "report_reissued")}
    used |= {f"steps.{spec.name}" for spec in Activities.all()}
    missing = sorted(key for key in used if key[-1] not in "._" and not t.has(key))
    assert missing == []
