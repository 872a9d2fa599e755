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
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from cronsim import CronSim

from .merge import MergedSystem
from .model.environment import Environment
from .model.mlsystem import Gpu, GpuSharing, MLSystem, Resources
from .model.units import cpu_cores, cron_expression, duration_seconds, memory_bytes

if TYPE_CHECKING:
    from .render.context import PodDemand

DEFAULT_RUNTIME = "1h"  # a training run without maxRuntime
DRIFT_RUNTIME = "10m"  # one drift check
MIG_SLICES = 7  # compute slices of a MIG-capable GPU (A100, H100)
YEAR = (datetime(2025, 1, 1), datetime(2026, 1, 1))  # 8760 h, no leap day
LEAP_YEARS = (datetime(2025, 1, 1), datetime(2029, 1, 1))  # 35064 h, one 29 February
MAX_COUNTED_RUNS = 10_000  # more frequent schedules (beyond ~ hourly) are extrapolated from their first runs
GIB = 1 << 30
CENT = Decimal("0.01")
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


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


@functools.lru_cache(maxsize=256)
def runs_per_hour(schedule: str) -> float:
    """Average runs per hour of a cron schedule, counted over 2025 (or 2025-2028 when it does not fire in 2025)."""
    expression = cron_expression(schedule)
    for start, end in (YEAR, LEAP_YEARS):
        runs, first = 0, None
        for when in CronSim(expression, start - timedelta(minutes=1)):  # runs after the start: include 00:00
            if when >= end:
                break
            runs += 1
            first = first or when
            if runs == MAX_COUNTED_RUNS:  # regular enough to extrapolate: runs between the first and this one
                return (runs - 1) / ((when - first).total_seconds() / 3600)
        if runs:
            return runs / ((end - start).total_seconds() / 3600)
    return 0.0


def runs_per_month(schedule: str, hours_per_month: float = 730) -> float:
    return runs_per_hour(schedule) * hours_per_month


def _hours(duration: str) -> float:
    return duration_seconds(duration) / 3600


def run_hours(deadline: str | None) -> float:
    """Hours one run is counted for: its deadline (an upper bound), or DEFAULT_RUNTIME when it has none."""
    return _hours(deadline or DEFAULT_RUNTIME)


def busy_hours(runs: float, hours_per_run: float, month: float) -> float:
    """Hours a month of runs one after another: they never overlap (`concurrencyPolicy: Forbid`, the pipeline's
    mutex), so at most the whole month."""
    return min(runs * hours_per_run, month)


def check_hours(schedule: str, month: float) -> float:
    """Hours a month of a drift check on `schedule`, DRIFT_RUNTIME each."""
    return busy_hours(runs_per_month(schedule, month), _hours(DRIFT_RUNTIME), month)


def _triggers(spec: MLSystem) -> tuple[str | None, str | None, str | None]:
    """What starts the retraining: its schedule and that schedule's zone (the pipeline's, when there is one), and
    the drift cooldown when the drift alert starts it too."""
    if spec.pipeline is None:
        return spec.training.schedule, spec.training.time_zone, None
    triggers = spec.pipeline.triggers
    return triggers.schedule, triggers.time_zone, triggers.drift_cooldown if triggers.on_drift else None


def retraining_runs(spec: MLSystem, month: float) -> float:
    """Runs a month of the training or pipeline: the schedule's, plus with `onDrift` one per cooldown (the most the
    alert can start)."""
    schedule, _, cooldown = _triggers(spec)
    return (runs_per_month(schedule, month) if schedule else 0.0) + (month / _hours(cooldown) if cooldown else 0.0)


def _when(spec: MLSystem) -> str:
    """When the retraining runs: the window, the schedule placed in it and its zone; and on drift."""
    schedule, zone, cooldown = _triggers(spec)
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
        schedule, _, cooldown = _triggers(spec)
        if schedule or cooldown:
            parts.update(training_runs_per_month=retraining_runs(spec, month),
                         training=_priced(training, lambda p: p.count * p.hours, environment),
                         training_run=one_run, training_when=_when(spec))
        else:
            parts["training_once"] = one_run
    if drift:
        parts["drift"] = _priced(drift, lambda p: p.count * p.hours, environment)
    return Estimate(system.name, system.env, environment.pricing.currency, month, **parts)


def estimates(systems: Iterable[MergedSystem]) -> dict[tuple[str, str], Estimate]:
    """Every system's estimate, by (environment, system)."""
    return {(s.env, s.name): estimate(s) for s in systems}


# --- markdown ---------------------------------------------------------------------------------------------------

HEADER = ("System", "Env", "Serving /mo (replicas min → max)", "Training", "Drift checks /mo",
          "Total /mo (min → max)", "GPU-h /mo (min → max)", "CPU core-h · memory GiB-h /mo (max)", "Δ /mo")


def cents(amount: float) -> Decimal:
    return Decimal(repr(amount)).quantize(CENT, rounding=ROUND_HALF_UP)


def money(amount: float | Decimal | None, currency: str, signed: bool = False) -> str:
    """`$1,234.50`, `+€3.00`, `-12.00 CHF`; `—` when the amount is unknown."""
    if amount is None:
        return "—"
    value = amount if isinstance(amount, Decimal) else cents(amount)
    sign = ("-" if value < 0 else "+") if signed else ("-" if value < 0 else "")
    number = f"{abs(value):,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"


