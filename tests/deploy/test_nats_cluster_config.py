"""deploy/nats-cluster: each node's config makes an acknowledged publish durable and routes to
every node the compose override runs, and every service lists all three and keeps three
copies of the stream (the shape tests/infra/test_nats_cluster.py runs on loopback)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import yaml

from shared.infra.broker import stream_config
from shared.infra.settings import SERVICES, NatsSettings
from tests.deploy.test_compose import ROOT, parse_nats_conf

CLUSTER = ROOT / "deploy" / "nats-cluster"


def test_every_node_routes_to_every_node_with_durable_jetstream():
    conf = parse_nats_conf((CLUSTER / "nats.conf").read_text())
    override = yaml.safe_load((CLUSTER / "docker-compose.cluster.yml").read_text())["services"]
    nodes = {name for name, svc in override.items() if name.startswith("nats")}
    assert len(nodes) == 3
    assert conf["jetstream"]["sync_interval"] == "always"
    routes = {urlsplit(u.strip()).hostname for u in re.findall(r"nats-route://[^,\]\s]+", conf["cluster"]["routes"])}
    assert routes == nodes
    for name in nodes:
        assert override[name]["environment"]["NATS_SERVER_NAME"] == name  # `server_name: $NATS_SERVER_NAME`
        assert any(v.startswith("./deploy/nats-cluster/nats.conf:") for v in override[name]["volumes"])


def test_every_service_lists_the_three_nodes_and_keeps_three_copies():
    override = yaml.safe_load((CLUSTER / "docker-compose.cluster.yml").read_text())["services"]
    for name in SERVICES:
        env = override[name]["environment"]
        settings = NatsSettings(url=env["WWC_NATS_URL"], stream_replicas=int(env["WWC_NATS_STREAM_REPLICAS"]))
        assert {urlsplit(u).hostname for u in settings.servers} == {"nats", "nats-2", "nats-3"}, name
        assert stream_config(settings).num_replicas == 3, name
