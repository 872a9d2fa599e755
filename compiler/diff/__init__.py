"""`mlgitops diff`: what a change does to `generated/`, per environment and system, object by object.

Both sides are compiled in memory by this compiler, offline (from each side's own `mlgitops.lock.yaml`), so a diff
never asks the model registry and never writes anything: the working tree as it is, and the base revision checked
out into a temporary `git worktree` that is removed afterwards. Objects are matched by their path under
`generated/` (`emit.layout`): added, removed, or changed — a changed one with a unified diff of its YAML text.

Every object of a system carries the `mlgitops.io/spec-hash` annotation, so any spec change touches all of them; an
object whose *only* difference is that annotation is counted apart ("spec-hash only") and not shown line by line,
so the diff shows what the change does, not the hash ripple.

Every pin of `mlgitops.lock.yaml` that differs between the two sides is listed too, field by field (version,
sourceUri, runId, each tag: old → new), even when `generated/` does not change: the lock is what the prod model-risk
rules judge, so a reviewer sees a validation status or date that a change moves.
The estimated monthly cost of every unit whose estimate the change moves is part of the result, as estimates of
both sides (`DiffResult.cost`). The package: compare.py (what differs), worktree.py (the base checked out and both
sides compiled), render.py (text and markdown).

Errors (`SpecError`): a base that is not a commit, a root outside git, or git failing ([E401] USAGE); an unknown
`--env` ([E301]); a spec or environment that does not compile, on either side (base diagnostics are located as
`REF:spec/x.yaml:line:col`); a model the base's lock and the working tree's lock both leave unpinned ([E703]).
"""

from __future__ import annotations

from pathlib import Path

from ..cache import Cache, open_cache
from ..cost import Estimate, estimates
from ..driver import Result
from ..errors import Code, Diagnostic, Location, SpecError
from ..pins import pin_changes, read_lock
from ..unitkey import UnitKey
from .compare import DiffResult, ObjectDiff, SectionDiff, compare
from .render import render_markdown, render_text
from .worktree import checkout, compile_base, compile_tree, env_names, resolve

__all__ = ["DiffResult", "ObjectDiff", "SectionDiff", "compare", "diff_against", "render_markdown", "render_text"]


def diff_against(root: Path, base: str = "HEAD", envs: tuple[str, ...] = (),
                 cache: Cache | None = None) -> DiffResult:
    """Compile `base` (a git revision of the repository holding `root`) and the working tree at `root`, and
    compare. `envs` limits both sides to these environments (default: every environment of either side)."""
    root = Path(root)
    toplevel, prefix, commit = resolve(root, base)
    wanted = tuple(dict.fromkeys(envs))
    unknown = [e for e in wanted if e not in env_names(root)]
    notes: list[str] = []
    with checkout(toplevel, commit) as worktree:
        base_root = worktree / prefix
        unknown = [e for e in unknown if e not in env_names(base_root)]
        if unknown:
            raise SpecError([Diagnostic(Code.UNKNOWN_ENVIRONMENT, Location("environments"),
                                        f"no environment named {e!r} in the working tree or in {base}")
                             for e in unknown])
        # Content-addressed, so the base's worktree can use the working tree's cache; read-only: diff writes nothing.
        cache = cache or open_cache(root, read_only=True)
        new_pins, old_pins = read_lock(root), read_lock(base_root)  # the base's lock as committed, before borrowing
        new = compile_tree(root, wanted, "the working tree", notes, cache)
        old = compile_base(base_root, wanted, base, new_pins, notes, cache)
    pins = tuple(c for c in pin_changes(old_pins, new_pins) if not wanted or c.env in wanted)
    sections = compare(old.units if old else [], new.units if new else [])
    return DiffResult(base, commit, sections, tuple(notes), _cost_moved(old, new), pins)


def _cost_moved(old: Result | None, new: Result | None) -> dict[UnitKey, tuple[Estimate | None, Estimate | None]]:
    """(base, working tree) estimates of the units whose estimate the change moves: added, removed or different."""
    before, after = (estimates(s for s, _ in r.merged.values()) if r else {} for r in (old, new))
    return {key: (before.get(key), after.get(key)) for key in sorted(before.keys() | after.keys())
            if before.get(key) != after.get(key)}
