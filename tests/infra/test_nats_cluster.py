"""A service on a three-node NATS JetStream cluster (devtools/nats_cluster.py), connected to
all three URLs, its `WWC` stream kept in three copies. The stream's leader is killed with
SIGKILL while the outbox relay publishes: a new leader is elected, the relay goes on, the
durable consumer handles every event exactly once and the stream holds each once; the node
comes back and catches up. Then the node the service is connected to dies: its client moves
to another server and nothing is lost either."""

from __future__ import annotations

import uuid
from collections import Counter

import nats
import pytest

from devtools.harness import Infra, service_settings
from devtools.nats_cluster import start_nats_cluster
from shared.contracts.events import Subject
from shared.infra.outbox import add_event
from shared.infra.runtime import ServiceRuntime
from tests.infra.test_consumer import event, eventually, processed_count

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
NATS_FAILURES = (nats.errors.Error, TimeoutError, OSError)  # nats-py raises either timeout


@pytest.fixture
def cluster(tmp_path):
    with start_nats_cluster(tmp_path / "nats") as nodes:
        yield nodes


@pytest.fixture
async def service(cluster, temporal_server, tmp_path):
    """A service's runtime (as audit's main builds it) with one durable consumer."""
    await cluster.wait_for_jetstream()
    infra = Infra(nats_url=cluster.url, temporal_address=temporal_server.address, s3_endpoint="",
                  s3_access_key="", s3_secret_key="", smtp_port=0)
    settings = service_settings("audit", infra, backend="sqlite", tmp=tmp_path, tag=uuid.uuid4().hex[:8])
    settings.nats = settings.nats.model_copy(update={"stream_replicas": 3})
    assert settings.nats.servers == cluster.urls
    rt = ServiceRuntime(settings)
    handled: list[str] = []

    async def handle(session, envelope) -> None:
        handled.append(envelope.submission_id)

    consumer = rt.consume(Subject.SUBMISSION_WITHDRAWN, handle)
    await rt.start()
    yield rt, consumer, handled
    await rt.stop()


@pytest.fixture
async def observer(cluster):
    """A client of the cluster for the test's own questions (stream leader, replicas)."""
    async def quiet(_exc: Exception) -> None:
        pass

    nc = await nats.connect(servers=cluster.urls, reconnect_time_wait=0.2, max_reconnect_attempts=-1,
                            error_cb=quiet)
    yield nc.jetstream(timeout=2)
    await nc.close()


async def stream_info(js):
    try:
        return await js.stream_info("WWC")
    except NATS_FAILURES:  # no leader this moment, or the server we asked just died
        return None


async def write(rt: ServiceRuntime, numbers: range) -> None:
    for i in numbers:
        async with rt.db.transaction() as session:
            await add_event(session, event(i))
        rt.wake_relay()


async def test_the_stream_leader_killed_mid_publish_loses_and_doubles_nothing(cluster, service, observer):
    rt, consumer, handled = service

    async def all_handled(n: int) -> bool:
        return len(handled) >= n and await rt.relay.pending() == 0

    await write(rt, range(0, 30))
    await eventually(lambda: all_handled(30), timeout=60)
    info = await eventually(lambda: stream_info(observer))
    assert info.config.num_replicas == 3 and len(info.cluster.replicas) == 2  # three copies
    leader = info.cluster.leader

    await write(rt, range(30, 45))  # committed; the relay is publishing them ...
    cluster.kill(leader)  # ... when the stream's leader dies
    await write(rt, range(45, 60))  # and more while the others elect a new one

    async def new_leader():
        info = await stream_info(observer)
        return info if info and info.cluster.leader not in (None, leader) else None

    assert (await eventually(new_leader, timeout=60)).cluster.leader != leader
    await eventually(lambda: all_handled(60), timeout=90)

    cluster.start_node(leader)  # back, on its own store: it catches up from the others

    async def caught_up():
        info = await stream_info(observer)
        peers = {p.name: p for p in (info.cluster.replicas if info else [])}
        return leader in peers and peers[leader].current and not peers[leader].offline

    await eventually(caught_up, timeout=60)
    await write(rt, range(60, 70))
    await eventually(lambda: all_handled(70), timeout=60)

    # Then the node the service itself is connected to: its client moves to another.
    connected = rt.broker._connection.connected_url.port  # FastStream's nats-py client
    [mine] = [node.name for node in cluster.nodes.values() if node.port == connected]
    cluster.kill(mine)
    await write(rt, range(70, 80))
    await eventually(lambda: all_handled(80), timeout=60)
    cluster.start_node(mine)

    counts = Counter(handled)
    assert sorted(counts) == sorted(f"s{i}" for i in range(80)) and set(counts.values()) == {1}
    assert await processed_count(rt, consumer.name) == 80
    info = await eventually(lambda: stream_info(observer))
    assert info.state.messages == 80  # each event once in the stream (Nats-Msg-Id)
