"""The cluster-aware rules: can the system's workloads ever be scheduled and admitted on the cluster its environment
describes? Judged offline, from the committed snapshot (clusters/<env>.yaml, `cluster snapshot`), so CI needs no
cluster; an environment without a snapshot is not judged here (the report says so).

For each pod a rendered object makes (Deployment, Job, CronJob, InferenceService predictor, PyTorchJob replicas,
TrainJob nodes, the pods of Argo workflows and of the jobs their steps create) the scheduler's filters are replayed
against every node pool: nodeSelector against the pool's labels, the pool's NoSchedule/NoExecute taints against the
pod's tolerations, the pod's requests against one node's allocatable (GPUs and MIG slices included). A DRA claim
template is met when some ResourceSlice holds enough devices for which the DeviceClass's and the request's CEL
selectors are true — evaluated with a CEL engine, not matched as text. Then what the cluster must already have:
the queues' ClusterQueues and their GPU quota, PriorityClasses, WorkloadPriorityClasses, the IngressClass, the
ClusterSecretStore, DeviceClasses, every API version rendered; and the controller configuration the environment's
platform profile claims (Knative's pod-spec features, Argo's hardened executor, Kueue's integrations and DRA device
class mappings). Each finding is at the spec line, with what the cluster offers instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import cel
import yaml
from cel.stdlib import add_stdlib_to_context
from kubernetes.utils import parse_quantity

from ..labels import PRIORITY_LABEL, QUEUE_LABEL
from ..load import FieldPath
from ..merge import MergedSystem
from ..model.cluster import ClusterSnapshot, NodePool, ResourceSlice
from ..platform.training import INTEGRATION, queue_uses
from .finding import Rule

ENGINE = "cluster"
FIT, GPU, QUOTA, MISSING, DRA, NOT_SERVED, PROFILE = (f"MLG-CLU-00{i}" for i in range(1, 8))


def _rule(rule_id: str, name: str, title: str, rationale: str, remediation: str) -> Rule:
    return Rule(rule_id, "high", title, rationale, remediation, engine=ENGINE, name=name)


RULES = {r.id: r for r in (
    _rule(FIT, "no-node-pool-fits", "A pod fits on no node pool of the cluster",
          "A pod whose selectors, tolerations and requests no node meets stays Pending for ever: Argo CD reports "
          "the sync as progressing, the model never serves or trains.",
          "Ask for what a pool offers (the message names the closest), or have the platform team add such a pool."),
    _rule(GPU, "gpu-not-in-cluster", "The GPU product or MIG profile asked for is on no node",
          "GPU Feature Discovery labels each node with its product and MIG profiles; a selector or MIG resource "
          "no node has can never be scheduled.",
          "Use a GPU type whose product the cluster has (clusters/<env>.yaml lists the pools), or fix "
          "gpu.products in the environment."),
    _rule(QUOTA, "queue-quota-exceeded", "A queued workload asks more GPUs than its ClusterQueue's quota",
          "Kueue admits a workload only when its whole request fits the ClusterQueue's nominal quota (plus what its "
          "cohort lends): above it, the workload waits for ever.",
          "Ask fewer GPUs, or have the ClusterQueue's quota raised."),
    _rule(MISSING, "cluster-lacks-prerequisite", "Something the workload needs does not exist in the cluster",
          "A ClusterQueue, PriorityClass, WorkloadPriorityClass, IngressClass, ClusterSecretStore or DeviceClass "
          "that is missing makes the object's controller or admission refuse it, or leaves it unserved.",
          "Use one the cluster has (the message lists them), or have the platform team create it."),
    _rule(DRA, "dra-claim-unsatisfiable", "No ResourceSlice has the devices a DRA claim asks for",
          "The scheduler allocates a claim from devices that meet the DeviceClass's and the request's CEL "
          "selectors; when no slice holds enough of them, the pod never starts.",
          "Fix the selector or count, or the GPU type's pool."),
    _rule(NOT_SERVED, "api-not-served", "The cluster does not serve a kind in the API version rendered",
          "An object of an API the cluster does not serve (no CRD, or that version not served) cannot be created.",
          "Install the controller, or set the platform profile's version to the one the cluster runs."),
    _rule(PROFILE, "profile-contradicts-cluster", "The platform profile says something the cluster's "
          "controllers are not configured for",
          "The output relies on the profile (Knative pod-spec features, Argo's hardened executor, Kueue's "
          "integrations and device class mappings); when the controller's own configuration disagrees, the "
          "controller drops or refuses what was rendered for it.",
          "Configure the controller as the profile says, or correct the profile in the environment."),
)}

# Knative Serving's config-features flag for each pod-spec field the predictor may set (knative/serving
# config/core/configmaps/features.yaml, 1.23): "enabled" (or "allowed") lets the field through.
KNATIVE_FLAGS = {"nodeSelector": "kubernetes.podspec-nodeselector", "tolerations": "kubernetes.podspec-tolerations",
                 "topologySpreadConstraints": "kubernetes.podspec-topologyspreadconstraints",
                 "securityContext": "kubernetes.podspec-securitycontext"}
GPU_RESOURCE, MIG_PREFIX, PRODUCT_LABEL = "nvidia.com/gpu", "nvidia.com/mig-", "nvidia.com/gpu.product"


@dataclass(frozen=True)
class ClusterFinding:
    """A finding before it is placed: the rule, the object it is about, the spec field (None: the object's own
    section) and the message."""

    rule: str
    obj: dict[str, Any]
    field: FieldPath | None
    message: str


@dataclass(frozen=True)
class PodSet:
    spec: dict[str, Any]
    count: int
    what: str


def pod_sets(obj: dict[str, Any]) -> list[PodSet]:
    """The pods an object makes, with how many run at once (KServe's predictor and Argo steps counted as one)."""
    spec, kind, what = obj.get("spec", {}), obj["kind"], _named(obj)
    if kind == "Deployment":
        return [PodSet(spec["template"]["spec"], 1, what)]
    if kind == "Job":
        return [PodSet(spec["template"]["spec"], spec.get("parallelism", 1), what)]
    if kind == "CronJob":
        job = spec["jobTemplate"]["spec"]
        return [PodSet(job["template"]["spec"], job.get("parallelism", 1), what)]
    if kind == "PyTorchJob":
        return [PodSet(r["template"]["spec"], r.get("replicas", 1), f"{what} {role}")
                for role, r in sorted(spec["pytorchReplicaSpecs"].items())]
    if kind == "TrainJob":  # the runtime's node pod as the job patches it, with the trainer's resources
        trainer = spec.get("trainer", {})
        pod: dict[str, Any] = {"containers": [{"resources": trainer.get("resourcesPerNode", {})}]}
        for patch in spec.get("runtimePatches", []):
            for job in patch.get("trainingRuntimeSpec", {}).get("template", {}).get("spec", {}).get(
                    "replicatedJobs", []):
                patched = job.get("template", {}).get("spec", {}).get("template", {}).get("spec", {})
                pod.update({k: v for k, v in patched.items() if k in ("nodeSelector", "tolerations",
                                                                      "priorityClassName", "resourceClaims")})
        return [PodSet(pod, trainer.get("numNodes", 1), what)]
    if kind == "InferenceService":
        predictor = spec["predictor"]
        return [PodSet({**predictor, "containers": predictor.get("containers") or [predictor["model"]]}, 1,
                       f"{what} predictor")]
    if kind in ("WorkflowTemplate", "CronWorkflow"):
        return _workflow_pods(spec["workflowSpec"] if kind == "CronWorkflow" else spec, what)
    return []


def _named(obj: dict[str, Any]) -> str:
    """`Kind name`; an object a workflow step creates may have only a generateName."""
    meta = obj["metadata"]
    return f"{obj['kind']} {meta.get('name') or meta.get('generateName', '') + '…'}"


def _workflow_pods(spec: dict[str, Any], what: str) -> list[PodSet]:
    placement = {k: spec[k] for k in ("nodeSelector", "tolerations", "priorityClassName") if k in spec}
    pods = []
    for template in spec.get("templates", []):
        if "container" in template:
            own = {k: template[k] for k in ("nodeSelector", "tolerations", "priorityClassName") if k in template}
            pods.append(PodSet({**placement, **own, "containers": [template["container"]]}, 1,
                               f"{what} step {template['name']}"))
        elif "resource" in template:
            pods += pod_sets(yaml.safe_load(template["resource"]["manifest"]))
    return pods


def _amount(value: Any) -> Decimal:
    return Decimal(parse_quantity(str(value)))


def requests(pod: dict[str, Any]) -> dict[str, Decimal]:
    """What a pod asks of one node: its containers' requests (limits where no request is set, as the API server
    defaults them), summed."""
    total: dict[str, Decimal] = {}
    for container in pod.get("containers", []):
        resources = container.get("resources", {})
        asked = {**resources.get("limits", {}), **resources.get("requests", {})}
        for resource, value in asked.items():
            total[resource] = total.get(resource, Decimal(0)) + _amount(value)
    return total


def _tolerated(taint, tolerations: list[dict[str, Any]]) -> bool:
    for t in tolerations:
        key_matches = t.get("key") == taint.key or (not t.get("key") and t.get("operator") == "Exists")
        value_matches = t.get("operator") == "Exists" or t.get("value", "") == (taint.value or "")
        if key_matches and value_matches and t.get("effect") in (None, "", taint.effect):
            return True
    return False


def _misfit(pod: dict[str, Any], asked: dict[str, Decimal], pool: NodePool) -> str | None:
    """Why the pool cannot run the pod (None: it can)."""
    for key, value in sorted(pod.get("nodeSelector", {}).items()):
        if pool.labels.get(key) != value:
            return f"its nodes are not {key}={value}"
    for taint in pool.taints:
        if taint.effect in ("NoSchedule", "NoExecute") and not _tolerated(taint, pod.get("tolerations", [])):
            return f"the pod does not tolerate its taint {taint.key}:{taint.effect}"
    for resource, amount in sorted(asked.items()):
        offered = _amount(pool.allocatable.get(resource, 0))
        if amount > offered:
            return f"a node offers {_shown(offered)} {resource}, the pod asks {_shown(amount)}"
    return None


def _shown(amount: Decimal) -> str:
    return format(amount.normalize(), "f")


def _pools_text(pools: list[NodePool]) -> str:
    def one(pool: NodePool) -> str:
        gpus = ", ".join(f"{_shown(_amount(v))} {k}" for k, v in sorted(pool.allocatable.items())
                         if k == GPU_RESOURCE or k.startswith(MIG_PREFIX))
        offers = [f"{pool.nodes} × {pool.allocatable.get('cpu', '?')} CPU"] + ([pool.gpu.product] if pool.gpu else [])
        return f"{pool.name} ({', '.join(offers + ([gpus] if gpus else []))})"
    return "; ".join(one(p) for p in pools) or "none"


def judge(system: MergedSystem, objects: list[dict[str, Any]], snapshot: ClusterSnapshot,
          snapshot_file: str) -> list[ClusterFinding]:
    found: list[ClusterFinding] = []
    claims = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ResourceClaimTemplate"}
    for obj in objects:
        for pods in pod_sets(obj):  # a workflow's pods include those of the jobs its steps create
            found += _scheduling(obj, pods, snapshot, claims)
        for made in (obj, *_created(obj)):
            if not snapshot.serves(made["apiVersion"], made["kind"]):
                versions = sorted(gv for gv, kinds in snapshot.apis.items() if made["kind"] in kinds)
                found.append(ClusterFinding(NOT_SERVED, obj, None, f"the cluster does not serve {made['kind']} in "
                                            f"{made['apiVersion']} (it serves it in: {', '.join(versions) or 'none'})"))
            found += [ClusterFinding(f.rule, obj, f.field, f.message) for f in _prerequisites(made, snapshot)]
    for obj in claims.values():
        found += _claim(obj, snapshot)
    found += _queues(system, objects, snapshot)
    found += _profile(system, objects, snapshot, snapshot_file)
    return found


def _scheduling(obj: dict[str, Any], pods: PodSet, snapshot: ClusterSnapshot,
                claims: dict[str, dict[str, Any]]) -> Iterator[ClusterFinding]:
    pod, asked = pods.spec, requests(pods.spec)
    product = pod.get("nodeSelector", {}).get(PRODUCT_LABEL)
    products = sorted({p.gpu.product for p in snapshot.node_pools if p.gpu})
    if product and product not in products:
        yield ClusterFinding(GPU, obj, ("gpu",), f"{pods.what}: no node is {PRODUCT_LABEL}={product}; the "
                                                 f"cluster's GPU products: {', '.join(products) or 'none'}")
        return
    for resource in sorted(r for r in asked if r.startswith(MIG_PREFIX)):
        if not any(resource in p.allocatable for p in snapshot.node_pools):
            profiles = sorted({m for p in snapshot.node_pools if p.gpu for m in p.gpu.mig_profiles})
            yield ClusterFinding(GPU, obj, ("gpu",), f"{pods.what}: no node offers {resource}; the cluster's MIG "
                                                     f"profiles: {', '.join(profiles) or 'none'}")
            return
    candidates = snapshot.node_pools
    claimed = [claims[c["resourceClaimTemplateName"]] for c in pod.get("resourceClaims", [])
               if c.get("resourceClaimTemplateName") in claims]
    if claimed:  # a DRA pod runs where the slices that meet its claims are
        where = {s.node_pool for claim in claimed for s, _ in _meeting_slices(claim, snapshot)}
        candidates = [p for p in candidates if p.name in where]
    reasons = {p.name: _misfit(pod, asked, p) for p in candidates}
    if candidates and any(reason is None for reason in reasons.values()):
        return
    if claimed and not candidates:
        return  # the claim's own finding says why
    same_product = [p for p in candidates if p.gpu and p.gpu.product == product] if product else []
    if product and same_product and all(_misfit({**pod, "containers": []}, {}, p) is None for p in same_product):
        resource = GPU_RESOURCE if GPU_RESOURCE in asked else next((r for r in asked if r.startswith(MIG_PREFIX)), "")
        largest = max(same_product, key=lambda p: _amount(p.allocatable.get(resource, 0)))
        if resource and asked[resource] > _amount(largest.allocatable.get(resource, 0)):
            yield ClusterFinding(FIT, obj, ("resources",), f"{pods.what}: the largest node pool with {product} "
                                 f"({largest.name}) has {_shown(_amount(largest.allocatable.get(resource, 0)))} "
                                 f"{resource} per node; the pod asks {_shown(asked[resource])}")
            return
    why = "; ".join(f"{name}: {reason}" for name, reason in sorted(reasons.items()))
    yield ClusterFinding(FIT, obj, ("resources",), f"{pods.what} fits on no node pool ({why}); the cluster's "
                                                   f"pools: {_pools_text(snapshot.node_pools)}")


def _prerequisites(obj: dict[str, Any], snapshot: ClusterSnapshot) -> Iterator[ClusterFinding]:
    spec, kind = obj.get("spec", {}), obj["kind"]
    for pods in pod_sets(obj):
        name = pods.spec.get("priorityClassName")
        if name and name not in snapshot.priority_classes:
            yield ClusterFinding(MISSING, obj, ("priority",), f"{pods.what}: PriorityClass {name} does not exist; "
                                 f"the cluster has {', '.join(sorted(snapshot.priority_classes)) or 'none'}")
    wanted = obj["metadata"].get("labels", {}).get(PRIORITY_LABEL)
    classes = snapshot.kueue.workload_priority_classes if snapshot.kueue else {}
    if wanted and wanted not in classes:
        yield ClusterFinding(MISSING, obj, ("priority",), f"{_named(obj)}: Kueue "
                             f"WorkloadPriorityClass {wanted} does not exist; the cluster has "
                             f"{', '.join(sorted(classes)) or 'none'}")
    if kind == "Ingress" and spec.get("ingressClassName"):
        names = [c.name for c in snapshot.ingress_classes]
        if spec["ingressClassName"] not in names:
            yield ClusterFinding(MISSING, obj, ("ingress",), f"IngressClass {spec['ingressClassName']} does not "
                                                             f"exist; the cluster has {', '.join(names) or 'none'}")
    if kind == "ExternalSecret" and spec.get("secretStoreRef", {}).get("kind") == "ClusterSecretStore":
        store = spec["secretStoreRef"]["name"]
        if store not in snapshot.cluster_secret_stores:
            yield ClusterFinding(MISSING, obj, None, f"ClusterSecretStore {store} does not exist; the cluster has "
                                                     f"{', '.join(snapshot.cluster_secret_stores) or 'none'}")
    if kind == "LocalQueue":
        queues = [q.name for q in snapshot.kueue.cluster_queues] if snapshot.kueue else []
        if spec.get("clusterQueue") not in queues:
            yield ClusterFinding(MISSING, obj, ("queue",), f"LocalQueue {obj['metadata']['name']} points at "
                                 f"ClusterQueue {spec.get('clusterQueue')}, which does not exist; the cluster has "
                                 f"{', '.join(queues) or 'none'}")


def _device(device, driver: str) -> dict[str, Any]:
    """A device as DRA's CEL sees it (k8s.io/dynamic-resource-allocation/cel): attributes and capacity by domain,
    a name without one in the driver's domain; typed values as plain ones (a version as its text)."""
    attributes: dict[str, dict[str, Any]] = {}
    for name, value in device.attributes.items():
        domain, _, short = name.rpartition("/")
        attributes.setdefault(domain or driver, {})[short] = next(iter(value.values()))
    capacity: dict[str, dict[str, Any]] = {}
    for name, value in device.capacity.items():
        domain, _, short = name.rpartition("/")
        capacity.setdefault(domain or driver, {})[short] = value
    return {"driver": driver, "attributes": attributes, "capacity": capacity}


def _selected(expression: str, device: dict[str, Any]) -> bool | str:
    """True or False, or the evaluation error's text (the scheduler treats an error as no match)."""
    context = cel.Context()
    add_stdlib_to_context(context)
    context.add_variable("device", device)
    try:
        result = cel.evaluate(expression, context)
    except Exception as exc:  # noqa: BLE001 — the engine raises several types; each is "this device does not match"
        return f"{type(exc).__name__}: {exc}"
    return result if isinstance(result, bool) else f"the selector returned {result!r}, not a bool"


def _requests_of(claim: dict[str, Any]) -> list[dict[str, Any]]:
    return [r.get("exactly", r) for r in claim["spec"]["spec"].get("devices", {}).get("requests", [])]


def _meeting_slices(claim: dict[str, Any], snapshot: ClusterSnapshot) -> list[tuple[ResourceSlice, list[str]]]:
    """Slices whose devices meet every request of the claim, with the errors seen (for the message)."""
    classes = {c.name: c for c in snapshot.device_classes}
    meeting = []
    for resource_slice in snapshot.resource_slices:
        errors: list[str] = []
        ok = True
        for request in _requests_of(claim):
            device_class = classes.get(request.get("deviceClassName", ""))
            if device_class is None:
                ok = False
                break
            selectors = device_class.selectors + [s["cel"]["expression"] for s in request.get("selectors", [])
                                                  if "cel" in s]
            matching = 0
            for device in resource_slice.devices:
                seen = _device(device, resource_slice.driver)
                verdicts = [_selected(expression, seen) for expression in selectors]
                errors += [v for v in verdicts if isinstance(v, str)]
                matching += all(v is True for v in verdicts)
            if matching < request.get("count", 1):
                ok = False
        if ok:
            meeting.append((resource_slice, errors))
    return meeting


def _claim(claim: dict[str, Any], snapshot: ClusterSnapshot) -> Iterator[ClusterFinding]:
    name = claim["metadata"]["name"]
    classes = [c.name for c in snapshot.device_classes]
    for request in _requests_of(claim):
        if request.get("deviceClassName") not in classes:
            yield ClusterFinding(MISSING, claim, ("gpu",), f"ResourceClaimTemplate {name}: DeviceClass "
                                 f"{request.get('deviceClassName')} does not exist; the cluster has "
                                 f"{', '.join(classes) or 'none'}")
            return
    if not _meeting_slices(claim, snapshot):
        offered = "; ".join(f"{s.node_name or s.pool}: {len(s.devices)} × {s.driver}" for s in
                            snapshot.resource_slices) or "none"
        wanted = ", ".join(f"{r.get('count', 1)} × {r.get('deviceClassName')}"
                           + "".join(f" where {s['cel']['expression']}" for s in r.get("selectors", []) if "cel" in s)
                           for r in _requests_of(claim))
        yield ClusterFinding(DRA, claim, ("gpu",), f"ResourceClaimTemplate {name} asks {wanted}: no ResourceSlice "
                                                   f"holds that many such devices (slices: {offered})")


def _queues(system: MergedSystem, objects: list[dict[str, Any]], snapshot: ClusterSnapshot) -> Iterator[
        ClusterFinding]:
    """Each queued workload's GPUs against the nominal quota of its LocalQueue's ClusterQueue (borrowing from a
    cohort not counted: it is not guaranteed)."""
    if snapshot.kueue is None:
        return
    local = {o["metadata"]["name"]: o["spec"].get("clusterQueue") for o in objects if o["kind"] == "LocalQueue"}
    local |= {q.name: q.cluster_queue for q in snapshot.kueue.local_queues if q.namespace == system.namespace
              and q.name not in local}
    quotas = {q.name: q for q in snapshot.kueue.cluster_queues}
    fields = {use.queue: use.field for use in queue_uses(system.spec, system.environment.spec.platform)}
    for parent, obj in _queued(objects):
        queue = obj["metadata"]["labels"][QUEUE_LABEL]
        cluster_queue = quotas.get(local.get(queue, ""))
        if cluster_queue is None:
            continue  # the LocalQueue's own finding (MLG-CLU-004) says why
        asked = sum((requests(p.spec).get(GPU_RESOURCE, Decimal(0)) * p.count for p in pod_sets(obj)), Decimal(0))
        quota = sum((_amount(r.get(GPU_RESOURCE, 0)) for r in cluster_queue.nominal_quota.values()), Decimal(0))
        if asked > quota:
            yield ClusterFinding(QUOTA, parent, fields.get(queue, ("training", "queue")), f"{_named(obj)} asks "
                                 f"{_shown(asked)} {GPU_RESOURCE} through queue "
                                 f"{queue}; ClusterQueue {cluster_queue.name} has a nominal quota of {_shown(quota)}")


def _queued(objects: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """The objects Kueue admits as one workload — those labelled with a queue, and the jobs Argo steps create —
    each with the rendered object it comes from."""
    for obj in objects:
        for made in (obj, *_created(obj)):
            if QUEUE_LABEL in made["metadata"].get("labels", {}) and made["kind"] != "LocalQueue":
                yield obj, made


def _created(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The objects the steps of an Argo workflow create (resource templates), which must be admitted too."""
    spec = obj.get("spec", {})
    workflow = spec.get("workflowSpec", spec) if obj["kind"] in ("WorkflowTemplate", "CronWorkflow") else {}
    return [yaml.safe_load(t["resource"]["manifest"]) for t in workflow.get("templates", []) if "resource" in t]


def _profile(system: MergedSystem, objects: list[dict[str, Any]], snapshot: ClusterSnapshot,
             snapshot_file: str) -> Iterator[ClusterFinding]:
    platform = system.environment.spec.platform
    controllers = snapshot.controllers
    knative = controllers.get("knative")
    for obj in objects:
        if obj["kind"] != "InferenceService" or "serving.knative.dev/v1" not in snapshot.apis or \
                obj["metadata"].get("annotations", {}).get("serving.kserve.io/deploymentMode") != "Knative":
            continue
        predictor = obj["spec"]["predictor"]
        flags = knative.data if knative else {}
        for field, flag in KNATIVE_FLAGS.items():
            if field in predictor and str(flags.get(flag, "disabled")) not in ("enabled", "allowed"):
                yield ClusterFinding(PROFILE, obj, ("gpu",) if field in ("nodeSelector", "tolerations") else None,
                                     f"InferenceService {obj['metadata']['name']} sets predictor.{field}, which "
                                     f"Knative drops unless {flag} is enabled; the cluster's config-features "
                                     f"({snapshot_file}) has it {flags.get(flag, 'at its default, disabled')}")
    workflows = [o for o in objects if o["kind"] in ("WorkflowTemplate", "CronWorkflow")]
    argo = controllers.get("argoWorkflows")
    executor = (argo.data.get("executor") if argo else None) or {}
    if workflows and platform.argo_workflows.executor_hardened and not (
            isinstance(executor, dict) and executor.get("securityContext")):
        yield ClusterFinding(PROFILE, workflows[0], ("pipeline",), "the profile says Argo's executor is hardened "
                             "(platform.argoWorkflows.executorHardened), but the cluster's "
                             "workflow-controller-configmap sets no executor.securityContext: its init and wait "
                             "containers are refused by Pod Security restricted")
    kueue = controllers.get("kueue")
    config = (kueue.data.get("controller_manager_config.yaml") if kueue else None) or {}
    if not isinstance(config, dict) or not system.spec.training:
        return
    frameworks = config.get("integrations", {}).get("frameworks", [])
    mapped = {m for mapping in config.get("resources", {}).get("deviceClassMappings", [])
              for m in mapping.get("deviceClassNames", [])}
    uses = queue_uses(system.spec, platform)
    for use in uses:
        if INTEGRATION[use.kind] not in frameworks:
            yield ClusterFinding(PROFILE, _first(objects, use.kind), use.field, f"Kueue would never admit this "
                                 f"{use.kind}: the cluster's Kueue configuration does not enable "
                                 f"{INTEGRATION[use.kind]} (its frameworks: {', '.join(frameworks) or 'none'})")
    claims = [o for o in objects if o["kind"] == "ResourceClaimTemplate"]
    for claim in claims if uses else []:
        for request in _requests_of(claim):
            device_class = request.get("deviceClassName")
            if device_class in platform.kueue.mapped_device_classes and device_class not in mapped:
                yield ClusterFinding(PROFILE, claim, ("gpu",), f"the profile maps DeviceClass {device_class} to a "
                                     "Kueue quota (platform.kueue.mappedDeviceClasses), but the cluster's Kueue "
                                     "configuration has no such resources.deviceClassMappings: the queued workload "
                                     "is inadmissible")


def _first(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next((o for o in objects if o["kind"] == kind), objects[0])


def snapshot_note(snapshot: ClusterSnapshot, snapshot_file: str, today: date) -> str:
    """How old the facts are that the cluster-aware rules judged by: every report says it."""
    age = (today - date.fromisoformat(snapshot.metadata.taken_at[:10])).days
    return (f"cluster facts from {snapshot_file}, taken {snapshot.metadata.taken_at} ({age} day"
            f"{'' if age == 1 else 's'} old): Kubernetes {snapshot.kubernetes_version}, "
            f"{sum(p.nodes for p in snapshot.node_pools)} nodes in {len(snapshot.node_pools)} pools")


