"""GPU requests → device-plugin resource limits, the product node selector and the GPU node tolerations."""

from __future__ import annotations

import math

from cdk8s_plus_34 import k8s

from ..model.environment import Environment
from ..model.mlsystem import Gpu, GpuSharing


def gpu_limits(gpu: Gpu | None) -> dict[str, k8s.Quantity]:
    """`nvidia.com/gpu: N`, or the MIG slice resource `nvidia.com/mig-<profile>: N`.

    Time-sliced and MPS GPUs are advertised under the same resource name by the NVIDIA GPU Operator, one unit per
    share, so a fractional request takes one share.
    """
    if gpu is None:
        return {}
    resource = f"nvidia.com/mig-{gpu.mig_profile}" if gpu.sharing is GpuSharing.mig else "nvidia.com/gpu"
    return {resource: k8s.Quantity.from_number(max(1, math.ceil(gpu.count)))}


def gpu_node_selector(gpu: Gpu | None, environment: Environment) -> dict[str, str] | None:
    if gpu is None or gpu.type is None:
        return None
    return {environment.gpu.node_selector_key: gpu.type}


def gpu_tolerations(gpu: Gpu | None, environment: Environment) -> list[k8s.Toleration] | None:
    if gpu is None:
        return None
    return [k8s.Toleration(key=t.key, operator=t.operator, value=t.value, effect=t.effect)
            for t in environment.gpu.tolerations] or None
