"""deploy/k8s checked against the Kubernetes schemas and against the code, without a
cluster: every manifest validates (kubernetes-validate's schemas, strict), the base and the
production overlay are rendered as kustomize renders them, and each service's Deployment,
Service, disruption budget, migration Job, environment, network reach and Ingress host are
compared with what the code says it needs (ports, settings, which services keep files in
S3, send mail or sign people in through intake, the search attributes of the contract).

Which settings must be provided at all is tests/deploy/test_settings_provided.py.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from devtools.devstack import SA_TYPES
from certification.contract import SearchAttributes
from shared.infra.broker import stream_config
from shared.web.app import check_secrets
from shared.infra.settings import (
    DEFAULT_HTTP_PORTS,
    SERVICES,
    AuthSettings,
    CommonSettings,
    NatsSettings,
    S3Settings,
    ServiceSettings,
    SmtpSettings,
    TemporalSettings,
)
from tests.deploy import k8s_manifests as k8s
from tests.deploy.settings_catalog import (
    GLOBAL_SETTINGS,
    SETTINGS,
    image_environment,
    signs_in_through_intake,
    throttles,
    uses_smtp,
    uses_storage,
)

ROOT = Path(__file__).resolve().parents[2]
# The oldest Kubernetes the docs support, and the newest the locked kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.31", latest_version())
RENDERS = {"base": k8s.BASE, "production": k8s.PRODUCTION}
NAMESPACE = "wwc"
# The image's user (deploy/Dockerfile: useradd --uid).
UID = 10001


@cache
def rendered(which: str) -> list[dict]:
    return k8s.render(RENDERS[which])


def consoles() -> list[str]:
    """Services with pages for people (intake's portal, the other consoles)."""
    return [s for s in SERVICES if any((ROOT / "services" / s / d).is_dir() for d in ("console", "portal"))]


def service_env(objects: list[dict], name: str) -> dict[str, str]:
    container = k8s.pod_spec(k8s.find(objects, "Deployment", name))["containers"][0]
    return k8s.environment(container, objects, image_environment())


@pytest.fixture
def settings_from(monkeypatch):
    """Build the settings classes from one container's environment (and nothing else)."""

    def build(env: dict[str, str]) -> dict:
        for key in list(os.environ):
            if key.upper().startswith("WWC_"):
                monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        built: dict = {cls: cls() for cls in GLOBAL_SETTINGS}
        for name in SERVICES:
            built[name] = ServiceSettings.for_service(name)
        return built

    return build


# --- files and schemas --------------------------------------------------------------------

def test_kustomizations_list_what_exists_and_every_manifest_is_listed():
    for kfile in k8s.K8S.rglob("kustomization.yaml"):
        directory = kfile.parent
        k = k8s.kustomization(directory)
        listed = [directory / r for r in k.get("resources", [])] + [directory / p["path"] for p in k.get("patches", [])]
        for path in listed:
            assert path.exists(), f"{kfile.relative_to(ROOT)} lists {path.name}, which does not exist"
            if path.is_dir():
                assert (path / "kustomization.yaml").exists(), f"{path} has no kustomization.yaml"
        # Files of this kustomization (not of one nested below it, e.g. base/ under k8s/).
        on_disk = {p.resolve() for p in directory.rglob("*.yaml") if p.name != "kustomization.yaml"
                   and not any((d / "kustomization.yaml").exists() for d in p.parents
                               if d != directory and directory in d.parents)}
        unlisted = on_disk - {p.resolve() for p in listed} - {k8s.SECRETS_TEMPLATE.resolve()}
        assert not unlisted, f"{kfile.relative_to(ROOT)} does not list {sorted(p.name for p in unlisted)}"
    base = k8s.kustomization(k8s.BASE)
    assert k8s.SECRETS_TEMPLATE.name not in base["resources"], "the Secret template must never be applied"
    assert base["namespace"] == NAMESPACE


def _validate(obj: dict, version: str, where: str) -> None:
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as e:
        path = ".".join(str(p) for p in e.path)
        raise AssertionError(f"{where}: {obj['kind']} {obj['metadata'].get('name')}: {path}: {e.message}") from None


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_validates_against_the_kubernetes_schemas(version):
    """Each object file as written, and the base and the overlay as rendered (patches are
    partial objects: they are validated in what they produce)."""
    count = 0
    for path in k8s.manifest_files():
        if "patches" in path.relative_to(k8s.K8S).parts:
            continue
        for obj in k8s.documents(path):
            _validate(obj, version, str(path.relative_to(ROOT)))
            count += 1
    for which in RENDERS:
        for obj in rendered(which):
            _validate(obj, version, f"rendered {which}")
    assert count > 20


def test_the_renderer_agrees_with_kubectl_kustomize():
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl is not installed: the test's own renderer stands alone")
    for which, directory in RENDERS.items():
        out = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        theirs = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(out.stdout) if o}
        mine = {(o["kind"], o["metadata"]["name"]): o for o in rendered(which)}
        assert mine.keys() == theirs.keys(), which
        for key, obj in mine.items():
            assert obj == theirs[key], f"{which}: {key} differs from kubectl kustomize's"


