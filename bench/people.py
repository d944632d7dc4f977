"""The people of a benchmark: two auditors and any number of cities, driving a process
stack through the public APIs (devtools.actors), and a watcher of the event stream that
says when each certification reached each stage without polling the services (a
benchmark must not load what it measures).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import nats

from devtools.actors import CYCLE, Auditor, Change, City, eventually, staff_token
from devtools.processes import ProcessStack
from shared.catalog import load_catalog
from shared.i18n import languages
from shared.contracts.events import Subject
from shared.infra.settings import S3Settings
from shared.infra.storage import ObjectStore

CATALOG = load_catalog("wwc-2019")
STAFF_PASSWORD = "bench-password-2026"
# Cities being registered and filled in at once (a programme's applicants, not a flood).
PREPARE_AT_ONCE = 8
# A small PDF, as cities upload them (the upload path's checks and storage are exercised).
EVIDENCE_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
                b"endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n"
                b"%%EOF\n")


def progress(line: str) -> None:
    """The one line a benchmark prints while it runs (to stderr: the tables go to stdout)."""
    print(f"[bench] {line}", file=sys.stderr, flush=True)


@dataclass
class Moments:
    """When a certification entered each stage (the services' own event times) and when
    events of interest arrived."""

    stages: dict[str, datetime] = field(default_factory=dict)
    subjects: dict[str, datetime] = field(default_factory=dict)


class EventWatch:
    """A plain NATS subscription to every event (core NATS sees what JetStream stores).

    Waiters are kept per certification, so an event wakes only those waiting on its own
    certification: with a thousand in flight, waking every waiter on every event cost the
    watcher more CPU than the events and left it minutes behind the stream."""

    def __init__(self) -> None:
        self.moments: dict[str, Moments] = defaultdict(Moments)
        self._waiters: dict[str, list[tuple[Callable[[Moments], bool], asyncio.Future]]] = defaultdict(list)
        self._nc = None

    async def start(self, url: str) -> None:
        self._nc = await nats.connect(url)
        # No pending limits (0 = none): the watcher must never drop events as a slow consumer.
        await self._nc.subscribe("wwc.>", cb=self._on_message, pending_msgs_limit=0, pending_bytes_limit=0)

    async def _on_message(self, msg) -> None:
        body = json.loads(msg.data)
        sid = body.get("submission_id")
        if not sid:
            return
        at = datetime.fromisoformat(body["occurred_at"])
        m = self.moments[sid]
        m.subjects.setdefault(msg.subject, at)
        if msg.subject == Subject.STATUS_CHANGED:
            m.stages.setdefault(body["payload"]["status"], at)
        waiting = self._waiters.get(sid)
        if waiting:
            still = []
            for there, done in waiting:
                if there(m):
                    if not done.done():
                        done.set_result(None)
                elif not done.done():
                    still.append((there, done))
            self._waiters[sid] = still

    async def until(self, sid: str, *, stage: str | None = None, subject: str | None = None,
                    timeout: float = 600) -> None:
        def there(m: Moments) -> bool:
            return stage in m.stages if stage else subject in m.subjects

        if sid in self.moments and there(self.moments[sid]):
            return
        done = asyncio.get_running_loop().create_future()
        self._waiters[sid].append((there, done))
        try:
            await asyncio.wait_for(done, timeout=timeout)
        except TimeoutError:
            seen = self.moments.get(sid, Moments())
            raise TimeoutError(f"certification {sid}: no {stage or subject} within {timeout:.0f} s; "
                               f"stages seen {list(seen.stages)}, events seen {list(seen.subjects)}") from None

    async def stop(self) -> None:
        if self._nc is not None:
            await self._nc.close()


@dataclass
class Cohort:
    stack: ProcessStack
    ana: Auditor
    ben: Auditor
    watch: EventWatch
    approved_at: dict[str, float] = field(default_factory=dict)
    decided_at: dict[str, float] = field(default_factory=dict)

    @classmethod
    async def create(cls, stack: ProcessStack) -> Cohort:
        for email, name in (("ana@wwc.bench", "Ana Ramos"), ("ben@wwc.bench", "Ben Okafor")):
            stack.create_staff(email, name, "auditor", STAFF_PASSWORD)
        watch = EventWatch()
        await watch.start(stack.infra["nats"].url)
        return cls(stack=stack, ana=Auditor(stack, await staff_token(stack, "ana@wwc.bench", STAFF_PASSWORD)),
                   ben=Auditor(stack, await staff_token(stack, "ben@wwc.bench", STAFF_PASSWORD)), watch=watch)

    @staticmethod
    def answers(i: int) -> dict[str, str]:
        """A spread of maturity: about half to nine tenths YES."""
        share = 0.5 + 0.4 * ((i * 37) % 11) / 10
        return {c.id: ("YES" if (k * 7 + i) % 100 < share * 100 else "IN_PROGRESS" if k % 2 else "NO")
                for k, c in enumerate(CATALOG.criteria)}

    async def ready_city(self, i: int, tag: str, *, files: int = 0) -> City:
        city = await City.register(self.stack, name=f"Bench City {tag}-{i}", email=f"staff-{tag}-{i}@city.example",
                                   population=40_000 + 7_919 * i % 900_000, language=languages()[i % len(languages())])
        answers = self.answers(i)
        yes = [cid for cid, a in answers.items() if a == "YES"]
        await city.prepare(answers, snapshot={q.id: True for q in CATALOG.snapshot},
                           files={cid: EVIDENCE_PDF for cid in yes[:files]})
        city.answers = answers  # type: ignore[attr-defined]
        return city

    async def ready_cities(self, n: int, tag: str, *, files: int = 0) -> list[City]:
        gate = asyncio.Semaphore(PREPARE_AT_ONCE)

        async def one(i: int) -> City:
            async with gate:
                return await self.ready_city(i, tag, files=files)

        return list(await asyncio.gather(*(one(i) for i in range(n))))

    def changes(self, city: City) -> list[Change]:
        yes = [cid for cid, a in city.answers.items() if a == "YES"]  # type: ignore[attr-defined]
        return [Change(yes[0], "IN_PROGRESS", "documents_not_submitted",
                       "The policy was not submitted with its adoption record.", "The adopted policy."),
                Change(yes[1], "NO", "not_citywide", "The practice covers two departments only.",
                       "Evidence that every department follows it.")]

    async def review(self, city: City, *, clarify: bool = False) -> None:
        sid = city.submission_id
        await self.watch.until(sid, stage="in_review")
        await self.ana.claim(sid)
        changes = self.changes(city)
        if clarify:
            await self.ana.ask_city(sid, [changes[0].criterion], "Please send the adopted policy.")
            await eventually(city.answer_clarifications, timeout=120, interval=0.3,
                             what="the clarification request reaching the city")
            await self._back_in_review(sid)
        for change in changes:
            await self.ana.decide(sid, change)
        await self.ana.confirm_remaining(sid)
        decisions_hash = await self.ana.request_signoff(sid)
        self.approved_at[sid] = time.time()
        await self.ben.approve(sid, decisions_hash)

    async def _back_in_review(self, sid: str) -> None:
        await eventually(lambda: self.ana.round_closed(sid), timeout=120, interval=0.3,
                         what="the clarification round closed")

    async def certify(self, city: City, t0: float, *, clarify: bool = False, slot: str | None = None) -> float:
        """Submit and follow the certification until it is completed (the debrief declined)
        or its debrief call is booked in `slot` (the call is days ahead: the workflow then
        waits for it); seconds from t0."""
        sid = await city.submit()
        await self.review(city, clarify=clarify)
        await self.watch.until(sid, subject=Subject.DEBRIEF_OFFERED)
        self.decided_at[sid] = time.time()
        if slot:
            await city.book_debrief(slot)
            await self.watch.until(sid, subject=Subject.DEBRIEF_BOOKED)
        else:
            await city.decline_debrief()
            await self.watch.until(sid, stage="completed")
        return time.perf_counter() - t0

    async def report_document(self, city: City) -> tuple[str, str]:
        """The frozen document of a city's report (from the reports bucket) and its language."""
        env = self.stack.env
        store = ObjectStore(S3Settings(endpoint=env["WWC_S3_ENDPOINT"], access_key=env["WWC_S3_ACCESS_KEY"],
                                       secret_key=env["WWC_S3_SECRET_KEY"]))
        bucket = store.bucket("reports")
        (key,) = [k for k in await store.list_keys(bucket, prefix=f"{CYCLE}/{city.city_id}/{city.submission_id}/")
                  if k.endswith("document.json")]
        doc = json.loads(await store.get_bytes(bucket, key))
        return json.dumps(doc), doc["language"]
