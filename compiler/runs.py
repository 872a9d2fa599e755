"""How often and how long a system's workloads run, per month: cron schedules counted over a fixed year, deadlines,
drift checks and what starts the retraining. The charts declare their pods' hours with it (render/), and the cost
estimate prices those hours (cost.py); both read the same arithmetic.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from cronsim import CronSim

from .model.mlsystem import MLSystem
from .model.units import cron_expression, duration_seconds
from .windows import YEAR

DEFAULT_RUNTIME = "1h"  # a training run without maxRuntime
DRIFT_RUNTIME = "10m"  # one drift check
LEAP_YEARS = (YEAR[0], YEAR[0].replace(year=YEAR[0].year + 4))  # four years from YEAR: 35064 h, one 29 February
MAX_COUNTED_RUNS = 10_000  # more frequent schedules (beyond ~ hourly) are extrapolated from their first runs


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


def hours_of(duration: str) -> float:
    """A duration (`90m`, `2h`) in hours."""
    return duration_seconds(duration) / 3600


def run_hours(deadline: str | None) -> float:
    """Hours one run is counted for: its deadline (an upper bound), or DEFAULT_RUNTIME when it has none."""
    return hours_of(deadline or DEFAULT_RUNTIME)


def busy_hours(runs: float, hours_per_run: float, month: float) -> float:
    """Hours a month of runs one after another: they never overlap (`concurrencyPolicy: Forbid`, the pipeline's
    mutex), so at most the whole month."""
    return min(runs * hours_per_run, month)


def check_hours(schedule: str, month: float) -> float:
    """Hours a month of a drift check on `schedule`, DRIFT_RUNTIME each."""
    return busy_hours(runs_per_month(schedule, month), hours_of(DRIFT_RUNTIME), month)


def triggers(spec: MLSystem) -> tuple[str | None, str | None, str | None]:
    """What starts the retraining: its schedule and that schedule's zone (the pipeline's, when there is one), and
    the drift cooldown when the drift alert starts it too."""
    if spec.pipeline is None:
        return spec.training.schedule, spec.training.time_zone, None
    starts = spec.pipeline.triggers
    return starts.schedule, starts.time_zone, starts.drift_cooldown if starts.on_drift else None


def retraining_runs(spec: MLSystem, month: float) -> float:
    """Runs a month of the training or pipeline: the schedule's, plus with `onDrift` one per cooldown (the most the
    alert can start)."""
    schedule, _, cooldown = triggers(spec)
    return (runs_per_month(schedule, month) if schedule else 0.0) + (month / hours_of(cooldown) if cooldown else 0.0)
