"""Every kind of mail renders in every language from its one template: no missing key, the
subject and body in the language, plain text and HTML, times in the reader's zone, tier
names from the catalog; the strings have the same keys and placeholders in every language."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from services.notify.domain import Kind
from services.notify.mails import MAIL_STRINGS, MAIL_TEMPLATES, render
from shared.catalog import load_catalog
from shared.i18n import Translator, languages, load_file
from tests.i18n_keys import placeholders
from tests.notify.mail_samples import SAMPLES

# A word each language's layout always says (and the others never do).
SIGNATURE = {"en": "The What Works Cities Certification team", "es": "El equipo de What Works Cities",
             "pt": "A equipe da What Works Cities"}


def test_every_kind_has_a_sample_and_one_template():
    assert set(SAMPLES) == set(Kind)
    assert {p.stem for p in MAIL_TEMPLATES.glob("*.j2")} == {kind.value for kind in Kind}


def test_every_language_has_the_same_keys_and_placeholders():
    english = load_file(MAIL_STRINGS / "en.yaml")
    assert sorted(p.stem for p in MAIL_STRINGS.glob("*.yaml")) == sorted(languages())
    for lang in languages():
        strings = load_file(MAIL_STRINGS / f"{lang}.yaml")
        assert set(strings) == set(english), f"{lang}: {set(strings) ^ set(english)}"
        for key, text in strings.items():
            assert placeholders(text) == placeholders(english[key]), f"{lang}:{key}"


def test_every_key_the_templates_use_exists():
    # Every dotted string in a template is a key (both of `t("a.b" if x else "a.c")`).
    used = {key for path in MAIL_TEMPLATES.glob("*") for key in re.findall(r'"([a-z_]+\.[a-z_.]+)"', path.read_text())}
    used |= {f"answers.{answer}" for answer in ("YES", "IN_PROGRESS", "NO")}
    for lang in languages():
        t = Translator(lang, (MAIL_STRINGS,))
        # A plural key (`t.plural`) lives as `key.one` / `key.other`.
        assert sorted(key for key in used if not t._strings.get(key) and not t._strings.get(f"{key}.other")) == [], lang


def test_no_catalog_name_is_written_in_the_mail_strings():
    """Tier and area names come from the catalog, never from a copy in the mail strings."""
    catalog = load_catalog("wwc-2019")
    for lang in languages():
        text = " ".join(load_file(MAIL_STRINGS / f"{lang}.yaml").values())
        for item in (*catalog.tiers, *catalog.areas):
            assert not re.search(rf"\b{re.escape(catalog.text(item.name, lang))}\b", text), (lang, item.id)


@pytest.mark.parametrize("kind", list(Kind))
def test_each_kind_renders_in_each_language(kind):
    subjects = {}
    for lang in languages():
        # StrictUndefined: a key the template needs and the context lacks fails here.
        subject, text, html = render(kind, lang, {"name": "Dana", **SAMPLES[kind]}, timezone="America/Sao_Paulo")
        assert subject and "{" not in subject and "\n" not in subject
        assert SIGNATURE[lang] in text and SIGNATURE[lang] in html
        assert f'<html lang="{lang}">' in html and "{{" not in html and "{%" not in text and "{" not in text
        assert "None" not in text, text
        subjects[lang] = subject
    assert len(set(subjects.values())) == len(languages()), subjects  # each subject is translated


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "Congratulations! Riverton met 32 of 45 criteria (71%) and is certified at the Gold level."),
    ("es", "¡Felicitaciones! Riverton cumplió 32 de 45 criterios (71\xa0%) y obtiene la certificación en el nivel Oro."),
    ("pt", "Parabéns! Riverton cumpriu 32 de 45 critérios (71%) e foi certificada no nível Ouro."),
])
def test_a_mail_says_the_same_in_text_and_html_with_the_tier_named_by_the_catalog(lang, expected):
    subject, text, html = render(Kind.CERTIFICATION_RESULT, lang, {"name": "Dana", **SAMPLES[Kind.CERTIFICATION_RESULT]})
    tier = load_catalog("wwc-2019").tier("gold")
    assert subject.endswith(f": {tier.name.get(lang)}")
    assert f"\n\n{expected}\n\n" in text
    assert f"<p>{expected}</p>" in html


def test_text_part_layout():
    _, text, _ = render(Kind.REVIEW_COMPLETED, "en", {"name": "Dana", **SAMPLES[Kind.REVIEW_COMPLETED]})
    assert text == (
        "Hello Dana,\n\n"
        "The auditors have completed their review and changed one response:\n\n"
        "- DG1: Yes → In progress. documents not submitted\n\n"
        "Your score and Certification Report follow shortly.\n\n"
        "Open the city portal: https://wwc.example.org/x\n\n\n"
        "-- \nThe What Works Cities Certification team\n"
        "This message was sent automatically; replies are not read.\n"
        "Choose which mail you receive: https://wwc.example.org/x/prefs\n")


def test_times_are_in_the_readers_zone_and_language():
    ctx = {"name": "Dana", **SAMPLES[Kind.DEBRIEF_BOOKED]}  # 13:00 UTC
    subject, text, _ = render(Kind.DEBRIEF_BOOKED, "pt", ctx, timezone="America/Sao_Paulo")
    assert "terça-feira, 5 de maio de 2026, 10:00 (São Paulo)" in subject
    subject, text, _ = render(Kind.DEBRIEF_BOOKED, "es", ctx, timezone="America/New_York")
    assert "martes, 5 de mayo de 2026, 9:00 (Nueva York)" in text


def test_stored_text_is_escaped_in_html():
    ctx = {"name": "<b>Dana</b>", **SAMPLES[Kind.CLARIFICATION_REQUESTED], "message": "<script>x</script>"}
    _, text, html = render(Kind.CLARIFICATION_REQUESTED, "en", ctx)
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>Dana" not in html
    assert "<script>x</script>" in text  # plain text stays plain


def test_the_report_mail_subject_is_stable():
    assert render(Kind.REPORT_READY, "en", {"name": "", **SAMPLES[Kind.REPORT_READY]})[0] == \
        "Your Certification Report is ready"
    assert re.search(r"\d{4}", render(Kind.DEBRIEF_OFFERED, "es", {"name": "", **SAMPLES[Kind.DEBRIEF_OFFERED]},
                                      timezone="UTC")[1])
    assert datetime(2026, 5, 5, tzinfo=UTC)
