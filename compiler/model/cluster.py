"""`ClusterSnapshot`: what one environment's cluster offers (clusters/<env>.yaml), as `cluster snapshot` read it.

Committed next to the environment, like the model lock, so the gate judges scheduling and admission offline: the
node pools and their GPUs, the DRA devices, Kueue's queues and quotas, the priority, ingress and secret-store
classes, the API versions served and the controllers' own configuration. Written by mlgitops, read back strictly.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict

from .base import SpecModel

SNAPSHOT_KIND = "ClusterSnapshot"


class Facts(SpecModel):
    """Read strictly from the file (camelCase, nothing unknown), built by name from the cluster's answers."""

    model_config = ConfigDict(**SpecModel.model_config | {"populate_by_name": True})


class SnapshotMetadata(Facts):
    name: str
    """The environment the snapshot belongs to."""
    taken_at: str
    """When the facts were read (UTC, ISO 8601); kept while the facts stay the same."""


class Taint(Facts):
    key: str
    value: str | None = None
    effect: str


class Gpu(Facts):
    """A pool's GPUs as GPU Feature Discovery labels them (NVIDIA/k8s-device-plugin docs/gpu-feature-discovery)."""

    product: str
    """`nvidia.com/gpu.product`: `-SHARED` is appended when time-sliced or MPS-shared."""
    count: int
    """Physical GPUs per node (`nvidia.com/gpu.count`)."""
    replicas: int
    """What each GPU is advertised as (`nvidia.com/gpu.replicas`): 0 when partitioned by MIG."""
    sharing_strategy: str = "none"
    memory_mib: int | None = None
    mig_profiles: dict[str, int] = {}
    """MIG profile (`3g.40gb`) → slices per node (`nvidia.com/mig-<profile>.count`)."""


class NodePool(Facts):
    """Nodes that share their labels (but their own names) and taints; what each one of them can offer."""

    name: str
    nodes: int
    labels: dict[str, str]
    taints: list[Taint] = []
    allocatable: dict[str, str]
    """Per node, the smallest allocatable of the pool's nodes (Kubernetes quantities)."""
    gpu: Gpu | None = None


class DeviceClass(Facts):
    name: str
    selectors: list[str] = []
    """The class's CEL selectors: a device belongs to the class when each is true."""
    extended_resource_name: str | None = None


class Device(Facts):
    name: str
    attributes: dict[str, dict[str, Any]] = {}
    """As the API holds them: fully qualified name → {string|int|bool|version: value}."""
    capacity: dict[str, str] = {}


class ResourceSlice(Facts):
    driver: str
    node_name: str | None = None
    node_pool: str | None = None
    """The node pool of `node_name`: where a pod whose claim these devices meet can run."""
    pool: str
    devices: list[Device] = []


class ResourceFlavor(Facts):
    name: str
    node_labels: dict[str, str] = {}
    tolerations: list[dict[str, Any]] = []


class ClusterQueue(Facts):
    name: str
    cohort: str | None = None
    nominal_quota: dict[str, dict[str, str]] = {}
    """Flavor → resource → nominal quota (a Kubernetes quantity)."""


class LocalQueue(Facts):
    namespace: str
    name: str
    cluster_queue: str


class Kueue(Facts):
    api_version: str
    """The Kueue API version the lists were read in (the group's preferred version)."""
    resource_flavors: list[ResourceFlavor] = []
    cluster_queues: list[ClusterQueue] = []
    local_queues: list[LocalQueue] = []
    workload_priority_classes: dict[str, int] = {}


class IngressClass(Facts):
    name: str
    controller: str
    default: bool = False


class ControllerConfig(Facts):
    """A controller's ConfigMap as read: data values that are JSON or YAML mappings are kept parsed."""

    namespace: str
    name: str
    data: dict[str, Any] = {}


class ClusterSnapshot(Facts):
    api_version: Literal["mlgitops.io/v1alpha1"]
    kind: Literal["ClusterSnapshot"]
    metadata: SnapshotMetadata
    kubernetes_version: str
    apis: dict[str, list[str]]
    """Group version served (`v1`, `apps/v1`, `kueue.x-k8s.io/v1beta2`) → its kinds."""
    node_pools: list[NodePool] = []
    device_classes: list[DeviceClass] = []
    resource_slices: list[ResourceSlice] = []
    kueue: Kueue | None = None
    """None when the cluster serves no Kueue API."""
    priority_classes: dict[str, int] = {}
    ingress_classes: list[IngressClass] = []
    cluster_secret_stores: list[str] = []
    controllers: dict[str, ControllerConfig | None] = {}
    """kserve, knative, kueue, argoWorkflows → their configuration, None where the ConfigMap is absent."""

    def serves(self, api_version: str, kind: str) -> bool:
        return kind in self.apis.get(api_version, ())
