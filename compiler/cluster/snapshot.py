"""`mlgitops cluster snapshot`: read what the gate needs to know about a cluster, write clusters/<env>.yaml.

Every read is a GET through the client (compiler/cluster/client.py): discovery (`/version`, `/api/v1`, `/apis` and
each group version), nodes, DRA DeviceClasses and ResourceSlices, Kueue's flavors, queues and priority classes (in
the group's preferred version), PriorityClasses, IngressClasses, ClusterSecretStores and the four controller
ConfigMaps the platform profile describes. An API the cluster does not serve is read as "none there"; any other
refusal fails closed (E801). Deterministic: everything sorted, and a snapshot whose facts did not change keeps its
file byte for byte (its `takenAt` included), as the model lock does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ..errors import Code, Diagnostic, Location, SpecError
from ..load import load
from ..model import cluster as facts
from ..model.cluster import ClusterSnapshot
from ..validate import validate
from ..yamltext import dump_yaml
from .client import Connection, get_json, server_version

CLUSTERS_DIR = "clusters"
HEADER = ("# What this environment's cluster offers, read by `mlgitops cluster snapshot`; the gate judges scheduling\n"
          "# and admission against it offline. Refresh with `mlgitops cluster snapshot --update-facts`; do not edit.\n")
# Each controller's ConfigMap where its upstream install puts it (KServe v0.20.0 config/configmap, Knative Serving
# 1.23 config/core/configmaps/features.yaml, Kueue v0.19.2 config/components/manager, Argo Workflows v4.1.2
# manifests/base/workflow-controller).
CONTROLLER_CONFIGMAPS = {"kserve": ("kserve", "inferenceservice-config"),
                         "knative": ("knative-serving", "config-features"),
                         "kueue": ("kueue-system", "kueue-manager-config"),
                         "argoWorkflows": ("argo", "workflow-controller-configmap")}
# Labels that name one node, not what its pool offers.
PER_NODE_LABELS = ("kubernetes.io/hostname", "nvidia.com/gfd.timestamp")
GPU_LABEL = "nvidia.com/gpu"
KUEUE_GROUP = "kueue.x-k8s.io"


def snapshot_path(root: Path, env: str) -> Path:
    return root / CLUSTERS_DIR / f"{env}.yaml"


def take(connection: Connection, env: str, taken_at: str | None = None) -> ClusterSnapshot:
    """Read the cluster's facts; `taken_at` defaults to $SOURCE_DATE_EPOCH, else now (UTC)."""
    apis: dict[str, list[str]] = {"v1": ["Node"]}

    def listed(group_version: str, plural: str, what: str) -> list[dict[str, Any]]:
        if group_version not in apis:
            return []  # not served: there are none
        prefix = "/api" if group_version == "v1" else "/apis"
        body = get_json(connection, f"{prefix}/{group_version}/{plural}", action=f"list {what}")
        return sorted((body or {}).get("items", []), key=_identity)

    nodes = listed("v1", "nodes", "nodes")  # first: an identity that may not list nodes fails before any work
    pools, pool_of = _pools(nodes)
    apis, preferred = _discovery(connection)
    kueue_version = preferred.get(KUEUE_GROUP)
    kueue = None
    if kueue_version:
        gv = f"{KUEUE_GROUP}/{kueue_version}"
        kueue = facts.Kueue(
            api_version=gv,
            resource_flavors=[_flavor(o) for o in listed(gv, "resourceflavors", "Kueue ResourceFlavors")],
            cluster_queues=[_cluster_queue(o) for o in listed(gv, "clusterqueues", "Kueue ClusterQueues")],
            local_queues=[facts.LocalQueue(namespace=o["metadata"]["namespace"], name=o["metadata"]["name"],
                                           cluster_queue=o["spec"]["clusterQueue"])
                          for o in listed(gv, "localqueues", "Kueue LocalQueues")],
            workload_priority_classes={o["metadata"]["name"]: o["value"]
                                       for o in listed(gv, "workloadpriorityclasses", "WorkloadPriorityClasses")})
    dra = f"resource.k8s.io/{preferred.get('resource.k8s.io', 'v1')}"
    return ClusterSnapshot(
        api_version="mlgitops.io/v1alpha1", kind=facts.SNAPSHOT_KIND,
        metadata=facts.SnapshotMetadata(name=env, taken_at=taken_at or _now()),
        kubernetes_version=server_version(connection), apis=apis,
        node_pools=pools,
        device_classes=[_device_class(o) for o in listed(dra, "deviceclasses", "DRA DeviceClasses")],
        resource_slices=[_slice(o, pool_of) for o in listed(dra, "resourceslices", "DRA ResourceSlices")],
        kueue=kueue,
        priority_classes={o["metadata"]["name"]: o["value"]
                          for o in listed("scheduling.k8s.io/v1", "priorityclasses", "PriorityClasses")},
        ingress_classes=[facts.IngressClass(name=o["metadata"]["name"], controller=o["spec"].get("controller", ""),
                                            default=o["metadata"].get("annotations", {}).get(
                                                "ingressclass.kubernetes.io/is-default-class") == "true")
                         for o in listed("networking.k8s.io/v1", "ingressclasses", "IngressClasses")],
        cluster_secret_stores=[o["metadata"]["name"] for o in listed(
            f"external-secrets.io/{preferred.get('external-secrets.io', 'v1')}", "clustersecretstores",
            "ClusterSecretStores")],
        controllers={key: _controller(connection, namespace, name)
                     for key, (namespace, name) in sorted(CONTROLLER_CONFIGMAPS.items())})


