"""Audit reason codes are catalog data: ids, a short name and a standard sentence in every
catalog language, checked at load like every other catalog item."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.catalog import AuditReason, CatalogError, load_catalog, load_catalog_file
from shared.catalog.loader import CATALOG_DIR
from shared.catalog.model import _localized

MINI = Path(__file__).parents[1] / "scoring" / "data" / "mini-catalog.yaml"
SEED_REASONS = {  # the changes explained in the 2019 report (seed 004), and the design's list
    "documents_not_submitted", "requirement_not_met", "still_in_development",
    "clarified_on_review_call", "outdated_evidence", "not_citywide", "insufficient_examples",
}


@pytest.fixture(scope="module")
def wwc():
    return load_catalog("wwc-2019")


@pytest.fixture
def wwc_data() -> dict[str, Any]:
    return yaml.safe_load((CATALOG_DIR / "wwc-2019.yaml").read_text(encoding="utf-8"))


def test_wwc_2019_has_the_reason_codes_in_three_languages(wwc):
    ids = [r.id for r in wwc.audit_reasons]
    assert SEED_REASONS <= set(ids)
    assert len(ids) == len(set(ids))
    for reason in wwc.audit_reasons:
        assert isinstance(reason, AuditReason)
        for field in (reason.name, reason.text):
            assert field.languages == {"en", "es", "pt"}, reason.id
            en, es, pt = (field.root[lang] for lang in ("en", "es", "pt"))
            assert len({en, es, pt}) == 3, reason.id  # translated, not copied
        # The standard text is a sentence; the name is a short label.
        for lang in ("en", "es", "pt"):
            assert wwc.text(reason, lang).endswith("."), (reason.id, lang)
            assert len(wwc.text(reason.name, lang)) < len(wwc.text(reason, lang))


def test_reason_lookups_and_wording(wwc):
    reason = wwc.audit_reason("documents_not_submitted")
    assert wwc.text(reason) == "The requested documents were not submitted for review."
    assert wwc.text(reason, "es").startswith("Los documentos solicitados")
    assert wwc.text(reason, "pt").startswith("Os documentos solicitados")
    assert wwc.text(reason, "fr") == wwc.text(reason, "en")  # default-language fallback
    assert wwc.has_audit_reason("not_citywide") and not wwc.has_audit_reason("nope")
    with pytest.raises(KeyError, match="unknown audit reason 'nope'"):
        wwc.audit_reason("nope")
    # Reason texts are part of the catalog's translatable texts.
    assert any(item.startswith("audit reason ") for item, _, _ in _localized(wwc))


def test_a_catalog_without_reasons_still_loads():
    mini = load_catalog_file(MINI)  # older catalog files have no audit_reasons
    assert mini.audit_reasons == ()
    assert not mini.has_audit_reason("documents_not_submitted")


# -- validation at load: errors name the file, the item and the reason -----------------


def _error(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog_file(path)
    message = str(info.value)
    assert "broken.yaml" in message
    return message


def test_error_duplicate_reason(tmp_path, wwc_data):
    wwc_data["audit_reasons"].append(copy.deepcopy(wwc_data["audit_reasons"][0]))
    message = _error(tmp_path, wwc_data)
    assert "audit reason 'documents_not_submitted'" in message
    assert "duplicate audit reason id" in message


def test_error_missing_translation(tmp_path, wwc_data):
    reason = next(r for r in wwc_data["audit_reasons"] if r["id"] == "not_citywide")
    del reason["text"]["pt"]
    message = _error(tmp_path, wwc_data)
    assert "audit reason 'not_citywide'" in message
    assert "missing translation for pt in text" in message


def test_error_structural_names_the_reason(tmp_path, wwc_data):
    reason = next(r for r in wwc_data["audit_reasons"] if r["id"] == "outdated_evidence")
    del reason["name"]
    message = _error(tmp_path, wwc_data)
    assert "audit reason 'outdated_evidence'" in message and "name" in message
    assert "required" in message.lower()


def test_error_bad_reason_id(tmp_path, wwc_data):
    wwc_data["audit_reasons"][0]["id"] = "not a code"
    message = _error(tmp_path, wwc_data)
    assert "audit_reasons[0]" in message or "audit reason" in message
    assert "id" in message


def test_error_empty_text(tmp_path, wwc_data):
    wwc_data["audit_reasons"][1]["text"]["es"] = "  "
    message = _error(tmp_path, wwc_data)
    assert "audit reason 'requirement_not_met'" in message and "text" in message
