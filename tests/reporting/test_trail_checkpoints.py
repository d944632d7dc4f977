"""Audit's trail checkpoints kept outside audit: reporting's ledger holds every one, and
the Certification Report's appendix prints the review's last (so a trail rolled back after
the report no longer matches it)."""

from __future__ import annotations

from datetime import UTC, datetime

from devtools.harness import migrated_database
from services.reporting import ledger
from services.reporting.issuing import trail_checkpoint
from services.reporting.report import render_html
from shared.contracts.events import Subject, TrailCheckpointed, make_event


def checkpoint(sid: str, seq: int) -> TrailCheckpointed:
    return TrailCheckpointed(submission_id=sid, case_id="case-1", chain="case:case-1", seq=seq,
                             head=f"{seq:02d}" * 32, key_id="k2", at=datetime(2026, 3, seq, 12, tzinfo=UTC))


async def test_the_ledger_keeps_every_checkpoint_and_the_report_names_the_last(backend, tmp_path, example_doc):
    async with migrated_database("reporting", backend, tmp_path) as db:
        async with db.transaction() as session:
            for seq in (3, 7, 5):  # any order: a replayed event may come late
                await ledger.record(session, make_event(Subject.TRAIL_CHECKPOINTED, checkpoint("sub-1", seq),
                                                        submission_id="sub-1"))
            await ledger.record(session, make_event(Subject.TRAIL_CHECKPOINTED, checkpoint("sub-2", 9),
                                                    submission_id="sub-2"))
        async with db.sessionmaker() as session:
            last = await trail_checkpoint(session, "sub-1")
            assert await trail_checkpoint(session, "sub-3") is None
    assert (last.seq, last.head) == (7, "07" * 32)

    doc = example_doc.model_copy(update={"trail_checkpoint": last})
    assert "Audit trail checkpoint: record 7, seal " + "07" * 32 in render_html(doc, "en")
    assert "registro 7, sello " + "07" * 32 in render_html(doc, "es")
    assert "registro 7, selo " + "07" * 32 in render_html(doc, "pt")
    assert "Audit trail checkpoint" not in render_html(example_doc, "en")