# --- the five services --------------------------------------------------------------------

def _labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "service"}


def _pod_security(obj: dict) -> None:
    where = f"{obj['kind']} {obj['metadata']['name']}"
    spec = k8s.pod_spec(obj)
    pod = spec.get("securityContext", {})
    assert pod.get("runAsNonRoot") is True and pod.get("runAsUser") == UID, f"{where}: run as user {UID}, non-root"
    assert pod.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
    assert spec.get("automountServiceAccountToken") is False, f"{where}: no API token in the pod"
    mounts_needed = {"/tmp"}
    for c in spec["containers"]:
        sc = c.get("securityContext", {})
        assert sc.get("readOnlyRootFilesystem") is True, f"{where}/{c['name']}: read-only root filesystem"
        assert sc.get("allowPrivilegeEscalation") is False, f"{where}/{c['name']}"
        assert sc.get("capabilities", {}).get("drop") == ["ALL"], f"{where}/{c['name']}: drop ALL capabilities"
        assert not sc.get("privileged") and sc.get("runAsUser", UID) == UID, f"{where}/{c['name']}"
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        mounts = {m["mountPath"]: volumes[m["name"]] for m in c.get("volumeMounts", [])}
        for path in mounts_needed:
            assert "emptyDir" in mounts.get(path, {}), f"{where}/{c['name']}: {path} must be an emptyDir"
        r = c.get("resources", {})
        assert {"cpu", "memory"} <= set(r.get("requests", {})) and {"cpu", "memory"} <= set(r.get("limits", {})), \
            f"{where}/{c['name']}: requests and limits for cpu and memory"


def test_the_image_user_is_the_pods_user():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert re.search(rf"useradd\b[^\n]*--uid {UID}\b", dockerfile), f"deploy/Dockerfile: user wwc must have uid {UID}"
    assert re.search(rf"groupadd\b[^\n]*--gid {UID}\b", dockerfile)


@pytest.mark.parametrize("which", RENDERS)
@pytest.mark.parametrize("name", SERVICES)
def test_deployment_service_and_disruption_budget(name, which):
    objects = rendered(which)
    deployment = k8s.find(objects, "Deployment", name)
    spec = k8s.pod_spec(deployment)
    assert deployment["spec"]["selector"]["matchLabels"] == _labels(name)
    assert _labels(name).items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert deployment["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/part-of") == "wwc"
    (container,) = spec["containers"]
    assert container["command"] == ["python", "-m", f"services.{name}"]
    if which == "base":
        assert container["image"] == "wwc-platform", "the base names the image; an overlay pins it"
    else:
        repo, _, tag = container["image"].rpartition(":")
        assert repo and tag and tag != "latest", f"{name}: production pins the image's tag: {container['image']}"

    port = DEFAULT_HTTP_PORTS[name]
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    env = service_env(objects, name)
    assert env[f"WWC_{name.upper()}_HTTP_PORT"] == str(port) and env[f"WWC_{name.upper()}_HTTP_HOST"] == "0.0.0.0"
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert spec.get("terminationGracePeriodSeconds", 30) >= 20, "the worker drains for up to 10 s"
    _pod_security(deployment)
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert env["WWC_VAR_DIR"] in mounts, f"{name}: WWC_VAR_DIR must be a writable emptyDir"

    autoscalers = [h for h in k8s.of_kind(objects, "HorizontalPodAutoscaler")
                   if h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}]
    if autoscalers:
        assert "replicas" not in deployment["spec"], f"{name}: the autoscaler owns the replicas"
        assert autoscalers[0]["spec"]["minReplicas"] >= 2
    else:
        assert deployment["spec"].get("replicas", 1) >= 2, f"{name}: at least two replicas"
    strategy = deployment["spec"]["strategy"]["rollingUpdate"]
    assert strategy["maxUnavailable"] == 0, f"{name}: a rollout never drops below the replicas that serve"

    service = k8s.find(objects, "Service", name)
    assert service["spec"]["selector"] == _labels(name)
    assert service["spec"]["ports"] == [{"name": "http", "port": port, "targetPort": "http"}]

    budget = k8s.find(objects, "PodDisruptionBudget", name)
    assert budget["spec"]["selector"]["matchLabels"] == _labels(name)
    assert budget["spec"].get("maxUnavailable") == 1 or budget["spec"].get("minAvailable") == 1


