"""Diagnostics: every problem the compiler reports about its input, with a stable code and a source position.

A `Diagnostic` prints as `file:line:col: field.path: message [CODE]`. Passes collect them and raise one
`SpecError` per run, so a user sees every problem in a file at once (not just the first).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Code(StrEnum):
    """Stable diagnostic codes; the value is what users see and search for. Never reuse a retired value."""

    YAML_SYNTAX = "E101"
    DUPLICATE_KEY = "E102"
    ALIAS_EXPANSION = "E103"
    FILE_TOO_LARGE = "E104"
    NOT_A_MAPPING = "E105"
    FORBIDDEN_TAG = "E106"
    NON_STRING_KEY = "E107"
    ENCODING = "E108"
    MULTIPLE_DOCUMENTS = "E109"
    FILE_UNREADABLE = "E110"
    UNKNOWN_FIELD = "E201"
    MISSING_FIELD = "E202"
    INVALID_VALUE = "E203"
    RULE_VIOLATION = "E204"
    WRONG_KIND = "E205"
    PLAINTEXT_SECRET = "E206"
    RESERVED_LABEL = "E207"
    NAME_TOO_LONG = "E208"
    RESERVED_NAMESPACE = "E209"
    NOT_OFFERED = "E210"
    PLATFORM_CANNOT = "E211"
    POLICY = "E601"
    POLICY_ENGINE = "E602"
    CHECKOV = "E603"
    UNKNOWN_ENVIRONMENT = "E301"
    DUPLICATE_SYSTEM = "E302"
    NAME_MISMATCH = "E303"
    UNSAFE_PATH = "E304"
    NO_INPUT = "E305"
    TENANCY_CONFLICT = "E306"
    USAGE = "E401"
    REPORT = "E402"
    REGISTRY = "E701"
    MODEL_NOT_FOUND = "E702"
    LOCK_MISSING = "E703"
    LOCK_INVALID = "E704"
    LOCK_MISMATCH = "E705"
    LOCK_UNKNOWN_VERSION = "E706"
    CLUSTER = "E801"
    CLUSTER_SNAPSHOT = "E802"
    OUTPUT = "E501"
    COMPILE_BUSY = "E502"
    CACHE_TRACKED = "E503"
    OUTPUT_HOLDS_INPUT = "E506"


@dataclass(frozen=True, order=True)
class Location:
    """A file and a 1-based line and column in it."""

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    code: Code
    location: Location
    message: str
    field: str = ""

    def __str__(self) -> str:
        field = f" {self.field}:" if self.field else ""
        return _printable(f"{self.location}:{field} {self.message} [{self.code.value}]")


def _printable(text: str) -> str:
    """One line, nothing invisible: a key may hold a newline or a BOM, which must show as `\\n` or `\\ufeff`."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class SpecError(Exception):
    """Raised by a pass with every diagnostic it found; the CLI prints them and exits 2."""

    def __init__(self, diagnostics: list[Diagnostic]):
        # the same problem met in several environments is one problem
        self.diagnostics = sorted(set(diagnostics), key=lambda d: (d.location, d.field, d.message))
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    def __reduce__(self):  # rebuilt from the diagnostics when it crosses from a worker process
        return SpecError, (self.diagnostics,)
