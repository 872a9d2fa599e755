"""GitHub-flavoured Markdown pieces every markdown output builds from: the gate's report, the diff, the cost table.

Cells are escaped here, once, so that a value never breaks a table or turns into HTML: `cell` for text, `code`
for a code span (a rule id, a path, a lock value). `table` lays out cells already escaped.
"""

from __future__ import annotations

import re


def cell(value: str) -> str:
    """A table cell: `|` escaped, line breaks kept as `<br>`, `<` and `&` not read as HTML."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|")
    return "<br>".join(line.strip() for line in value.strip().splitlines())


def code(value: str) -> str:
    """A code span in a cell: entities are not decoded there, so only `|` (and line breaks, backticks) change."""
    value = " ".join(value.split()).replace("`", "'").replace("|", "\\|")
    return f"`{value}`" if value else ""


def table(header: list[str], rows: list[list[str]], numeric: int = 0) -> list[str]:
    """A GFM table of escaped cells; the last `numeric` columns right-aligned."""
    rule = ["---"] * (len(header) - numeric) + ["--:"] * numeric
    return ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|",
            *("| " + " | ".join(row) + " |" for row in rows)]


def fence(text: str) -> str:
    """A code fence longer than any run of backticks in `text`, so the text cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)
