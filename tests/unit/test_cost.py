"""Cost estimates (compiler/cost.py) of the example systems, against numbers worked out by hand in the comments, and
their tables (compiler/report/cost.py).

Conventions the arithmetic relies on: a month is 730 h; a schedule's runs per month are its runs in 2025 ÷ 12
(2025 has 52 Sundays and 365 days); a drift check runs 10 min; a MIG slice `<g>g.<m>gb` is g/7 of a GPU.
recommender's pipeline runs weekly and on drift, at most once per 24 h cooldown: 52 / 12 + 730 / 24 = 34.75 runs a
month, each the train step (6 h × 4 workers) and validate-data, evaluate and register (1 h each, no timeout, 1 CPU and
2 GiB each); its drift trigger checks every 15 minutes (2,920 checks × 10 min = 486.67 h of 1 CPU, 2 GiB).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.cost import Estimate, Usage, estimate, estimates, gpu_share
from compiler.driver import Workspace, validate_all
from compiler.merge import MergedSystem
from compiler.model import Environment
from compiler.model.mlsystem import Gpu
from compiler.model.pipeline import Step
from compiler.report.cost import markdown_table, money, text_table
from compiler.runs import DEFAULT_RUNTIME, runs_per_month
from helpers import ROOT

approx = pytest.approx


@pytest.fixture(scope="module")
def merged() -> dict[tuple[str, str], MergedSystem]:
    _, systems = validate_all(Workspace(ROOT))
    return {(s.env, s.name): s for s in systems}


def with_environment(system: MergedSystem, **updates: Any) -> MergedSystem:
    spec = system.environment.spec.model_copy(update=updates)
    return replace(system, environment=replace(system.environment, spec=spec))


def with_gpu_prices(system: MergedSystem, prices: dict[str, float]) -> MergedSystem:
    gpu = system.environment.spec.gpu.model_copy(update={"hourly_price": prices})
    return with_environment(system, gpu=gpu)


def with_pricing(system: MergedSystem, **prices: Any) -> MergedSystem:
    return with_environment(system, pricing=system.environment.spec.pricing.model_copy(update=prices))


def with_section(system: MergedSystem, section: str, **updates: Any) -> MergedSystem:
    spec = system.spec.model_copy(update={section: getattr(system.spec, section).model_copy(update=updates)})
    return replace(system, spec=spec)


# --- the examples, by hand ----------------------------------------------------------------------------------------

def test_recommender_prod(merged) -> None:
    e = estimate(merged[("prod", "recommender")])
    assert (e.currency, e.hours_per_month, e.replicas) == ("USD", 730, (2, 5))
    # Serving: 1 time-sliced T4 share per replica, counted as 1 GPU; 2 CPU, 4 GiB per replica.
    # min: 2 replicas × 730 h = 1,460 GPU-h × 0.53 $/h = $773.80; CPU 2 × 2 × 730 = 2,920; memory 2 × 4 × 730 = 5,840
    assert e.serving_min == Usage(1460, 2920, 5840, approx(773.80), None, None)
    # max: 5 × 730 = 3,650 GPU-h × 0.53 = $1,934.50; CPU 5 × 2 × 730 = 7,300; memory 5 × 4 × 730 = 14,600
    assert e.serving_max == Usage(3650, 7300, 14600, approx(1934.50), None, None)
    # Pipeline: 34.75 runs/month × 6 h × 4 workers = 834 pod-h × 1 A100 = 834 GPU-h × 3.90 $/h = $3,252.60; CPU
    # 834 × 8 = 6,672 + the other steps' 34.75 × 3 h × 1 = 104.25 → 6,776.25; memory 834 × 32 GiB = 26,688 + 208.5
    assert e.training_runs_per_month == approx(52 / 12 + 730 / 24)
    assert e.training == Usage(approx(834), approx(6776.25), approx(26896.5), approx(3252.60), None, None)
    # one run: 24 A100-h ($93.60); CPU 24 × 8 + 3 = 195; memory 24 × 32 + 3 × 2 = 774
    assert e.training_run == Usage(approx(24), approx(195), approx(774), approx(93.60), None, None)
    assert (e.training_runtime, e.training_runtime_assumed, e.training_once) == ("6h", False, None)
    # Drift check hourly: 8,760 / 12 = 730 runs × 10 min = 121.67 pod-h × 0.5 CPU = 60.83 core-h, × 1 GiB = 121.67
    # GiB-h; plus the trigger's 486.67 h × 1 CPU, × 2 GiB = 973.33 GiB-h; no GPU and no CPU/memory price in prod: not
    # priced.
    assert e.drift == Usage(0, approx(730 / 6 / 2 + 730 * 4 / 6), approx(730 / 6 + 730 * 4 / 6 * 2), 0, None, None)
    assert e.drift.cost is None
    # Month: $773.80 + $3,252.60 = $4,026.40 at min, $1,934.50 + $3,252.60 = $5,187.10 at max (drift unpriced)
    assert (e.monthly_min.cost, e.monthly_max.cost) == (approx(4026.40), approx(5187.10))
    assert (e.monthly_min.gpu_hours, e.monthly_max.gpu_hours) == (approx(1460 + 834), approx(3650 + 834))


def test_system_without_gpus_is_counted_but_priced_only_with_cpu_and_memory_prices(merged) -> None:
    fraud = merged[("prod", "fraud-scorer")]
    e = estimate(fraud)
    # 2 replicas × 730 h × 1 CPU, × 2 GiB: counted, but prod prices neither CPU nor memory
    assert e.serving_min == Usage(0, 1460, 2920, 0, None, None)
    assert (e.serving_min.cost, e.monthly_max.cost, e.monthly_max.gpu_hours) == (None, None, 0)

    e = estimate(with_pricing(fraud, cpu_core_hour=0.04, memory_gib_hour=0.005, currency="EUR"))
    # serving min: 1,460 core-h × 0.04 = 58.40 + 2,920 GiB-h × 0.005 = 14.60 → 73.00
    assert e.serving_min.cost == approx(73.00)
    # serving max: 20 × 730 = 14,600 core-h × 0.04 = 584.00 + 29,200 GiB-h × 0.005 = 146.00 → 730.00
    assert e.serving_max.cost == approx(730.00)
    # training "30 1 * * *": 365 / 12 = 30.417 runs × 2 h = 60.83 pod-h; × 14 CPU = 851.67 core-h × 0.04 = 34.07;
    # × 56 GiB = 3,406.67 GiB-h × 0.005 = 17.03 → 51.10
    assert e.training_runs_per_month == approx(365 / 12)
    assert (e.training.cpu_core_hours, e.training.memory_gib_hours) == (approx(851.667, rel=1e-6),
                                                                       approx(3406.667, rel=1e-6))
    assert e.training.cost == approx(51.10)
    # drift: 121.67 pod-h × 0.5 CPU × 0.04 = 2.4333 + 121.67 GiB-h × 0.005 = 0.6083 → 3.0417
    assert e.drift.cost == approx(3.041667, rel=1e-6)
    # month: 73.00 + 51.10 + 3.04 = 127.14 at min; 730.00 + 51.10 + 3.04 = 784.14 at max
    assert (e.monthly_min.cost, e.monthly_max.cost) == (approx(127.141667), approx(784.141667))
    assert "€127.14 → €784.14" in markdown_table({("prod", "fraud-scorer"): e})


def test_scale_to_zero_costs_nothing_at_the_minimum(merged) -> None:
    e = estimate(merged[("dev", "fraud-scorer")])  # dev: replicas 0..2
    assert e.replicas == (0, 2)
    assert e.serving_min == Usage() and e.serving_min.cost == 0
    assert e.serving_max == Usage(0, 2 * 730, 2 * 2 * 730, 0, None, None)


def test_gpu_type_without_a_price(merged) -> None:
    system = with_gpu_prices(merged[("prod", "recommender")], {"nvidia-a100-80gb": 3.90})  # no T4 price
    e = estimate(system)
    assert e.serving_min.gpu_hours == 1460 and e.serving_min.cost is None  # GPU-hours known, money not
    assert e.training.cost == approx(3252.60)  # the A100s still are priced
    assert e.monthly_min.cost is None and e.monthly_max.cost is None  # a total without the T4s would mislead
    row = next(line for line in markdown_table({("prod", "recommender"): e}).splitlines() if "recommender" in line)
    assert ("| 2 → 5: — | $3,252.60 /mo (34.8 runs × 6h, $93.60 each; low-carbon, 0 1 * * 0 Europe/Dublin; on drift "
            "at most every 24h) | — | — | 2,294 → 4,484 |") in row
    # a GPU with no type has no price either
    untyped = with_section(system, "serving", gpu=Gpu(count=1))
    assert estimate(untyped).serving_max.cost is None


def test_mig_slices_and_one_off_training(merged) -> None:
    e = estimate(merged[("prod", "support-assistant")])
    # MIG 3g.40gb = 3/7 of an A100. min: 2 × 730 × 3/7 = 625.71 GPU-h × 3.90 = $2,440.29
    assert e.serving_min.gpu_hours == approx(2 * 730 * 3 / 7)
    assert e.serving_min.cost == approx(2440.285714)
    # max: 8 × 730 × 3/7 = 2,502.86 GPU-h × 3.90 = $9,761.14
    assert e.serving_max.cost == approx(9761.142857)
    # one-off fine-tuning: one run of 12 h × 1 worker × 2 A100 (DRA) = 24 GPU-h × 3.90 = $93.60;
    # CPU 12 h × 12 = 144 core-h; memory 12 h × 96 GiB = 1,152 GiB-h — not part of the monthly figures
    assert e.training is None and e.training_runs_per_month is None
    assert e.training_once == Usage(24, 144, 1152, approx(93.60), None, None)
    assert e.monthly_min.cost == approx(2440.285714)
    table = markdown_table({("prod", "support-assistant"): e})
    assert ("| 2 → 8: $2,440.29 → $9,761.14 | $93.60 once (12h) |  | $2,440.29 → $9,761.14 | 625.7 → 2,502.9 |"
            in table)
    assert gpu_share(Gpu.model_validate({"count": 2, "sharing": "mig", "migProfile": "1g.10gb"})) == approx(2 / 7)


def test_a_fractional_time_sliced_gpu_is_that_fraction(merged) -> None:
    system = merged[("prod", "recommender")]
    half = with_section(system, "serving", gpu=system.spec.serving.gpu.model_copy(update={"count": 0.5}))
    # 2 replicas × 730 h × 0.5 T4 = 730 GPU-h × 0.53 = $386.90
    assert estimate(half).serving_min.gpu_hours == 730
    assert estimate(half).serving_min.cost == approx(386.90)


def test_hours_per_month_and_currency_follow_the_environment(merged) -> None:
    e = estimate(with_pricing(merged[("prod", "recommender")], hours_per_month=720))
    # serving min: 2 × 720 × 0.53 = $763.20; training: 52 runs × 720 / 8,760 = 4.274 scheduled runs + 720 / 24 = 30
    # on drift, × 6 h × 4 × 3.90
    assert e.serving_min.cost == approx(763.20)
    assert e.training_runs_per_month == approx(52 * 720 / 8760 + 30)
    assert e.training.cost == approx((52 * 720 / 8760 + 30) * 6 * 4 * 3.90)
    assert "Per month = 720 h" in markdown_table({("prod", "recommender"): e})


def test_gpu_pipeline_steps_and_drift_triggered_runs_are_priced(merged) -> None:
    system = merged[("prod", "recommender")]
    pipeline = system.spec.pipeline
    embed = Step.model_validate({"name": "embed", "image": "registry.example.com/recsys/embed:1.0", "timeout": "2h",
                                 "resources": {"cpu": "4", "memory": "16Gi", "gpu": {"count": 1, "type": "nvidia-l4"}}})
    with_embed = with_section(system, "pipeline", steps=[*pipeline.steps, embed])
    e, before = estimate(with_embed), estimate(system)
    # the custom step: 2 h × 1 L4 in each of the 34.75 runs = 69.5 L4-h × 0.81 = $56.295 a month, $1.62 a run
    assert e.training.gpu_hours - before.training.gpu_hours == approx(69.5)
    assert e.training.cost - before.training.cost == approx(69.5 * 0.81)
    assert e.training_run.cost - before.training_run.cost == approx(1.62)
    # the drift-triggered runs are 730 / 24 = 30.42 of the 34.75: without onDrift, the schedule's 4.33 alone
    no_drift = with_section(with_embed, "pipeline", triggers=pipeline.triggers.model_copy(update={"on_drift": False}))
    assert estimate(no_drift).training.cost == approx(52 / 12 * (6 * 4 * 3.90 + 2 * 0.81))
    # and on drift alone, the runs are still monthly, not one-off
    drift_only = with_section(with_embed, "pipeline", triggers=pipeline.triggers.model_copy(update={"schedule": None}))
    e = estimate(drift_only)
    assert (e.training_runs_per_month, e.training_once) == (approx(730 / 24), None)
    assert e.training.cost == approx(730 / 24 * (6 * 4 * 3.90 + 2 * 0.81))
    assert e.training_when == "on drift at most every 24h"


# --- schedules and runtimes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("schedule, runs", [
    ("0 3 * * 0", 52 / 12),  # 52 Sundays in 2025
    ("@daily", 365 / 12),
    ("@weekly", 52 / 12),
    ("0 * * * *", 730),  # 8,760 h / 12
    ("0 0 1 * *", 1),
    ("0 9 * * 1-5", 261 / 12),  # 2025 has 261 weekdays
    ("*/5 * * * *", 12 * 730),  # beyond MAX_COUNTED_RUNS a year: extrapolated from the first runs
    ("0 0 29 2 *", 730 / 35064),  # not in 2025: one run in 2025-2028 (35,064 h)
])
def test_runs_per_month(schedule: str, runs: float) -> None:
    assert runs_per_month(schedule) == approx(runs)


def test_training_without_max_runtime_assumes_the_default_and_runs_never_overlap(merged) -> None:
    system = merged[("prod", "recommender")]
    no_deadline = with_section(system, "training", max_runtime=None)
    e = estimate(no_deadline)
    # 34.75 runs × 1 h × 4 workers = 139 A100-h × 3.90 = $542.10
    assert (e.training_runtime, e.training_runtime_assumed) == (DEFAULT_RUNTIME, True)
    assert e.training.cost == approx(34.75 * 1 * 4 * 3.90)
    table = markdown_table({("prod", "recommender"): e})
    assert "(34.8 runs × 1h*, $15.60 each; low-carbon, 0 1 * * 0 Europe/Dublin; on drift at most every 24h)" in table
    assert "\\* no maxRuntime: 1h per run assumed." in table
    # hourly runs of 6 h: concurrencyPolicy Forbid, so busy at most 730 h a month × 4 workers = 2,920 A100-h
    hourly = system.spec.pipeline.triggers.model_copy(update={"schedule": "0 * * * *"})
    busy = estimate(with_section(system, "pipeline", triggers=hourly)).training
    assert busy.gpu_hours == approx(2920)


# --- the table ----------------------------------------------------------------------------------------------------

def test_table_row_for_recommender_prod(merged) -> None:
    table = markdown_table(estimates([merged[("prod", "recommender")]]))
    lines = table.splitlines()
    assert lines[0].startswith("| System | Env | Serving /mo (replicas min → max) | Training |")
    assert "Δ" not in lines[0]  # no base, no delta column
    # CPU at max: 7,300 serving + 6,776.25 pipeline + 547.5 drift checks = 14,623.8; memory: 14,600 + 26,896.5 +
    # 1,095 = 42,591.5. Training: the pipeline's weekly run, placed in the low-carbon hours, and its runs on drift; one
    # run = 6 h × 4 A100s × $3.90 = $93.60
    assert lines[2] == ("| recommender | prod | 2 → 5: $773.80 → $1,934.50 | $3,252.60 /mo (34.8 runs × 6h, $93.60 "
                        "each; low-carbon, 0 1 * * 0 Europe/Dublin; on drift at most every 24h) | — | $4,026.40 → "
                        "$5,187.10 | 2,294 → 4,484 | 14,623.8 · 42,591.5 |")


def test_delta_table_with_an_added_a_removed_and_a_changed_system(merged) -> None:
    prod = {key: system for key, system in merged.items() if key[0] == "prod"}
    current = estimates(prod.values())
    recommender = prod[("prod", "recommender")]
    fraud = prod[("prod", "fraud-scorer")]
    base = {
        # base ran at most 4 recommender replicas: the PR adds 1 × 730 h × 0.53 = $386.90 at max, nothing at min
        ("prod", "recommender"): estimate(with_section(recommender, "serving", replicas=recommender.spec.serving
                                                       .replicas.model_copy(update={"max": 4}))),
        # fraud-scorer at most 10 replicas before: +10 × 730 = 7,300 core-h and 14,600 GiB-h, unpriced
        ("prod", "fraud-scorer"): estimate(with_section(fraud, "serving", replicas=fraud.spec.serving.replicas
                                                        .model_copy(update={"max": 10}))),
        # a system the PR deletes; support-assistant is the one it adds
        ("prod", "legacy-ranker"): replace(current[("prod", "recommender")], system="legacy-ranker"),
    }
    table = markdown_table(current, base)
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in table.splitlines()[2:] if line.startswith("|")}
    assert list(rows) == ["fraud-scorer", "legacy-ranker", "recommender", "support-assistant"]
    assert rows["recommender"].endswith("| +$0.00 → +$386.90 |")
    assert rows["fraud-scorer"].endswith("| +7,300 core-h, +14,600 GiB-h |")
    # only the minimum changes (2 → 3 replicas, unpriced): +730 core-h, +1,460 GiB-h at min
    more = estimate(with_section(fraud, "serving", replicas=fraud.spec.serving.replicas.model_copy(update={"min": 3})))
    assert markdown_table({("prod", "fraud-scorer"): more}, current).splitlines()[2].endswith(
        "| +730 core-h, +1,460 GiB-h at min |")
    assert rows["legacy-ranker"] == "| legacy-ranker | prod |  |  |  |  |  |  | removed: -$4,026.40 → -$5,187.10 |"
    assert rows["support-assistant"].endswith("| new: +$2,440.29 → +$9,761.14 |")
    # unchanged, and deterministic whatever the order of the mappings
    assert markdown_table(current, current).count("| no change |") == 3
    assert markdown_table(dict(reversed(current.items())), dict(reversed(base.items()))) == table


def test_one_off_training_changes_show_in_the_delta(merged) -> None:
    system = merged[("prod", "support-assistant")]
    longer = with_section(system, "training", max_runtime="24h")  # +12 h × 2 A100 × 3.90 = +$93.60
    table = markdown_table(estimates([longer]), estimates([system]))
    assert table.splitlines()[2].endswith("| one-off +$93.60 |")


def test_plain_text_table_for_a_terminal(merged) -> None:
    current = estimates([merged[("prod", "recommender")]])
    lines = text_table(current).splitlines()
    assert lines[:3] == ["prod/recommender:", "  Serving /mo (replicas min → max): 2 → 5: $773.80 → $1,934.50",
                         "  Training: $3,252.60 /mo (34.8 runs × 6h, $93.60 each; low-carbon, 0 1 * * 0 Europe/Dublin; "
                         "on drift at most every 24h)"]
    assert lines[-1].startswith("Per month = 730 h.") and not any("|" in line for line in lines)
    gone = replace(current[("prod", "recommender")], system="legacy-ranker")
    assert text_table({}, {("prod", "legacy-ranker"): gone}).splitlines()[0] == (
        "prod/legacy-ranker: removed: -$4,026.40 → -$5,187.10")  # no figures left to list


def test_table_cells_are_escaped_as_in_every_markdown_report() -> None:
    row = markdown_table({("dev", "a|b<c"): Estimate("a|b<c", "dev")}).splitlines()[2]
    assert row.startswith("| a\\|b&lt;c | dev | ")


def test_money_formatting() -> None:
    assert money(1234.5, "USD") == "$1,234.50"
    assert money(0.125, "EUR", signed=True) == "+€0.13"  # half up, on the decimal value
    assert money(-12, "CHF", signed=True) == "-12.00 CHF"
    assert money(None, "USD") == "—"
    assert markdown_table({}, {}) == "No ML systems to estimate.\n"
    assert Estimate("s", "e").monthly_max.cost == 0


# --- the pricing fields -------------------------------------------------------------------------------------------

def test_environment_pricing_fields() -> None:
    data = yaml.safe_load(Path(ROOT / "environments" / "prod.yaml").read_text())
    assert Environment.model_validate(data).pricing.model_dump() == {
        "cpu_core_hour": None, "memory_gib_hour": None, "currency": "USD", "hours_per_month": 730}
    data["pricing"] = {"cpuCoreHour": 0.04, "memoryGiBHour": 0.005, "currency": "EUR", "hoursPerMonth": 720}
    pricing = Environment.model_validate(data).pricing
    assert (pricing.cpu_core_hour, pricing.memory_gib_hour, pricing.currency, pricing.hours_per_month) == (
        0.04, 0.005, "EUR", 720)
    for wrong in ({"cpuCoreHour": -1}, {"currency": "usd"}, {"hoursPerMonth": 0}, {"memory_gib_hour": 1}):
        data["pricing"] = wrong
        with pytest.raises(ValueError):
            Environment.model_validate(data)
