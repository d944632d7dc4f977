"""The appeal's outcome mailed by notify's activity (real Temporal, database and SMTP
sink): in the city staff's language, naming the overturned and upheld criteria by their
catalog statements, the tier now and the reissued report; once, though the activity runs
twice."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from temporalio.worker import Worker

from certification.activities import AppealOutcomeMail
from services.notify.domain import Kind
from services.notify.mails import render
from services.notify.models import Mail, Person
from shared.catalog import load_catalog
from shared.contracts.events import CityProfile, Subject
from tests.infra.test_consumer import eventually
from tests.notify.appeal_probe import AppealMailProbe, AppealMailProbeInput
from tests.notify.helpers import mails_to, publish, text_of, user
from tests.notify.test_ledger_and_booking import notify_stack

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
