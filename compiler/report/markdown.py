"""Markdown report for a pull-request comment (or `$GITHUB_STEP_SUMMARY`).

The verdict; a table of every system × environment (pass/fail and counts); the findings that count, blocking first;
the waived findings; the waivers expiring within 30 days. Starts with a hidden marker so a CI bot can find and
update its previous comment. Deterministic, and capped so a large run still fits in one comment.
"""

from __future__ import annotations

from ..gate.finding import Finding, GateResult, severity_rank
from ..textutil import plural
from .md import cell, code, table

MARKER = "<!-- mlgitops-report -->"
MAX_ROWS = 100  # GitHub refuses comments over 65,536 characters


def _table(header: list[str], rows: list[list[str]], numeric: int = 0) -> list[str]:
    """A table of at most MAX_ROWS rows, then how many more there are."""
    lines = table(header, rows[:MAX_ROWS], numeric)
    if len(rows) > MAX_ROWS:
        lines.append(f"\n…and {len(rows) - MAX_ROWS} more; see the full report (`mlgitops check --format text`).")
    return lines


def _mark(result: GateResult, finding: Finding) -> str:
    if result.blocking(finding):
        return "❌"
    return "ℹ️" if finding.severity == "info" else "⚠️"


def _where(finding: Finding) -> str:
    return code(f"{finding.file}:{finding.line}") if finding.file else ""


def render(result: GateResult) -> str:
    counts = result.summary()
    failed = result.failed()
    units = sorted(set(result.units) | {f.unit for f in result.findings}, key=lambda u: (u[1], u[0]))
    failing = sum(result.failed(env, system) for env, system in units)
    verdict = "❌ **failed**" if failed else "✅ **passed**"
    out = [MARKER, f"## mlgitops policy gate: {verdict}", "",
           f"{plural(counts['errors'], 'blocking finding')} · {plural(counts['warnings'], 'warning')} · "
           f"{counts['waived']} waived — {plural(len(units), 'env/system unit')} checked, {failing} failing.", ""]
    out += [line for note in result.notes for line in (f"> **Note:** {cell(note)}", "")]

    rows = []
    for env, system in units:
        mine = [f for f in result.findings if f.unit == (env, system)]
        errors = sum(result.blocking(f) for f in mine)
        waived = sum(f.waived for f in mine)
        status = "❌ fail" if errors else "✅ pass"
        rows.append([cell(system), cell(env), cell(result.fail_on.get(env, "")), status, str(errors),
                     str(len(mine) - errors - waived), str(waived)])
    out += _table(["system", "env", "failOn", "result", "blocking", "warnings", "waived"], rows, numeric=3)

    open_findings = sorted((f for f in result.findings if not f.waived),
                           key=lambda f: (not result.blocking(f), -severity_rank(f.severity), f.sort_key()))
    if open_findings:
        out += ["", "### Findings", ""]
        out += _table(["", "rule", "severity", "where", "env/system", "message"],
                      [[_mark(result, f), code(f.rule), f.severity, _where(f),
                        cell(str(f.unit)), cell(f.message)] for f in open_findings])

    waived = sorted((f for f in result.findings if f.waived), key=Finding.sort_key)
    if waived:
        out += ["", "### Waived findings", ""]
        out += _table(["rule", "severity", "where", "env/system", "reason"],
                      [[code(f.rule), f.severity, _where(f), cell(str(f.unit)),
                        cell(f.waiver_reason or "—")] for f in waived])

    if result.model_changes:
        out += ["", "### Model versions this change pins", ""]
        out += _table(["system", "env", "model", "version"],
                      [[cell(c.system), cell(c.env), code(c.model),
                        f"{c.old} → **{c.new}**" if c.old is not None else f"new: **{c.new}**"]
                       for c in sorted(result.model_changes, key=lambda c: (c.system, c.env))])

    expiring = sorted(result.expiring_waivers(30), key=lambda w: (w.expires, w.system, w.rule, w.file, w.line))
    if expiring:
        out += ["", "### Waivers expiring within 30 days", ""]
        out += _table(["rule", "system", "expires", "approved by", "where"],
                      [[code(w.rule), cell(w.system),
                        f"{w.expires.isoformat()} (in {plural((w.expires - result.today).days, 'day')})",
                        cell(w.approved_by or "—"), code(f"{w.file}:{w.line}") if w.file else ""]
                       for w in expiring])
    return "\n".join(out) + "\n"
