"""What every workload of a spec is made of — image, environment variables, CPU, memory and GPUs — shared by
training, serving, monitoring and the pipeline's steps."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from .base import RuleError, SpecModel
from .units import CpuQuantity, MemoryQuantity

Image = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._/:@-]*$", max_length=512,
                             description="container image reference: registry/repo:tag or @sha256:digest")]
EnvVars = dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], str]

class GpuSharing(StrEnum):
    none = "none"
    time_slicing = "time-slicing"
    mps = "mps"
    mig = "mig"

    @property
    def shared(self) -> bool:
        """Time-slicing and MPS: one GPU shared by several pods, as the device plugin's replicas of it."""
        return self in (GpuSharing.time_slicing, GpuSharing.mps)


# The most GPUs one machine has: 16 (NVIDIA DGX-2/HGX-2, Google Cloud's a2-megagpu-16g with 16 A100s); the
# common large nodes have 8 (DGX H100/B200, AWS p5.48xlarge). A pod cannot span machines.
MAX_GPUS_PER_POD = 16


class Gpu(SpecModel):
    count: Annotated[float, Field(gt=0, le=MAX_GPUS_PER_POD)] = 1
    """GPUs per pod (at most 16, the largest GPU machines'); a fraction only with time-slicing or mps sharing."""
    type: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")] | None = None
    """GPU product (e.g. nvidia-a100-80gb); selects nodes through the environment's GPU label."""
    sharing: GpuSharing = GpuSharing.none
    mig_profile: Annotated[str, Field(pattern=r"^[1-7]g\.\d+gb$")] | None = None
    """MIG profile such as 1g.10gb; required with sharing: mig."""
    dra: bool | None = None
    """Whether the GPU comes through a DRA ResourceClaim rather than a device-plugin limit. Unset: as the
    environment's pool of this type is allocated (platform.gpu.allocators); set, it must agree with it."""

    @model_validator(mode="after")
    def _sharing_rules(self) -> Gpu:
        if self.sharing is GpuSharing.mig and not self.mig_profile:
            raise RuleError("sharing", "sharing: mig needs migProfile (e.g. 1g.10gb)")
        if self.mig_profile and self.sharing is not GpuSharing.mig:
            raise RuleError("migProfile", "migProfile is only used with sharing: mig")
        if self.sharing is GpuSharing.mig and self.count > 7:
            raise RuleError("count", f"a MIG-partitioned GPU has at most 7 instances; count is {self.count:g}")
        if self.count != int(self.count) and self.sharing in (GpuSharing.none, GpuSharing.mig):
            raise RuleError("count", f"a fractional GPU count ({self.count:g}) needs sharing: time-slicing or mps")
        return self


class Resources(SpecModel):
    cpu: CpuQuantity = "1"
    memory: MemoryQuantity = "2Gi"
    gpu: Gpu | None = None