def _now() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")  # reproducible builds' convention: a fixed clock on request
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _identity(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata", {})
    return meta.get("namespace", ""), meta.get("name", "")


def _discovery(connection: Connection) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Group version → kinds it serves (subresources left out), and each group's preferred version."""
    groups = get_json(connection, "/apis", action="read the API groups") or {}
    preferred = {g["name"]: g["preferredVersion"]["version"] for g in groups.get("groups", [])}
    versions = ["v1"] + sorted(v["groupVersion"] for g in groups.get("groups", []) for v in g["versions"])
    apis = {}
    for group_version in versions:
        path = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        body = get_json(connection, path, action=f"read the resources of {group_version}") or {}
        apis[group_version] = sorted({r["kind"] for r in body.get("resources", []) if "/" not in r["name"]})
    return apis, preferred


def _pools(nodes: Iterable[dict[str, Any]]) -> tuple[list[facts.NodePool], dict[str, str]]:
    """Nodes grouped by their labels (but those naming one node) and taints, and each node's pool; a pool is named
    after its first node, without the node's ordinal."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:
        labels = {k: v for k, v in node["metadata"].get("labels", {}).items() if k not in PER_NODE_LABELS}
        groups.setdefault(json.dumps([labels, _taints(node)], sort_keys=True), []).append(node)
    pools, pool_of = [], {}
    for members in groups.values():
        first = members[0]
        labels = {k: v for k, v in first["metadata"].get("labels", {}).items() if k not in PER_NODE_LABELS}
        allocatable = {}
        for resource in sorted(first["status"].get("allocatable", {})):
            values = [n["status"].get("allocatable", {}).get(resource) for n in members]
            if all(v is not None for v in values):
                allocatable[resource] = min(values, key=_quantity)
        name = first["metadata"]["name"].rstrip("0123456789").rstrip("-") or first["metadata"]["name"]
        pool_of.update({node["metadata"]["name"]: name for node in members})
        pools.append(facts.NodePool(name=name, nodes=len(members), labels=dict(sorted(labels.items())),
                                    taints=[facts.Taint(**t) for t in _taints(first)], allocatable=allocatable,
                                    gpu=_gpu(labels)))
    return sorted(pools, key=lambda p: p.name), pool_of


def _taints(node: dict[str, Any]) -> list[dict[str, str]]:
    return sorted(({k: t[k] for k in ("key", "value", "effect") if t.get(k) is not None}
                   for t in node.get("spec", {}).get("taints", [])), key=lambda t: (t["key"], t["effect"]))


def _gpu(labels: dict[str, str]) -> facts.Gpu | None:
    """GFD's labels (k8s-device-plugin v0.20.0 docs/gpu-feature-discovery/README.md, "Generated Labels")."""
    if f"{GPU_LABEL}.product" not in labels:
        return None
    profiles = {key.removeprefix("nvidia.com/mig-").removesuffix(".count"): int(value)
                for key, value in labels.items() if key.startswith("nvidia.com/mig-") and key.endswith(".count")}
    memory = labels.get(f"{GPU_LABEL}.memory")
    return facts.Gpu(product=labels[f"{GPU_LABEL}.product"], count=int(labels.get(f"{GPU_LABEL}.count", 0)),
                     replicas=int(labels.get(f"{GPU_LABEL}.replicas", 1)),
                     sharing_strategy=labels.get(f"{GPU_LABEL}.sharing-strategy", "none"),
                     memory_mib=int(memory) if memory and memory.isdigit() else None,
                     mig_profiles=dict(sorted(profiles.items())))


def _quantity(value: str) -> float:
    from kubernetes.utils import parse_quantity

    return float(parse_quantity(value))


def _device_class(obj: dict[str, Any]) -> facts.DeviceClass:
    spec = obj.get("spec", {})
    return facts.DeviceClass(name=obj["metadata"]["name"],
                             selectors=[s["cel"]["expression"] for s in spec.get("selectors", []) if "cel" in s],
                             extended_resource_name=spec.get("extendedResourceName"))


def _slice(obj: dict[str, Any], pool_of: dict[str, str]) -> facts.ResourceSlice:
    spec = obj["spec"]
    devices = [facts.Device(name=d["name"], attributes=d.get("attributes", {}),
                            capacity={k: v["value"] for k, v in d.get("capacity", {}).items()})
               for d in sorted(spec.get("devices", []), key=lambda d: d["name"])]
    return facts.ResourceSlice(driver=spec["driver"], node_name=spec.get("nodeName"),
                               node_pool=pool_of.get(spec.get("nodeName", "")), pool=spec["pool"]["name"],
                               devices=devices)


def _flavor(obj: dict[str, Any]) -> facts.ResourceFlavor:
    spec = obj.get("spec", {})
    return facts.ResourceFlavor(name=obj["metadata"]["name"], node_labels=spec.get("nodeLabels", {}),
                                tolerations=spec.get("tolerations", []))


def _cluster_queue(obj: dict[str, Any]) -> facts.ClusterQueue:
    spec = obj.get("spec", {})
    quota: dict[str, dict[str, str]] = {}
    for group in spec.get("resourceGroups", []):
        for flavor in group.get("flavors", []):
            quota.setdefault(flavor["name"], {}).update(
                {r["name"]: str(r["nominalQuota"]) for r in flavor.get("resources", [])})
    cohort = spec.get("cohortName", spec.get("cohort"))  # v1beta2 renamed `cohort` to `cohortName`
    return facts.ClusterQueue(name=obj["metadata"]["name"], cohort=cohort, nominal_quota=quota)


def _controller(connection: Connection, namespace: str, name: str) -> facts.ControllerConfig | None:
    body = get_json(connection, f"/api/v1/namespaces/{namespace}/configmaps/{name}",
                    action=f"read ConfigMap {namespace}/{name}")
    if body is None:
        return None
    data = {key: _parsed(value) for key, value in sorted((body.get("data") or {}).items()) if key != "_example"}
    return facts.ControllerConfig(namespace=namespace, name=name, data=data)


def _parsed(value: str) -> Any:
    """A JSON or YAML mapping as the mapping (every key's setting readable and comparable), else the text."""
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    return parsed if isinstance(parsed, dict) else value


def snapshot_text(snapshot: ClusterSnapshot) -> str:
    return HEADER + dump_yaml(snapshot.model_dump(by_alias=True, exclude_defaults=True, mode="json"))


def read_snapshot(path: Path, display: str) -> ClusterSnapshot:
    """A committed snapshot, strictly: a hand edit that breaks its shape is an error at its line."""
    document = load(path, display)
    return validate(ClusterSnapshot, document.data, document.source)


def write_snapshot(path: Path, snapshot: ClusterSnapshot) -> bool:
    """Write when the facts changed (whatever `takenAt` says); False when the file already holds them."""
    if path.exists():
        old = read_snapshot(path, str(path))
        if _facts(old) == _facts(snapshot):
            return False
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".yaml.tmp")
    temporary.write_text(snapshot_text(snapshot), encoding="utf-8")
    temporary.replace(path)  # all or nothing: a reader never sees half a snapshot
    return True


def _facts(snapshot: ClusterSnapshot) -> dict[str, Any]:
    facts = snapshot.model_dump(mode="json")
    facts["metadata"].pop("taken_at")
    return facts


def drift(committed: ClusterSnapshot, live: ClusterSnapshot) -> list[str]:
    """The top-level sections whose facts differ, for `cluster snapshot` without --update-facts."""
    old, new = _facts(committed), _facts(live)
    return [key for key in new if old.get(key) != new.get(key)]


def missing_snapshot(where: Location, path: str) -> SpecError:
    return SpecError([Diagnostic(Code.CLUSTER_SNAPSHOT, where, f"no cluster snapshot {path}: run "
                                 "`mlgitops cluster snapshot --env <env>` against the cluster and commit it")])
