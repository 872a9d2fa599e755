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

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ..errors import Code
from ..labels import NAME_LABEL
from .base import CodedValueError, RuleError, SpecModel
from .units import DnsLabel, DnsSubdomain

Version = Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+$")]
"""A controller's `major.minor` release line, e.g. "4.0"."""

LabelMap = dict[Annotated[str, Field(pattern=r"^([a-z0-9.-]+/)?[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$")],
                Annotated[str, Field(pattern=r"^([A-Za-z0-9][-A-Za-z0-9_.]{0,61}[A-Za-z0-9]|[A-Za-z0-9]?)$")]]


# The Argo Workflows releases whose fields the renderers know (render/argo.py reads each one's differences).
ARGO_WORKFLOWS_VERSIONS = ("3.5", "3.6", "3.7", "4.0", "4.1")
ARGOCD_MINIMUM = "3.3"


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
    """3.5 to 4.1: the releases whose fields the renderers know (render/argo.py)."""
    executor_hardened: bool = False
    """Whether the workflow controller's `executor.securityContext` meets Pod Security "restricted"; stock Argo
    Workflows gives its `init` and `wait` containers none, and the compiler then patches them into each pod."""
    executor_token_secrets: bool = False
    """Whether the cluster gives each pipeline ServiceAccount the long-lived token Secret
    `<account>.service-account-token` (Kubernetes creates none since 1.24: argo-workflows docs/
    service-account-secrets.md). Argo mounts the executor's token only from such a Secret; with it, the steps' own
    containers run without a token (`automountServiceAccountToken: false`, `executor.serviceAccountName`)."""
    initless_pod: bool = False
    """Whether the controller's `initlessPod.enabled` is on (v4.1, beta, off by default): pods get no `init`
    container and a `supervisor` instead of `wait`."""

    @field_validator("version")
    @classmethod
    def _supported(cls, version: str) -> str:
        if version not in ARGO_WORKFLOWS_VERSIONS:
            raise CodedValueError(f"Argo Workflows {version} is not supported: the compiler renders for "
                                  f"{', '.join(ARGO_WORKFLOWS_VERSIONS)}", Code.PLATFORM_CANNOT)
        return version

    @field_validator("initless_pod")
    @classmethod
    def _initless_needs_4_1(cls, initless: bool, info: ValidationInfo) -> bool:
        version = info.data.get("version")
        if initless and version and not at_least(version, "4.1"):
            raise CodedValueError(f"Argo Workflows {version} has no init-less pod layout (initlessPod is new in "
                                  "4.1)", Code.PLATFORM_CANNOT)
        return initless


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
    mapped_device_classes: list[DnsSubdomain] = []
    """The DeviceClasses Kueue's configuration maps to a quota resource (`resources.deviceClassMappings`). With
    KueueDRAIntegration (beta, on since v0.18) a queued workload whose ResourceClaimTemplate asks a class not mapped
    is inadmissible (v0.19.2 pkg/dra/claims.go GetResourceRequestsForResourceClaimTemplates); a stock install maps
    none."""


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
    """How the NVIDIA GPU Operator shares and partitions GPUs, and which pools the DRA driver owns. What each
    setting makes GPU Feature Discovery label and the device plugin advertise was read in k8s-device-plugin
    v0.20.0 (internal/lm/resource.go getProductName, internal/lm/mig-strategy.go)."""

    rename_by_default: bool = False
    """Time-slicing/MPS `renameByDefault`: shared GPUs are `nvidia.com/gpu.shared` and the product label is kept;
    otherwise (the default) they stay `nvidia.com/gpu` and GPU Feature Discovery suffixes the product with
    `-SHARED`."""
    mig_strategy: Literal["none", "single", "mixed"] = "single"
    """The device plugin's MIG strategy (the GPU Operator's default is `single`, values.yaml `mig.strategy`):
    `mixed` advertises `nvidia.com/mig-<profile>` and keeps the product label; `single` advertises a node's one
    slice kind as `nvidia.com/gpu` and labels the product `<product>-MIG-<profile>`; `none` advertises no slices."""
    allocators: dict[Annotated[str, Field(min_length=1)], Literal["device-plugin", "dra"]] = {}
    """Per GPU type (a key of gpu.products): which allocator owns its nodes. The NVIDIA DRA driver is installed
    with the device plugin disabled on the nodes it owns (k8s-dra-driver-gpu docs/prerequisites.md), so a type's
    GPUs are requested one way only: through ResourceClaims on `dra` types, as `nvidia.com/…` resources on the
    others. A type not listed is the device plugin's."""

    def allocator(self, gpu_type: str | None) -> Literal["device-plugin", "dra"]:
        """The allocator of a GPU type's pool; a request without a type is the device plugin's."""
        return self.allocators.get(gpu_type, "device-plugin") if gpu_type else "device-plugin"

    def uses_dra(self, gpu_type: str | None, dra: bool | None) -> bool:
        """Whether a GPU request comes through DRA: as the spec says (`gpu.dra`), or else as its pool is allocated."""
        return dra if dra is not None else self.allocator(gpu_type) == "dra"


