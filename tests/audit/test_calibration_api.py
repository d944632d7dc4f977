"""Consistency measured (issue 21.3), end to end through the API: two auditors review
three cases each other's blind second review, with known disagreements; a third signs
them off. The calibration JSON and CSV equal a recomputation from the stored decisions
(the first review, the blind second review, the resolutions), independent of the module."""

from __future__ import annotations

import csv
import html
import io

import krippendorff
import pytest
from sqlalchemy import select

from services.audit.models import BlindDecision, Decision, Resolution, ReviewCase
from tests.audit.conftest import ANSWERS
from tests.audit.doubles import first_review, second_review
from tests.unit.test_calibration import kappa_by_hand

CATS = ("NO", "IN_PROGRESS", "YES")
# (holder, second reviewer, the holder's changes, the second reviewer's changes)
SCRIPT = [("ana", "ben", {"DG1": "IN_PROGRESS", "GM2": "NO"}, {"GM1": "NO", "GM2": "NO"}),
          ("ben", "ana", {"DG1": "NO"}, {"DG1": "IN_PROGRESS", "EVAL4": "YES"}),
          ("ana", "ben", {}, {"DG1": "IN_PROGRESS"})]


async def double_review(audit, holder: str, second: str, mine: dict, theirs: dict) -> str:
    sid = await audit.open()
    async with audit.client(holder) as h, audit.client(second) as s, audit.client("cleo") as approver:
        assert (await h.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        r = await h.post(f"/api/v1/cases/{sid}/second-review/assign", json={"auditor_id": second})
        assert r.status_code == 200, r.text
        await first_review(h, sid, mine)
        await second_review(s, sid, theirs)
        assert (await h.post(f"/api/v1/cases/{sid}/signoff/request")).status_code == 200
        for i, d in enumerate((await approver.get(f"/api/v1/cases/{sid}/second-review")).json()["differences"]):
            outcome = "take_second" if i == 0 else "keep_first"
            r = await approver.post(f"/api/v1/cases/{sid}/second-review/{d['criterion_id']}/resolve",
                                    json={"outcome": outcome, "note": "Read the evidence again."})
            assert r.status_code == 200, r.text
        digest = (await approver.get(f"/api/v1/cases/{sid}/signoff")).json()["decisions_hash"]
        r = await approver.post(f"/api/v1/cases/{sid}/signoff/approve", json={"decisions_hash": digest})
        assert r.status_code == 200, r.text
    return sid


async def stored_pairs(audit) -> list[tuple[str, str, str, str, str]]:
    """(case, criterion, first auditor, first response, second response) from the tables:
    the decision as it stands, or what it was before a resolution took the second."""
    async with audit.runtime.db.sessionmaker() as session:
        cases = {c.id: c for c in (await session.scalars(select(ReviewCase))).all()}
        firsts = {(d.case_id, d.criterion_id): d.response for d in (await session.scalars(select(Decision))).all()}
        taken = {(r.case_id, r.criterion_id): r.first_response
                 for r in (await session.scalars(select(Resolution))).all() if r.outcome == "take_second"}
        blind = (await session.scalars(select(BlindDecision))).all()
    return [(b.case_id, b.criterion_id, cases[b.case_id].holder_id, taken.get((b.case_id, b.criterion_id),
             firsts[(b.case_id, b.criterion_id)]), b.response) for b in blind]


def alpha_of(table) -> float:
    data = [[CATS.index(a) for a, _ in table], [CATS.index(b) for _, b in table]]
    return krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")


async def test_calibration_figures_equal_a_recomputation_from_the_stored_decisions(doubled):
    audit = doubled
    for who in ("ana", "ben", "cleo"):
        await audit.auditor(who)
    async with audit.client("cleo") as cleo:
        empty = (await cleo.get("/api/v1/calibration")).json()
        assert empty["cases"] == 0 and empty["rows"] == []
    for holder, second, mine, theirs in SCRIPT:
        await double_review(audit, holder, second, mine, theirs)

    stored = await stored_pairs(audit)
    assert len(stored) == 3 * len(ANSWERS)
    async with audit.client("cleo") as cleo:
        r = await cleo.get("/api/v1/calibration")
        assert r.status_code == 200, r.text
        body = r.json()
        exported = list(csv.DictReader(io.StringIO((await cleo.get("/api/v1/calibration.csv")).text)))
    rows = {(x["scope"], x["key"]): x for x in body["rows"]}
    assert body["cases"] == 3 and body["threshold"] == 0.6

    def check(row, table):
        assert row["pairs"] == len(table)
        assert row["agreement"] == pytest.approx(sum(a == b for a, b in table) / len(table), abs=1e-4)
        assert row["kappa"] == pytest.approx(kappa_by_hand(table), abs=1e-4)
        assert row["alpha"] == pytest.approx(alpha_of(table), abs=1e-4)
        assert row["kappa_ci"]["low"] <= row["kappa"] <= row["kappa_ci"]["high"]

    check(rows[("overall", "")], [(f, s) for *_, f, s in stored])
    dg1 = [(f, s) for _, cid, _, f, s in stored if cid == "DG1"]
    assert sorted(dg1) == sorted([("IN_PROGRESS", "YES"), ("NO", "IN_PROGRESS"), ("YES", "IN_PROGRESS")])
    check(rows[("criterion", "DG1")], dg1)
    assert rows[("criterion", "DG1")]["flagged"] and not rows[("criterion", "DG2")]["flagged"]
    check(rows[("area", "GM")], [(f, s) for _, cid, _, f, s in stored if cid.startswith("GM")])
    # Per auditor, every pair they took part in, whichever role, read as (theirs, the other's):
    # ana was first in two cases and second in one; ben the other way round.
    for who, first_in, second_in in (("ana", 2, 1), ("ben", 1, 2)):
        theirs = [(f, s) if first == who else (s, f) for _, _, first, f, s in stored]
        check(rows[("auditor", who)], theirs)
        assert (rows[("auditor", who)]["as_first"], rows[("auditor", who)]["as_second"]) == \
            (first_in * len(ANSWERS), second_in * len(ANSWERS))
    # Decision-change rates: the audited responses of the completed cases against the submitted ones.
    async with audit.runtime.db.sessionmaker() as session:
        done = (await session.scalars(select(ReviewCase))).all()
    changed = sum(c.audited_responses[k] != c.submitted_responses[k] for c in done for k in c.submitted_responses)
    assert rows[("overall", "")]["changed"] == changed and rows[("overall", "")]["decided"] == 3 * len(ANSWERS)
    assert rows[("overall", "")]["appeal_overturn_rate"] is None and body["appeals"].startswith("appeal_overturn_rate")
    # The CSV says the same.
    csv_rows = {(x["scope"], x["key"]): x for x in exported}
    assert float(csv_rows[("criterion", "DG1")]["kappa"]) == rows[("criterion", "DG1")]["kappa"]
    assert csv_rows[("criterion", "DG1")]["flagged"] == "true" and csv_rows[("overall", "")]["appeal_overturn_rate"] == ""
    assert csv_rows[("auditor", "ben")]["as_second"] == str(2 * len(ANSWERS)) and csv_rows[("overall", "")]["as_first"] == ""
    assert csv_rows[("overall", "")]["kappa_degenerate"] == str(rows[("overall", "")]["kappa_degenerate"])
    # What each column means: in the JSON and as its own CSV, one line per column of the export.
    async with audit.client("cleo") as cleo:
        legend = list(csv.DictReader(io.StringIO((await cleo.get("/api/v1/calibration-columns.csv")).text)))
    assert [x["column"] for x in legend] == list(exported[0]) == list(body["columns"])
    assert all(x["meaning"] for x in legend) and "whichever role" in body["columns"]["pairs"]
    # The page says each auditor's roles and what every column means, in each language.
    from tests.audit.test_changed_since_decided import page

    for lang, roles, legend in (("en", "as first", "whichever role they had"),
                                ("es", "como primero", "en cualquiera de los dos papeles"),
                                ("pt", "como primeiro", "em qualquer dos dois papéis")):
        async with page(audit, "cleo", lang) as browser:
            r = await browser.get("/audit/calibration")
            assert r.status_code == 200
            text = html.unescape(r.text)
            row = text[text.index('id="auditors-ana"'):]
            row = row[:row.index("</tr>")]
            assert f"{2 * len(ANSWERS)} {roles}" in row, row
            assert 'id="columns-legend"' in text and legend in text
            assert "/audit/calibration-columns.csv" in text
        async with page(audit, "cleo", lang) as browser:
            assert (await browser.get("/audit/calibration-columns.csv")).text.startswith("column,meaning")
