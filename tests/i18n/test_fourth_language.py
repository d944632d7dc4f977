"""Adding a language is one strings file per surface plus the catalog's texts in it, and no
code. French here: fixtures under tests/i18n/french/, laid out like the repository (the
consoles' shared strings, reporting's pages, the report, the mail, the catalog's texts),
entered as a language pack. Then a console page, the report and a mail speak French, and
the APIs accept and list it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from services.notify.domain import Kind
from services.notify.mails import render
from services.reporting.report import render_html, render_pdf
from services.reporting.report.preview import preview_document, read_preview_file
from shared.catalog import load_catalog
from shared.i18n import Lang, Translator, language_pack, languages, load_file
from shared.i18n.languages import ROOT
from tests.i18n_keys import placeholders
from tests.notify.mail_samples import SAMPLES
from tests.reporting.helpers import EXAMPLE, RENDERED_AT, pdf_text
from tests.unit.test_problems import build, client

FRENCH = Path(__file__).parent / "french"


@pytest.fixture
def french():
    with language_pack(FRENCH, "fr"):
        yield


def test_each_french_file_has_the_keys_and_placeholders_of_the_english_one():
    files = sorted(FRENCH.rglob("locales/fr.yaml"))
    assert len(files) == 4  # consoles' shared strings, reporting's pages, the report, the mail
    for path in files:
        english = load_file(ROOT / path.relative_to(FRENCH).with_name("en.yaml"))
        french = load_file(path)
        assert set(french) == set(english), path
        assert {k: placeholders(v) for k, v in french.items()} == {k: placeholders(v) for k, v in english.items()}


def test_french_is_spoken_only_inside_the_pack(french):
    assert languages() == ("en", "es", "pt", "fr")
    assert TypeAdapter(Lang).validate_python("fr") == "fr"
    assert TypeAdapter(Lang).json_schema()["enum"] == ["en", "es", "pt", "fr"]  # what OpenAPI lists
    assert load_catalog("wwc-2019").languages == ("en", "es", "pt", "fr")


def test_without_the_pack_there_is_no_french():
    assert "fr" not in languages()
    with pytest.raises(ValueError):
        TypeAdapter(Lang).validate_python("fr")
    assert Translator("fr", ()).lang == "en"
    assert "fr" not in load_catalog("wwc-2019").languages


async def test_a_console_page_in_french(french, tmp_path):
    async with client(build("reporting", tmp_path)) as c:
        asked = await c.get("/verify?lang=fr")
        browser = await c.get("/verify", headers={"accept-language": "fr-CA,fr;q=0.9,en;q=0.5"})
    for response in (asked, browser):
        assert response.status_code == 200
        html = response.text
        assert '<html lang="fr"' in html
        assert "<h1>Vérifier un rapport de certification</h1>" in html  # reporting's own strings
        assert "Aller au contenu principal" in html  # the strings every console shares
        assert ">Français<" in html  # the language picker offers it, by its own name


def test_the_report_in_french(french, tmp_path):
    doc = preview_document(read_preview_file(EXAMPLE), language="fr", rendered_at=RENDERED_AT)
    assert doc.languages == ("en", "es", "pt", "fr")
    html = render_html(doc)
    catalog = load_catalog("wwc-2019")
    assert '<html lang="fr"' in html
    assert "Rapport de certification" in html and "Prochaines étapes" in html  # the report's strings
    assert "Gouvernance des données" in html  # an area's name, from the catalog's French texts
    assert catalog.text(catalog.criterion("DG1"), "fr") in html
    assert "21 novembre 2026" in html  # dates as French writes them
    assert re.search(r"\d+\s%", html)  # and percentages
    text = pdf_text(render_pdf(doc), tmp_path)  # the PDF lays out the same view
    assert "Rapport de certification" in text and "Gouvernance des données" in text


def test_a_mail_in_french(french):
    at = datetime(2026, 5, 5, 13, 0, tzinfo=UTC)
    subject, text, html = render(Kind.CERTIFICATION_RESULT, "fr", {"name": "Dana", **SAMPLES[Kind.CERTIFICATION_RESULT]})
    assert subject == "Riverton obtient la certification What Works Cities : Or"  # the tier named by the catalog
    assert text.startswith("Bonjour Dana,\n\nFélicitations ! Riverton remplit 32 critères sur 45 (71")
    assert '<html lang="fr">' in html and "certifiée au niveau Or" in html
    subject, _, _ = render(Kind.DEBRIEF_BOOKED, "fr", {"name": "", **SAMPLES[Kind.DEBRIEF_BOOKED], "starts_at": at},
                           timezone="America/Martinique")
    assert subject == "Entretien de restitution réservé : mardi 5 mai 2026, 09:00 (Martinique)"  # the zone named by its place
