"""Units a spec is written in — CPU and memory quantities, durations, percentages, cron, hours of the day — as
pydantic types.

Each type keeps the user's notation (normalised) so the merged spec reads like the source, and has a parse
function for the numbers renderers and cost estimates need. Error messages say what a valid value looks like.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_CPU = re.compile(r"^(\d+(\.\d+)?|\.\d+)(m)?$")
_MEMORY = re.compile(r"^(\d+(\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
_MEMORY_FACTORS = {None: 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
                   "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?(ms|s|m|h|d))+$")
_DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_PERCENT = re.compile(r"^(\d+(\.\d+)?)%$")
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
# Kubernetes CronJob understands these macros and the five-field form, but not Quartz extensions (L, W, #).
CADENCES = ("daily", "weekly")
CRON_MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
               "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


def _number_to_str(value: Any) -> Any:
    """YAML reads `cpu: 2` as a number; quantities are strings in Kubernetes."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(str(value)).normalize(), "f")
    return value


def _check_cpu(value: str) -> str:
    if not _CPU.fullmatch(value) or cpu_cores(value) <= 0:
        raise ValueError(f"{value!r} is not a CPU quantity: write cores (2, 0.5) or millicores (500m)")
    return value


def _check_memory(value: str) -> str:
    if not _MEMORY.fullmatch(value) or memory_bytes(value) <= 0:
        raise ValueError(f"{value!r} is not a memory quantity: write e.g. 512Mi, 4Gi or 1G")
    return value


def _check_duration(value: str) -> str:
    if not _DURATION.fullmatch(value) or duration_seconds(value) <= 0:
        raise ValueError(f"{value!r} is not a duration: write e.g. 150ms, 30s, 6h or 1h30m")
    return value


def _check_percent(value: str) -> str:
    if not _PERCENT.fullmatch(value) or not 0 < percent_value(value) <= 100:
        raise ValueError(f"{value!r} is not a percentage: write e.g. 99.9% or 1% (above 0, at most 100)")
    return value