def hours(value: float, signed: bool = False) -> str:
    rounded = round(value, 1)
    text = f"{rounded:,.0f}" if rounded == int(rounded) else f"{rounded:,.1f}"
    return f"+{text}" if signed and rounded > 0 else text


def _span(low: str, high: str) -> str:
    return low if low == high else f"{low} → {high}"


def _cells(e: Estimate) -> list[str]:
    c = e.currency
    serving = ""
    if e.replicas is not None and e.serving_min is not None and e.serving_max is not None:
        serving = (f"{_span(str(e.replicas[0]), str(e.replicas[1]))}: "
                   f"{_span(money(e.serving_min.cost, c), money(e.serving_max.cost, c))}")
    runtime = f"{e.training_runtime}{'*' if e.training_runtime_assumed else ''}"
    training = ""
    if e.training is not None:
        each = f", {money(e.training_run.cost, c)} each" if e.training_run is not None else ""
        training = (f"{money(e.training.cost, c)} /mo ({e.training_runs_per_month:.3g} runs × {runtime}{each}; "
                    f"{e.training_when})")
    elif e.training_once is not None:
        training = f"{money(e.training_once.cost, c)} once ({runtime})"
    drift = money(e.drift.cost, c) if e.drift is not None else ""
    low, high = e.monthly_min, e.monthly_max
    return [serving, training, drift, _span(money(low.cost, c), money(high.cost, c)),
            _span(hours(low.gpu_hours), hours(high.gpu_hours)),
            f"{hours(high.cpu_core_hours)} · {hours(high.memory_gib_hours)}"]


def _money_delta(now: Usage, before: Usage, now_currency: str, before_currency: str) -> Decimal | None:
    if now.cost is None or before.cost is None or now_currency != before_currency:
        return None
    return cents(now.cost) - cents(before.cost)


def _usage_delta(now: Usage, before: Usage) -> str:
    parts = [f"{hours(now_h - before_h, signed=True)} {unit}"
             for now_h, before_h, unit in ((now.gpu_hours, before.gpu_hours, "GPU-h"),
                                           (now.cpu_core_hours, before.cpu_core_hours, "core-h"),
                                           (now.memory_gib_hours, before.memory_gib_hours, "GiB-h"))
             if round(now_h - before_h, 1)]
    return ", ".join(parts) or "unpriced change"


def _figures(e: Estimate) -> tuple:
    return e.currency, e.monthly_min, e.monthly_max, e.training_once


def delta(current: Estimate | None, base: Estimate | None) -> str:
    """What the change does to a system's monthly (and one-off) figures: `new`, `removed`, `no change`, or amounts."""
    if current is None and base is None:
        return ""
    if base is None or current is None:
        e, word, sign = (current, "new", 1) if base is None else (base, "removed", -1)
        low, high = e.monthly_min.cost, e.monthly_max.cost
        if low is None or high is None:
            return word
        amounts = (money(sign * cents(amount), e.currency, signed=True) for amount in (low, high))
        return f"{word}: {_span(*amounts)}"
    if _figures(current) == _figures(base):
        return "no change"
    c = current.currency
    parts = []
    low = _money_delta(current.monthly_min, base.monthly_min, c, base.currency)
    high = _money_delta(current.monthly_max, base.monthly_max, c, base.currency)
    if low is None or high is None:
        if current.monthly_max != base.monthly_max:
            parts.append(_usage_delta(current.monthly_max, base.monthly_max))
        elif current.monthly_min != base.monthly_min:
            parts.append(f"{_usage_delta(current.monthly_min, base.monthly_min)} at min")
    elif low or high:
        parts.append(_span(money(low, c, True), money(high, c, True)))
    once_now, once_before = current.training_once or NOTHING, base.training_once or NOTHING
    if once_now != once_before:
        once = _money_delta(once_now, once_before, c, base.currency)
        parts.append(f"one-off {money(once, c, True) if once is not None else _usage_delta(once_now, once_before)}")
    return "; ".join(parts) or f"{money(Decimal(0), c, True)} (unpriced change)"


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def markdown_table(current: Mapping[tuple[str, str], Estimate],
                   base: Mapping[tuple[str, str], Estimate] | None = None) -> str:
    """One row per system × environment (sorted), with the change against `base` when given; deterministic."""
    keys = sorted(current.keys() | (base or {}).keys(), key=lambda key: (key[1], key[0]))
    if not keys:
        return "No ML systems to estimate.\n"
    header = HEADER if base is not None else HEADER[:-1]
    lines = [_row(header), _row("---" for _ in header)]
    for env, system in keys:
        now = current.get((env, system))
        cells = [system, env] + (_cells(now) if now is not None else [""] * (len(HEADER) - 3))
        if base is not None:
            cells.append(delta(now, base.get((env, system))))
        lines.append(_row(cells))
    months = sorted({e.hours_per_month for e in (*current.values(), *(base or {}).values())})
    lines += ["", f"Per month = {' / '.join(hours(m) for m in months)} h. Serving at min → max replicas; scheduled "
              "runs = a year's runs ÷ 12, each maxRuntime × workers; drift checks "
              f"{DRIFT_RUNTIME} each. GPUs priced from gpu.hourlyPrice (MIG slice = g/7 of a GPU, shared GPU = its "
              "count), CPU and memory only where an environment sets pricing; — = no price known."]
    if any(e.training_runtime_assumed for e in current.values()):
        lines.append(f"\\* no maxRuntime: {DEFAULT_RUNTIME} per run assumed.")
    return "\n".join(lines) + "\n"
