"""What the gate produces: findings, the rules they come from, the waivers on record, and the verdict.

A `Finding` is the contract's finding (see ARCHITECTURE.md): rule, severity, engine, message, system, env, the spec
`file:line:col` that caused it, the rendered resource (`apiVersion/Kind/namespace/name`, empty for spec rules) and
whether a waiver covers it. Every report format renders a `GateResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ..unitkey import UnitKey

SEVERITIES = ("info", "low", "medium", "high", "critical")

# The canonical order of findings: by place in the spec, then by what was found there. A total order, so every
# report is deterministic, and `merge-reports` (which sorts the JSON findings by these keys) writes byte-for-byte
# what an unsharded `check` writes. The names are both `Finding`'s fields and the JSON report's keys.
FINDING_ORDER = ("file", "line", "column", "rule", "env", "system", "resource", "message", "severity", "engine",
                 "waived")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Rule:
    """A rule as `mlgitops explain` shows it: own rules from their METADATA, Checkov's from policies/checkov.yaml."""

    id: str
    severity: str
    title: str
    rationale: str = ""
    remediation: str = ""
    engine: str = "rego"  # rego | checkov | schema
    name: str = ""  # short, readable, names the bad pattern (`gpu-training-without-queue`); the id when empty


@dataclass(frozen=True)
class Waiver:
    """A `waivers:` entry of a spec, with where it was written."""

    system: str
    rule: str
    reason: str | None
    approved_by: str | None
    expires: date | None
    file: str
    line: int
    column: int


@dataclass(frozen=True)
class ModelChange:
    """A pinned model version that differs from the lock at the base revision (None: not pinned there)."""

    env: str
    system: str
    model: str
    old: int | None
    new: int


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    engine: str
    message: str
    system: str
    env: str
    file: str
    line: int
    column: int
    resource: str = ""
    waived: bool = False
    waiver_reason: str | None = None

    @property
    def unit(self) -> UnitKey:
        return UnitKey(self.env, self.system)

    def sort_key(self) -> tuple:
        return tuple(getattr(self, name) for name in FINDING_ORDER)

    def to_json(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "engine": self.engine, "message": self.message,
                "system": self.system, "env": self.env, "file": self.file, "line": self.line, "column": self.column,
                "resource": self.resource, "waived": self.waived}


@dataclass(frozen=True)
class GateResult:
    """Findings of one `check` run and what is needed to judge and report them."""

    findings: tuple[Finding, ...]
    rules: dict[str, Rule]
    units: tuple[UnitKey, ...]  # the units that were checked
    fail_on: dict[str, str]  # env → the environment's policy.failOn
    waivers: tuple[Waiver, ...] = ()
    today: date = field(default_factory=date.today)
    model_changes: tuple[ModelChange, ...] = ()
    shard: tuple[int, int] | None = None  # (index, count) when this run gated one shard of the systems
    # What a reader must know about the run as a whole (e.g. what it could not verify): each report says each once.
    notes: tuple[str, ...] = ()

    def blocking(self, finding: Finding) -> bool:
        """Fails the gate: not waived, and at or above its environment's threshold."""
        return not finding.waived and severity_rank(finding.severity) >= severity_rank(self.fail_on[finding.env])

    def failed(self, env: str | None = None, system: str | None = None) -> bool:
        return any(self.blocking(f) for f in self.findings
                   if (env is None or f.env == env) and (system is None or f.system == system))

    def summary(self) -> dict[str, int]:
        return {"errors": sum(self.blocking(f) for f in self.findings),
                "warnings": sum(not f.waived and not self.blocking(f) for f in self.findings),
                "waived": sum(f.waived for f in self.findings)}

    def shard_label(self) -> dict[str, int] | None:
        """How reports tag a shard's run, so that `merge-reports` can tell a complete set from a partial one."""
        return {"index": self.shard[0], "count": self.shard[1]} if self.shard else None

    def expiring_waivers(self, days: int = 30) -> list[Waiver]:
        return [w for w in self.waivers if w.expires is not None and 0 <= (w.expires - self.today).days <= days]
