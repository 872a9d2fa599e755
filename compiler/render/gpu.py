"""GPU scheduling: a spec's `gpu` request → resources, node selection, tolerations, DRA claims and quota entries.

Which allocator serves a request is the pool's (`platform.gpu.allocators`, by GPU type): the NVIDIA DRA driver
owns its nodes with the device plugin disabled there, so a type's GPUs are requested one way only. A spec's
`gpu.dra` left unset follows the pool; set, it must agree (compiler/platform/gpu.py refuses it otherwise).

- Device plugin: a limit on the resource the device plugin advertises and a node selector on the product label GPU
  Feature Discovery writes (k8s-device-plugin v0.20.0, internal/lm/resource.go and mig-strategy.go):
  - time-slicing / MPS: one unit per share (a fractional count takes one share). Without `renameByDefault` the
    resource stays `nvidia.com/gpu` and GFD suffixes the product with `-SHARED` (getProductName); with it the
    resource is `nvidia.com/gpu.shared` and the product is kept. Either way the node carries
    `nvidia.com/gpu.sharing-strategy: time-slicing|mps`.
  - MIG, strategy `mixed`: `nvidia.com/mig-<profile>`, the product label unchanged; strategy `single`: the one
    slice kind on the node is `nvidia.com/gpu` and GFD labels the product `<product>-MIG-<profile>`; strategy
    `none` advertises no slices (the request is refused before rendering).
- DRA: no device-plugin limit and no node selector (the scheduler places the pod by the claim); a
  `resource.k8s.io/v1` ResourceClaimTemplate (`<workload>-gpu`) asks the driver's DeviceClass for N devices,
  narrowed by CEL to the product and, for MIG, the profile (k8s-dra-driver-gpu v25.12.0,
  cmd/gpu-kubelet-plugin/deviceinfo.go and mig.go attributes). The pod references it in `resourceClaims`, its
  container in `resources.claims`.
- Quota: the device-plugin resource as `requests.<resource>`; DRA devices as
  `<deviceclass>.deviceclass.resource.k8s.io/devices`, the ResourceQuota key Kubernetes counts claimed devices by
  (with structured parameters since 1.31; resource.k8s.io/v1, on by default, since 1.34).
- The product value comes from the environment's `gpu.products` table (default: the type as written), and every
  GPU pod tolerates the environment's GPU taints.
"""

from __future__ import annotations

import math

import cdk8s
from cdk8s_plus_34 import k8s

from ..model.environment import Environment
from ..model.mlsystem import Gpu, GpuSharing
from .context import RenderContext, SystemChart

CLAIM = "gpu"
SHARING_LABEL = "nvidia.com/gpu.sharing-strategy"
WHOLE_GPU = "nvidia.com/gpu"
SHARED_SUFFIX = ".shared"  # k8s-device-plugin api/config/v1/consts.go DefaultSharedResourceNameSuffix
DRA_QUOTA_SUFFIX = ".deviceclass.resource.k8s.io/devices"


def gpu_count(gpu: Gpu) -> int:
    return max(1, math.ceil(gpu.count))


def uses_dra(gpu: Gpu, environment: Environment) -> bool:
    return environment.platform.gpu.uses_dra(gpu.type, gpu.dra)


def gpu_resource(gpu: Gpu, environment: Environment) -> str:
    """The extended resource the device plugin advertises for the request, as limits and quota name it."""
    sharing = environment.platform.gpu
    if gpu.sharing is GpuSharing.mig and sharing.mig_strategy == "mixed":
        return f"nvidia.com/mig-{gpu.mig_profile}"
    if gpu.sharing.shared and sharing.rename_by_default:
        return WHOLE_GPU + SHARED_SUFFIX
    return WHOLE_GPU


def product(gpu: Gpu, environment: Environment) -> str | None:
    """The GPU's product as GFD names it (e.g. NVIDIA-A100-SXM4-80GB), before any sharing rewrites it."""
    return environment.gpu.products.get(gpu.type, gpu.type) if gpu.type else None


def product_label(gpu: Gpu, environment: Environment) -> str | None:
    """The product label value GFD writes on the nodes that serve the request."""
    value, sharing = product(gpu, environment), environment.platform.gpu
    if value is None:
        return None
    if gpu.sharing.shared and not sharing.rename_by_default:
        return f"{value}-SHARED"
    if gpu.sharing is GpuSharing.mig and sharing.mig_strategy == "single":
        return f"{value}-MIG-{gpu.mig_profile}"
    return value


def gpu_limits(gpu: Gpu | None, environment: Environment) -> dict[str, k8s.Quantity]:
    if gpu is None or uses_dra(gpu, environment):
        return {}
    return {gpu_resource(gpu, environment): k8s.Quantity.from_number(gpu_count(gpu))}


