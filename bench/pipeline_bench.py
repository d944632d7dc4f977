"""N certifications at once through real review, against a bare baseline in the same run.

Platform: the five services as separate processes (as in production: SQLite files, real
NATS, Temporal and S3). N cities are registered and ready beforehand; then, at once, each
submits, an auditor claims the case through audit's API, changes two responses with reason
codes, confirms the rest and asks for sign-off, a second auditor approves, scoring scores,
reporting issues the report (HTML and PDF), notify offers the debrief and the city
declines it; timed until every certification is completed.

Baseline, same machine, same run, same parallelism: N bare workflows, each running as many
no-op activities (remote and local) as one real certification ran, plus bare renders of
the same N reports (their stored documents) by the same renderer in a process pool of the
same size, no platform code around them. Both timed until all N are done.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

from bench.bare_workflow import BareInput, BareWorkflow, noop
from bench.people import Cohort, progress
from devtools.processes import ProcessStack
from services.reporting.report import render_stored
from certification.contract import certification_workflow_id
from shared.infra.cpu_pool import default_size
from shared.infra.temporal import DATA_CONVERTER

SIZES = (20, 100)


async def history_counts(client: Client, submission_id: str) -> tuple[int, int, int]:
    """(remote activities, local activities, attempts that were retries) of one workflow."""
    history = await client.get_workflow_handle(certification_workflow_id(submission_id)).fetch_history()
    remote = local = retried = 0
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            remote += 1
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            retried += e.activity_task_started_event_attributes.attempt > 1
        elif e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            local += e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    return remote, local, retried


async def platform(stack: ProcessStack, cohort: Cohort, n: int) -> dict:
    progress(f"pipeline: {n} certifications at once")
    cities = await cohort.ready_cities(n, tag=f"p{n}")
    t0 = time.perf_counter()
    latencies = await asyncio.gather(*(cohort.certify(city, t0) for city in cities))
    wall = time.perf_counter() - t0
    client = await Client.connect(stack.infra["temporal"].address, data_converter=DATA_CONVERTER)
    counts = [await history_counts(client, c.submission_id) for c in cities]
    documents = [await cohort.report_document(c) for c in cities]
    return {"wall": wall, "latencies": latencies, "remote": counts[0][0], "local": counts[0][1],
            "retried": sum(c[2] for c in counts), "documents": documents}


async def baseline(address: str, n: int, remote: int, local: int, documents: list[tuple[str, str]]) -> float:
    client = await Client.connect(address, data_converter=DATA_CONVERTER)
    queue = f"bare-{uuid.uuid4().hex[:6]}"
    with ProcessPoolExecutor(max_workers=default_size()) as pool:
        list(pool.map(abs, range(pool._max_workers)))  # processes started, as the service's are
        loop = asyncio.get_running_loop()
        async with Worker(client, task_queue=queue, workflows=[BareWorkflow], activities=[noop]):
            t0 = time.perf_counter()
            await asyncio.gather(
                *(client.execute_workflow(BareWorkflow.run, BareInput(remote=remote, local=local),
                                          id=f"{queue}-{i}", task_queue=queue) for i in range(n)),
                *(loop.run_in_executor(pool, render_stored, doc, lang, ("html", "pdf")) for doc, lang in documents))
            return time.perf_counter() - t0


async def run() -> str:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        stack = ProcessStack.start(Path(tmp))
        try:
            cohort = await Cohort.create(stack)
            for n in SIZES:
                real = await platform(stack, cohort, n)
                bare = await baseline(stack.infra["temporal"].address, n, real["remote"], real["local"],
                                      real["documents"])
                rows.append((n, real, bare))
        finally:
            stack.stop()
    table = "\n".join(
        f"| {n} | {statistics.median(r['latencies']):.2f} s | {max(r['latencies']):.2f} s | {r['wall']:.2f} s "
        f"| {bare:.2f} s | **{r['wall'] / bare:.2f}x** | {r['retried']} |"
        for n, r, bare in rows)
    n0, r0, _ = rows[0]
    return f"""### Whole pipeline through real review (`bench/pipeline_bench.py`)

N cities, registered and ready, submit at once; each certification goes through real
review (an auditor claims the case through audit's API, changes two responses with reason
codes, confirms the rest and asks for sign-off; a second auditor approves), scoring, the
report (HTML and tagged PDF in the city's language) and the debrief offer, which the city
declines. The five services run as separate processes (SQLite, real NATS, Temporal and S3)
with {default_size()} render processes. Baseline in the same run with the same parallelism: N bare
workflows of {r0['remote']} no-op activities and {r0['local']} local ones (as many as one
certification ran) plus bare renders of the same N reports by the same renderer in a pool
of {default_size()} processes, no platform code around them.

| N | median submit → completed | slowest | all N (platform) | baseline, all N | platform / baseline | activity attempts retried |
|---|---|---|---|---|---|---|
{table}

The ratio is the walls': what the services' own work (HTTP, database transactions, outbox,
events, mail, storage) and the people's API calls cost on top of the workflow engine and
the renderer. An attempt retried would mean a step failed or timed out under the burst."""
