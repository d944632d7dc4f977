"""The consoles' UI strings: the same keys and placeholders in English, Spanish and
Portuguese, every key the portal uses present, a message for every error code, and the
language negotiation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.intake.clarifications import CriterionAnswer
from services.intake.drafts import ResponseUpdate
from services.intake.portal import PORTAL
from services.intake.problems import ERRORS
from shared.catalog.loader import load_catalog
from shared.catalog.geography import REGIONS
from shared.contracts.vocabulary import DebriefEnding
from certification.contract import Stage
from shared.i18n import Translator, languages, load_file
from shared.web.i18n import SHARED_LOCALES, choose_language, parse_accept_language
from shared.web.pages import FieldError, Page
from shared.web.problems import COMMON_ERRORS
from tests.i18n_keys import keys_used, placeholders

PORTAL_DIR = Path(__file__).resolve().parents[2] / "services" / "intake" / "portal"
SHARED_WEB = SHARED_LOCALES.parent
SOURCES = [*sorted(PORTAL_DIR.glob("*.py")), *sorted((PORTAL_DIR / "templates").glob("*.html")),
           *sorted((SHARED_WEB / "templates").glob("*.html")), SHARED_WEB / "pages.py"]
LOCALE_DIRS = [SHARED_LOCALES, PORTAL_DIR / "locales"]



@pytest.mark.parametrize("directory", LOCALE_DIRS, ids=lambda d: d.parent.name)
def test_every_language_has_the_same_keys_and_placeholders(directory):
    english = load_file(directory / "en.yaml")
    for lang in languages():
        strings = load_file(directory / f"{lang}.yaml")
        assert set(strings) == set(english), f"{lang}: {set(strings) ^ set(english)}"
        for key, text in strings.items():
            assert placeholders(text) == placeholders(english[key]), f"{lang}:{key}"


def test_every_key_the_portal_uses_exists():
    t = PORTAL.translator("en")
    used = keys_used(SOURCES)
    for source in SOURCES:
        text = source.read_text(encoding="utf-8")
        used |= {f"flash.{done}" for done in re.findall(r"""done=["']([a-z_]+)["']""", text)}
        used |= {f"flash.{done}" for done in re.findall(r"""["']carried_over["'] if .* else ["']([a-z_]+)["']""", text)}
    used |= {f"stages.{stage.value}" for stage in Stage}
    used |= {f"responses.{answer}" for answer in ("YES", "IN_PROGRESS", "NO", "none")}
    used |= {f"countries.{code}" for code in load_catalog("wwc-2019").eligibility.countries}
    used |= {f"nav.{item.key}" for item in PORTAL.nav}
    used |= {f"status.debrief_outcome_{outcome.value}" for outcome in DebriefEnding}
    used |= {f"regions.{region}" for region in REGIONS}
    # What a form's model refuses is worded by field (Page.parse).
    used |= {"criterion.errors.response", "criterion.errors.narrative_long", "withdraw.errors.reason_long",
             "clarification.errors.narrative", "clarification.errors.narrative_long", "clarification.errors.links",
             "city.errors.timezone", "city.errors.language"}
    used |= {f"register.errors.{f}" for f in ("name", "state", "country", "population", "contact_name",
                                              "contact_email", "password")}
    used = {key for key in used if not key.endswith(("_", "."))}
    missing = sorted(key for key in used if not t.has(key))
    assert missing == []


@pytest.mark.parametrize("lang", languages())
def test_every_error_code_has_a_message_in_every_language(lang):
    """The portal says what went wrong from the code alone, in each language."""
    t = PORTAL.translator(lang)
    english = PORTAL.translator("en")
    for code in COMMON_ERRORS | ERRORS:
        key = f"problems.{code}"
        assert t.has(key) and t(key) != key, f"{lang}: no message for {code}"
        if lang != "en":
            assert t._strings.get(key), f"{lang}: {code} falls back to English"
            assert t(key) != english(key) or code in {"not_found"}, f"{lang}: {code} is not translated"


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
    t = Translator("pt", LOCALE_DIRS)
    assert t("criterion.heading", id="DG1") == "Critério DG1"
    assert t("no.such.key") == "no.such.key"
    assert t("problems.file_too_large", limit_mb="25") == "O arquivo deve ter menos de 25 MB"
    assert Translator("xx", LOCALE_DIRS).lang == "en"


def test_a_form_is_parsed_by_the_apis_model_and_what_it_refuses_is_worded_by_field():
    t = PORTAL.translator("es")
    page = Page(console=PORTAL, request=None, lang="es", t=t, csrf="", principal=None)
    data, errors = page.parse(ResponseUpdate, {"response": "YES", "narrative": "Listo."}, messages="criterion.errors")
    assert data == ResponseUpdate(response="YES", narrative="Listo.") and errors == []
    data, errors = page.parse(ResponseUpdate, {"response": "MAYBE", "narrative": "x" * 20001},
                              messages="criterion.errors")
    assert data is None
    assert errors == [FieldError("response", t("criterion.errors.response")),
                      FieldError("narrative", t("criterion.errors.narrative_long"))]  # over its limit: `_long`
    _, errors = page.parse(CriterionAnswer, {"narrative": "", "links": ["not a url"]}, messages="clarification.errors",
                           inputs={"narrative": "narrative-DG1", "links": "link-DG1"}, criterion="DG1")
    assert errors == [FieldError("narrative-DG1", "Escriba una nueva narrativa para DG1"),
                      FieldError("link-DG1", t("clarification.errors.links"))]
