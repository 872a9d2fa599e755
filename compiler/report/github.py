"""GitHub Actions report: workflow commands that annotate the pull request at the spec line, then a summary line.

    ::error file=spec/recommender.yaml,line=41,col=7,title=MLG-SEC-004::[high] message (prod/recommender, ...)

`error` for a finding that blocks the gate, `warning` for one below the environment's `failOn`, `notice` for an
info finding or a waived one. Values are escaped as the Actions toolkit does (`@actions/core` `toCommandValue`
escaping): `%`, CR and LF in the message; also `:` and `,` in properties.
"""

from __future__ import annotations

from ..gate.finding import Finding, GateResult
from .text import context, summary_line, waived_note


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _command(result: GateResult, finding: Finding) -> str:
    if result.blocking(finding):
        kind = "error"
    elif finding.waived or finding.severity == "info":
        kind = "notice"
    else:
        kind = "warning"
    properties = {}
    if finding.file:
        properties["file"] = finding.file
        if finding.line >= 1:
            properties["line"] = str(finding.line)
            if finding.column >= 1:
                properties["col"] = str(finding.column)
    properties["title"] = f"{finding.rule} (waived)" if finding.waived else finding.rule
    message = f"[{finding.severity}] {finding.message} ({context(finding)})"
    if finding.waived:
        message += f" {waived_note(finding)}"
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{kind} {rendered}::{escape_data(message)}"


def render(result: GateResult) -> str:
    # Blocking findings first: GitHub shows a limited number of annotations per step.
    findings = sorted(result.findings, key=lambda f: (not result.blocking(f), f.waived, f.sort_key()))
    lines = [_command(result, f) for f in findings]
    lines += [f"::notice title=mlgitops::{escape_data(note)}" for note in result.notes]
    lines.append(f"mlgitops: {summary_line(result)}")
    return "\n".join(lines) + "\n"
