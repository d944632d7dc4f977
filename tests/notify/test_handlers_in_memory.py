"""Notify's event handlers on FastStream's in-memory broker: the same subscribers the
service registers (durable, idempotent, parking), fed without a NATS server. Fast checks of
what each handler does; tests/notify/test_notify_end_to_end.py and the resilience suite
prove the same wiring over a real JetStream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.notify import directory
from services.notify.main import build
from services.notify.models import Mail
from shared.contracts.events import RegistrationRequested, Subject, UserRegistered, make_event
from shared.contracts.vocabulary import Role
from shared.infra.tables import parked_messages, processed_events
from tests.inmemory import deliver, on_test_broker


@pytest.fixture
async def notify(tmp_path):
    async with on_test_broker(build, "notify", tmp_path) as service:
        yield service


async def count(runtime, query) -> int:
    async with runtime.db.sessionmaker() as session:
        return (await session.execute(query)).scalar_one()


async def test_a_registered_auditor_becomes_someone_notify_can_mail(notify):
    runtime, broker = notify
    await deliver(broker, make_event(Subject.USER_REGISTERED, UserRegistered(
        user_id="u-1", email="ana@audit.example", name="Ana Ramos", role=Role.AUDITOR, language="es")))
    async with runtime.db.sessionmaker() as session:
        person = await directory.person(session, "u-1")
    assert person is not None and (person.email, person.name, person.language) == ("ana@audit.example",
                                                                                   "Ana Ramos", "es")


async def test_a_redelivered_registration_queues_one_mail(notify):
    runtime, broker = notify
    event = make_event(Subject.REGISTRATION_REQUESTED, RegistrationRequested(
        registration_id="r-1", email="mayor@springfield.example", contact_name="Lisa", city_name="Springfield",
        confirm_url="https://portal.example/confirm/t", expires_at=datetime.now(UTC) + timedelta(days=1)))
    await deliver(broker, event)
    await deliver(broker, event)  # JetStream redelivers after a lost ack
    assert await count(runtime, select(func.count()).select_from(Mail)
                       .where(Mail.to == "mayor@springfield.example")) == 1
    assert await count(runtime, select(func.count()).select_from(processed_events)
                       .where(processed_events.c.event_id == str(event.event_id))) == 1


async def test_a_message_that_is_no_event_is_parked_for_an_operator(notify):
    runtime, broker = notify
    await broker.publish(b"{not json", Subject.USER_REGISTERED, headers={"Nats-Msg-Id": "junk-1"})
    async with runtime.db.sessionmaker() as session:
        parked = (await session.execute(select(parked_messages))).mappings().all()
    assert [(p["consumer"], p["event_id"]) for p in parked] == [("notify-people", "junk-1")]
    assert "not a valid event envelope" in parked[0]["error"]


async def test_a_reissue_after_an_appeal_mails_nothing_of_its_own(notify):
    """Scored again and reissued after an appeal (version 2): the appeal's outcome mail
    (notify.mail_appeal_outcome) tells the city, so neither event mails it again."""
    from shared.contracts.events import CityProfile, ReportReady, ScoreComputed, SubmissionSubmitted

    runtime, broker = notify
    await deliver(broker, make_event(Subject.CITY_REGISTERED, CityProfile(
        city_id="c-9", name="Lakeview", country="US", population=90_000)))
    await deliver(broker, make_event(Subject.SUBMISSION_SUBMITTED, SubmissionSubmitted(
        submission_id="s-9", city_id="c-9", cycle="2026", catalog_version="wwc-2019", answered=45, evidence_count=1,
        city_name="Lakeview", contact_email="data@lakeview.gov"), submission_id="s-9", city_id="c-9"))
    for version in (1, 2):
        await deliver(broker, make_event(Subject.SCORE_COMPUTED, ScoreComputed(
            submission_id="s-9", city_id="c-9", cycle="2026", catalog_version="wwc-2019", met=30, total=45,
            percent=67, tier="gold", version=version), submission_id="s-9", city_id="c-9"))
        await deliver(broker, make_event(Subject.REPORT_READY, ReportReady(
            submission_id="s-9", report_id=f"r-{version}", city_id="c-9", tier="gold", version=version),
            submission_id="s-9", city_id="c-9"))
    async with runtime.db.sessionmaker() as session:
        kinds = sorted((await session.scalars(select(Mail.kind).where(Mail.submission_id == "s-9"))).all())
    assert kinds == ["certification_result", "report_ready", "submission_received"]


async def test_a_filed_appeal_is_acknowledged_once_in_the_staff_language(notify):
    """Intake's `wwc.intake.appeal.filed` (as it travels): the city's staff are told, in
    their language, which criteria were appealed (by their catalog statements), once."""
    from shared.catalog import load_catalog
    from shared.contracts.events import CityProfile, Envelope, SubmissionSubmitted

    runtime, broker = notify
    catalog = load_catalog("wwc-2019")
    await deliver(broker, make_event(Subject.CITY_REGISTERED, CityProfile(
        city_id="c-7", name="Campinas", country="BR", population=1_139_000, language="pt")))
    await deliver(broker, make_event(Subject.USER_REGISTERED, UserRegistered(
        user_id="u-7", email="dados@campinas.sp.gov.br", name="Dana", role=Role.CITY, city_id="c-7",
        language="pt")))
    await deliver(broker, make_event(Subject.SUBMISSION_SUBMITTED, SubmissionSubmitted(
        submission_id="s-7", city_id="c-7", cycle="2026", catalog_version="wwc-2019", answered=45, evidence_count=1,
        city_name="Campinas", contact_email="dados@campinas.sp.gov.br"), submission_id="s-7", city_id="c-7"))
    filed = Envelope(type="wwc.intake.appeal.filed", submission_id="s-7", city_id="c-7", payload={
        "submission_id": "s-7", "appeal_id": "a-7", "city_id": "c-7", "filed_at": datetime.now(UTC).isoformat(),
        "criteria": [{"criterion_id": "DG1", "statement": "O inventário é público.", "evidence": []}],
        "filed_by": "u-7", "filed_by_name": "Dana"})
    await deliver(broker, filed)
    await deliver(broker, filed)  # redelivered
    async with runtime.db.sessionmaker() as session:
        got = (await session.scalars(select(Mail).where(Mail.kind == "appeal_filed"))).all()
    assert [(m.to, m.language, m.subject) for m in got] == [
        ("dados@campinas.sp.gov.br", "pt", "Recebemos o recurso de Campinas")]
    assert f"DG1: {catalog.text(catalog.criterion('DG1'), 'pt')}" in got[0].text
    assert "Dana contestou a conclusão dos auditores sobre um critério da certificação de Campinas:" in got[0].text
