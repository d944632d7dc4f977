"""The trail: every action is a record chained by hashes; the API's export and
`wwc audit verify-trail` detect an edited or removed record. And a case opened by the
submission event and the workflow's activity at the same moment is opened once."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
import uuid

from sqlalchemy import delete, func, select, update

from services.audit import subscribers
from services.audit.models import ReviewCase, TrailRecord
from certification.activities import ReviewRequest
from shared.contracts.events import Subject, SubmissionSubmitted, make_event
from tests.audit.conftest import decide, submission

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def verify_trail(audit, case: str | None = None) -> subprocess.CompletedProcess:
    """`wwc audit verify-trail` in its own process, on the test's audit database."""
    service = audit.runtime.settings.service
    env = {**os.environ, "WWC_AUDIT_DB_URL": service.db_url}
    if service.db_schema:
        env["WWC_AUDIT_DB_SCHEMA"] = service.db_schema
    args = [sys.executable, "-m", "services.cli", "audit", "verify-trail", *(["--case", case] if case else [])]
    return subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


async def reviewed_case(audit) -> str:
    await audit.auditor("ana")
    sid = await audit.open()
    async with audit.client("ana") as ana:
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        assert (await decide(ana, sid, "DG1", "IN_PROGRESS", reason="documents_not_submitted",
                             explanation="No inventory was sent.", satisfy="The inventory.")).status_code == 200
        assert (await ana.post(f"/api/v1/cases/{sid}/decisions/confirm-remaining")).status_code == 200
        assert (await ana.post(f"/api/v1/cases/{sid}/signoff/request")).status_code == 200
    return sid


async def test_the_trail_records_every_action_and_exports_verified(audit):
    sid = await reviewed_case(audit)
    async with audit.client("ana") as ana:
        r = await ana.get(f"/api/v1/cases/{sid}/trail")
        assert r.status_code == 200
        data = r.json()
        assert data["verification"] == {"ok": True, "records": 6, "head": data["records"][-1]["hash"], "problems": []}
        assert [x["action"] for x in data["records"]] == [
            "case.opened", "case.received", "case.claimed", "decision.saved", "decisions.confirmed",
            "signoff.requested"]
        saved = data["records"][3]
        assert (saved["actor_id"], saved["actor_role"], saved["reason"]) == ("ana", "auditor", "No inventory was sent.")
        assert saved["before"] is None and saved["after"]["response"] == "IN_PROGRESS"
        assert saved["prev_hash"] == data["records"][2]["hash"]
        r = await ana.get(f"/api/v1/cases/{sid}/trail.csv")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.headers["x-trail-verified"] == "true"
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert [row["action"] for row in rows] == [x["action"] for x in data["records"]]
        assert rows[3]["reason"] == "No inventory was sent." and '"response":"IN_PROGRESS"' in rows[3]["after"]
    done = verify_trail(audit, sid)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok      case:" in done.stdout and "6 record(s)" in done.stdout


def test_csv_cells_never_start_a_formula():
    from datetime import UTC, datetime

    from services.audit.trail import service as trail

    record = trail.TrailRecordRead(seq=1, at=datetime(2026, 3, 1, tzinfo=UTC), actor_id="ana", actor_role="auditor",
                                   action="case.released", reason="=HYPERLINK(\"http://x\")", prev_hash="0" * 64,
                                   hash="1" * 64)
    data = trail.TrailExport(case_id="c", submission_id="s", chain="case:c", exported_at=record.at, records=[record],
                             verification=trail.Verification(ok=True, records=1, head="1" * 64, problems=[]))
    [row] = list(csv.DictReader(io.StringIO(trail.to_csv(data))))
    assert row["reason"] == "'=HYPERLINK(\"http://x\")"


