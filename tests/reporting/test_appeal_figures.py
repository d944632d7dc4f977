"""The programme dashboard after an appeal: reporting's ledger holds both of the
submission's scores (the first, and the one scored again after the appeal overturned a
finding); the dashboard counts the certification once, with its new tier, and times the
appeal like any other stage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devtools.harness import migrated_database
from services.reporting import ledger, programme
from shared.contracts.events import ScoreComputed, StatusChanged, Subject, SubmissionSubmitted, make_event
from shared.contracts.vocabulary import Stage

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def scored(sid: str, city: str, tier: str | None, percent: int, version: int, hours: float):
    return make_event(Subject.SCORE_COMPUTED, ScoreComputed(
        submission_id=sid, city_id=city, cycle="2026", catalog_version="wwc-2019", met=percent * 45 // 100, total=45,
        percent=percent, tier=tier, area_percent={"DG": percent}, computed_at=at(hours), version=version),
        submission_id=sid, city_id=city).model_copy(update={"occurred_at": at(hours)})


async def test_an_appealed_certification_counts_once_with_its_new_tier(backend, tmp_path):
    events = []
    for sid, city in (("s-appealed", "c-1"), ("s-other", "c-2")):
        events.append(make_event(Subject.SUBMISSION_SUBMITTED, SubmissionSubmitted(
            submission_id=sid, city_id=city, cycle="2026", catalog_version="wwc-2019", answered=45, evidence_count=1),
            submission_id=sid, city_id=city).model_copy(update={"occurred_at": at(0)}))
    events += [scored("s-appealed", "c-1", "silver", 64, 1, 10), scored("s-other", "c-2", "silver", 55, 1, 11),
               scored("s-appealed", "c-1", "gold", 67, 2, 100)]
    for stage, hours in ((Stage.COMPLETED, 12), (Stage.APPEAL, 50), (Stage.COMPLETED, 98)):
        events.append(make_event(Subject.STATUS_CHANGED, StatusChanged(submission_id="s-appealed", status=stage),
                                 submission_id="s-appealed").model_copy(update={"occurred_at": at(hours)}))
    async with migrated_database("reporting", backend, tmp_path) as db:
        async with db.transaction() as session:
            for e in events:
                await ledger.record(session, e)
        async with db.sessionmaker() as session:
            figures = await programme.programme(session, cycle="2026")
    counts = {t.tier: t.count for t in figures.tiers}
    assert (counts["gold"], counts["silver"]) == (1, 1)
    applicants = figures.applicants[0]
    assert (applicants.submissions, applicants.scored, applicants.certified) == (2, 2, 2)
    assert [a.average_percent for a in figures.areas] == [61.0]  # (67 + 55) / 2: the appealed score counts
    appeal = next(s for s in figures.stages if s.stage == Stage.APPEAL.value)
    assert (appeal.stays, appeal.median_seconds) == (1, 48 * 3600.0)


async def test_the_roster_lists_a_submission_by_its_current_report_only(backend, tmp_path):
    """Of a submission's report versions only the latest counts: an appeal's reissue moves
    the city to its new tier, and a reissue without a tier takes it off the roster."""
    from services.reporting import roster
    from services.reporting.models import Report

    async with migrated_database("reporting", backend, tmp_path) as db:
        async with db.transaction() as session:
            for sid, city, name, tiers in (("s-up", "c-up", "Lakeview", ("silver", "gold")),
                                           ("s-off", "c-off", "Riverton", ("silver", None))):
                for version, tier in enumerate(tiers, start=1):
                    session.add(Report(id=f"{sid}-{version}", submission_id=sid, city_id=city, object_key="k",
                                       city_name=name, cycle="2026", tier=tier, version=version,
                                       created_at=at(version * 10)))
        async with db.sessionmaker() as session:
            listed = [(e.city, e.tier) for e in await roster.roster(session)]
            facets = await roster.facets(session)
    assert listed == [("Lakeview", "gold")]
    assert facets["tier"] == ["gold"]