class Prometheus(SpecModel):
    version: Version = "3.0"
    """Prometheus' version: 3 writes a histogram's `le` as a float (1.0), 2 as the client wrote it (1)."""
    selector_labels: LabelMap = {}
    """Labels the Prometheus resource's monitor and rule selectors require (kube-prometheus-stack: `release:
    <its Helm release>`), put on every PodMonitor, ServiceMonitor and PrometheusRule."""
    pod_selector: LabelMap = {NAME_LABEL: "prometheus"}
    """Labels of the Prometheus pods, the only pods of the monitoring namespace allowed to scrape."""


class ArgoCdPlatform(SpecModel):
    version: Version = "3.3"
    """3.3 or later: a project's `clusterResourceWhitelist[].name`, which limits each team to its own Namespaces,
    is new in v3.3.0 (argo-cd e77acec, #24674); an older Argo CD drops the field and lets the team's Applications
    create and delete any Namespace."""

    @field_validator("version")
    @classmethod
    def _names_namespaces(cls, version: str) -> str:
        if not at_least(version, ARGOCD_MINIMUM):
            raise CodedValueError(f"Argo CD {version} cannot limit a project to its own Namespaces "
                                  f"(clusterResourceWhitelist[].name is new in {ARGOCD_MINIMUM}); upgrade Argo CD to "
                                  f"{ARGOCD_MINIMUM} or later", Code.PLATFORM_CANNOT)
        return version


class ObjectStore(SpecModel):
    identity: Literal["none", "irsa", "workload-identity", "pod-identity"] = "none"
    """How pods get object-store credentials: none declared, an IAM role per ServiceAccount (EKS IRSA), GKE Workload
    Identity, or EKS Pod Identity (associations made outside the cluster). The ServiceAccounts of the pods that read
    data or models carry the annotation the mechanism reads; a spec reading s3:// or gs:// data needs a mechanism
    for that store."""
    role: Annotated[str, Field(min_length=1)] | None = None
    """For irsa/workload-identity: the role or Google service account, `{system}` standing for the system's name."""

    @model_validator(mode="after")
    def _role_where_the_mechanism_reads_one(self) -> ObjectStore:
        if self.identity in ROLE_ANNOTATIONS and self.role is None:
            raise RuleError("role", f"identity {self.identity} needs the role its ServiceAccounts assume")
        if self.identity not in ROLE_ANNOTATIONS and self.role is not None:
            raise RuleError("role", f"identity {self.identity} takes no role")
        return self


# The ServiceAccount annotation each mechanism reads: EKS's pod identity webhook (IRSA) and GKE's metadata server.
ROLE_ANNOTATIONS = {"irsa": "eks.amazonaws.com/role-arn", "workload-identity": "iam.gke.io/gcp-service-account"}
# Which mechanisms give credentials for which object store (a URI's scheme).
STORE_IDENTITIES = {"s3": ("irsa", "pod-identity"), "gs": ("workload-identity",)}


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
