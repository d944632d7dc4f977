from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.catalog import (
    CatalogError,
    list_catalogs,
    load_catalog,
    load_catalog_file,
    parse_catalog,
)
from shared.catalog.geography import (
    POPULATION_BANDS,
    REGIONS,
    Region,
    population_band,
    region_for,
)
from shared.catalog.model import Localized, _localized
from shared.i18n import languages

EXPECTED_IDS = (
    [f"DG{i}" for i in range(1, 6)] + [f"EVAL{i}" for i in range(1, 6)]
    + [f"GM{i}" for i in range(1, 10)] + [f"OD{i}" for i in range(1, 5)]
    + [f"PA{i}" for i in range(1, 8)] + [f"REP{i}" for i in range(1, 5)]
    + [f"RDC{i}" for i in range(1, 8)] + [f"SE{i}" for i in range(1, 5)]
)


# -- the wwc-2019 contents -----------------------------------------------------------


def test_wwc_2019_has_45_criteria_in_report_order(wwc):
    assert wwc.version == "wwc-2019"
    assert list(wwc.criterion_ids) == EXPECTED_IDS
    assert [a.id for a in wwc.areas] == ["DG", "EVAL", "GM", "OD", "PA", "REP", "RDC", "SE"]
    for c in wwc.criteria:
        assert re.sub(r"\d+$", "", c.id) == c.area
    assert wwc.text(wwc.area("PA")) == "Performance & Analytics"
    assert wwc.text(wwc.area("RDC")) == "Results-Driven Contracting"


def test_wwc_2019_rules(wwc):
    assert wwc.languages == languages()  # every language the platform speaks
    assert [(t.id, t.min_percent, t.min_components) for t in wwc.tiers] == [
        ("silver", 51, 2), ("gold", 67, 3), ("platinum", 85, 4)]
    assert [c.id for c in wwc.components] == ["commit", "measure", "take_stock", "act"]
    assert wwc.eligibility.min_population == 30000
    assert {"US", "CA", "MX", "BR", "AR", "CO", "JM", "PR", "GT"} <= set(wwc.eligibility.countries)
    assert not {"GB", "ES", "PT", "FR"} & set(wwc.eligibility.countries)
    assert [q.id for q in wwc.snapshot] == [f"SNAP{i}" for i in range(1, 9)]
    assert {r.id for r in wwc.resources} == {"academy", "sprints", "working_group"}
    # Every component is used, so every tier's breadth is reachable.
    assert {comp for c in wwc.criteria for comp in c.components} == {
        "commit", "measure", "take_stock", "act"}
    assert sum(not c.evidence_required_for_yes for c in wwc.criteria) <= 3


def test_wwc_2019_text_is_complete_and_clean(wwc):
    for item, field, text in _localized(wwc):
        assert text.languages == set(languages()), (item, field)
        for lang, value in text.root.items():
            assert value.strip() == value and len(value) >= 2, (item, field, lang)
    # The OCR typos of the source report must not survive.
    english = " ".join(t.root["en"] for _, _, t in _localized(wwc))
    for typo in ("fracking", "confract", "dafa", "tfool", "froubleshoot", "fransparency",
                 "explicity", " fo ", "Govemance", "Perfomance", "info the", "datainventory",
                 "inteligence", "SCOpes"):
        assert typo not in english, typo
    # Translated, not copied: Spanish and Portuguese differ from English and each other.
    for c in wwc.criteria:
        for text in (c.text, c.evidence):
            en, es, pt = (text.root[lang] for lang in ("en", "es", "pt"))
            assert len({en, es, pt}) == 3, c.id
    gm9 = wwc.criterion("GM9")
    assert "strategic use of data" in wwc.text(gm9)
    assert wwc.text(wwc.criterion("RDC5")).count("troubleshoot") == 1


