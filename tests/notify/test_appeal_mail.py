"""The appeal's mail (real NATS, Temporal, database and SMTP sink). Its outcome, mailed by
notify's activity: in the city staff's language, naming the overturned and upheld criteria
by their catalog statements, the tier now and the reissued report; once, though the
activity runs twice. Its due-date reminders, from audit's `remind_appeal` through the
broker: to the auditors deciding it (operators when nobody is) and, once overdue, to
operators; each once, in the reader's language, linking the appeal in the audit console."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import nats
from sqlalchemy import func, select
from temporalio.worker import Worker

from certification.activities import AppealedFinding, AppealOutcomeMail, AppealReminder, AppealRequest
from devtools.harness import Stack
from services.audit.appeals import service as appeals
from services.audit.config import AuditOptions
from services.notify import subscribers
from services.notify.domain import Kind
from services.notify.mails import render
from services.notify.models import Mail, Person
from shared.catalog import load_catalog
from shared.contracts.events import CityProfile, Envelope, Subject
from shared.contracts.vocabulary import ReviewReminderKind
from tests.audit.conftest import Audit
from tests.infra.test_consumer import eventually
from tests.notify.appeal_probe import AppealMailProbe, AppealMailProbeInput
from tests.notify.helpers import mails_to, publish, text_of, user
from tests.notify.test_ledger_and_booking import FAST, notify_stack

CATALOG = load_catalog("wwc-2019")


async def test_the_appeal_outcome_is_mailed_once_in_spanish(infra, tmp_path):
    stack = await notify_stack(infra, "sqlite", tmp_path)
    rt = stack.runtimes["notify"]
    tag = uuid.uuid4().hex[:6]
    city_id, sid, staff = f"city-{tag}", f"sub-{tag}", f"datos-{tag}@villanueva.gob"
    try:
        await publish(rt, Subject.CITY_REGISTERED, CityProfile(city_id=city_id, name="Villa Nueva", country="MX",
                                                               population=212_000, timezone="America/Mexico_City"))
        await user(rt, role="city", email=staff, city_id=city_id, language="es")

        async def known():
            async with rt.db.sessionmaker() as session:
                return await session.scalar(select(func.count()).select_from(Person)
                                            .where(Person.city_id == city_id)) == 1

        await eventually(known, timeout=30)
        mail = AppealOutcomeMail(submission_id=sid, city_id=city_id, appeal_id=f"appeal-{tag}", city_name="Villa Nueva",
                                 language="es", overturned=["DG1"], upheld=["GM1", "OD2"], tier="gold",
                                 previous_tier="silver", report_version=2, report_url=f"https://wwc.test/reports/{tag}")
        queue = f"probe-{tag}"
        client = rt.temporal_client
        async with Worker(client, task_queue=queue, workflows=[AppealMailProbe]):
            await client.execute_workflow(AppealMailProbe.run, AppealMailProbeInput(mail=mail, queue=rt.task_queue),
                                          id=f"appeal-mail-{tag}", task_queue=queue)

        async def delivered():
            return mails_to(infra.mail_dir, staff) or None

        got = await eventually(delivered, timeout=30)
        async with rt.db.sessionmaker() as session:
            rows = (await session.scalars(select(Mail).where(Mail.submission_id == sid))).all()
        assert [(r.kind, r.to, r.language) for r in rows] == [(Kind.APPEAL_DECIDED.value, staff, "es")]
        assert len(got) == 1
        text = text_of(got[0])
        assert str(got[0]["Subject"]) == "La apelación de la certificación de Villa Nueva está resuelta"
        assert "La apelación revocó la conclusión de los auditores sobre un criterio:" in text
        assert f"DG1: {CATALOG.text(CATALOG.criterion('DG1'), 'es')}" in text
        assert "Las conclusiones de los auditores se mantienen sobre 2 criterios:" in text
        assert f"OD2: {CATALOG.text(CATALOG.criterion('OD2'), 'es')}" in text
        assert "Villa Nueva pasa de Plata a Oro." in text
        assert "versión 2" in text and f"https://wwc.test/reports/{tag}" in text
    finally:
        await stack.stop()


def test_an_appeal_that_upheld_everything_says_the_report_stands():
    _, text, html = render(Kind.APPEAL_DECIDED, "pt", {
        "name": "", "city_name": "Campinas", "overturned": [], "upheld": [{"id": "DG1", "text": "x"}],
        "tier": "silver", "previous_tier": "silver", "report_version": 1, "report_url": None,
        "preferences_url": "https://wwc.test/prefs"})
    assert "A conclusão dos auditores foi mantida sobre um critério:" in text
    assert "Campinas mantém o nível Prata." in text
    assert "Seu Relatório de Certificação permanece como foi emitido." in text and "reverteu" not in text


# --- the appeal's due-date reminders (audit's activity -> NATS -> notify's mail) --------------


async def test_appeal_reminders_reach_its_decider_and_operators_once_each_in_their_language(infra, tmp_path):
    """Audit's `remind_appeal`, run twice per reminder (a retried activity), publishes each
    once; notify mails the due-soon reminder to Cam, who is deciding the appeal (in Spanish),
    and the overdue one to the operators (Portuguese, English), each with the appeal's link in
    the audit console. The event delivered again (JetStream after a lost ack, or a consumer
    that lost its record of it) mails nobody twice. An appeal nobody decides yet reminds the
    operators."""
    options = AuditOptions()
    stack = await Stack(infra=infra, backend="sqlite", tmp=tmp_path, services=("audit", "notify"),
                        build_kwargs={"audit": {"options": options}, "notify": {"options": FAST}}).start()
    audit, rt = Audit(stack, options), stack.runtimes["notify"]
    tag = uuid.uuid4().hex[:6]
    cam, dee = f"cam-{tag}", f"dee-{tag}"
    cam_mail, dee_mail = f"cam-{tag}@wwc.org", f"dee-{tag}@wwc.org"
    olga_mail, omar_mail = f"olga-{tag}@wwc.org", f"omar-{tag}@wwc.org"
    try:
        # Notify knows the staff (intake's user.registered): Cam in Spanish, Dee (no part in
        # this appeal) in Portuguese, two operators in Portuguese and English.
        await user(rt, role="auditor", email=cam_mail, name="Cam Auditora", language="es", user_id=cam)
        await user(rt, role="auditor", email=dee_mail, name="Dee Auditor", language="pt", user_id=dee)
        await user(rt, role="operator", email=olga_mail, name="Olga", language="pt")
        await user(rt, role="operator", email=omar_mail, name="Omar", language="en")

        async def known():
            async with rt.db.sessionmaker() as session:
                return await session.scalar(select(func.count()).select_from(Person).where(
                    Person.email.in_([cam_mail, dee_mail, olga_mail, omar_mail]))) == 4

        await eventually(known, timeout=30)
        await audit.auditor(cam, "Cam Auditora")

        async def open_appeal(name: str) -> tuple[str, str]:
            sid, appeal_id = f"sub-{name}-{tag}", f"appeal-{name}-{tag}"
            await audit.activities.open_appeal(AppealRequest(
                submission_id=sid, correlation_id=sid, appeal_id=appeal_id, city_id=f"city-{name}-{tag}",
                city_name=name, catalog_version="wwc-2019", filed_at=datetime.now(UTC), criteria=[
                    AppealedFinding(criterion_id=c, submitted="YES", audited="NO", statement="It was adopted.")
                    for c in ("DG1", "DG2")]))
            return sid, appeal_id

        sid, appeal_id = await open_appeal("Villa Nueva")
        async with audit.client(cam) as api:  # Cam decides one of its two criteria: Cam is deciding it
            r = await api.post(f"/api/v1/appeals/{appeal_id}/decisions", json={
                "criterion_id": "DG1", "outcome": "upheld", "reason_code": "documents_not_submitted",
                "explanation": "The inventory is still missing."})
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "open"
        async with audit.runtime.db.sessionmaker() as session:
            due_at = (await appeals.by_id(session, appeal_id)).due_at

        for kind in (ReviewReminderKind.DUE_SOON, ReviewReminderKind.OVERDUE):
            for _ in range(2):  # the activity retried: audit publishes once per due date
                await audit.activities.remind_appeal(AppealReminder(
                    submission_id=sid, correlation_id=sid, appeal_id=appeal_id, kind=kind, due_at=due_at))
        [soon] = await audit.events(Subject.APPEAL_DUE_SOON, sid)
        [late] = await audit.events(Subject.APPEAL_OVERDUE, sid)
        assert (soon["auditor_ids"], soon["status"], late["auditor_ids"]) == ([cam], "open", [cam])

        def kinds(address: str) -> list[str]:
            return sorted(str(m["X-WWC-Kind"]) for m in mails_to(infra.mail_dir, address))

        async def delivered():
            got = {a: kinds(a) for a in (cam_mail, olga_mail, omar_mail)}
            return got if all(got.values()) else None

        await eventually(delivered, timeout=60)
        link = f"/audit/appeals/{appeal_id}"
        [to_cam] = mails_to(infra.mail_dir, cam_mail)
        assert str(to_cam["X-WWC-Kind"]) == Kind.APPEAL_DUE_SOON.value
        assert str(to_cam["Subject"]).startswith("Decisión de apelación por vencer: Villa Nueva (")
        assert "que usted está decidiendo" in text_of(to_cam) and link in text_of(to_cam)
        [to_olga] = mails_to(infra.mail_dir, olga_mail)
        assert str(to_olga["Subject"]) == "Prazo de recurso descumprido: Villa Nueva"
        assert "Critérios decididos até agora por Cam Auditora." in text_of(to_olga) and link in text_of(to_olga)
        [to_omar] = mails_to(infra.mail_dir, omar_mail)
        assert str(to_omar["Subject"]) == "Appeal SLA breached: Villa Nueva"
        assert "Criteria decided so far by Cam Auditora." in text_of(to_omar) and link in text_of(to_omar)
        assert mails_to(infra.mail_dir, dee_mail) == []

        # The due-soon event delivered again: over JetStream (a new message id, as after a
        # lost ack), and to the handler itself (as if the consumer had lost its record of it).
        nc = await nats.connect(infra.nats_url)
        try:
            js = nc.jetstream()
            stream = rt.stream.name
            original = await js.get_last_msg(stream, Subject.APPEAL_DUE_SOON)
            ack = await js.publish(Subject.APPEAL_DUE_SOON, original.data, stream=stream,
                                   headers={"Nats-Msg-Id": uuid.uuid4().hex})

            async def consumed():
                info = await js.consumer_info(stream, "notify-audit-appeal-due_soon")
                return info.delivered.stream_seq >= ack.seq and info.num_ack_pending == 0

            await eventually(consumed, timeout=30)
        finally:
            await nc.close()
        envelope = Envelope.model_validate_json(original.data)
        async with rt.db.transaction() as session:
            await subscribers.on_appeal_due_soon(session, envelope)
        async with rt.db.sessionmaker() as session:
            rows = (await session.scalars(select(Mail).where(Mail.submission_id == sid))).all()
        assert sorted((r.kind, r.to, r.language) for r in rows) == [
            (Kind.APPEAL_DUE_SOON.value, cam_mail, "es"), (Kind.APPEAL_OVERDUE.value, olga_mail, "pt"),
            (Kind.APPEAL_OVERDUE.value, omar_mail, "en")]
        assert {a: kinds(a) for a in (cam_mail, olga_mail, omar_mail)} == {
            cam_mail: ["appeal_due_soon"], olga_mail: ["appeal_overdue"], omar_mail: ["appeal_overdue"]}

        # An appeal nobody has decided anything of yet: its due-soon reminder goes to operators.
        other_sid, other_id = await open_appeal("Lakeview")
        await audit.activities.remind_appeal(AppealReminder(
            submission_id=other_sid, correlation_id=other_sid, appeal_id=other_id,
            kind=ReviewReminderKind.DUE_SOON, due_at=due_at))

        async def operators_reminded():
            got = {a: [m for m in mails_to(infra.mail_dir, a) if "Lakeview" in str(m["Subject"])]
                   for a in (olga_mail, omar_mail)}
            return got if all(got.values()) else None

        got = await eventually(operators_reminded, timeout=60)
        [to_omar] = got[omar_mail]
        assert str(to_omar["Subject"]).startswith("Appeal decision due soon: Lakeview (")
        assert "no auditor has decided any of its criteria yet" in text_of(to_omar)
        assert f"/audit/appeals/{other_id}" in text_of(to_omar)
        assert "Decisão de recurso perto do prazo: Lakeview" in str(got[olga_mail][0]["Subject"])
        assert kinds(cam_mail) == ["appeal_due_soon"] and mails_to(infra.mail_dir, dee_mail) == []
    finally:
        await stack.stop()
