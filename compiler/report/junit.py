"""JUnit XML report for CI test reporters (Jenkins, GitLab, GitHub test-report actions).

One `<testsuite name="mlgitops.<env>.<system>">` per checked unit. Each finding is a `<testcase>`: a blocking one
has a `<failure>`, a waived one is `<skipped>` with the waiver's reason, any other (below the environment's
`failOn`) passes with its text in `<system-out>`. A unit without findings has one passing `policy gate` testcase,
so reporters show it as passed rather than empty.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

from ..gate.finding import Finding, GateResult
from .text import context, one_line, where

# Characters XML 1.0 cannot carry, even escaped; a stray one would make the whole report unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(value: object) -> str:
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", str(value))


def _element(parent: ET.Element | None, tag: str, text: str | None = None, **attributes: object) -> ET.Element:
    attrib = {key: _clean(value) for key, value in attributes.items()}
    element = ET.Element(tag, attrib) if parent is None else ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = _clean(text)
    return element


def _properties(parent: ET.Element, values: dict[str, str]) -> None:
    properties = _element(parent, "properties")
    for name, value in values.items():
        _element(properties, "property", name=name, value=value)


def _details(result: GateResult, finding: Finding) -> str:
    lines = [f"{finding.rule} [{finding.severity}] {one_line(finding.message)}",
             f"at {where(finding)} ({context(finding)})"]
    rule = result.rules.get(finding.rule)
    if rule is not None and rule.remediation:
        lines.append(f"To fix: {rule.remediation}")
    return "\n".join(lines)


def render(result: GateResult) -> str:
    units = sorted(set(result.units) | {f.unit for f in result.findings})
    root = _element(None, "testsuites", name="mlgitops")
    totals = Counter()
    if result.notes:  # the run's notes, once: reporters show a suite's system-out
        notes = _element(root, "testsuite", name="mlgitops.notes", tests=1, failures=0, errors=0, skipped=0, time=0)
        _element(notes, "testcase", classname="mlgitops.notes", name="notes", time="0")
        _element(notes, "system-out", "\n".join(result.notes))
        totals.update(tests=1)
    for env, system in units:
        findings = sorted((f for f in result.findings if f.unit == (env, system)), key=Finding.sort_key)
        counts = _suite(root, result, env, system, findings)
        totals.update(counts)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(totals[key]))
    root.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(root: ET.Element, result: GateResult, env: str, system: str, findings: list[Finding]) -> Counter:
    name = f"mlgitops.{env}.{system}"
    suite = _element(root, "testsuite", name=name)
    _properties(suite, {"env": env, "system": system, "failOn": result.fail_on.get(env, "")})
    counts = Counter(tests=max(len(findings), 1), failures=0, errors=0, skipped=0)
    if not findings:
        _element(suite, "testcase", classname=name, name="policy gate", time="0")
    seen = Counter()
    for finding in findings:
        case_name = f"{finding.rule} {where(finding)}" + (f" {finding.resource}" if finding.resource else "")
        seen[case_name] += 1
        if seen[case_name] > 1:  # two findings of one rule at one place: keep test names unique
            case_name += f" #{seen[case_name]}"
        case = _element(suite, "testcase", classname=name, name=case_name, file=finding.file, line=finding.line,
                        time="0")
        _properties(case, {"rule": finding.rule, "severity": finding.severity, "engine": finding.engine}
                    | ({"resource": finding.resource} if finding.resource else {}))
        if finding.waived:
            counts["skipped"] += 1
            reason = one_line(finding.waiver_reason) if finding.waiver_reason else "no reason given"
            _element(case, "skipped", message=f"waived: {reason}")
        elif result.blocking(finding):
            counts["failures"] += 1
            _element(case, "failure", _details(result, finding), message=one_line(finding.message),
                     type=finding.rule)
        else:
            _element(case, "system-out", _details(result, finding))
    for key in ("tests", "failures", "errors", "skipped"):
        suite.set(key, str(counts[key]))
    suite.set("time", "0")
    return counts
