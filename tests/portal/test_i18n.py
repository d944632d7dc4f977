"""The portal's UI strings: the same keys and placeholders in English, Spanish and
Portuguese, every key the pages use present, and the language negotiation."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from services.intake import pages
from services.intake.i18n import (
    LANGUAGES,
    Translator,
    choose_language,
    messages,
    parse_accept_language,
)
from shared.catalog.loader import load_catalog
from shared.contracts.workflows import Stage

INTAKE = Path(pages.__file__).parent
SOURCES = [INTAKE / "pages.py", *sorted((INTAKE / "templates").glob("*.html"))]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_the_same_keys_and_placeholders():
    english = messages("en")
    for lang in LANGUAGES:
        strings = messages(lang)
        assert set(strings) == set(english), f"{lang}: {set(strings) ^ set(english)}"
        for key, text in strings.items():
            assert placeholders(text) == placeholders(english[key]), f"{lang}:{key}"


def test_every_key_the_pages_use_exists():
    english = messages("en")
    used = set()
    for source in SOURCES:
        text = source.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[A-Za-z_.]+)["']""", text))
        used |= {f"flash.{done}" for done in re.findall(r"""done=["']([a-z_]+)["']""", text)}
        used |= {f"flash.{done}" for done in re.findall(r"""["']carried_over["'] if .* else ["']([a-z_]+)["']""", text)}
    used |= set(pages.FILE_ERRORS.values()) | {"evidence.errors.empty", "evidence.errors.no_file"}
    used |= {f"stages.{stage.value}" for stage in Stage}
    used |= {f"responses.{answer}" for answer in ("YES", "IN_PROGRESS", "NO", "none")}
    used |= {f"countries.{code}" for code in load_catalog("wwc-2019").eligibility.countries}
    missing = sorted(key for key in used if key not in english)
    assert missing == []


@pytest.mark.parametrize(("header", "expected"), [
    ("es-MX,es;q=0.9,en;q=0.8", "es"),
    ("pt-BR", "pt"),
    ("fr-FR,fr;q=0.9,pt;q=0.5,es;q=0.4", "pt"),
    ("en;q=0.2, es;q=0.8", "es"),
    ("de-DE", None),
    ("es;q=0", None),
    ("", None),
    ("*", None),
])
def test_accept_language(header, expected):
    assert parse_accept_language(header) == expected


def test_query_then_cookie_then_browser_then_english():
    assert choose_language("pt", "es", "es") == "pt"
    assert choose_language(None, "es", "pt-BR") == "es"
    assert choose_language("xx", None, "pt-BR") == "pt"
    assert choose_language(None, None, "de") == "en"


def test_translator_formats_and_shows_unknown_keys():
    t = Translator("pt")
    assert t("criterion.heading", id="DG1") == "Critério DG1"
    assert t("no.such.key") == "no.such.key"
    assert Translator("xx").lang == "en"