def test_reporting_scales_on_cpu():
    for which in RENDERS:
        objects = rendered(which)
        (hpa,) = k8s.of_kind(objects, "HorizontalPodAutoscaler")
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"]["name"] == "reporting"
        (metric,) = hpa["spec"]["metrics"]
        assert metric["type"] == "Resource" and metric["resource"]["name"] == "cpu"
        assert metric["resource"]["target"]["type"] == "Utilization"
        assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"] >= 2
        container = k8s.pod_spec(k8s.find(objects, "Deployment", "reporting"))["containers"][0]
        assert "cpu" in container["resources"]["requests"], "utilisation is measured against the CPU request"


# --- the settings the services get ---------------------------------------------------------

@pytest.mark.parametrize("which", RENDERS)
@pytest.mark.parametrize("name", SERVICES)
def test_environment_lands_in_settings(name, which, settings_from):
    objects = rendered(which)
    env = service_env(objects, name)
    unknown = [k for k in env if k.startswith("WWC_") and k not in SETTINGS]
    assert not unknown, f"{name}: variables no settings class reads: {unknown}"
    built = settings_from(env)
    common: CommonSettings = built[CommonSettings]
    assert common.env == "production" and common.migrate_on_start is False
    assert built[AuthSettings].secret, "every service verifies tokens"
    svc: ServiceSettings = built[name]

    db = urlsplit(svc.db_url)
    assert db.scheme == "postgresql+asyncpg" and db.password is None, f"{name}: no password in the URL (PGPASSWORD)"
    assert env.get("PGPASSWORD"), f"{name}: PGPASSWORD from the wwc-db-credentials Secret"
    assert (db.hostname, db.port) == (f"{PEERS['postgres'].cnpg_cluster}-rw.{PEERS['postgres'].namespace}"
                                      ".svc.cluster.local", 5432)
    assert svc.db_schema == name

    nats: NatsSettings = built[NatsSettings]
    assert urlsplit(nats.url).hostname == f"{PEERS['nats'].release}.{PEERS['nats'].namespace}.svc.cluster.local"
    assert urlsplit(nats.url).port == PEERS["nats"].port
    assert stream_config(nats).num_replicas == 3, "three copies of the stream on the three NATS servers"
    temporal: TemporalSettings = built[TemporalSettings]
    assert temporal.address == (f"{PEERS['temporal'].release}-frontend.{PEERS['temporal'].namespace}"
                                f".svc.cluster.local:{PEERS['temporal'].port}")

    s3: S3Settings = built[S3Settings]
    has_keys = {"WWC_S3_ACCESS_KEY", "WWC_S3_SECRET_KEY"} <= env.keys()
    assert has_keys == uses_storage(name), f"{name}: S3 keys only for the services that keep files"
    if uses_storage(name):
        assert s3.endpoint.split(":")[0] == f"minio.{PEERS['s3'].namespace}.svc.cluster.local"
    has_login = {"WWC_SMTP_USERNAME", "WWC_SMTP_PASSWORD"} <= env.keys()
    assert has_login == uses_smtp(name), f"{name}: the relay's login only for the service that sends mail"
    if uses_smtp(name):
        assert built[SmtpSettings].security in ("starttls", "tls")

    storage = urlsplit(common.throttle_storage)  # the replicas count together
    assert (storage.scheme, storage.hostname, storage.port) == (
        "async+redis", f"{PEERS['redis'].release}-haproxy.{PEERS['redis'].namespace}.svc.cluster.local",
        PEERS["redis"].port)
    identity = urlsplit(common.identity_url)
    assert (identity.hostname, identity.port) == ("intake", DEFAULT_HTTP_PORTS["intake"]), \
        "consoles reach intake's Service inside the cluster"

    hosts = ingress_hosts(objects)
    tls = {h for i in k8s.of_kind(objects, "Ingress") for t in i["spec"].get("tls", []) for h in t["hosts"]}
    for other in SERVICES:
        url = urlsplit(built[other].public_url)
        if other in consoles():
            assert hosts.get(url.hostname) == other, f"WWC_{other.upper()}_PUBLIC_URL {url.geturl()} is not its Ingress host"
            assert url.scheme == ("https" if url.hostname in tls else "http"), f"{url.geturl()}: TLS or not"
        else:
            assert (url.hostname, url.port) == (other, DEFAULT_HTTP_PORTS[other]), f"{other} is not published"


