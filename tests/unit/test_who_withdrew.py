"""A withdrawal or a cancellation shown to people names the person who did it, not only the
fact: the operators' timeline (and its JSON) reads the name the event carries, not the
actor's role ("city")."""

from __future__ import annotations

from datetime import UTC, datetime

from services.reporting.operations import timeline
from shared.contracts.events import Subject

AT = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)


def test_a_withdrawn_submission_names_who_withdrew_it():
    line = timeline.describe(Subject.SUBMISSION_WITHDRAWN, {"submission_id": "s", "city_id": "c",
                                                            "reason": "Next cycle.", "by_name": "Lia Souza"}, AT)
    assert line.actor_name == "Lia Souza"
    assert timeline.english(line) == "withdrawn by the city: Next cycle. (by Lia Souza)"


def test_a_cancelled_call_names_the_person_not_the_role():
    line = timeline.describe(Subject.DEBRIEF_CANCELLED, {"submission_id": "s", "offer_id": "o", "booking_id": "b",
                                                         "starts_at": AT.isoformat(), "by": "city",
                                                         "by_name": "Lia Souza"}, AT)
    assert timeline.english(line, {"city": "city"}).endswith("(by Lia Souza)")


def test_an_event_from_before_names_were_sent_still_reads():
    line = timeline.describe(Subject.SUBMISSION_WITHDRAWN, {"submission_id": "s", "city_id": "c", "reason": "x"}, AT)
    assert line.actor_name is None and timeline.english(line) == "withdrawn by the city: x"
