"""The check every console's browser tests apply to each page they visit: nothing a person
reads is a raw id, a code, an ISO timestamp or a "(s)" plural."""

from __future__ import annotations

import pytest

from tests.readable import unreadable


@pytest.mark.parametrize("text", [
    "Reference 0407da48-3f2e-4c1a-9b7e-2f5d3c1a9e0b",
    "Reason (documents_not_submitted)",
    "Submitted 2026-12-06T11:30:00+00:00",
    "2 of 2 round(s) left",
    "answered clarification 0407da483f2e4c1a9b7e2f5d3c1a9e0b",
])
def test_what_a_person_should_not_read_is_found(text):
    assert unreadable(text)


@pytest.mark.parametrize("text", [
    "Reference WWC-7K3P-Q9RD",
    "Reason: the requested documents were not submitted",
    "Submitted 6 December 2026, 11:30 (New York time)",
    "2 rounds left",
    "DG1 — The city has a data inventory",
])
def test_what_people_write_passes(text):
    assert unreadable(text) == []
