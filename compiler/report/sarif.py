"""SARIF 2.1.0 report, shaped for GitHub code scanning (`github/codeql-action/upload-sarif`).

One run; `tool.driver.rules` describes every rule on record (title, rationale, remediation, default level, and the
`security-severity` GitHub maps to critical/high/medium/low); each result points at the spec `file:line:col`
relative to `%SRCROOT%`, carries a fingerprint that survives line moves, and a waived finding is a result with an
external suppression (its justification is the waiver's reason).
"""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import quote, unquote

from .. import __version__
from ..gate.finding import FINDING_ORDER, Finding, GateResult, Rule, Waiver
from ..unitkey import UnitKey

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "mlgitops/v1"

# GitHub reads `properties.security-severity` (a number as a string): >= 9.0 critical, >= 7.0 high, >= 4.0 medium,
# else low. Rules tagged `security` are shown with it.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
DEFAULT_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "warning", "info": "note"}


def render(result: GateResult) -> str:
    return json.dumps(sarif_log(result), indent=2, ensure_ascii=False) + "\n"


def sarif_log(result: GateResult) -> dict:
    findings = sorted(result.findings, key=Finding.sort_key)
    rules = _rules(result, findings)
    index = {rule.id: i for i, rule in enumerate(rules)}
    run = {
        "tool": {"driver": {"name": "mlgitops", "version": __version__, "rules": [_descriptor(r) for r in rules]}},
        # Columns come from the YAML loader, which counts characters (code points), not UTF-16 units.
        "columnKind": "unicodeCodePoints",
        "results": [_result(result, f, index[f.rule]) for f in findings],
        # The run's notes as the tool's own notifications (GitHub code scanning lists them with the run).
        **({"invocations": [{"executionSuccessful": True, "toolExecutionNotifications": [
            {"level": "note", "message": {"text": note}} for note in result.notes]}]} if result.notes else {}),
        "properties": {"summary": result.summary(), "failed": result.failed(),
                       **({"shard": result.shard_label()} if result.shard else {})},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _rules(result: GateResult, findings: list[Finding]) -> list[Rule]:
    """Every rule on record, plus a minimal one for a finding whose rule is not (so every ruleIndex resolves)."""
    rules = dict(result.rules)
    for f in findings:
        rules.setdefault(f.rule, Rule(f.rule, f.severity, "", engine=f.engine))
    return [rules[rule_id] for rule_id in sorted(rules)]


def _descriptor(rule: Rule) -> dict:
    title = rule.title or rule.id
    help_markdown = f"**{title}**"
    if rule.rationale:
        help_markdown += f"\n\n**Why:** {rule.rationale}"
    if rule.remediation:
        help_markdown += f"\n\n**Fix:** {rule.remediation}"
    return {
        "id": rule.id,
        # SARIF's `name` is a readable identifier (ruff's `gpu-request-without-queue`); Rule has none yet, and a
        # long title in PascalCase reads worse than the id.
        "name": rule.name or rule.id,
        "shortDescription": {"text": title},
        "fullDescription": {"text": rule.rationale or title},
        "help": {"text": rule.remediation or title, "markdown": help_markdown},
        "defaultConfiguration": {"level": DEFAULT_LEVEL.get(rule.severity, "warning")},
        "properties": {"security-severity": SECURITY_SEVERITY.get(rule.severity, "5.5"),
                       "severity": rule.severity, "tags": _tags(rule)},
    }


def _tags(rule: Rule) -> list[str]:
    tags = ["security", "mlgitops", rule.engine]
    area = re.fullmatch(r"MLG-([A-Z]+)-\d+", rule.id)
    if area:
        tags.append(area.group(1).lower())
    return sorted(set(tags))


def _level(result: GateResult, finding: Finding) -> str:
    if result.blocking(finding):
        return "error"
    return "note" if finding.severity == "info" else "warning"


def _physical(file: str, line: int, column: int) -> dict:
    location: dict = {"artifactLocation": {"uri": quote(file.replace("\\", "/"), safe="/"), "uriBaseId": SRCROOT}}
    if line >= 1:
        location["region"] = {"startLine": line, **({"startColumn": column} if column >= 1 else {})}
    return {"physicalLocation": location}


def fingerprint(finding: Finding) -> str:
    """Stable across edits that only move lines: rule, unit, resource and message, not the position."""
    key = "\0".join((finding.rule, finding.system, finding.env, finding.resource, finding.message))
    return hashlib.sha256(key.encode()).hexdigest()


def _context(system: str, env: str, resource: str) -> str:
    """What a result's message adds to the finding's: where it was found."""
    unit = UnitKey(env, system)
    return f" ({unit}, {resource})" if resource else f" ({unit})"


def result_order(sarif_result: dict) -> tuple:
    """`Finding.sort_key` of the finding behind a result, read back from the result (to order merged shards)."""
    props = sarif_result["properties"]
    physical = (sarif_result.get("locations") or [{}])[0].get("physicalLocation", {})
    region = physical.get("region", {})
    message = sarif_result["message"]["text"].removesuffix(_context(props["system"], props["env"], props["resource"]))
    fields = {"file": unquote(physical.get("artifactLocation", {}).get("uri", "")),
              "line": region.get("startLine", 0), "column": region.get("startColumn", 0),
              "rule": sarif_result["ruleId"], "message": message, "waived": bool(sarif_result.get("suppressions")),
              **{name: props[name] for name in ("env", "system", "resource", "severity", "engine")}}
    return tuple(fields[name] for name in FINDING_ORDER)


def _result(result: GateResult, finding: Finding, rule_index: int) -> dict:
    text = finding.message + _context(finding.system, finding.env, finding.resource)
    out: dict = {"ruleId": finding.rule, "ruleIndex": rule_index, "level": _level(result, finding),
                 "message": {"text": text}}
    if finding.file:
        location = _physical(finding.file, finding.line, finding.column)
        if finding.resource:
            location["logicalLocations"] = [{"fullyQualifiedName": finding.resource, "kind": "resource"}]
        out["locations"] = [location]
    out["partialFingerprints"] = {FINGERPRINT: fingerprint(finding)}
    out["properties"] = {"severity": finding.severity, "engine": finding.engine, "system": finding.system,
                         "env": finding.env, "resource": finding.resource, "blocking": result.blocking(finding)}
    if finding.waived:
        out["suppressions"] = [_suppression(finding, _waiver(result, finding))]
    return out


def _waiver(result: GateResult, finding: Finding) -> Waiver | None:
    matching = [w for w in result.waivers if w.system == finding.system and w.rule == finding.rule]
    return min(matching, key=lambda w: (w.file, w.line, w.column)) if matching else None


def _suppression(finding: Finding, waiver: Waiver | None) -> dict:
    suppression: dict = {"kind": "external"}
    if finding.waiver_reason:
        suppression["justification"] = finding.waiver_reason
    if waiver is not None:
        if waiver.file:
            suppression["location"] = _physical(waiver.file, waiver.line, waiver.column)
        properties = {"approvedBy": waiver.approved_by,
                      "expires": waiver.expires.isoformat() if waiver.expires else None}
        suppression["properties"] = {k: v for k, v in properties.items() if v is not None}
    return suppression
