"""`mlgitops merge-reports`: join the reports of `check --shard I/N` runs into the report of one unsharded run.

Input: the shards' reports, all JSON or all SARIF, each tagged with its shard (`shard` in JSON, `properties.shard`
in the SARIF run). Output: one report of the same format, byte-for-byte what `check` without `--shard` writes:
findings (results) in the canonical order, summaries added up (shards hold disjoint systems), SARIF rules joined
and results re-indexed to them. Errors (`SpecError`, exit 2): an unreadable or malformed report (with its line and
column), mixed formats, a report that is not a shard's, and a set of shards that is not complete — a missing shard
would otherwise pass the gate for systems nobody checked.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import Code, Diagnostic, Location, SpecError
from ..gate.finding import FINDING_ORDER
from .sarif import result_order


def _problem(where: str, message: str, line: int = 1, column: int = 1) -> SpecError:
    return SpecError([Diagnostic(Code.REPORT, Location(where, line, column), message)])


def _read(path: Path, display: str) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _problem(display, f"cannot read report: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _problem(display, f"not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    if not isinstance(document, dict):
        raise _problem(display, "not an mlgitops report (expected a JSON object)")
    return document


def _kind(document: dict, display: str) -> str:
    if isinstance(document.get("runs"), list) and len(document["runs"]) == 1:
        return "sarif"
    if isinstance(document.get("findings"), list) and isinstance(document.get("summary"), dict):
        return "json"
    raise _problem(display, "not an mlgitops JSON or SARIF report")


def _shard(document: dict, kind: str) -> dict | None:
    return document["runs"][0].get("properties", {}).get("shard") if kind == "sarif" else document.get("shard")


def _is_shard(shard: object) -> bool:
    return (isinstance(shard, dict) and all(type(shard.get(k)) is int for k in ("index", "count"))
            and 1 <= shard["index"] <= shard["count"])


def _check_shape(document: dict, kind: str, display: str) -> None:
    """Every finding (result) carries what ordering and counting it needs."""
    if kind == "json":
        items, needed = document["findings"], FINDING_ORDER
    else:
        run = document["runs"][0]
        items, needed = run.get("results"), ("ruleId", "message", "properties")
        if not (isinstance(run.get("tool", {}).get("driver", {}).get("rules"), list)
                and isinstance(run.get("properties", {}).get("summary"), dict)):
            raise _problem(display, "malformed SARIF report: no rules or no summary")
    if not isinstance(items, list) or not all(isinstance(i, dict) and all(k in i for k in needed) for i in items):
        raise _problem(display, f"malformed {kind.upper()} report: every finding needs {', '.join(needed)}")


def _check_complete(shards: list[tuple[str, dict | None]]) -> None:
    untagged = [display for display, shard in shards if not _is_shard(shard)]
    if untagged:
        raise _problem(untagged[0], "not a shard's report (write it with `mlgitops check --shard I/N`)")
    counts = {shard["count"] for _, shard in shards}
    if len(counts) != 1:
        raise _problem(shards[0][0], f"reports come from different splits ({' and '.join(map(str, sorted(counts)))} "
                                     "shards); merge the reports of one run")
    [count] = counts
    seen: dict[int, str] = {}
    for display, shard in shards:
        if shard["index"] in seen:
            raise _problem(display, f"shard {shard['index']}/{count} is also {seen[shard['index']]}")
        seen[shard["index"]] = display
    missing = [str(i) for i in range(1, count + 1) if i not in seen]
    if missing:
        raise _problem(shards[0][0], f"shard {', '.join(missing)} of {count} missing: the systems of a missing shard "
                                     "would be left ungated")


def merge_reports(paths: list[Path], root: Path) -> tuple[str, bool]:
    """The merged report's text, and whether the merged gate failed."""
    if not paths:
        raise _problem("merge-reports", "give the shards' report files")
    documents = []
    for path in paths:
        display = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
        document = _read(path, display)
        documents.append((display, document, _kind(document, display)))
    kinds = {kind for _, _, kind in documents}
    if len(kinds) > 1:
        raise _problem(documents[0][0], "reports mix JSON and SARIF; merge one format at a time")
    [kind] = kinds
    _check_complete([(display, _shard(document, kind)) for display, document, _ in documents])
    for display, document, _ in documents:
        _check_shape(document, kind, display)
    reports = [document for _, document, _ in documents]
    merged = _merge_sarif(reports) if kind == "sarif" else _merge_json(reports)
    failed = merged["runs"][0]["properties"]["failed"] if kind == "sarif" else merged["summary"]["errors"] > 0
    return json.dumps(merged, indent=2, ensure_ascii=False) + "\n", failed


def _sum(summaries: list[dict]) -> dict:
    return {key: sum(s.get(key, 0) for s in summaries) for key in ("errors", "warnings", "waived")}


def _merge_json(documents: list[dict]) -> dict:
    findings = [f for d in documents for f in d["findings"]]
    findings.sort(key=lambda f: tuple(f[key] for key in FINDING_ORDER))
    merged: dict = {"findings": findings, "summary": _sum([d["summary"] for d in documents])}
    notes = list(dict.fromkeys(note for d in documents for note in d.get("notes", [])))
    if notes:
        merged["notes"] = notes
    return merged


def _merge_sarif(documents: list[dict]) -> dict:
    runs = [d["runs"][0] for d in documents]
    rules = {}
    for run in runs:
        for rule in run["tool"]["driver"]["rules"]:
            rules.setdefault(rule["id"], rule)
    ordered = [rules[rule_id] for rule_id in sorted(rules)]
    index = {rule["id"]: i for i, rule in enumerate(ordered)}
    results = sorted((r for run in runs for r in run["results"]), key=result_order)
    for result in results:
        result["ruleIndex"] = index[result["ruleId"]]
    properties = {"summary": _sum([run["properties"]["summary"] for run in runs]),
                  "failed": any(run["properties"]["failed"] for run in runs)}
    run = {**runs[0], "tool": {"driver": {**runs[0]["tool"]["driver"], "rules": ordered}}, "results": results,
           "properties": properties}
    notes = list(dict.fromkeys(n["message"]["text"] for r in runs for i in r.get("invocations", [])
                               for n in i.get("toolExecutionNotifications", [])))
    if notes:
        run["invocations"] = [{"executionSuccessful": True, "toolExecutionNotifications": [
            {"level": "note", "message": {"text": note}} for note in notes]}]
    return {**documents[0], "runs": [run]}
