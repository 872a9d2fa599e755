"""JSON report, the contract's shape: `{"findings": [Finding.to_json()...], "summary": {errors, warnings, waived}}`,
plus `"notes": [...]` when the run has notes about itself (what it could not verify), and `"shard": {index, count}`
when the run gated one shard (`check --shard I/N`).

Named `json_report` so it does not shadow the standard library's `json`. Findings in the canonical order, keys in
the contract's order, indent 2.
"""

from __future__ import annotations

import json

from ..gate.finding import Finding, GateResult


def render(result: GateResult) -> str:
    document: dict = {"findings": [f.to_json() for f in sorted(result.findings, key=Finding.sort_key)],
                      "summary": result.summary()}
    if result.notes:
        document["notes"] = list(result.notes)
    if result.shard:
        document["shard"] = result.shard_label()
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