def test_catalog_helpers(wwc):
    od4 = wwc.criterion("OD4")
    assert od4.text.root["en"] == "Your local government adopts Civic Data Standards."
    assert [c.id for c in wwc.criteria_in_area("OD")] == ["OD1", "OD2", "OD3", "OD4"]
    assert len(wwc.criteria_in_area("GM")) == 9
    assert wwc.text(wwc.criterion("OD3"), "pt").startswith("Seu governo local")
    assert wwc.text(wwc.criterion("OD3"), "es").startswith("Su gobierno local")
    # Fallback to the default language for an unknown one.
    assert wwc.text(wwc.criterion("OD3"), "fr") == wwc.text(wwc.criterion("OD3"), "en")
    assert wwc.text(Localized({"en": "hi"}), "es") == "hi"
    assert wwc.text(wwc.component("take_stock"), "es") == "Hacer balance"
    with pytest.raises(KeyError, match="ZZ9"):
        wwc.criterion("ZZ9")
    with pytest.raises(KeyError):
        wwc.criteria_in_area("ZZ")


def test_list_and_cache(wwc):
    assert "wwc-2019" in list_catalogs()
    assert load_catalog("wwc-2019") is wwc
    with pytest.raises(CatalogError, match="unknown catalog version"):
        load_catalog("wwc-1999")
    with pytest.raises(CatalogError, match="invalid catalog version"):
        load_catalog("../secrets")


def test_mini_catalog_is_a_different_size(mini):
    assert len(mini.criteria) == 10 and len(mini.areas) == 3
    assert mini.criterion("C3").prerequisites == ("A1", "C1")
    assert mini.evaluation_order.index("B1") < mini.evaluation_order.index("B2") \
        < mini.evaluation_order.index("B3")


# -- validation errors ------------------------------------------------------------------


def _write(tmp_path: Path, data: Any, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True),
                    encoding="utf-8")
    return path


def _error(tmp_path: Path, data: Any) -> str:
    path = _write(tmp_path, data)
    with pytest.raises(CatalogError) as info:
        load_catalog_file(path)
    message = str(info.value)
    assert "broken.yaml" in message  # every error names the file
    return message


def _criterion(data: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in data["criteria"] if c["id"] == cid)


def test_error_unknown_area(tmp_path, mini_data):
    _criterion(mini_data, "A2")["area"] = "OMEGA"
    message = _error(tmp_path, mini_data)
    assert "'A2'" in message and "unknown area 'OMEGA'" in message


def test_error_duplicate_criterion(tmp_path, mini_data):
    mini_data["criteria"].append(copy.deepcopy(_criterion(mini_data, "B1")))
    message = _error(tmp_path, mini_data)
    assert "'B1'" in message and "duplicate criterion id" in message


def test_error_unknown_prerequisite(tmp_path, mini_data):
    _criterion(mini_data, "B2")["prerequisites"] = ["B9"]
    message = _error(tmp_path, mini_data)
    assert "'B2'" in message and "unknown prerequisite 'B9'" in message


def test_error_cyclic_prerequisite(tmp_path, mini_data):
    _criterion(mini_data, "B1")["prerequisites"] = ["B3"]
    message = _error(tmp_path, mini_data)
    assert "cyclic prerequisite" in message
    assert re.search(r"B1 -> B3 -> B2 -> B1|B3 -> B2 -> B1 -> B3|B2 -> B1 -> B3 -> B2", message)


def test_error_self_prerequisite(tmp_path, mini_data):
    _criterion(mini_data, "A1")["prerequisites"] = ["A1"]
    assert "cyclic prerequisite: A1 -> A1" in _error(tmp_path, mini_data)


def test_error_tiers_out_of_order(tmp_path, mini_data):
    mini_data["tiers"][1]["min_percent"] = 50  # gold below silver
    message = _error(tmp_path, mini_data)
    assert "tier 'gold'" in message and "out of order" in message


