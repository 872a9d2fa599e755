"""Report formats of `mlgitops check --format`: one module per format, each a `render(GateResult) -> str`.

Input: the gate's `GateResult` (findings, rules, units, thresholds, waivers). Output: the report as text, ending in
a newline, to be written as-is. Rendering is pure and deterministic: the same result gives the same bytes. The
registry is explicit, in the order `--format` lists the choices; a new format is one module plus one line here.
Beside the formats, what other outputs share: md.py (markdown cells and tables), cost.py (the cost tables).
"""

from __future__ import annotations

from collections.abc import Callable

from ..gate.finding import GateResult
from . import github, json_report, junit, markdown, sarif, text

Renderer = Callable[[GateResult], str]

FORMATS: dict[str, Renderer] = {
    "text": text.render,
    "json": json_report.render,
    "sarif": sarif.render,
    "junit": junit.render,
    "github": github.render,
    "markdown": markdown.render,
}

__all__ = ["FORMATS", "Renderer"]