def gpu_container_claims(gpu: Gpu | None, environment: Environment) -> list[k8s.ResourceClaim] | None:
    return [k8s.ResourceClaim(name=CLAIM)] if gpu is not None and uses_dra(gpu, environment) else None


def gpu_pod_claims(gpu: Gpu | None, environment: Environment,
                   workload: str | None) -> list[k8s.PodResourceClaim] | None:
    if gpu is None or not uses_dra(gpu, environment):
        return None
    return [k8s.PodResourceClaim(name=CLAIM, resource_claim_template_name=claim_template_name(workload))]


def gpu_node_selector(gpu: Gpu | None, environment: Environment) -> dict[str, str] | None:
    if gpu is None or uses_dra(gpu, environment):  # with DRA the scheduler places the pod by the claim's selectors
        return None
    selector = {}
    label = product_label(gpu, environment)
    if label is not None:
        selector[environment.gpu.node_selector_key] = label
    if gpu.sharing.shared:
        selector[SHARING_LABEL] = gpu.sharing.value
    return selector or None


def gpu_tolerations(gpu: Gpu | None, environment: Environment) -> list[k8s.Toleration] | None:
    if gpu is None:
        return None
    return [k8s.Toleration(key=t.key, operator=t.operator, value=t.value, effect=t.effect)
            for t in environment.gpu.tolerations] or None


def gpu_quota(gpu: Gpu | None, environment: Environment) -> dict[str, int]:
    """ResourceQuota entries one pod of the request uses: its device-plugin resource, or its claim's devices."""
    if gpu is None:
        return {}
    if uses_dra(gpu, environment):
        return {device_class(gpu, environment) + DRA_QUOTA_SUFFIX: gpu_count(gpu)}
    return {f"requests.{gpu_resource(gpu, environment)}": gpu_count(gpu)}


def device_class(gpu: Gpu, environment: Environment) -> str:
    return environment.gpu.claim_device_class(gpu.sharing is GpuSharing.mig)


def claim_template_name(workload: str) -> str:
    return f"{workload}-{CLAIM}"


def claim_template_spec(gpu: Gpu, environment: Environment) -> k8s.ResourceClaimTemplateSpec:
    """The DRA request: N devices of the driver's class, narrowed to the product and, for MIG, the profile."""
    conditions = []
    if gpu.sharing is GpuSharing.mig:
        conditions.append(f'device.attributes["gpu.nvidia.com"].profile == "{gpu.mig_profile}"')
    wanted = product(gpu, environment)
    if wanted is not None:
        # The driver reports "NVIDIA A100-SXM4-80GB" (for a MIG device, its parent's) where GFD labels
        # NVIDIA-A100-SXM4-80GB.
        conditions.append('device.attributes["gpu.nvidia.com"].productName.lowerAscii().replace(" ", "-") == '
                          f'"{wanted.lower().replace(" ", "-")}"')
    selectors = [k8s.DeviceSelector(cel=k8s.CelDeviceSelector(expression=c)) for c in conditions] or None
    request = k8s.DeviceRequest(name=CLAIM, exactly=k8s.ExactDeviceRequest(
        device_class_name=device_class(gpu, environment), count=gpu_count(gpu), allocation_mode="ExactCount",
        selectors=selectors))
    return k8s.ResourceClaimTemplateSpec(spec=k8s.ResourceClaimSpec(devices=k8s.DeviceClaim(requests=[request])))


class GpuChart(SystemChart):
    """The DRA ResourceClaimTemplates of the workloads whose GPUs come through DRA."""

    WAVE = -1
    KINDS = (("resource.k8s.io", "ResourceClaimTemplate"),)

    @classmethod
    def applies(cls, ctx: RenderContext) -> bool:
        return bool(dra_requests(ctx))

    def __init__(self, scope: cdk8s.App, ctx: RenderContext):
        super().__init__(scope, "gpu", ctx)
        for component, gpu in dra_requests(ctx):
            workload = ctx.workload(component)
            k8s.KubeResourceClaimTemplate(self, component, metadata=k8s.ObjectMeta(
                name=claim_template_name(workload), labels=ctx.workload_labels(workload, component)),
                spec=claim_template_spec(gpu, ctx.system.environment.spec))


def dra_requests(ctx: RenderContext) -> list[tuple[str, Gpu]]:
    spec, environment = ctx.system.spec, ctx.system.environment.spec
    requests = [("serving", spec.serving.gpu if spec.serving else None),
                ("training", spec.training.resources.gpu if spec.training else None)]
    return [(component, gpu) for component, gpu in requests if gpu is not None and uses_dra(gpu, environment)]
