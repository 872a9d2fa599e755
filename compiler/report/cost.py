"""How cost estimates read: money, hours, the change against a base, and the table of them, markdown or plain text.

Input: estimates by unit (`cost.estimates`), and optionally the base's to compare with. Output, per system ×
environment (sorted by system, then environment), its figures and, given a base, the change (`new`, `removed`,
`no change`, or the amounts; the resource-hours where money is unknown), then how the figures were counted: a
markdown table, or a block of lines per unit for a terminal. Deterministic. The computing is cost.py's.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from ..cost import NOTHING, Estimate, Usage
from ..runs import DEFAULT_RUNTIME, DRIFT_RUNTIME
from ..unitkey import UnitKey
from .md import cell, table

CENT = Decimal("0.01")
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
Estimates = Mapping[UnitKey, Estimate]

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


def _rows(current: Estimates, base: Estimates | None) -> list[tuple[UnitKey, list[str]]]:
    """The cells of each unit after System and Env: its figures (blank when gone), and the delta given a base."""
    rows = []
    for key in sorted(current.keys() | (base or {}).keys(), key=lambda key: (key[1], key[0])):
        now = current.get(key)
        cells = _cells(now) if now is not None else [""] * (len(HEADER) - 3)
        rows.append((UnitKey(*key), cells + ([delta(now, base.get(key))] if base is not None else [])))
    return rows


def _notes(current: Estimates, base: Estimates | None, star: str = "*") -> list[str]:
    months = sorted({e.hours_per_month for e in (*current.values(), *(base or {}).values())})
    notes = [f"Per month = {' / '.join(hours(m) for m in months)} h. Serving at min → max replicas; scheduled runs = "
             "a year's runs ÷ 12, each maxRuntime × workers; drift checks "
             f"{DRIFT_RUNTIME} each. GPUs priced from gpu.hourlyPrice (MIG slice = g/7 of a GPU, shared GPU = its "
             "count), CPU and memory only where an environment sets pricing; — = no price known."]
    if any(e.training_runtime_assumed for e in current.values()):
        notes.append(f"{star} no maxRuntime: {DEFAULT_RUNTIME} per run assumed.")
    return notes


def markdown_table(current: Estimates, base: Estimates | None = None) -> str:
    """One row per system × environment, with the change against `base` when given; then the notes."""
    rows = _rows(current, base)
    if not rows:
        return "No ML systems to estimate.\n"
    header = list(HEADER if base is not None else HEADER[:-1])
    lines = table(header, [[cell(v) for v in (key.system, key.env, *cells)] for key, cells in rows])
    lines += ["", *_notes(current, base, star="\\*")]  # a line starting `* ` would be a markdown list item
    return "\n".join(lines) + "\n"


def text_table(current: Estimates, base: Estimates | None = None) -> str:
    """For a terminal: per unit its delta (given a base), then one `column: value` line per figure it has."""
    rows = _rows(current, base)
    if not rows:
        return "No ML systems to estimate.\n"
    lines = []
    for key, cells in rows:
        figures, change = (cells[:-1], cells[-1]) if base is not None else (cells, "")
        lines.append(f"{key}: {change}" if change else f"{key}:")
        lines += [f"  {name}: {value}" for name, value in zip(HEADER[2:-1], figures, strict=True) if value]
    return "\n".join(lines + _notes(current, base)) + "\n"