def test_secrets_stay_out_of_the_config_map_and_templates_are_placeholders():
    config = k8s.find(rendered("base"), "ConfigMap", "wwc-config")["data"]
    secretish = [k for k in config if re.search(r"SECRET|PASSWORD|TOKEN|ACCESS_KEY", k)]
    assert not secretish, f"secrets belong in a Secret, not wwc-config: {secretish}"
    for secret in k8s.documents(k8s.SECRETS_TEMPLATE):
        assert secret["kind"] == "Secret"
        for key, value in secret["stringData"].items():
            if key != "username":
                assert "change-me" in value, f"{secret['metadata']['name']}.{key}: the template holds placeholders only"
    with pytest.raises(RuntimeError, match="placeholder"):
        check_secrets(AuthSettings(secret=k8s.secret_templates()["wwc-auth"]["WWC_AUTH_SECRET"]),
                      CommonSettings(env="production"))


# --- Jobs ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SERVICES)
def test_a_migration_job_per_service(name):
    objects = rendered("production")
    job = k8s.find(objects, "Job", f"migrate-{name}")
    (container,) = k8s.pod_spec(job)["containers"]
    assert container["command"] == ["wwc", "db", "upgrade", name]
    assert container["image"] == k8s.pod_spec(k8s.find(objects, "Deployment", name))["containers"][0]["image"]
    env, service = k8s.environment(container, objects, image_environment()), service_env(objects, name)
    for key in (f"WWC_{name.upper()}_DB_URL", f"WWC_{name.upper()}_DB_SCHEMA", "PGPASSWORD", "PGSSLMODE"):
        assert env.get(key) == service.get(key), f"migrate-{name}: {key} differs from the service's"
    assert job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == "migrations"
    assert job["spec"].get("ttlSecondsAfterFinished"), "a finished Job goes, so the next apply runs it anew"
    _pod_security(job)


def test_search_attributes_job_registers_the_contracts_attributes():
    objects = rendered("production")
    jobs = [j for j in k8s.of_kind(objects, "Job")
            if "search-attribute create" in " ".join(k8s.pod_spec(j)["containers"][0].get("args", []))]
    assert len(jobs) == 1, "one Job registers the search attributes"
    (container,) = k8s.pod_spec(jobs[0])["containers"]
    script = " ".join(" ".join(container["args"]).split())
    registered = dict(re.findall(r"--name (\w+) --type (\w+)", script))
    assert registered == {key.name: SA_TYPES[key.indexed_value_type] for key in SearchAttributes.all()}
    assert "$$(" in script, "a literal $( in args is written $$( (Kubernetes expands $(NAME))"
    env = k8s.environment(container, objects)
    config = k8s.find(objects, "ConfigMap", "wwc-config")["data"]
    assert env["TEMPORAL_ADDRESS"] == config["WWC_TEMPORAL_ADDRESS"]
    assert env["TEMPORAL_NAMESPACE"] == config["WWC_TEMPORAL_NAMESPACE"]
    image = container["image"]
    assert image.startswith("temporalio/admin-tools:") and image.split(":")[1] != "latest"
    _pod_security(jobs[0])


