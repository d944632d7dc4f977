"""The auditor console's strings: the same keys and placeholders in English, Spanish and
Portuguese, every key the console uses present, and a message for every error code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.audit.console import AUDIT
from services.audit.domain import AgendaReason, CaseState
from services.audit.problems import ERRORS
from shared.catalog.geography import REGIONS
from shared.i18n import languages, load_file
from shared.web.problems import COMMON_ERRORS
from tests.i18n_keys import keys_used, placeholders

CONSOLE = Path(__file__).resolve().parents[2] / "services" / "audit" / "console"
SOURCES = [*sorted(CONSOLE.glob("*.py")), *sorted((CONSOLE / "templates").glob("*.html"))]



def test_every_language_has_the_same_keys_and_placeholders():
    english = load_file(CONSOLE / "locales" / "en.yaml")
    for lang in languages():
        strings = load_file(CONSOLE / "locales" / f"{lang}.yaml")
        assert set(strings) == set(english), f"{lang}: {set(strings) ^ set(english)}"
        for key, text in strings.items():
            assert placeholders(text) == placeholders(english[key]), f"{lang}:{key}"


def test_every_key_the_console_uses_exists():
    t = AUDIT.translator("en")
    used = keys_used(SOURCES)
    for source in SOURCES:
        text = source.read_text(encoding="utf-8")
        used |= {f"flash.{done}" for done in re.findall(r"""done=["']([a-z_]+)["']""", text)}
        used |= {f"flash.{done}" for done in re.findall(r"""else ["']([a-z_]+)["']\)""", text)}
    used |= {f"states.{s.value}" for s in CaseState} | {f"calls.reason_{r.value}" for r in AgendaReason}
    used |= {f"clarification.status_{s}" for s in ("open", "answered", "expired")}
    used |= {f"signoff.action_{a}" for a in ("requested", "returned", "approved")}
    used |= {f"case.tab_{k}" for k in ("overview", "clarification", "calls", "second", "signoff", "trail")}
    used |= {f"second.outcome_{o}" for o in ("keep_first", "take_second")}
    used |= {f"queue.title_{k}" for k in ("queue", "mine", "signoff")} | {f"nav.{i.key}" for i in AUDIT.nav}
    used |= {f"conflicts.scope_{s}" for s in ("city", "state", "country")}
    used |= {f"conflicts.errors.{f}" for f in ("scope", "city_id", "country", "state", "reason")}
    used |= {f"decision.errors.{f}" for f in ("response", "reason", "no_reason", "satisfy", "no_satisfy",
                                              "explanation", "call_note_id", "evidence_ids")}
    used |= {f"clarification.errors.{f}" for f in ("criteria", "message", "message_long", "due_date")}
    # What a form's model refuses is worded by field (Page.parse).
    used |= {f"calls.errors.{f}" for f in ("held_at", "notes", "notes_long")}
    used |= {f"signoff.errors.{f}" for f in ("comments", "comments_long")}
    used |= {f"queue.errors.{f}" for f in ("submission_ids", "auditor_id")}
    used |= {f"regions.{r}" for r in REGIONS}
    # Keys built in templates (`t("states." ~ value)`) are listed above by their values.
    missing = sorted(key for key in used if key[-1] not in "._" and not t.has(key))
    assert missing == []


@pytest.mark.parametrize("lang", languages())
def test_every_error_code_has_a_message_in_every_language(lang):
    t = AUDIT.translator(lang)
    english = AUDIT.translator("en")
    for code in COMMON_ERRORS | ERRORS:
        key = f"problems.{code}"
        assert t.has(key) and t(key) != key, f"{lang}: no message for {code}"
        if lang != "en":
            assert t(key) != english(key) or code == "not_found", f"{lang}: {code} is not translated"
