"""`Platform`: how the environment's cluster has its controllers installed and configured (`platform:`).

The compiler renders for the platform this section describes and assumes nothing else: each controller's mode,
version, feature flags and installed add-ons decide what the renderers emit, and what a spec asks that the platform
cannot honour is an error at the spec's line (compiler/platform). Every default is the project's own default
install at the version named beside it, so an environment that leaves a field out gets what a stock install does;
the README's "The platform profile" section says where each default was read.

What a platform cannot be configured to guarantee by a flag (a PriorityClass, a Kueue ClusterQueue, object-store
credentials) is declared here too, as what the cluster provides, and a spec that needs something missing is refused.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import SpecModel
from .units import DnsLabel, DnsSubdomain

Version = Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+$")]
"""A controller's `major.minor` release line, e.g. "4.0"."""

LabelMap = dict[Annotated[str, Field(pattern=r"^([a-z0-9.-]+/)?[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$")],
                Annotated[str, Field(pattern=r"^([A-Za-z0-9][-A-Za-z0-9_.]{0,61}[A-Za-z0-9]|[A-Za-z0-9]?)$")]]


def at_least(version: str, minimum: str) -> bool:
    """Whether a `major.minor` version is `minimum` or later."""
    return tuple(map(int, version.split("."))) >= tuple(map(int, minimum.split(".")))


class KnativeFeatures(SpecModel):
    """Knative Serving's pod-spec feature flags (`config-features`); off in a stock install (features.yaml)."""

    node_selector: bool = False
    """kubernetes.podspec-nodeselector"""
    tolerations: bool = False
    """kubernetes.podspec-tolerations"""
    topology_spread_constraints: bool = False
    """kubernetes.podspec-topologyspreadconstraints"""
    security_context: bool = False
    """kubernetes.podspec-securitycontext (the pod-level securityContext beyond what Knative always allows)"""


class Knative(SpecModel):
    """Knative Serving, behind KServe's `Knative` (serverless) mode."""

    features: KnativeFeatures = KnativeFeatures()
    system_namespace: DnsLabel = "knative-serving"
    """Where the activator and autoscaler run: they call the pods' queue-proxy (8012/8013) and scrape it (9090)."""
    gateway_namespace: DnsLabel = "istio-system"
    """Namespace of the networking layer's gateway pods (istio-system for net-istio, kourier-system for Kourier)."""


class KServe(SpecModel):
    deployment_mode: Literal["Knative", "Standard"] = "Knative"
    """KServe's default deployment mode (Helm `kserve.controller.deploymentMode`); every InferenceService is pinned
    to it with the `serving.kserve.io/deploymentMode` annotation. Standard is KServe's raw Deployment mode."""
    knative: Knative = Knative()
    storage_initializer_hardened: bool = False
    """Whether the storage-initializer container KServe injects meets Pod Security "restricted" (a
    ClusterStorageContainer with a restricted securityContext); stock KServe injects it without one."""


class ArgoWorkflows(SpecModel):
    version: Version = "4.0"
    executor_hardened: bool = False
    """Whether the workflow controller's `executor.securityContext` meets Pod Security "restricted"; stock Argo
    Workflows gives its `init` and `wait` containers none."""


class KueueQueue(SpecModel):
    cluster_queue: DnsSubdomain
    """The ClusterQueue the namespace's LocalQueue of this name points at."""


class Kueue(SpecModel):
    version: Version = "0.19"
    integrations: list[Annotated[str, Field(min_length=1)]] = [
        "batch/job", "kubeflow.org/mpijob", "ray.io/rayjob", "ray.io/raycluster", "ray.io/rayservice",
        "jobset.x-k8s.io/jobset", "workload.codeflare.dev/appwrapper", "trainer.kubeflow.org/trainjob", "pod",
        "deployment", "statefulset", "leaderworkerset.x-k8s.io/leaderworkerset"]
    """The frameworks Kueue manages (`integrations.frameworks` of its configuration); a workload of another kind
    is never admitted from a queue. The default is Kueue v0.19.2's config/components/manager/
    controller_manager_config.yaml, where the Kubeflow v1 jobs (`kubeflow.org/pytorchjob`, …) are commented out."""
    queues: dict[DnsSubdomain, KueueQueue] = {}
    """Queue name a spec may use (`training.queue`, a step's `queue`) → the ClusterQueue behind it."""
    workload_priority_classes: list[DnsSubdomain] = []
    """The WorkloadPriorityClasses the cluster has (`training.priority` names one)."""


