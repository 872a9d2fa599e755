"""Cost estimates for the pull-request summary: what each system asks of each environment, per month, and its price.

`estimate(system)` counts what a merged system *requests* (not what it uses) in resource-hours, and prices it. It
prices the pods the system's charts declare they run at their peak (`pods()`, render/context.py `PodDemand`), the
very pods its ResourceQuota counts, each for the hours a month it runs:

- **Serving**, per month, at `replicas.min` and at `replicas.max` (`replicas.upper`): replicas × hours per month ×
  the pod's requests. Transient pods are left out: a canary revision (during a rollout), a rolling update's surge,
  and sidecars that KServe or a mesh inject. `min: 0` (scale to zero) costs nothing at the minimum.
- **Training** with a `schedule`, per month: runs per month × runtime × workers × the pod's requests. Runs per month
  come from cronsim: the runs of the schedule in the year 2025 (365 days, 8760 h = 12 × 730 h), as runs per hour ×
  hours per month — so with the default 730 h, a twelfth of the year's runs (weekly on Sunday: 52 / 12 = 4.33; daily:
  365 / 12 = 30.42; hourly: 730). A schedule that does not fire in 2025 (29 February) is averaged over 2025-2028, and
  one firing more than `MAX_COUNTED_RUNS` times a year is extrapolated from its first runs. The runtime is
  `maxRuntime` — the deadline, so an upper bound — or `DEFAULT_RUNTIME` (1 h) when there is none (flagged as
  assumed). Retries are not counted. Runs never overlap (the CronJob/CronWorkflow's `concurrencyPolicy: Forbid`, the
  pipeline's mutex), so a workload is busy at most every hour of the month.
- **A pipeline** is training: every step runs in every run, for its `timeout` (the train step: `maxRuntime`) or
  `DEFAULT_RUNTIME`, with its own resources and GPUs. It runs on its schedule and, with `onDrift`, once more per
  `driftCooldown` (the most the drift alert can start: 730 / 24 = 30.42 runs with the default 24 h).
- **One-off training** (no schedule, no drift trigger): one run (runtime × workers × requests), reported apart from
  the monthly figures.
- **Drift checks**, per month: like scheduled training, one pod, `DRIFT_RUNTIME` (10 min) per run (they have no
  deadline in the spec); the pipeline's drift trigger, which checks the alert every 15 minutes, counts the same way.

GPUs are counted in whole-GPU equivalents: `count` GPUs per pod as written; a fractional count on a time-sliced or
MPS GPU is that fraction of a GPU (0.5 → half), and a whole count on a shared GPU is charged as that many whole GPUs
(the environment does not say how many shares a GPU is cut into, so this is the upper bound); a MIG slice is its
profile's fraction of the GPU's seven compute slices (`3g.40gb` → 3/7 of a GPU). DRA requests count the same way.

Money, per environment (`pricing.currency`): GPU-hours × `gpu.hourlyPrice[type]`, plus CPU core-hours ×
`pricing.cpuCoreHour` and memory GiB-hours × `pricing.memoryGiBHour` when the environment sets them (otherwise CPU
and memory are counted but not priced). A figure has no money (`None`, "—" in the table) when it requests GPUs with
no price (a type missing from `gpu.hourlyPrice`, or no type), or when nothing it requests has a price.

This module computes, with the run arithmetic of runs.py (shared with the charts); report/cost.py shows the
estimates (the markdown and plain-text tables, money, deltas).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from .merge import MergedSystem
from .model.environment import Environment
from .model.mlsystem import Gpu, GpuSharing, MLSystem, Resources
from .model.units import cpu_cores, cron_expression, memory_bytes
from .runs import DEFAULT_RUNTIME, retraining_runs, triggers
from .unitkey import UnitKey

if TYPE_CHECKING:
    from .render.context import PodDemand

MIG_SLICES = 7  # compute slices of a MIG-capable GPU (A100, H100)
GIB = 1 << 30


@dataclass(frozen=True)
class Usage:
    """Resources requested over a period (a month, or one run) and their price; `None` prices are unknown."""

    gpu_hours: float = 0.0  # whole-GPU equivalents
    cpu_core_hours: float = 0.0
    memory_gib_hours: float = 0.0
    gpu_cost: float | None = 0.0  # None: GPUs with no price
    cpu_cost: float | None = 0.0  # None: CPU requested where pricing.cpuCoreHour is not set
    memory_cost: float | None = 0.0  # None: memory requested where pricing.memoryGiBHour is not set

    def __add__(self, other: Usage) -> Usage:
        def add(a, b):
            return None if a is None or b is None else a + b
        return Usage(*(add(getattr(self, f.name), getattr(other, f.name)) for f in fields(self)))

    @property
    def cost(self) -> float | None:
        """The money: GPUs plus whatever CPU and memory are priced; None when GPUs or everything are unpriced."""
        if self.gpu_cost is None:
            return None
        priced = [c for c in (self.gpu_cost if self.gpu_hours else None, self.cpu_cost, self.memory_cost)
                  if c is not None]
        return sum(priced) if priced else None


NOTHING = Usage()


@dataclass(frozen=True)
class Estimate:
    """What one system requests of one environment; monthly figures use the environment's hours per month."""

    system: str
    env: str
    currency: str = "USD"
    hours_per_month: float = 730
    replicas: tuple[int, int] | None = None  # serving (min, max)
    serving_min: Usage | None = None  # per month at replicas.min
    serving_max: Usage | None = None  # per month at replicas.max
    training: Usage | None = None  # per month, scheduled training
    training_runs_per_month: float | None = None
    training_run: Usage | None = None  # one scheduled run
    training_when: str | None = None  # the window, the schedule placed in it and its zone
    training_once: Usage | None = None  # one run of a one-off training
    training_runtime: str | None = None  # maxRuntime, or DEFAULT_RUNTIME
    training_runtime_assumed: bool = False  # no maxRuntime: DEFAULT_RUNTIME per run
    drift: Usage | None = None  # per month

    @property
    def recurring(self) -> Usage:
        """Scheduled training and drift checks per month."""
        return (self.training or NOTHING) + (self.drift or NOTHING)

    @property
    def monthly_min(self) -> Usage:
        return (self.serving_min or NOTHING) + self.recurring

    @property
    def monthly_max(self) -> Usage:
        return (self.serving_max or NOTHING) + self.recurring


