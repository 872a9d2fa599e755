"""GPU scheduling: a spec's `gpu` request → resources, node selection, tolerations, and DRA claims.

- Device plugin (the default): `nvidia.com/gpu: N`, or `nvidia.com/mig-<profile>: N` for MIG slices (the GPU
  Operator's "mixed" MIG strategy). Time-sliced and MPS GPUs are advertised by the GPU Operator under the same
  resource name, one unit per share, on nodes that GPU Feature Discovery labels
  `nvidia.com/gpu.sharing-strategy: time-slicing|mps`; a fractional count takes one share.
- `dra: true`: no device-plugin limit; a `resource.k8s.io/v1` ResourceClaimTemplate (`<workload>-gpu`) asks the
  NVIDIA DRA driver's DeviceClass for N devices, selected by product (or MIG profile) with CEL, and the pod
  references it in `resourceClaims`, its container in `resources.claims`.
- The product node label comes from the environment's `gpu.products` table (default: the type as written), and
  every GPU pod tolerates the environment's GPU taints.
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
MIG_DEVICE_CLASS = "mig.nvidia.com"


def gpu_count(gpu: Gpu) -> int:
    return max(1, math.ceil(gpu.count))


def gpu_resource(gpu: Gpu) -> str:
    return f"nvidia.com/mig-{gpu.mig_profile}" if gpu.sharing is GpuSharing.mig else "nvidia.com/gpu"


def gpu_limits(gpu: Gpu | None) -> dict[str, k8s.Quantity]:
    if gpu is None or gpu.dra:
        return {}
    return {gpu_resource(gpu): k8s.Quantity.from_number(gpu_count(gpu))}


def gpu_node_selector(gpu: Gpu | None, environment: Environment) -> dict[str, str] | None:
    if gpu is None or gpu.dra:  # with DRA the scheduler places the pod by the claim's selectors
        return None
    selector = {}
    if gpu.type is not None:
        selector[environment.gpu.node_selector_key] = environment.gpu.products.get(gpu.type, gpu.type)
    if gpu.sharing in (GpuSharing.time_slicing, GpuSharing.mps):
        selector[SHARING_LABEL] = gpu.sharing.value
    return selector or None


def gpu_tolerations(gpu: Gpu | None, environment: Environment) -> list[k8s.Toleration] | None:
    if gpu is None:
        return None
    return [k8s.Toleration(key=t.key, operator=t.operator, value=t.value, effect=t.effect)
            for t in environment.gpu.tolerations] or None


def claim_template_name(workload: str) -> str:
    return f"{workload}-{CLAIM}"


def claim_template_spec(gpu: Gpu, environment: Environment) -> k8s.ResourceClaimTemplateSpec:
    """The DRA request: N devices of the driver's class, narrowed to the product or the MIG profile."""
    if gpu.sharing is GpuSharing.mig:
        device_class = MIG_DEVICE_CLASS
        selector = f'device.attributes["gpu.nvidia.com"].profile == "{gpu.mig_profile}"'
    else:
        device_class = environment.gpu.device_class
        product = environment.gpu.products.get(gpu.type, gpu.type) if gpu.type else None
        # The driver reports "NVIDIA A100-SXM4-80GB" where GPU Feature Discovery labels NVIDIA-A100-SXM4-80GB.
        wanted = product.lower().replace(" ", "-") if product else None
        selector = (f'device.attributes["gpu.nvidia.com"].productName.lowerAscii().replace(" ", "-") == "{wanted}"'
                    if wanted else None)
    selectors = [k8s.DeviceSelector(cel=k8s.CelDeviceSelector(expression=selector))] if selector else None
    request = k8s.DeviceRequest(name=CLAIM, exactly=k8s.ExactDeviceRequest(
        device_class_name=device_class, count=gpu_count(gpu), allocation_mode="ExactCount", selectors=selectors))
    return k8s.ResourceClaimTemplateSpec(spec=k8s.ResourceClaimSpec(devices=k8s.DeviceClaim(requests=[request])))


class GpuChart(SystemChart):
    """The DRA ResourceClaimTemplates of the workloads that request their GPUs with `dra: true`."""

    def __init__(self, scope: cdk8s.App, ctx: RenderContext):
        super().__init__(scope, "gpu", ctx)
        for component, gpu in dra_requests(ctx):
            workload = ctx.workload(component)
            k8s.KubeResourceClaimTemplate(self, component, metadata=k8s.ObjectMeta(
                name=claim_template_name(workload), labels=ctx.workload_labels(workload, component)),
                spec=claim_template_spec(gpu, ctx.system.environment.spec))


def dra_requests(ctx: RenderContext) -> list[tuple[str, Gpu]]:
    spec = ctx.system.spec
    requests = [("serving", spec.serving.gpu if spec.serving else None),
                ("training", spec.training.resources.gpu if spec.training else None)]
    return [(component, gpu) for component, gpu in requests if gpu is not None and gpu.dra]
