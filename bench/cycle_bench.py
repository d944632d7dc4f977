"""A cycle's worth: N cities from registration to a finished certification, through the
public APIs of the five services running as separate processes (SQLite, real NATS,
Temporal, S3 and SMTP).

Each city registers (and confirms its address from the mail), answers the Data Snapshot,
answers all 45 criteria with narratives and links, uploads two PDFs, and submits. An
auditor claims the case, asks every fifth city a clarification round (which the city
answers), changes two responses with reason codes, confirms the rest and asks for sign-off;
a second auditor approves. Scoring, the report and the debrief offer follow; half the
cities book a debrief call (the call is days ahead: the certification then waits for it)
and half decline it (the certification completes). A programme's applicants work at once
but not all in the same second: `IN_FLIGHT` cities are between registration and the end
at any time.

Printed: certifications per minute, p50/p95/p99 of each stage transition (the services'
own event times), each service's memory as the cycle goes, and the databases' sizes.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.people import Cohort, progress
from devtools.processes import ProcessStack
from shared.contracts.events import Subject

DEFAULT_CITIES = 200
IN_FLIGHT = 12
CLARIFY_EVERY = 5  # every fifth city gets a clarification round
# Transitions no person takes part in (the goal: p99 within a few seconds at any scale).
AUTOMATIC = ("submitted → in review", "approved → scoring", "scoring → reporting",
             "reporting → debrief offered", "declined → completed", "booked → confirmed")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def transitions(cohort: Cohort) -> dict[str, list[float]]:
    """Seconds of each stage transition, over every certification."""
    out: dict[str, list[float]] = {k: [] for k in (*AUTOMATIC, "in review (auditors)", "clarification (city)")}
    for sid, m in cohort.watch.moments.items():
        st, sub = m.stages, m.subjects

        def add(name: str, start, end) -> None:
            if start is not None and end is not None:
                out[name].append((end - start).total_seconds())

        add("submitted → in review", sub.get(Subject.SUBMISSION_SUBMITTED), st.get("in_review"))
        approved = cohort.approved_at.get(sid)
        approved = datetime.fromtimestamp(approved, UTC) if approved else None
        add("in review (auditors)", st.get("in_review"), approved)
        add("approved → scoring", approved, st.get("scoring"))
        add("scoring → reporting", st.get("scoring"), st.get("reporting"))
        add("reporting → debrief offered", st.get("reporting"), sub.get(Subject.DEBRIEF_OFFERED))
        add("clarification (city)", st.get("clarification"), sub.get(Subject.CLARIFICATION_ANSWERED))
        decided = cohort.decided_at.get(sid)
        decided = datetime.fromtimestamp(decided, UTC) if decided else None
        if Subject.DEBRIEF_BOOKED in sub:
            add("booked → confirmed", decided, sub.get(Subject.DEBRIEF_BOOKED))
        else:
            add("declined → completed", decided, st.get("completed"))
    return out


async def run(cities: int = DEFAULT_CITIES) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        stack = ProcessStack.start(Path(tmp))
        try:
            return await _cycle(stack, cities)
        except BaseException:
            # The services' logs outlive a failed run: they say why a certification stalled.
            kept = Path("var") / f"bench-failure-{datetime.now(UTC):%Y%m%dT%H%M%S}"
            shutil.copytree(Path(tmp) / "logs", kept, dirs_exist_ok=True)
            progress(f"cycle failed; the services' logs are in {kept}")
            raise
        finally:
            stack.stop()


async def _cycle(stack: ProcessStack, n: int) -> str:
    progress(f"cycle: {n} cities from registration to a finished certification")
    cohort = await Cohort.create(stack)
    day = (datetime.now(UTC) + timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    slots = await cohort.ana.publish_slots(
        [(day + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%S") for h in range((n + 1) // 2)], minutes=45)
    memory: dict[str, list[int]] = {name: [] for name in stack.services}
    checkpoints: list[tuple[int, dict[str, int]]] = [(0, stack.rss())]
    marks = {n * k // 4 for k in range(1, 5)}  # memory noted at each quarter
    done = 0
    gate = asyncio.Semaphore(IN_FLIGHT)
    t0 = time.perf_counter()

    async def sample() -> None:
        while True:
            for name, rss in stack.rss().items():
                memory[name].append(rss)
            await asyncio.sleep(1)

    async def one(i: int) -> None:
        nonlocal done
        async with gate:
            city = await cohort.ready_city(i, "c", files=2)
            await cohort.certify(city, t0, clarify=i % CLARIFY_EVERY == 0, slot=slots[i // 2] if i % 2 == 0 else None)
        done += 1
        if done in marks:
            checkpoints.append((done, stack.rss()))

    sampler = asyncio.create_task(sample())
    try:
        await asyncio.gather(*(one(i) for i in range(n)))
    finally:
        sampler.cancel()
    wall = time.perf_counter() - t0
    return _report(n, wall, transitions(cohort), memory, checkpoints, stack.database_sizes())


def _report(n: int, wall: float, times: dict[str, list[float]], memory: dict[str, list[int]],
            checkpoints: list[tuple[int, dict[str, int]]], sizes: dict[str, int]) -> str:
    rows = "\n".join(
        f"| {name}{' (no person)' if name in AUTOMATIC else ''} | {len(v)} | {statistics.median(v):.2f} s "
        f"| {_pct(v, 95):.2f} s | {_pct(v, 99):.2f} s |" for name, v in times.items() if v)
    mib = 1024 * 1024
    heads = " | ".join(f"after {done}" for done, _ in checkpoints)
    mem_rows = "\n".join(
        f"| {name} | {' | '.join(f'{snap[name] / mib:.0f} MiB' for _, snap in checkpoints)} "
        f"| {max(memory[name]) / mib:.0f} MiB |" for name in memory)
    db_rows = " | ".join(f"{name} {size / mib:.1f} MiB" for name, size in sizes.items())
    worst = max((_pct(v, 99), k) for k, v in times.items() if k in AUTOMATIC and v)
    label = "" if n == DEFAULT_CITIES else f", {n:,} cities"
    return f"""### A cycle's worth (`bench/cycle_bench.py`{label})

{n:,} cities from registration to a finished certification through the public APIs, {IN_FLIGHT} at a
time: registration (confirmed from the mail), Data Snapshot, 45 answers with narratives and
links, two PDF uploads, submission; an auditor claims the case, asks every fifth city a
clarification round (answered by the city), changes two responses, confirms the rest and
asks for sign-off; a second auditor approves; scoring, report, debrief offer; half the cities
book a debrief call (days ahead: their certification then waits for it), half decline it
(completed). The five services run as separate processes (SQLite, real NATS, Temporal, S3).

**{n / wall * 60:.1f} certifications a minute**: all {n:,} in {wall / 60:.1f} minutes. The slowest
automatic transition at p99: {worst[1]}, {worst[0]:.2f} s.

| transition | count | p50 | p95 | p99 |
|---|---|---|---|---|
{rows}

Memory of each service (resident, its render processes included) as certifications finish:

| service | {heads} | peak |
|---|{'---|' * len(checkpoints)}---|
{mem_rows}

Databases at the end: {db_rows}."""