# --- NetworkPolicies ----------------------------------------------------------------------

class Peer:
    """Something outside this namespace, as its chart or operator labels it."""

    def __init__(self, namespace: str, labels: dict[str, str], port: int, protocols=("TCP",), **info: Any):
        self.namespace, self.labels, self.port, self.protocols = namespace, labels, port, protocols
        self.__dict__.update(info)


# Must match deploy/README.md's installation and the labels the charts put on their pods.
PEERS: dict[str, Peer] = {
    "dns": Peer("kube-system", {"k8s-app": "kube-dns"}, 53, ("UDP", "TCP")),
    "postgres": Peer("wwc-db", {"cnpg.io/cluster": "wwc-db", "cnpg.io/instanceRole": "primary"}, 5432,
                     cnpg_cluster="wwc-db"),
    "nats": Peer("nats", {"app.kubernetes.io/name": "nats", "app.kubernetes.io/instance": "nats",
                          "app.kubernetes.io/component": "nats"}, 4222, release="nats"),
    "temporal": Peer("temporal", {"app.kubernetes.io/name": "temporal", "app.kubernetes.io/instance": "temporal",
                                  "app.kubernetes.io/component": "frontend"}, 7233, release="temporal"),
    "s3": Peer("wwc-s3", {"v1.min.io/tenant": "wwc-s3"}, 9000),
    "redis": Peer("wwc-redis", {"app": "redis-ha-haproxy", "release": "redis-ha"}, 6379, release="redis-ha"),
    "ingress-controller": Peer("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx",
                                                 "app.kubernetes.io/component": "controller"}, 0),
    "prometheus": Peer("monitoring", {"app.kubernetes.io/name": "prometheus"}, 0),
}
SMTP_PORTS = {25, 465, 587}
OUTSIDE = "outside the cluster"


