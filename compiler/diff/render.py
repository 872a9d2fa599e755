"""How a diff reads: `render_text` for a terminal, `render_markdown` for a pull-request comment.

Input: a `DiffResult`. Output: text ending in a newline; pure and deterministic. Markdown cells and code spans are
escaped by report/md.py; the cost of what changed is report/cost.py's table, in plain text or in markdown.
"""

from __future__ import annotations

from collections.abc import Callable

from ..labels import SPEC_HASH_ANNOTATION
from ..pins import LOCK_FILE, PinChange
from ..report import cost as cost_report
from ..report.md import cell, code, fence, table
from ..textutil import plural
from ..unitkey import UnitKey
from .compare import GENERATED, DiffResult, SectionDiff

# GitHub refuses comments over 65,536 characters; past this, sections are listed without their diff bodies.
MARKDOWN_LIMIT = 60_000


def _cost(result: DiffResult, render: Callable[..., str]) -> str:
    """The table of the units whose estimate the change moves, by `cost_report.text_table` or `markdown_table`."""
    current = {key: now for key, (_, now) in result.cost.items() if now is not None}
    base = {key: was for key, (was, _) in result.cost.items() if was is not None}
    return render(current, base).rstrip("\n")


def _counts(item: SectionDiff | DiffResult) -> str:
    total = item.total if isinstance(item, DiffResult) else (lambda what: getattr(item, what))
    text = f"{total('added')} added, {total('removed')} removed, {total('changed')} changed"
    hashed = total("hash_only")
    return text + (f", {hashed} spec-hash only" if hashed else "")


def _other(section: SectionDiff) -> str:
    return "more object" if section.shown else "object"


def _against(result: DiffResult) -> str:
    return f"{result.base} ({result.commit[:12]})"


def render_text(result: DiffResult, *, verbose: bool = False) -> str:
    """Per environment/system: a header, `+ added`, `- removed`, `~ changed` lines (changed ones followed by
    their unified diff), the spec-hash-only objects as one line (each with `verbose`); a summary line last."""
    lines = [f"note: {note}" for note in result.notes]
    for section in result.sections:
        lines.append(f"{section.unit}: {_counts(section)}")
        for obj in section.shown:
            lines.append(f"  {obj.marker} {obj.kind} {obj.name}  ({obj.path})")
            if obj.diff:
                lines += obj.diff.rstrip("\n").splitlines()
        if section.hash_only:
            lines.append(f"  = {plural(section.hash_only, _other(section))} changed only in {SPEC_HASH_ANNOTATION}")
            if verbose:
                lines += [f"    = {o.kind} {o.name}  ({o.path})" for o in section.objects if o.hash_only]
        lines.append("")
    if result.cost:
        lines += ["Estimated monthly cost of what changed:",
                  *(f"  {line}" for line in _cost(result, cost_report.text_table).splitlines()), ""]
    if result.pins:
        lines.append(f"{LOCK_FILE}: {plural(len(result.pins), 'pin')} changed")
        for change in result.pins:
            lines.append(f"  ~ {UnitKey(change.env, change.system)} ({change.model})")
            lines += [f"      {name}: {_value(old)} → {_value(new)}" for name, old, new in change.fields]
        lines.append("")
    if not result.has_changes:
        lines.append(f"No changes to {GENERATED}/ against {_against(result)}.")
    else:
        lines.append(f"{GENERATED}/ changes in {plural(len(result.sections), 'directory')} against "
                     f"{_against(result)}: {_counts(result)}")
    return "\n".join(lines) + "\n"


def _value(value: str | None) -> str:
    return "(none)" if value is None else value


def _pin_table(pins: tuple[PinChange, ...]) -> list[str]:
    return table(["environment", "system", "model", "field", "before", "after"],
                 [[cell(change.env), code(change.system), code(change.model), code(name), _md_value(old),
                   _md_value(new)] for change in pins for name, old, new in change.fields])


def _md_value(value: str | None) -> str:
    return "—" if value is None else code(value)


def _markdown_section(section: SectionDiff, with_diffs: bool, base: str) -> str:
    parts = [f"<details><summary><b>{section.unit}</b>: {_counts(section)}</summary>", ""]
    for obj in section.shown:
        parts.append(f"- {code(obj.marker)} {obj.kind} {code(obj.name)} — {code(f'{GENERATED}/{obj.path}')}")
    if section.hash_only:
        parts.append(f"- {plural(section.hash_only, _other(section))} changed only in `{SPEC_HASH_ANNOTATION}`")
    diffs = "".join(o.diff for o in section.shown if o.diff)
    if diffs and with_diffs:
        edge = fence(diffs)
        parts += ["", f"{edge}diff", diffs.rstrip("\n"), edge]
    elif diffs:
        parts += ["", f"_Diff omitted to keep this comment under GitHub's size limit: run "
                      f"`mlgitops diff --base {base}` locally._"]
    parts += ["", "</details>", ""]
    return "\n".join(parts)


def render_markdown(result: DiffResult, *, limit: int = MARKDOWN_LIMIT) -> str:
    """For a pull-request comment: a heading, a summary table (env, system, added, removed, changed, spec-hash
    only), then a collapsed `<details>` per env/system with its diff in a ```diff fence. Over `limit` characters,
    the remaining sections keep their object lists but drop their diffs."""
    head = [f"### Manifest diff against `{result.base}` (`{result.commit[:12]}`)", ""]
    head += [f"> **Note:** {cell(note)}" for note in result.notes] + ([""] if result.notes else [])
    if result.pins:
        head += [f"#### Model pins this change moves in `{LOCK_FILE}`", "", *_pin_table(result.pins), ""]
    if not result.has_changes:
        return "\n".join(head + [f"No changes to {GENERATED}/.", ""])
    counts = ("added", "removed", "changed", "hash_only")
    rows = [[cell(s.env), code(s.system), *(str(getattr(s, what)) for what in counts)] for s in result.sections]
    rows.append(["**total**", "", *(f"**{result.total(what)}**" for what in counts)])
    head += [*table(["environment", "system", "added", "removed", "changed", "spec-hash only"], rows, numeric=4), ""]
    if result.cost:
        head += ["#### Estimated monthly cost of what changed", "", _cost(result, cost_report.markdown_table), ""]
    text = "\n".join(head) + "\n"
    for index, section in enumerate(result.sections):
        full = _markdown_section(section, True, result.base)
        # room for this section and the rest at their shortest
        rest = sum(len(_markdown_section(s, False, result.base)) for s in result.sections[index + 1:])
        text += full if len(text) + len(full) + rest <= limit else _markdown_section(section, False, result.base)
    return text