def _check_cron(value: str) -> str:
    _check_bare(value)
    expression = CRON_MACROS.get(value.strip(), value)
    if len(expression.split()) != 5:  # cronsim also takes a seconds field; Kubernetes does not
        raise ValueError(f"{value!r} is not a cron schedule: write five fields (minute hour day month weekday), "
                         "e.g. '0 3 * * 0', or a macro such as @daily")
    tokens = [token for part in expression.upper().split() for token in part.split(",")]
    if any("#" in token or re.fullmatch(r"\d*L(-\d+)?|\d+W|LW", token) for token in tokens):
        raise ValueError(f"{value!r} uses L, W or #, which Kubernetes CronJobs do not support")
    try:
        CronSim(expression, datetime(2000, 1, 1))
    except (CronSimError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a cron schedule ({exc}): write five fields, e.g. '0 3 * * 0'") from None
    return value


def _string_type(check, pattern: str, description: str, accepts_numbers: bool = False):
    schema: dict[str, Any] = {"type": "string", "pattern": pattern, "description": description}
    if accepts_numbers:
        schema = {"anyOf": [schema, {"type": "number", "exclusiveMinimum": 0}], "description": description}
    validators = [BeforeValidator(_number_to_str)] if accepts_numbers else []
    return Annotated[str, *validators, AfterValidator(check), WithJsonSchema(schema)]


CpuQuantity = _string_type(_check_cpu, _CPU.pattern, "CPU: cores (2, 0.5) or millicores (500m)", True)
MemoryQuantity = _string_type(_check_memory, _MEMORY.pattern, "memory: bytes with a unit (512Mi, 4Gi, 1G)", True)
Duration = _string_type(_check_duration, _DURATION.pattern, "duration: 150ms, 30s, 6h, 1h30m")
Percent = _string_type(_check_percent, _PERCENT.pattern, "percentage: 99.9%")
Cron = _string_type(_check_cron, r"^(@\w+|\S+( \S+){4})$", "cron schedule, five fields ('0 3 * * 0') or @daily")


def _check_schedule(value: str) -> str:
    return value if value in CADENCES else _check_cron(value)


@dataclass(frozen=True)
class Hours:
    """A daily range of wall-clock minutes [start, end); `end < start` crosses midnight, `end == start` is all day."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> Hours:
        match = _RANGE.match(text)
        if not match or (match[3] == "24" and match[4] != "00"):
            raise ValueError(f"{text!r} is not a range of hours: write HH:MM-HH:MM, e.g. 22:00-06:00")
        start, end = int(match[1]) * 60 + int(match[2]), int(match[3]) * 60 + int(match[4])
        return cls(start, end % (24 * 60))

    def contains(self, minute: int) -> bool:
        if self.start == self.end:
            return True
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def __str__(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"


def _check_hours(value: str) -> str:
    Hours.parse(value)
    return value


def _check_time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone: write e.g. Europe/Dublin or UTC") from None
    return value


# A training schedule may also be a cadence, which the compiler places inside the chosen window.
Schedule = _string_type(_check_schedule, r"^(daily|weekly|@\w+|\S+( \S+){4})$",
                        "cron schedule ('0 3 * * 0', @daily), or daily/weekly to be placed in training.window")
HoursRange = _string_type(_check_hours, r"^\d\d:\d\d-\d\d:\d\d$", "hours of the day, HH:MM-HH:MM (22:00-06:00)")
TimeZone = _string_type(_check_time_zone, r"^[A-Za-z_+-]+(/[A-Za-z0-9_+-]+)*$", "IANA time zone, e.g. Europe/Dublin")


def _check_bare(value: str) -> None:
    """A name is the name alone. A YAML `|` or `>` block keeps its final newline, and Python's `$` matches before
    one: `team: "payments\\n"` once passed as a DNS label and broke every team's Argo CD root app."""
    if value != value.strip():
        raise ValueError(f"{value!r} has whitespace around it (a YAML | or > block keeps its final newline): "
                         "write the value alone")
    control = next((c for c in value if c.isascii() and unicodedata.category(c) == "Cc"), None)
    if control is not None:  # (a non-ASCII invisible one fails the pattern, and validate names it)
        raise ValueError(f"{value!r} contains the control character U+{ord(control):04X}")


def _name_type(pattern: str, max_length: int, what: str):
    """A name field: the whole value (fullmatch, never a `$` that stops before a newline) is one name."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        _check_bare(value)
        if len(value) > max_length or not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return Annotated[str, AfterValidator(check),
                     WithJsonSchema({"type": "string", "pattern": pattern, "maxLength": max_length})]


DnsLabel = _name_type(DNS_LABEL, 63, "a DNS-1123 label: lowercase letters, digits and '-', starting and ending "
                                     "with a letter or digit, at most 63 characters")
DnsSubdomain = _name_type(DNS_SUBDOMAIN, 253, "a DNS-1123 subdomain: DNS labels joined by '.', at most 253 "
                                              "characters")
PositiveInt = Annotated[int, Field(ge=1)]

# Spec strings checked by their pattern alone, which is also their JSON Schema.
Uri = Annotated[str, Field(pattern=r"^[a-z][a-z0-9+.-]*://\S+$")]  # scheme://…, e.g. s3://bucket/path
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
AliasName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]  # an MLflow registry alias (champion)


def cpu_cores(value: str) -> Decimal:
    match = _CPU.fullmatch(value)
    if not match:
        raise ValueError(value)
    number = Decimal(match.group(1))
    return number / 1000 if match.group(3) else number


def memory_bytes(value: str) -> int:
    match = _MEMORY.fullmatch(value)
    if not match:
        raise ValueError(value)
    try:
        return int(Decimal(match.group(1)) * _MEMORY_FACTORS[match.group(3)])
    except InvalidOperation:
        raise ValueError(value) from None


def duration_seconds(value: str) -> float:
    return sum(float(n) * _DURATION_SECONDS[unit] for n, unit in _DURATION_PART.findall(value))


def percent_value(value: str) -> float:
    return float(value.rstrip("%"))


def cron_expression(value: str) -> str:
    """The five-field form of a schedule (macros expanded), as CronJobs and schedulers take it."""
    return CRON_MACROS.get(value.strip(), value)
