"""Units of the spec language (compiler/model/units.py): parsing to numbers, and pydantic-level rejection messages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from compiler.model.units import (
    CRON_MACROS,
    CpuQuantity,
    Cron,
    DnsLabel,
    Duration,
    MemoryQuantity,
    Percent,
    cpu_cores,
    cron_expression,
    duration_seconds,
    memory_bytes,
    percent_value,
)


class Units(BaseModel):
    cpu: CpuQuantity | None = None
    memory: MemoryQuantity | None = None
    duration: Duration | None = None
    percent: Percent | None = None
    cron: Cron | None = None
    label: DnsLabel | None = None


def rejection(**fields) -> str:
    """The single pydantic error message for one bad field."""
    with pytest.raises(ValidationError) as info:
        Units(**fields)
    [error] = info.value.errors()
    assert error["loc"] == (next(iter(fields)),)
    return error["msg"]


# --- parse functions ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, cores", [
    ("500m", Decimal("0.5")), ("2", Decimal(2)), ("0.25", Decimal("0.25")), (".5", Decimal("0.5")),
    ("1500m", Decimal("1.5")), ("100m", Decimal("0.1")),
])
def test_cpu_cores(text, cores):
    assert cpu_cores(text) == cores
    assert isinstance(cpu_cores(text), Decimal)


@pytest.mark.parametrize("text", ["", "2 cores", "1e3", "-1", "m", "2.", "500M"])
def test_cpu_cores_refuses_what_is_not_a_quantity(text):
    with pytest.raises(ValueError):
        cpu_cores(text)


@pytest.mark.parametrize("text, size", [
    ("4Gi", 4 * 2**30), ("1G", 10**9), ("512Mi", 512 * 2**20), ("1Ki", 1024), ("1k", 1000), ("2Ti", 2 * 2**40),
    ("1.5Gi", 3 * 2**29), ("128", 128),
])
def test_memory_bytes(text, size):
    assert memory_bytes(text) == size


@pytest.mark.parametrize("text", ["4 gigs", "4gi", "4GB", "1e3", "", "Gi"])
def test_memory_bytes_refuses_what_is_not_a_quantity(text):
    with pytest.raises(ValueError):
        memory_bytes(text)


@pytest.mark.parametrize("text, seconds", [
    ("150ms", 0.15), ("30s", 30), ("1h30m", 5400), ("6h", 21600), ("2d", 172800), ("1.5h", 5400), ("1m30s", 90),
])
def test_duration_seconds(text, seconds):
    assert duration_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text, value", [("99.9%", 99.9), ("1%", 1.0), ("100%", 100.0), ("0.1%", 0.1)])
def test_percent_value(text, value):
    assert percent_value(text) == pytest.approx(value)


@pytest.mark.parametrize("macro, expression", [
    ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@hourly", "0 * * * *"), ("@weekly", "0 0 * * 0"),
    ("@monthly", "0 0 1 * *"), ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"),
])
def test_cron_macros_are_expanded(macro, expression):
    assert CRON_MACROS[macro] == expression
    assert cron_expression(macro) == expression
    assert Units(cron=macro).cron == macro  # the spec keeps the user's notation


def test_cron_expression_leaves_five_fields_alone():
    assert cron_expression("30 1 * * *") == "30 1 * * *"


# --- pydantic: what is accepted, and how it is normalised ---------------------------------------------------------

@pytest.mark.parametrize("value, kept", [(2, "2"), (0.5, "0.5"), ("500m", "500m"), (1.0, "1"), (16, "16")])
def test_cpu_numbers_become_quantity_strings(value, kept):
    assert Units(cpu=value).cpu == kept


@pytest.mark.parametrize("value, kept", [(512, "512"), ("4Gi", "4Gi"), ("1G", "1G")])
def test_memory_numbers_become_quantity_strings(value, kept):
    assert Units(memory=value).memory == kept


@pytest.mark.parametrize("value", ["0 3 * * 0", "*/15 * * * *", "0 9-17 * * 1-5", "30 1 * * *", "0 0 1,15 * *"])
def test_five_field_cron_is_accepted(value):
    assert Units(cron=value).cron == value


# --- pydantic: rejection messages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["0", "0m", "2 cores", "-1", "1e3", float("inf")])
def test_bad_cpu_is_rejected_with_a_hint(value):
    message = rejection(cpu=value)
    assert message.startswith("Value error, ")
    assert message.endswith("is not a CPU quantity: write cores (2, 0.5) or millicores (500m)")


def test_boolean_cpu_is_not_a_string():
    assert rejection(cpu=True) == "Input should be a valid string"


@pytest.mark.parametrize("value", ["4 gigs", "0", "0.1", "4GB", "1e3"])
def test_bad_memory_is_rejected_with_a_hint(value):
    assert rejection(memory=value) == f"Value error, {value!r} is not a memory quantity: write e.g. 512Mi, 4Gi or 1G"


@pytest.mark.parametrize("value", ["fast", "0s", "5", "1 h", "ms"])
def test_bad_duration_is_rejected_with_a_hint(value):
    assert rejection(duration=value) == (f"Value error, {value!r} is not a duration: "
                                         "write e.g. 150ms, 30s, 6h or 1h30m")


def test_duration_must_be_written_as_a_string():
    assert rejection(duration=5) == "Input should be a valid string"


@pytest.mark.parametrize("value", ["101%", "0%", "100.0001%", "99.9", "%", "1e2%"])
def test_bad_percent_is_rejected_with_a_hint(value):
    assert rejection(percent=value) == (f"Value error, {value!r} is not a percentage: "
                                        "write e.g. 99.9% or 1% (above 0, at most 100)")


@pytest.mark.parametrize("value, reason", [
    ("61 * * * *", "Bad minute"), ("0 24 * * *", "Bad hour"), ("0 0 32 * *", "Bad day-of-month"),
    ("0 0 * 13 *", "Bad month"), ("*/0 * * * *", "Bad minute"), ("0 0 30 2 *", "Bad day-of-month"),
])
def test_bad_cron_is_rejected_with_the_reason(value, reason):
    assert rejection(cron=value) == (f"Value error, {value!r} is not a cron schedule ({reason}): "
                                     "write five fields, e.g. '0 3 * * 0'")


@pytest.mark.parametrize("value", ["0 3 * *", "* * * * * *", "0 0 3 * * 0", "@reboot", "", "TZ=UTC 0 3 * * *"])
def test_cron_needs_exactly_five_fields(value):
    """cronsim alone would take a sixth (seconds) field; Kubernetes CronJobs (robfig ParseStandard) do not."""
    message = rejection(cron=value)
    assert message.startswith(f"Value error, {value!r} is not a cron schedule")
    assert "five fields" in message


@pytest.mark.parametrize("value", ["0 3 L * *", "0 3 * * 5L", "0 3 15W * *", "0 3 LW * *", "0 3 * * 1#2",
                                   "0 3 L-2 * *", "0 0 1,L * *", "0 3 l * *"])
def test_quartz_extensions_are_rejected(value):
    assert rejection(cron=value) == (f"Value error, {value!r} uses L, W or #, "
                                     "which Kubernetes CronJobs do not support")


@pytest.mark.parametrize("value", ["../evil", "a/b", "Upper", "-x", "x-", "a" * 64, ""])
def test_bad_dns_label_is_rejected(value):
    assert rejection(label=value) == (f"Value error, {value!r} is not a DNS-1123 label: lowercase letters, digits "
                                      "and '-', starting and ending with a letter or digit, at most 63 characters")


def test_good_dns_label_is_accepted():
    assert Units(label="a" * 63).label == "a" * 63
    assert Units(label="fraud-scorer").label == "fraud-scorer"


# --- the whole value, nothing around it -----------------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("label", "payments\n"), ("label", " payments"), ("label", "pay\x1bments"), ("cpu", "2\n"),
    ("memory", "4Gi\n"), ("duration", "30s\n"), ("percent", "99.9%\n"), ("cron", "0 3 * * 0\n"),
])
def test_a_trailing_newline_or_an_invisible_character_is_refused(field, value):
    """Python's `$` matches before a final newline: every check must take the whole value (YAML's `|` keeps one)."""
    message = rejection(**{field: value})
    expected = ("control character U+001B" if "\x1b" in value
                else "has whitespace around it" if field in ("label", "cron") else "is not a")
    assert expected in message, message
