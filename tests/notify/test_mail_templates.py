"""Every kind of mail renders in English, Spanish and Portuguese: no missing key, the
subject and body in the language, plain text and HTML, times in the reader's zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from services.notify.domain import Kind
from services.notify.mails import MAIL_TEMPLATES, render
from shared.i18n import languages
from tests.notify.mail_samples import SAMPLES

# A word each language's layout always says (and the others never do).
SIGNATURE = {"en": "The What Works Cities Certification team", "es": "El equipo de What Works Cities",
             "pt": "A equipe da What Works Cities"}


def test_every_kind_has_a_sample_and_templates_in_every_language():
    assert set(SAMPLES) == set(Kind)
    for lang in languages():
        for kind in Kind:
            for ext in ("txt", "html"):
                assert (MAIL_TEMPLATES / lang / f"{kind.value}.{ext}").is_file(), (lang, kind, ext)


@pytest.mark.parametrize("kind", list(Kind))
def test_each_kind_renders_in_each_language(kind):
    subjects = {}
    for lang in languages():
        # StrictUndefined: a key the template needs and the context lacks fails here.
        subject, text, html = render(kind, lang, {"name": "Dana", **SAMPLES[kind]}, timezone="America/Sao_Paulo")
        assert subject and "{" not in subject and "\n" not in subject
        assert SIGNATURE[lang] in text and SIGNATURE[lang] in html
        assert f'<html lang="{lang}">' in html and "{{" not in html and "{%" not in text
        assert "None" not in text, text
        subjects[lang] = subject
    assert len(set(subjects.values())) == 3, subjects  # each subject is translated


def test_times_are_in_the_readers_zone_and_language():
    ctx = {"name": "Dana", **SAMPLES[Kind.DEBRIEF_BOOKED]}  # 13:00 UTC
    subject, text, _ = render(Kind.DEBRIEF_BOOKED, "pt", ctx, timezone="America/Sao_Paulo")
    assert "terça-feira, 5 de maio de 2026, 10:00 (America/Sao_Paulo)" in subject
    subject, text, _ = render(Kind.DEBRIEF_BOOKED, "es", ctx, timezone="America/New_York")
    assert "martes, 5 de mayo de 2026, 9:00 (America/New_York)" in text


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