def _selects(selector: dict | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return True
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        value = labels.get(e["key"])
        ok = {"In": value in e.get("values", []), "NotIn": value not in e.get("values", []),
              "Exists": e["key"] in labels, "DoesNotExist": e["key"] not in labels}[e["operator"]]
        if not ok:
            return False
    return True


def _endpoints(objects: list[dict]) -> dict[str, tuple[str, dict[str, str], dict[str, int]]]:
    """name -> (namespace, pod labels, named ports) for every pod that can be a peer."""
    out = {name: (p.namespace, p.labels, {}) for name, p in PEERS.items()}
    for w in k8s.workloads(objects):
        ports = {p["name"]: p["containerPort"] for c in k8s.pod_spec(w)["containers"] for p in c.get("ports", [])
                 if "name" in p}
        out[f"{w['kind']}/{w['metadata']['name']}"] = (NAMESPACE, w["spec"]["template"]["metadata"]["labels"], ports)
    return out


def _peers(rule_peers: list[dict], objects: list[dict]) -> set[str]:
    if not rule_peers:
        raise AssertionError("a rule without peers allows everyone: name them")
    found: set[str] = set()
    for peer in rule_peers:
        if "ipBlock" in peer:
            network = ipaddress.ip_network(peer["ipBlock"]["cidr"])
            excepted = [ipaddress.ip_network(e) for e in peer["ipBlock"].get("except", [])]
            private = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
            assert all(any(p.subnet_of(e) for e in excepted) for p in private if p.overlaps(network)), \
                "an ipBlock for the outside must leave out the private (cluster) networks"
            found.add(OUTSIDE)
            continue
        for name, (namespace, labels, _) in _endpoints(objects).items():
            ns_ok = (_selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": namespace})
                     if "namespaceSelector" in peer else namespace == NAMESPACE)
            if ns_ok and _selects(peer.get("podSelector"), labels):
                found.add(name)
    return found


def _port_numbers(rule: dict, target: str, objects: list[dict]) -> set[tuple[int, str]]:
    named = _endpoints(objects).get(target, ("", {}, {}))[2]
    out = set()
    for p in rule.get("ports", []):
        port = p["port"]
        out.add((named[port] if isinstance(port, str) else port, p.get("protocol", "TCP")))
    assert out, "a rule without ports allows every port: name them"
    return out


def reach(objects: list[dict], workload: dict, direction: str) -> set[tuple[str, int, str]]:
    """(peer, port, protocol) a workload's pods may talk to (Egress) or be reached from
    (Ingress), with the namespace's default deny."""
    labels = workload["spec"]["template"]["metadata"]["labels"]
    me = f"{workload['kind']}/{workload['metadata']['name']}"
    allowed: set[tuple[str, int, str]] = set()
    for policy in k8s.of_kind(objects, "NetworkPolicy"):
        spec = policy["spec"]
        if direction not in spec.get("policyTypes", []) or not _selects(spec["podSelector"], labels):
            continue
        for rule in spec.get(direction.lower(), []):
            for peer in _peers(rule.get("to" if direction == "Egress" else "from", []), objects):
                for port, protocol in _port_numbers(rule, peer if direction == "Egress" else me, objects):
                    allowed.add((peer, port, protocol))
    return allowed


def test_default_deny_in_the_namespace():
    for which in RENDERS:
        policies = k8s.of_kind(rendered(which), "NetworkPolicy")
        deny = [p for p in policies if p["spec"]["podSelector"] == {}
                and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
                and not p["spec"].get("ingress") and not p["spec"].get("egress")]
        assert deny, f"{which}: no default-deny policy"
        for p in policies:
            assert p["metadata"].get("namespace") == NAMESPACE


def _expected_egress(name: str) -> set[tuple[str, int, str]]:
    out = {("dns", 53, "UDP"), ("dns", 53, "TCP")}
    out |= {(engine, PEERS[engine].port, "TCP") for engine in ("postgres", "nats", "temporal")}
    if uses_storage(name):
        out.add(("s3", PEERS["s3"].port, "TCP"))
    if uses_smtp(name):
        out |= {(OUTSIDE, port, "TCP") for port in SMTP_PORTS}
    if throttles(name):
        out.add(("redis", PEERS["redis"].port, "TCP"))
    if signs_in_through_intake(name):
        out.add(("Deployment/intake", DEFAULT_HTTP_PORTS["intake"], "TCP"))
    return out


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_reaches_only_what_it_uses(name):
    objects = rendered("production")
    deployment = k8s.find(objects, "Deployment", name)
    assert reach(objects, deployment, "Egress") == _expected_egress(name)

    port = DEFAULT_HTTP_PORTS[name]
    expected_in = {("prometheus", port, "TCP")}
    if name in consoles():
        expected_in.add(("ingress-controller", port, "TCP"))
    if name == "intake":
        expected_in |= {(f"Deployment/{s}", port, "TCP") for s in SERVICES if signs_in_through_intake(s)}
    assert reach(objects, deployment, "Ingress") == expected_in


def test_jobs_reach_only_their_engine():
    objects = rendered("production")
    dns = {("dns", 53, "UDP"), ("dns", 53, "TCP")}
    for job in k8s.of_kind(objects, "Job"):
        component = job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
        engine = {"migrations": "postgres", "search-attributes": "temporal"}[component]
        assert reach(objects, job, "Egress") == dns | {(engine, PEERS[engine].port, "TCP")}, job["metadata"]["name"]
        assert reach(objects, job, "Ingress") == set(), job["metadata"]["name"]


# --- Ingress ------------------------------------------------------------------------------

def ingress_hosts(objects: list[dict]) -> dict[str, str]:
    """host -> service behind it (each rule sends `/` to one service's http port)."""
    out: dict[str, str] = {}
    for ingress in k8s.of_kind(objects, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            (path,) = rule["http"]["paths"]
            assert (path["path"], path["pathType"]) == ("/", "Prefix"), rule["host"]
            backend = path["backend"]["service"]
            assert backend["port"] == {"name": "http"}, rule["host"]
            out[rule["host"]] = backend["name"]
    return out


@pytest.mark.parametrize("which", RENDERS)
def test_ingress_publishes_the_consoles_only(which):
    objects = rendered(which)
    hosts = ingress_hosts(objects)
    assert sorted(hosts.values()) == sorted(consoles()), f"{which}: one host per console, nothing else"
    for service in hosts.values():
        k8s.find(objects, "Service", service)
    if which == "production":
        tls = {h for i in k8s.of_kind(objects, "Ingress") for t in i["spec"]["tls"] for h in t["hosts"]}
        assert set(hosts) <= tls, "production serves every console over TLS"
