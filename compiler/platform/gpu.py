"""GPU requests the environment's GPU pools can serve: the pool's allocator, and MIG slices the device plugin
advertises.

- A pool's GPUs are requested one way only (platform.gpu.allocators: the DRA driver runs with the device plugin
  disabled on its nodes, k8s-dra-driver-gpu docs/prerequisites.md): a `gpu.dra` that disagrees with the pool's
  allocator is refused at `…gpu.dra`.
- A time-sliced or MPS GPU is one the device plugin shares between pods; a DRA claim made from a template per pod
  gets whole devices (k8s-dra-driver-gpu v25.12.0 shares only among the containers of one claim,
  api/nvidia.com/resource/v1beta1/gpuconfig.go), so sharing through DRA is refused at `…gpu.sharing`.
- A queued DRA request needs its DeviceClass in Kueue's `deviceClassMappings` (platform.kueue.mappedDeviceClasses):
  Kueue v0.19.2 leaves a workload claiming an unmapped class inadmissible (pkg/dra/claims.go); E210 at `…gpu`.
- With the MIG strategy `none` the device plugin advertises no MIG slices (k8s-device-plugin v0.20.0,
  internal/lm/mig-strategy.go), so a device-plugin MIG request is refused at `…gpu.sharing`.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import Code
from ..load import FieldPath
from ..model import Environment, MLSystem
from ..model.mlsystem import Gpu, GpuSharing
from .misfit import Misfit

ALLOCATORS = {"device-plugin": "the device plugin", "dra": "the DRA driver"}


def gpu_requests(spec: MLSystem) -> Iterator[tuple[FieldPath, Gpu, str | None]]:
    """Every GPU the spec asks for: the path of its `gpu` field, and the Kueue queue that admits its pods."""
    if spec.serving is not None and spec.serving.gpu is not None:
        yield ("serving", "gpu"), spec.serving.gpu, None
    if spec.training is not None and spec.training.resources.gpu is not None:
        yield ("training", "resources", "gpu"), spec.training.resources.gpu, spec.training.queue
    for i, step in enumerate(spec.pipeline.steps if spec.pipeline else []):
        if step.resources is not None and step.resources.gpu is not None:
            yield ("pipeline", "steps", i, "resources", "gpu"), step.resources.gpu, step.queue
    drift = spec.monitoring.drift
    if drift is not None and drift.resources.gpu is not None:
        yield ("monitoring", "drift", "resources", "gpu"), drift.resources.gpu, None


def gpu_misfits(spec: MLSystem, environment: Environment, environment_file: str) -> Iterator[Misfit]:
    sharing = environment.platform.gpu
    for path, gpu, queue in gpu_requests(spec):
        allocator = sharing.allocator(gpu.type)
        if gpu.type is not None and gpu.dra is not None and gpu.dra != (allocator == "dra"):
            wanted = "dra" if gpu.dra else "device-plugin"
            yield Misfit(path + ("dra",), f"GPU type {gpu.type!r} is allocated by {ALLOCATORS[allocator]} in "
                         f"environment {environment.metadata.name!r} (platform.gpu.allocators in "
                         f"{environment_file}), so dra: {str(gpu.dra).lower()} cannot be honoured; leave dra unset "
                         f"to follow the pool, or pick a type {ALLOCATORS[wanted]} owns")
        dra = sharing.uses_dra(gpu.type, gpu.dra)
        if dra and gpu.sharing.shared:
            yield Misfit(path + ("sharing",), f"{gpu.sharing.value} shares a GPU between pods through the device "
                         f"plugin, but this GPU comes through DRA in environment {environment.metadata.name!r}, "
                         f"where each pod's ResourceClaim (made from its template) gets whole devices; ask for "
                         f"whole GPUs, or pick a type the device plugin owns")
        device_class = environment.gpu.claim_device_class(gpu.sharing is GpuSharing.mig)
        if dra and queue is not None and device_class not in environment.platform.kueue.mapped_device_classes:
            yield Misfit(path, f"queue {queue!r} admits this GPU's pods through Kueue, which admits a DRA claim only "
                         f"for a DeviceClass its deviceClassMappings map; environment {environment.metadata.name!r} "
                         f"does not map {device_class!r} (platform.kueue.mappedDeviceClasses in "
                         f"{environment_file})", Code.NOT_OFFERED)
        if gpu.sharing is GpuSharing.mig and not dra and sharing.mig_strategy == "none":
            yield Misfit(path + ("sharing",), f"environment {environment.metadata.name!r} runs the device plugin "
                         f"with MIG strategy none (platform.gpu.migStrategy in {environment_file}), which "
                         f"advertises no MIG slices; ask for a whole GPU, or use an environment with MIG strategy "
                         f"single or mixed")