async def test_an_edited_record_is_detected_by_the_api_and_the_command(audit):
    sid = await reviewed_case(audit)
    case = await audit.case(sid)
    async with audit.runtime.db.transaction() as session:  # someone with database access rewrites history
        await session.execute(update(TrailRecord).where(TrailRecord.case_id == case.id, TrailRecord.seq == 4)
                              .values(reason="The inventory was fine."))
    async with audit.client("ana") as ana:
        verification = (await ana.get(f"/api/v1/cases/{sid}/trail")).json()["verification"]
        assert not verification["ok"]
        assert verification["problems"] == [
            "record 4 (decision.saved) was altered: its content does not match its hash"]
        assert (await ana.get(f"/api/v1/cases/{sid}/trail.csv")).headers["x-trail-verified"] == "false"
    done = verify_trail(audit)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"BROKEN  case:{case.id}" in done.stdout and "record 4 (decision.saved) was altered" in done.stdout
    assert "1 broken" in done.stdout


async def test_a_removed_last_record_is_detected(audit):
    sid = await reviewed_case(audit)
    case = await audit.case(sid)
    async with audit.runtime.db.transaction() as session:
        await session.execute(delete(TrailRecord).where(TrailRecord.case_id == case.id, TrailRecord.seq == 6))
    async with audit.client("ana") as ana:
        verification = (await ana.get(f"/api/v1/cases/{sid}/trail")).json()["verification"]
    assert verification["problems"] == ["the chain holds 5 record(s) but 6 were written"]
    done = verify_trail(audit, case.id)
    assert done.returncode == 1 and "the chain holds 5 record(s) but 6 were written" in done.stdout
    assert verify_trail(audit, "no-such-case").returncode == 2


async def test_the_event_and_the_activity_racing_open_one_case(audit):
    handler = subscribers.open_case(audit.options)
    for _ in range(3):
        sid = uuid.uuid4().hex
        sub = submission()
        envelope = make_event(Subject.SUBMISSION_SUBMITTED, SubmissionSubmitted(
            submission_id=sid, city_id=sub.city.id, cycle="2026", catalog_version="wwc-2019", answered=45,
            evidence_count=len(sub.evidence), city_name=sub.city.name), submission_id=sid, correlation_id=sid)

        async def by_event(envelope=envelope):
            async with audit.runtime.db.transaction() as session:
                await handler(session, envelope)

        opened = await asyncio.gather(
            by_event(), audit.activities.open_review(ReviewRequest(submission_id=sid, submission=sub)),
            audit.activities.open_review(ReviewRequest(submission_id=sid, submission=sub)), by_event())
        [case_id] = {o.case_id for o in opened if o is not None}
        async with audit.runtime.db.sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(ReviewCase)
                                        .where(ReviewCase.submission_id == sid)) == 1
            actions = (await session.scalars(select(TrailRecord.action).where(TrailRecord.case_id == case_id)
                                             .order_by(TrailRecord.seq))).all()
        assert actions == ["case.opened", "case.received"]
        assert len(await audit.events(Subject.REVIEW_CASE_OPENED, sid)) == 1
        case = await audit.case(sid)
        assert case.received_at is not None and case.submitted_responses["DG1"] == "YES"
        assert case.city_name == "Springfield" and case.state == "US-IL"
    assert verify_trail(audit).returncode == 0


async def test_auto_mode_confirms_every_response_once(audit):
    """Benchmarks and tests only: the activity confirms the submission, however often it runs."""
    sid = uuid.uuid4().hex
    request = ReviewRequest(submission_id=sid, correlation_id=sid, submission=submission())
    first = await audit.activities.complete_review(request)
    again = await audit.activities.complete_review(request)  # a retried activity
    assert first == again and first.corrections == 0
    assert {k: str(v) for k, v in first.audited_responses.items()} == submission().answers()
    [done] = await audit.events(Subject.REVIEW_COMPLETED, sid)
    assert done["approved_by"] is None and done["changes"] == [] and done["final_responses"]["DG1"] == "YES"
    assert (await audit.case(sid)).status == "completed"
