"""Plain-text report, ruff-like: one line per finding, sorted by place, then a summary line.

    spec/recommender.yaml:41:7: MLG-SEC-004 [high] message (prod/recommender, apps/v1/Deployment/ns/name)

Readable without colour. Also home of the one-line context every format shares.
"""

from __future__ import annotations

from ..gate.finding import Finding, GateResult
from ..textutil import plural


def one_line(value: str) -> str:
    """A message on one line (a Rego message may span several)."""
    return " ".join(part.strip() for part in value.splitlines() if part.strip())


def where(finding: Finding) -> str:
    if not finding.file:
        return "<unknown>"
    return f"{finding.file}:{finding.line}:{finding.column}"


def context(finding: Finding) -> str:
    """The unit (`env/system`) and, for a rendered object, its resource id."""
    return f"{finding.unit}, {finding.resource}" if finding.resource else str(finding.unit)


def waived_note(finding: Finding) -> str:
    return f"(waived: {one_line(finding.waiver_reason)})" if finding.waiver_reason else "(waived)"


def summary_line(result: GateResult) -> str:
    counts = result.summary()
    verdict = "gate failed" if result.failed() else "gate passed"
    units = plural(len(result.units), "env/system unit")
    return (f"{plural(len(result.findings), 'finding')} ({plural(counts['errors'], 'error')}, "
            f"{plural(counts['warnings'], 'warning')}, {counts['waived']} waived) in {units}: {verdict}")


def render(result: GateResult) -> str:
    lines = []
    for finding in sorted(result.findings, key=Finding.sort_key):
        line = (f"{where(finding)}: {finding.rule} [{finding.severity}] {one_line(finding.message)} "
                f"({context(finding)})")
        if finding.waived:
            line += f" {waived_note(finding)}"
        lines.append(line)
    lines += [f"note: {note}" for note in result.notes]
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"
