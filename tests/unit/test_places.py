"""States and provinces as ISO 3166-2 codes (shared/catalog/places.py): one code per place,
whatever spelling it arrives in, named in the reader's language."""

from __future__ import annotations

import pytest

from shared.catalog import load_catalog, places
from shared.catalog.geography import region_for
from shared.catalog.timezones import timezone_for


@pytest.mark.parametrize("country,typed,code", [
    ("CA", "ON", "CA-ON"), ("CA", "Ontario", "CA-ON"), ("ca", " ontario ", "CA-ON"), ("CA", "ca-on", "CA-ON"),
    ("CA", "Quebec", "CA-QC"), ("CA", "Québec", "CA-QC"), ("US", "NY", "US-NY"), ("US", "New York", "US-NY"),
    ("US", "Nueva York", "US-NY"), ("US", "Illinois", "US-IL"), ("US", "US-IL", "US-IL"),
    ("US", "U.S. Virgin Islands", "US-VI"), ("MX", "Ciudad de México", "MX-CMX"),
    ("MX", "Distrito Federal", "MX-CMX"), ("BR", "SP", "BR-SP"), ("BR", "São Paulo", "BR-SP"),
])
def test_legacy_spellings_become_one_code(country, typed, code):
    assert places.normalise(country, typed) == code


@pytest.mark.parametrize("country,typed", [
    ("US", "Atlantis"), ("US", "ON"), ("CA", "NY"), ("CA", "US-NY"), ("MX", "Illinois"),
])
def test_what_names_no_subdivision_of_the_country_is_not_recognised(country, typed):
    assert places.normalise(country, typed) is None


def test_an_empty_state_stays_empty():
    assert places.normalise("US", "  ") == ""


def test_every_country_of_the_programme_lists_its_subdivisions_with_valid_unique_codes():
    countries = load_catalog("wwc-2019").eligibility.countries
    for country in countries:
        subs = places.subdivisions(country)
        codes = [s.code for s in subs]
        assert len(codes) == len(set(codes)), country
        assert all(places.is_valid(c, country) and c.startswith(f"{country}-") for c in codes), country
    assert len(places.subdivisions("US")) >= 51 and {"US-NY", "US-DC", "US-PR"} <= {
        s.code for s in places.subdivisions("US")}
    assert {s.code for s in places.subdivisions("CA")} >= {"CA-ON", "CA-QC", "CA-BC"}
    assert places.subdivisions("BM") == ()  # Bermuda has no subdivisions in ISO 3166-2


def test_a_country_lists_its_lowest_level_only():
    # The Dominican Republic's regions group its provinces: a city is in a province.
    codes = {s.code for s in places.subdivisions("DO")}
    assert "DO-01" in codes and "DO-40" not in codes  # Distrito Nacional; the region Ozama
    assert places.normalise("DO", "DO-40") is None


def test_validation_is_exact():
    assert places.is_valid("CA-ON") and places.is_valid("CA-ON", "CA")
    assert not places.is_valid("CA-ON", "US")
    assert not places.is_valid("ca-on") and not places.is_valid("ON") and not places.is_valid("Atlantis")


def test_names_in_the_readers_language_with_english_as_the_fallback():
    assert places.name("US-NY") == "New York"
    assert places.name("US-NY", "es") == "Nueva York"
    assert places.name("CA-BC", "es") == "Columbia Británica"
    assert places.name("CA-ON", "pt") == "Ontario"
    assert places.name("US-NY", "xx") == "New York"
    assert places.name("Atlantis", "es") == "Atlantis"  # a legacy value a migration left is shown as it is


def test_choices_are_ordered_by_their_name_in_the_language():
    names = [n for _, n in places.choices("CA", "es")]
    assert names == sorted(names, key=lambda n: n.casefold()) and "Columbia Británica" in names


def test_region_and_time_zone_read_codes():
    assert region_for("US", "US-IL") == "Midwest" and region_for("US", "US-PR") == "Caribbean"
    assert timezone_for("US", "US-CA") == "America/Los_Angeles"
    assert timezone_for("CA", "CA-BC") == "America/Vancouver" and timezone_for("CA", "British Columbia") == \
        "America/Vancouver"