TRAINER_V1 = "kubeflow.org/v1"  # training-operator v1's API (PyTorchJob)


class Trainer(SpecModel):
    """Kubeflow's training controller for distributed training."""

    api: Literal["trainer.kubeflow.org/v1alpha1", "kubeflow.org/v1"] = "trainer.kubeflow.org/v1alpha1"
    """Trainer v2 (`TrainJob`) or the legacy training-operator v1 (`PyTorchJob`)."""
    runtime: DnsSubdomain = "torch-distributed"
    """The ClusterTrainingRuntime a TrainJob runs on (Trainer v2)."""
    init_container_hardened: bool = False
    """training-operator v1: whether its `init-pytorch` container meets Pod Security "restricted"."""


class GpuSharing(SpecModel):
    """How the NVIDIA GPU Operator shares and partitions GPUs, and which pools the DRA driver owns."""

    rename_by_default: bool = False
    """Time-slicing/MPS `renameByDefault`: shared GPUs are `nvidia.com/gpu.shared` and the product label is kept;
    otherwise they stay `nvidia.com/gpu` and GPU Feature Discovery suffixes the product with `-SHARED`."""
    mig_strategy: Literal["none", "single", "mixed"] = "single"
    """The device plugin's MIG strategy: `mixed` advertises `nvidia.com/mig-<profile>`, `single` one slice kind as
    `nvidia.com/gpu`."""
    allocators: dict[Annotated[str, Field(min_length=1)], Literal["device-plugin", "dra"]] = {}
    """Per GPU type (a key of gpu.products): which allocator owns its nodes. The NVIDIA DRA driver is installed
    with the device plugin disabled on the nodes it owns (k8s-dra-driver-gpu docs/prerequisites.md), so a type's
    GPUs are requested one way only: through ResourceClaims on `dra` types, as `nvidia.com/…` resources on the
    others. A type not listed is the device plugin's."""


class Prometheus(SpecModel):
    version: Version = "3.0"
    """Prometheus' version: 3 writes a histogram's `le` as a float (1.0), 2 as the client wrote it (1)."""
    operator_version: Version = "0.80"
    selector_labels: LabelMap = {}
    """Labels the Prometheus resource's monitor and rule selectors require (kube-prometheus-stack: `release:
    <its Helm release>`), put on every PodMonitor, ServiceMonitor and PrometheusRule."""
    pod_selector: LabelMap = {"app.kubernetes.io/name": "prometheus"}
    """Labels of the Prometheus pods, the only pods of the monitoring namespace allowed to scrape."""


class ArgoCdPlatform(SpecModel):
    version: Version = "3.3"


class ObjectStore(SpecModel):
    identity: Literal["none", "irsa", "workload-identity", "pod-identity"] = "none"
    """How pods get object-store credentials: none declared, an IAM role per ServiceAccount (EKS IRSA), GKE Workload
    Identity, or EKS Pod Identity (associations made outside the cluster)."""
    role: Annotated[str, Field(min_length=1)] | None = None
    """For irsa/workload-identity: the role or Google service account, `{system}` standing for the system's name."""


class Platform(SpecModel):
    """The controllers of the environment's cluster, as installed there."""

    kserve: KServe = KServe()
    argo_workflows: ArgoWorkflows = ArgoWorkflows()
    kueue: Kueue = Kueue()
    trainer: Trainer = Trainer()
    gpu: GpuSharing = GpuSharing()
    prometheus: Prometheus = Prometheus()
    argocd: ArgoCdPlatform = ArgoCdPlatform()
    priority_classes: list[DnsSubdomain] = []
    """The PriorityClasses the cluster has (`training.priority` names one as well)."""
    object_store: ObjectStore = ObjectStore()