def gpu_share(gpu: Gpu) -> float:
    """GPUs a pod's request amounts to, in whole GPUs (see the module doc)."""
    if gpu.sharing is GpuSharing.mig and gpu.mig_profile:
        return gpu.count * int(gpu.mig_profile.split("g.", 1)[0]) / MIG_SLICES
    return float(gpu.count)


def _money(amount: float, price: float | None) -> float | None:
    if not amount:
        return 0.0
    return None if price is None else amount * price


def usage(pod_hours: float, resources: Resources, gpu: Gpu | None, environment: Environment) -> Usage:
    """`pod_hours` of pods that each request `resources` and `gpu`, priced for the environment."""
    pricing = environment.pricing
    cpu = pod_hours * float(cpu_cores(resources.cpu))
    memory = pod_hours * memory_bytes(resources.memory) / GIB
    gpus = pod_hours * gpu_share(gpu) if gpu is not None else 0.0
    gpu_price = environment.gpu.hourly_price.get(gpu.type) if gpu is not None and gpu.type else None
    return Usage(gpus, cpu, memory, _money(gpus, gpu_price), _money(cpu, pricing.cpu_core_hour),
                 _money(memory, pricing.memory_gib_hour))


def _when(spec: MLSystem) -> str:
    """When the retraining runs: the window, the schedule placed in it and its zone; and on drift."""
    schedule, zone, cooldown = triggers(spec)
    window = spec.training.window if spec.training else None
    when = [f"{window + ', ' if window else ''}{cron_expression(schedule)}{' ' + zone if zone else ''}"] \
        if schedule else []
    return "; ".join(when + ([f"on drift at most every {cooldown}"] if cooldown else []))


def _priced(pods: Iterable[PodDemand], pod_hours: Callable[[PodDemand], float], environment: Environment) -> Usage:
    return sum((usage(pod_hours(p), p.resources, p.resources.gpu, environment) for p in pods), NOTHING)


def estimate(system: MergedSystem) -> Estimate:
    """The resources and money one system requests in its environment: the pods its charts run at their peak, as the
    ResourceQuota counts them (see the module doc for how they are priced)."""
    from .render import RenderContext, peak_pods  # the chart registry: cdk8s and Node start only when estimating

    spec, environment = system.spec, system.environment.spec
    ctx = RenderContext(system, None)
    month = ctx.month_hours
    pods = peak_pods(ctx)
    serving, training, drift = ([p for p in pods if p.line == line] for line in ("serving", "training", "drift"))
    parts: dict = {}
    if serving:
        parts.update(replicas=(spec.serving.replicas.min, spec.serving.replicas.upper) if spec.serving else None,
                     serving_min=_priced(serving, lambda p: (p.count if p.fewest is None else p.fewest) * p.hours,
                                         environment),
                     serving_max=_priced(serving, lambda p: p.count * p.hours, environment))
    if training:
        runtime = spec.training.max_runtime if spec.training else None
        parts.update(training_runtime=runtime or DEFAULT_RUNTIME, training_runtime_assumed=runtime is None)
        one_run = _priced(training, lambda p: p.count * p.run_hours, environment)
        schedule, _, cooldown = triggers(spec)
        if schedule or cooldown:
            parts.update(training_runs_per_month=retraining_runs(spec, month),
                         training=_priced(training, lambda p: p.count * p.hours, environment),
                         training_run=one_run, training_when=_when(spec))
        else:
            parts["training_once"] = one_run
    if drift:
        parts["drift"] = _priced(drift, lambda p: p.count * p.hours, environment)
    return Estimate(system.name, system.env, environment.pricing.currency, month, **parts)


def estimates(systems: Iterable[MergedSystem]) -> dict[UnitKey, Estimate]:
    """Every system's estimate, by unit."""
    return {UnitKey(s.env, s.name): estimate(s) for s in systems}
