"""Waivers: explicit, reviewed, expiring exceptions to rules, written in the spec (`waivers:`).

A waiver turns the findings of its rule for its system into `waived: true` — they stay in every report — but only
while it is complete (a reason and an approver) and unexpired. An incomplete or expired waiver waives nothing and
is itself a finding at its line; a waiver that matches no finding is reported as unused (info), so stale
exceptions get cleaned up.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from ..merge import MergedSystem
from .finding import Finding, Rule, Waiver

INCOMPLETE, EXPIRED, UNUSED = "MLG-WAIVER-001", "MLG-WAIVER-002", "MLG-WAIVER-003"
RULES = {
    INCOMPLETE: Rule(INCOMPLETE, "high", "A waiver states its reason and its approver",
                     "Exceptions to policy are only acceptable on the record: who approved skipping a control, and "
                     "why (audit trail; ISO 27001 A.5.36 and SOC 2 CC1.4 exception handling).",
                     "Add `reason:` and `approvedBy:` (the approver's e-mail) to the waiver, or remove it.", "schema",
                     "waiver-incomplete"),
    EXPIRED: Rule(EXPIRED, "high", "A waiver has not expired",
                  "Exceptions are temporary by design; an expired waiver means the risk it accepted is back and "
                  "must be fixed or re-approved.",
                  "Fix what the rule reports and remove the waiver, or renew `expires:` with a fresh approval.",
                  "schema", "waiver-expired"),
    UNUSED: Rule(UNUSED, "info", "A waiver still waives something",
                 "A waiver that matches no finding is stale: it would silently cover a future violation.",
                 "Remove the waiver.", "schema", "waiver-unused"),
}


def waivers_of(system: MergedSystem) -> list[Waiver]:
    found = []
    for index, waiver in enumerate(system.spec.waivers):
        where = system.source.locate(("waivers", index))
        found.append(Waiver(system.name, waiver.rule, waiver.reason, waiver.approved_by, waiver.expires,
                            where.file, where.line, where.column))
    return found


def apply_waivers(findings: list[Finding], systems: list[MergedSystem],
                  today: date) -> tuple[list[Finding], list[Waiver]]:
    """The findings with waivers applied, plus the waivers' own findings; and every waiver on record."""
    result, on_record = list(findings), []
    for name in sorted({s.name for s in systems}):
        variants = sorted((s for s in systems if s.name == name), key=lambda s: s.env)
        used: dict[Waiver, bool] = {}
        for system in variants:
            for waiver in waivers_of(system):
                problem = _problem(waiver, today)
                if problem:
                    rule, message = problem
                    result.append(Finding(rule, RULES[rule].severity, "schema", message, name, system.env,
                                          waiver.file, waiver.line, waiver.column))
                    continue
                matched = [i for i, f in enumerate(result)
                           if f.rule == waiver.rule and f.system == name and f.env == system.env and not f.waived]
                for i in matched:
                    result[i] = replace(result[i], waived=True, waiver_reason=waiver.reason)
                used[waiver] = used.get(waiver, False) or bool(matched)
        on_record += waivers_of(variants[0])
        for waiver, was_used in used.items():  # unused in every environment: stale
            if not was_used:
                result.append(Finding(UNUSED, RULES[UNUSED].severity, "schema",
                                      f"waiver for {waiver.rule} matches no finding in any environment", name,
                                      variants[0].env, waiver.file, waiver.line, waiver.column))
    return result, on_record


def _problem(waiver: Waiver, today: date) -> tuple[str, str] | None:
    missing = [field for field, value in (("reason", waiver.reason), ("approvedBy", waiver.approved_by))
               if not value]
    if missing:
        return INCOMPLETE, f"waiver for {waiver.rule} lacks {' and '.join(missing)}, so it waives nothing"
    if waiver.expires is None:
        return INCOMPLETE, f"waiver for {waiver.rule} has no expiry date (expires: YYYY-MM-DD), so it waives nothing"
    if waiver.expires < today:
        return EXPIRED, f"waiver for {waiver.rule} expired on {waiver.expires.isoformat()}, so it waives nothing"
    return None
