"""End to end with all five services, the real SMTP sink and the workflow: every kind of
mail reaches each recipient (city staff in Portuguese and English, an auditor, an
operator), the debrief invite carries the right instants for a city in America/Sao_Paulo
and an auditor in America/New_York, a move signals the workflow with a new sequence
(its `debrief_starts_at` moves), a cancel sends METHOD:CANCEL, and the auditor's outcome
completes the workflow."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from devtools.harness import Stack
from services.intake import accounts
from services.notify.config import NotifyOptions
from services.notify.models import Person
from shared.catalog.loader import load_catalog
from certification.activities import ClarificationReminder, DebriefReminder
from shared.contracts.events import (
    CaseAssigned,
    ClarificationAnswered,
    ClarificationRequested,
    MessageParked,
    ReviewCompleted,
    ReviewDueSoon,
    ReviewOverdue,
    SignoffReturned,
    Subject,
)
from certification.contract import Query, certification_workflow_id
from shared.infra.auth import Role
from tests.conftest import token
from tests.infra.test_consumer import eventually
from tests.notify.helpers import invite_of, mails_to, publish, text_of

pytestmark = pytest.mark.slow
PASSWORD = "correct-horse-battery"
CITY_MAIL = {"submission_received", "clarification_requested", "clarification_due_soon", "review_completed",
             "certification_result", "report_ready", "debrief_offered", "debrief_booked", "debrief_rescheduled",
             "debrief_reminder", "debrief_cancelled"}
AUDITOR_MAIL = {"case_assigned", "review_due_soon", "clarification_answered", "signoff_returned",
                "auditor_debrief_booked", "auditor_debrief_rescheduled", "auditor_debrief_cancelled"}
OPERATOR_MAIL = {"review_overdue", "message_parked"}
# Words each language's version of a kind says (the subject), to check the language.
PT = {"submission_received": "Recebemos", "report_ready": "Relatório", "debrief_booked": "agendada",
      "debrief_cancelled": "cancelada", "clarification_requested": "Esclarecimento"}
EN = {"submission_received": "We received", "report_ready": "Report is ready", "debrief_booked": "booked",
      "debrief_cancelled": "cancelled", "clarification_requested": "Clarification requested"}


@pytest.fixture
async def stack(infra, tmp_path):
    s = Stack(infra=infra, backend="sqlite", tmp=tmp_path,
              build_kwargs={"notify": {"options": NotifyOptions(min_notice_minutes=0, poll_seconds=0.3)}})
    await s.start()
    yield s
    await s.stop()


def by_kind(messages) -> dict[str, list]:
    out: dict[str, list] = {}
    for m in messages:
        out.setdefault(str(m["X-WWC-Kind"]), []).append(m)
    return out


async def status(stack: Stack, submission_id: str):
    handle = stack.runtimes["intake"].temporal_client.get_workflow_handle(certification_workflow_id(submission_id))
    from certification.contract import CertificationStatus

    return await handle.query(Query.STATUS, result_type=CertificationStatus)


async def test_every_mail_reaches_each_recipient_once_and_the_debrief_runs(stack, infra):
    tag = uuid.uuid4().hex[:6]
    lia, sam = f"lia-{tag}@campinas.sp.gov.br", f"sam-{tag}@campinas.sp.gov.br"
    ana, olga = f"ana-{tag}@wwc.org", f"olga-{tag}@wwc.org"
    rt = stack.runtimes
    registered = await stack.register_city({
        "name": f"Campinas {tag}", "state": "SP", "country": "BR", "population": 1_139_000, "contact_name": "Lia",
        "contact_email": lia, "password": PASSWORD, "language": "pt"})
    city_id, city_token = registered["city"]["id"], registered["token"]["access_token"]
    intake = stack.client("intake", city_token)
    await stack.invite_staff(intake, city_id, {"email": sam, "name": "Sam", "password": PASSWORD, "language": "en"})
    async with rt["intake"].db.transaction() as session:
        auditor = await accounts.create_staff_user(session, email=ana, name="Ana Auditor", password=PASSWORD,
                                                   role=Role.AUDITOR)
        operator = await accounts.create_staff_user(session, email=olga, name="Olga", password=PASSWORD,
                                                    role=Role.OPERATOR)
    rt["intake"].wake_relay()

    async def people_known():
        async with rt["notify"].db.sessionmaker() as session:
            n = await session.scalar(select(func.count()).select_from(Person).where(
                Person.email.in_([lia, sam, ana, olga])))
        return n == 4

    await eventually(people_known, timeout=30)

    # The city submits; the workflow runs to the debrief offer (automatic review).
    catalog = load_catalog("wwc-2019")
    assert (await intake.post("/api/v1/snapshots/2026", json={"answers": {q.id: True for q in catalog.snapshot}})
            ).status_code == 201
    assert (await intake.post("/api/v1/assessments/2026")).status_code == 201
    responses = {c.id: {"response": "YES" if i < 35 else "NO", "narrative": f"about {c.id}",
                        "links": [f"https://data.campinas.gov.br/{c.id}"] if i < 35 else []}
                 for i, c in enumerate(catalog.criteria)}
    r = await intake.put("/api/v1/assessments/2026/responses", json={"responses": responses})
    assert r.status_code == 200, r.text
    r = await intake.post("/api/v1/assessments/2026/submit")
    assert r.status_code == 201, r.text
    sub_id = r.json()["id"]

    async def at_debrief():
        try:
            s = await status(stack, sub_id)
        except Exception:
            return None
        return s if s.stage == "debrief" else None

    await eventually(at_debrief, timeout=120, interval=0.5)

    # Audit's facts (its console is being built: recorded as audit records them).
    audit, now = rt["audit"], datetime.now(UTC)
    env = {"submission_id": sub_id, "city_id": city_id}
    await publish(audit, Subject.CASE_ASSIGNED, CaseAssigned(submission_id=sub_id, case_id="case-1",
                  auditor_id=auditor.id, assigned_by=operator.id, due_at=now + timedelta(days=21)), **env)
    await publish(audit, Subject.CLARIFICATION_REQUESTED, ClarificationRequested(
        submission_id=sub_id, case_id="case-1", request_id=f"rq-{tag}", criteria=["DG1", "OD2"],
        message="Envie o inventário de dados de 2025.", due_at=now + timedelta(days=10), requested_by=auditor.id),
        **env)
    await publish(audit, Subject.REVIEW_DUE_SOON, ReviewDueSoon(submission_id=sub_id, case_id="case-1",
                  auditor_id=auditor.id, due_at=now + timedelta(days=2)), **env)
    await publish(audit, Subject.REVIEW_OVERDUE, ReviewOverdue(submission_id=sub_id, case_id="case-1",
                  auditor_id=auditor.id, due_at=now), **env)
    await publish(audit, Subject.SIGNOFF_RETURNED, SignoffReturned(submission_id=sub_id, case_id="case-1",
                  reviewer_id=auditor.id, returned_by=operator.id, comments="Check OD2 again."), **env)
    await publish(audit, Subject.REVIEW_COMPLETED, ReviewCompleted(submission_id=sub_id, case_id="case-1",
                  corrections=0, city_id=city_id), **env)
    await publish(rt["intake"], Subject.CLARIFICATION_ANSWERED, ClarificationAnswered(
        submission_id=sub_id, request_id=f"rq-{tag}", answered_at=now), **env)
    await publish(rt["reporting"], Subject.message_parked("reporting"), MessageParked(
        service="reporting", consumer="reporting-x", subject="wwc.intake.x", parked_id=7, error="boom"))
    notify_activities = {a.__name__: a for a in rt["notify"].activities}
    await notify_activities["remind_clarification"](ClarificationReminder(
        submission_id=sub_id, request_id=f"rq-{tag}", criteria=["DG1"], due_at=now + timedelta(days=2)))

    # The auditor publishes two slots in New York; the city books the first.
    auditor_api = stack.client("notify", token(Role.AUDITOR, sub=auditor.id))
    city_api = stack.client("notify", city_token)
    day = (now + timedelta(days=5)).date()
    slots = []
    for hour in (9, 15):
        r = await auditor_api.post("/api/v1/slots", json={
            "starts_at": f"{day}T{hour:02d}:00:00", "timezone": "America/New_York", "duration_minutes": 45,
            "call_url": f"https://meet.example.org/{tag}-{hour}"})
        assert r.status_code == 201, r.text
        slots.append(r.json())
    first = datetime.fromisoformat(slots[0]["starts_at"])
    assert first == datetime.combine(day, datetime.min.time().replace(hour=9), ZoneInfo("America/New_York"))
    r = await city_api.post(f"/api/v1/debriefs/{sub_id}/booking", json={"slot_id": slots[0]["id"]})
    assert r.status_code == 201, r.text
    booking_id = r.json()["booking"]["id"]

    async def starts_at(expected):
        async def check():
            s = await status(stack, sub_id)
            return s if s.debrief_starts_at == expected else None
        return check

    await eventually(await starts_at(first), timeout=20)

    async def mail_of(address, kind, n=1):
        async def check():
            found = by_kind(mails_to(infra.mail_dir, address)).get(kind, [])
            return found if len(found) >= n else None
        return await eventually(check, timeout=30)

    [city_invite_mail] = await mail_of(lia, "debrief_booked")
    [auditor_invite_mail] = await mail_of(ana, "auditor_debrief_booked")
    city_cal, auditor_cal = invite_of(city_invite_mail), invite_of(auditor_invite_mail)
    [city_ev], [aud_ev] = city_cal.walk("VEVENT"), auditor_cal.walk("VEVENT")
    assert str(city_cal["method"]) == str(auditor_cal["method"]) == "REQUEST"
    assert city_ev["dtstart"].params["TZID"] == "America/Sao_Paulo"
    assert aud_ev["dtstart"].params["TZID"] == "America/New_York"
    assert city_ev.decoded("dtstart") == aud_ev.decoded("dtstart") == first
    sao_paulo = first.astimezone(ZoneInfo("America/Sao_Paulo"))
    assert aud_ev.decoded("dtstart").hour == 9 and city_ev.decoded("dtstart").hour == sao_paulo.hour != 9
    assert str(city_ev["uid"]) == str(aud_ev["uid"]) and city_ev["sequence"] == 0
    assert slots[0]["call_url"] in str(city_ev["location"])
    assert f"{sao_paulo:%H:%M} (São Paulo)" in text_of(city_invite_mail)

    # The city moves the call: SEQUENCE 1, the same UID, the workflow's reminders move.
    r = await city_api.put(f"/api/v1/debriefs/{sub_id}/booking", json={"slot_id": slots[1]["id"]})
    assert r.status_code == 200, r.text
    second = datetime.fromisoformat(slots[1]["starts_at"])
    await eventually(await starts_at(second), timeout=20)
    [moved] = await mail_of(ana, "auditor_debrief_rescheduled")
    [moved_ev] = invite_of(moved).walk("VEVENT")
    assert moved_ev["sequence"] == 1 and str(moved_ev["uid"]) == str(aud_ev["uid"])
    assert moved_ev.decoded("dtstart") == second

    # Reminders: for the call as it is now; one armed for the old time sends nothing.
    await notify_activities["remind_debrief"](DebriefReminder(
        submission_id=sub_id, offer_id=r.json()["offer_id"], booking_id=booking_id, starts_at=first, kind="day"))
    await notify_activities["remind_debrief"](DebriefReminder(
        submission_id=sub_id, offer_id=r.json()["offer_id"], booking_id=booking_id, starts_at=second, kind="day"))
    await mail_of(lia, "debrief_reminder")

    # The auditor cancels: METHOD:CANCEL with a higher SEQUENCE; the workflow waits again.
    r = await auditor_api.delete(f"/api/v1/debriefs/{sub_id}/booking")
    assert r.status_code == 200 and r.json()["state"] == "open", r.text

    async def unbooked():
        s = await status(stack, sub_id)
        return s.debrief_starts_at is None
    await eventually(unbooked, timeout=20)
    [cancelled] = await mail_of(lia, "debrief_cancelled")
    cancel_cal = invite_of(cancelled)
    assert str(cancel_cal["method"]) == "CANCEL" and cancel_cal.walk("VEVENT")[0]["sequence"] == 2

    # A call booked for right now takes place; the auditor records it; the workflow completes.
    soon = datetime.now(ZoneInfo("America/New_York")) + timedelta(seconds=3)
    r = await auditor_api.post("/api/v1/slots", json={
        "starts_at": soon.replace(tzinfo=None, microsecond=0).isoformat(), "timezone": "America/New_York",
        "duration_minutes": 30, "call_url": f"https://meet.example.org/{tag}-now"})
    assert r.status_code == 201, r.text
    r = await city_api.post(f"/api/v1/debriefs/{sub_id}/booking", json={"slot_id": r.json()["id"]})
    assert r.status_code == 201, r.text
    early = await auditor_api.post(f"/api/v1/debriefs/{sub_id}/outcome", json={"outcome": "held"})
    assert early.status_code == 409 and early.json()["code"] == "call_not_started"

    async def outcome_recorded():
        r = await auditor_api.post(f"/api/v1/debriefs/{sub_id}/outcome",
                                   json={"outcome": "held", "notes": "Walked through the path to Platinum."})
        return r if r.status_code == 200 else None

    await eventually(outcome_recorded, timeout=15, interval=0.5)

    async def completed():
        s = await status(stack, sub_id)
        return s if s.stage == "completed" else None

    done = await eventually(completed, timeout=30)
    assert done.debrief_outcome == "held"

    # Every kind reached each of its recipients, each message once (no Message-ID twice).
    async def everything():
        got = {who: by_kind(mails_to(infra.mail_dir, who)) for who in (lia, sam, ana, olga)}
        ok = all(CITY_MAIL <= set(got[w]) for w in (lia, sam)) and AUDITOR_MAIL <= set(got[ana]) \
            and OPERATOR_MAIL <= set(got[olga])
        return got if ok else None

    got = await eventually(everything, timeout=30)
    messages = mails_to(infra.mail_dir, lia, sam, ana, olga)
    ids = [(str(m["To"]), str(m["Message-ID"])) for m in messages]
    assert len(ids) == len(set(ids))
    for kind in CITY_MAIL - {"debrief_booked", "debrief_cancelled"}:
        assert len(got[lia][kind]) == len(got[sam][kind]), kind  # both staff members, the same mail
    for kind, word in PT.items():  # each city mail in the reader's language
        assert word in str(got[lia][kind][0]["Subject"]), (kind, got[lia][kind][0]["Subject"])
        assert EN[kind] in str(got[sam][kind][0]["Subject"]), (kind, got[sam][kind][0]["Subject"])
    assert "registration_requested" in got[lia] and "registration_requested" in got[sam]
    assert "Envie o inventário" in text_of(got[lia]["clarification_requested"][0])
    assert f"/portal/submission/clarifications/rq-{tag}" in text_of(got[sam]["clarification_requested"][0])
