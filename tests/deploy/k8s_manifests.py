"""Reading deploy/k8s without a cluster or kustomize: the YAML documents, a kustomization
rendered the way `kubectl kustomize` renders the subset these manifests use (resources,
namespace, images, replicas, strategic-merge patches by kind and name; anything else is
refused, so a new feature cannot be silently ignored), and a container's environment
resolved from its ConfigMaps, Secrets and `env` the way the kubelet builds it."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
PRODUCTION = K8S / "overlays" / "production"
# Placeholders for the Secrets an operator creates (not applied by kustomize).
SECRETS_TEMPLATE = BASE / "secrets.example.yaml"

Obj = dict[str, Any]


def documents(path: Path) -> list[Obj]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def manifest_files() -> list[Path]:
    """Every Kubernetes manifest under deploy/k8s (kustomization files are not objects)."""
    return sorted(p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml")


def kustomization(directory: Path) -> Obj:
    return yaml.safe_load((directory / "kustomization.yaml").read_text())


SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"}


def render(directory: Path) -> list[Obj]:
    k = kustomization(directory)
    unsupported = set(k) - SUPPORTED
    assert not unsupported, f"{directory}: the test's renderer does not know {sorted(unsupported)}"
    objects: list[Obj] = []
    for entry in k.get("resources", []):
        path = (directory / entry).resolve()
        objects += render(path) if path.is_dir() else [copy.deepcopy(d) for d in documents(path)]
    for patch_entry in k.get("patches", []):
        assert set(patch_entry) == {"path"}, f"{directory}: only `patches: - path:` is supported"
        for patch in documents(directory / patch_entry["path"]):
            target = find(objects, patch["kind"], patch["metadata"]["name"])
            merged = strategic_merge(target, patch)
            target.clear()
            target.update(merged)
    for image in k.get("images", []):
        for container in all_containers(objects):
            name, _, _ = container["image"].partition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image['newTag']}"
    for r in k.get("replicas", []):
        find(objects, "Deployment", r["name"])["spec"]["replicas"] = r["count"]
    if "namespace" in k:
        for obj in objects:
            if obj["kind"] != "Namespace":
                obj["metadata"]["namespace"] = k["namespace"]
    return objects


def strategic_merge(base: Any, patch: Any) -> Any:
    """Maps merge key by key; lists of named items (containers, env, volumes, ports with
    names) merge by name; any other list is replaced, as Kubernetes' strategic merge does
    for the fields these manifests patch."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = strategic_merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if isinstance(base, list) and isinstance(patch, list) and _named(base) and _named(patch):
        out = [copy.deepcopy(item) for item in base]
        for item in patch:
            same = [i for i, b in enumerate(out) if b["name"] == item["name"]]
            if same:
                out[same[0]] = strategic_merge(out[same[0]], item)
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(patch)


def _named(items: list) -> bool:
    return bool(items) and all(isinstance(i, dict) and "name" in i for i in items)


def find(objects: list[Obj], kind: str, name: str) -> Obj:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name!r}, found {len(found)}"
    return found[0]


def of_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def pod_spec(obj: Obj) -> Obj:
    return obj["spec"]["template"]["spec"]


def workloads(objects: list[Obj]) -> list[Obj]:
    return [o for o in objects if o["kind"] in ("Deployment", "Job")]


def all_containers(objects: list[Obj]) -> list[Obj]:
    return [c for o in workloads(objects) for c in pod_spec(o).get("containers", []) + pod_spec(o).get(
        "initContainers", [])]


# --- a container's environment ------------------------------------------------------------

def secret_templates() -> dict[str, dict[str, str]]:
    return {s["metadata"]["name"]: {k: str(v) for k, v in s.get("stringData", {}).items()}
            for s in documents(SECRETS_TEMPLATE)}


def config_maps(objects: list[Obj]) -> dict[str, dict[str, str]]:
    return {c["metadata"]["name"]: {k: str(v) for k, v in (c.get("data") or {}).items()}
            for c in of_kind(objects, "ConfigMap")}


_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def _expand(value: str, env: dict[str, str]) -> str:
    """`$(NAME)` of an earlier variable, `$$` an escaped `$` (the kubelet's rules)."""
    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))

    return _REFERENCE.sub(sub, value)


def environment(container: Obj, objects: list[Obj], image_env: dict[str, str] | None = None) -> dict[str, str]:
    """What the process sees: the image's ENV, then envFrom, then env (later wins)."""
    maps, secrets = config_maps(objects), secret_templates()
    env: dict[str, str] = dict(image_env or {})

    def source(kind: str, name: str) -> dict[str, str]:
        table = maps if kind == "configMap" else secrets
        assert name in table, f"{container['name']}: {kind} {name!r} is neither in the manifests nor in " \
                              f"{SECRETS_TEMPLATE.name}"
        return table[name]

    for item in container.get("envFrom", []):
        kind = "configMap" if "configMapRef" in item else "secret"
        env.update(source(kind, item[f"{kind}Ref"]["name"]))
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = _expand(str(item["value"]), env)
            continue
        ref_kind = next(iter(item["valueFrom"]))
        ref = item["valueFrom"][ref_kind]
        kind = "configMap" if ref_kind == "configMapKeyRef" else "secret"
        table = source(kind, ref["name"])
        assert ref["key"] in table, f"{container['name']}: {kind} {ref['name']} has no key {ref['key']!r}"
        env[item["name"]] = table[ref["key"]]
    return env


def provided_names(container: Obj, objects: list[Obj]) -> set[str]:
    """Variables the manifests set for a container (not counting the image)."""
    return set(environment(container, objects))