@pytest.mark.parametrize("tier,value", [(2, 5), (0, -1), (1, 1)])
def test_error_breadth_out_of_range(tmp_path, mini_data, tier, value):
    mini_data["tiers"][tier]["min_components"] = value
    message = _error(tmp_path, mini_data)
    assert "breadth rule out of range" in message
    assert f"tier '{mini_data['tiers'][tier]['id']}'" in message


def test_error_breadth_unreachable(tmp_path, mini_data):
    for c in mini_data["criteria"]:
        c["components"] = ["commit"] if c["components"] != ["measure"] else ["measure"]
    assert "criteria cover only 2 components" in _error(tmp_path, mini_data)


def test_error_missing_translation(tmp_path, mini_data):
    for key in ("components", "tiers", "areas", "criteria", "snapshot", "resources"):
        for item in mini_data[key]:
            for value in item.values():
                if isinstance(value, dict) and "en" in value:
                    value["es"] = "traducción"
    mini_data["title"]["es"] = "título"
    parse_catalog(copy.deepcopy(mini_data))  # complete: loads
    del _criterion(mini_data, "C2")["evidence"]["es"]
    message = _error(tmp_path, mini_data)
    assert "criterion 'C2'" in message and "missing translation for es in evidence" in message


def test_error_not_written_in_the_default_language(tmp_path, mini_data):
    mini_data["title"] = {"es": "título"}
    assert "missing translation for en in title" in _error(tmp_path, mini_data)


def test_error_structural_names_the_item(tmp_path, mini_data):
    del _criterion(mini_data, "B3")["evidence"]
    message = _error(tmp_path, mini_data)
    assert "criterion 'B3'" in message and "evidence" in message and "required" in message


def test_error_bad_yaml_and_duplicate_keys(tmp_path):
    assert "invalid YAML" in _error(tmp_path, "version: [unclosed\n")
    assert "duplicate key 'version'" in _error(tmp_path, "version: a\nversion: b\n")
    assert "mapping" in _error(tmp_path, "- just\n- a list\n")


def test_error_missing_file(tmp_path):
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog_file(tmp_path / "nope.yaml")


# -- geography --------------------------------------------------------------------------


@pytest.mark.parametrize("population,band", [
    (29_999, None), (30_000, "30K-100K"), (99_999, "30K-100K"), (100_000, "100K-250K"),
    (249_999, "100K-250K"), (250_000, "250K-500K"), (500_000, "500K+"), (8_000_000, "500K+"),
])
def test_population_band(population, band):
    assert population_band(population) == band
    assert band is None or band in POPULATION_BANDS


def test_population_band_rejects_nonsense():
    for bad in (-1, 1.5, "100000", True):
        with pytest.raises(ValueError):
            population_band(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("country,state,region", [
    ("US", "NY", "Northeast"), ("US", "Pennsylvania", "Northeast"), ("US", "il", "Midwest"),
    ("US", "TX", "South"), ("US", "DC", "South"), ("US", "CA", "West"), ("US", "HI", "West"),
    ("US", "PR", "Caribbean"), ("PR", None, "Caribbean"), ("CA", "ON", "Canada"),
    ("MX", None, "Mexico & Central America"), ("GT", None, "Mexico & Central America"),
    ("PA", None, "Mexico & Central America"), ("JM", None, "Caribbean"),
    ("DO", None, "Caribbean"), ("BR", None, "South America"), ("cl", None, "South America"),
    ("GB", None, None), ("ES", None, None), ("US", "GU", None),
])
def test_region_for(country, state, region):
    assert region_for(country, state) == region


def test_region_for_us_needs_a_state():
    with pytest.raises(ValueError, match="unknown US state"):
        region_for("US", None)


def test_every_eligible_country_has_a_region(wwc):
    assert {str(r) for r in Region} == set(REGIONS)
    for country in wwc.eligibility.countries:
        assert region_for(country, "NY") in REGIONS, country
