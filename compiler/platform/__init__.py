"""Pass 3, continued — does the spec fit the platform? What a merged spec asks that its environment's platform
(`platform:`, model/platform.py) cannot honour, or needs that the environment does not provide.

Input: the merged `MLSystem`, the `Environment` and the environment's file. Output: `Misfit`s — the spec field to
point at, the message, and the code: E211 when the platform cannot honour the field as written (a KServe canary in
Standard mode), E210 when the field needs something the environment does not declare it provides (a PriorityClass,
a Kueue queue). One module per concern; merge locates each misfit at the layer that set its field. Renderers may
then rely on what these checks guarantee.
"""

from __future__ import annotations

from ..model import Environment, MLSystem
from .gpu import gpu_misfits
from .misfit import Check, Misfit
from .monitoring import slo_metrics
from .serving import serving_misfits
from .tenancy import object_store_credentials
from .training import check_training

# Every concern's check, in the order their findings are listed.
CHECKS: tuple[Check, ...] = (gpu_misfits, slo_metrics, serving_misfits, object_store_credentials, check_training)


def misfits(spec: MLSystem, environment: Environment, environment_file: str) -> list[Misfit]:
    return [misfit for check in CHECKS for misfit in check(spec, environment, environment_file)]
