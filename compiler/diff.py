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

Errors (`SpecError`): a base that is not a commit, a root outside git, or git failing ([E401] USAGE); an unknown
`--env` ([E301]); a spec or environment that does not compile, on either side (base diagnostics are located as
`REF:spec/x.yaml:line:col`); a model the base's lock and the working tree's lock both leave unpinned ([E703]).
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from . import cost
from .cache import Cache, open_cache
from .driver import SPEC_SUFFIXES, Result, Workspace, compile_all
from .emit import ARGOCD_DIR, Unit, layout
from .errors import Code, Diagnostic, Location, SpecError
from .pins import LOCK_FILE, PinChange, Pins, pin_changes, read_lock, write_lock
from .yamltext import dump_yaml

GENERATED = "generated"
SPEC_HASH = "mlgitops.io/spec-hash"
CONTEXT_LINES = 2
GIT_TIMEOUT_SECONDS = 120
# GitHub refuses comments over 65,536 characters; past this, sections are listed without their diff bodies.
MARKDOWN_LIMIT = 60_000
_HASH_VALUE = re.compile(r"mlgitops\.io/spec-hash: '?([0-9a-f]+)'?")
def _without_hash(text: str) -> str:
    """The object with its spec hash blanked wherever it appears: in the annotation, and where a pipeline's register
    step records it as lineage."""
    found = _HASH_VALUE.search(text)
    return text.replace(found.group(1), "<spec-hash>") if found else text


# Variables a git hook sets that would point `git -C` at another repository or index.
_GIT_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR", "GIT_PREFIX")


@dataclass(frozen=True)
class ObjectDiff:
    """One object that differs between the base and the working tree."""

    path: str  # under generated/: <env>/<system>/<kind>-<name>.yaml
    status: str  # "added", "removed" or "changed"
    kind: str
    name: str
    diff: str = ""  # changed objects: unified diff of the YAML text, a/generated/… → b/generated/…
    hash_only: bool = False  # changed, but only in the mlgitops.io/spec-hash annotation

    @property
    def env(self) -> str:
        return self.path.split("/")[0]

    @property
    def system(self) -> str:
        return self.path.split("/")[1]

    @property
    def marker(self) -> str:
        return {"added": "+", "removed": "-", "changed": "~"}[self.status]


@dataclass(frozen=True)
class SectionDiff:
    """The differing objects of one system (or of the Argo CD apps, `_argocd`) in one environment."""

    env: str
    system: str
    objects: tuple[ObjectDiff, ...]

    def _count(self, status: str, hash_only: bool = False) -> int:
        return sum(1 for o in self.objects if o.status == status and o.hash_only == hash_only)

    @property
    def added(self) -> int:
        return self._count("added")

    @property
    def removed(self) -> int:
        return self._count("removed")

    @property
    def changed(self) -> int:
        """Changed beyond the spec-hash annotation."""
        return self._count("changed")

    @property
    def hash_only(self) -> int:
        return self._count("changed", hash_only=True)

    @property
    def shown(self) -> tuple[ObjectDiff, ...]:
        """The objects listed one by one (everything but the spec-hash-only ones), by path."""
        return tuple(o for o in self.objects if not o.hash_only)

    @property
    def label(self) -> str:
        return f"{self.env}/{self.system}"


@dataclass(frozen=True)
class DiffResult:
    base: str  # the ref as given
    commit: str  # what it resolved to
    sections: tuple[SectionDiff, ...] = ()  # only sections with differences, by environment then system
    notes: tuple[str, ...] = ()  # how the comparison was made where that is not the obvious way (fallbacks)
    cost: str = ""  # markdown table of the systems whose estimated cost the change moves ("" when none)
    pins: tuple[PinChange, ...] = ()  # pins of mlgitops.lock.yaml that differ, whether or not generated/ does

    @property
    def has_changes(self) -> bool:
        return bool(self.sections)

    def total(self, what: str) -> int:
        return sum(getattr(s, what) for s in self.sections)

    @property
    def objects(self) -> tuple[ObjectDiff, ...]:
        return tuple(o for s in self.sections for o in s.objects)


# --------------------------------------------------------------------------------------------------- comparing


def compare(old: list[Unit], new: list[Unit]) -> tuple[SectionDiff, ...]:
    """The objects of two compilations matched by path under generated/; sections sorted by environment, then
    system (each environment's Argo CD apps last), objects by path."""
    before = {path: obj for path, (_, obj) in layout(old).items()}
    after = {path: obj for path, (_, obj) in layout(new).items()}
    found: list[ObjectDiff] = []
    for path in sorted(before.keys() | after.keys()):
        obj = after.get(path) or before[path]
        kind, name = obj["kind"], obj["metadata"]["name"]
        if path not in before:
            found.append(ObjectDiff(path, "added", kind, name))
        elif path not in after:
            found.append(ObjectDiff(path, "removed", kind, name))
        else:
            old_text, new_text = dump_yaml(before[path]), dump_yaml(after[path])
            if old_text != new_text:
                hash_only = _without_hash(old_text) == _without_hash(new_text)
                found.append(ObjectDiff(path, "changed", kind, name, unified_diff(path, old_text, new_text),
                                        hash_only))
    grouped: dict[tuple[str, str], list[ObjectDiff]] = {}
    for item in found:
        grouped.setdefault((item.env, item.system), []).append(item)
    order = sorted(grouped, key=lambda key: (key[0], key[1] == ARGOCD_DIR, key[1]))
    return tuple(SectionDiff(env, system, tuple(grouped[(env, system)])) for env, system in order)


def unified_diff(path: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 f"a/{GENERATED}/{path}", f"b/{GENERATED}/{path}", n=CONTEXT_LINES)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


# --------------------------------------------------------------------------------------------------- compiling


def diff_against(root: Path, base: str = "HEAD", envs: tuple[str, ...] = (),
                 cache: Cache | None = None) -> DiffResult:
    """Compile `base` (a git revision of the repository holding `root`) and the working tree at `root`, and
    compare. `envs` limits both sides to these environments (default: every environment of either side)."""
    root = Path(root)
    toplevel, prefix, commit = _resolve(root, base)
    wanted = tuple(dict.fromkeys(envs))
    unknown = [e for e in wanted if e not in _env_names(root)]
    notes: list[str] = []
    scratch = Path(tempfile.mkdtemp(prefix="mlgitops-diff-"))
    worktree = scratch / "base"
    try:
        _git(toplevel, "worktree", "add", "--detach", "--quiet", str(worktree), commit, hooks_off=scratch)
        base_root = worktree / prefix
        unknown = [e for e in unknown if e not in _env_names(base_root)]
        if unknown:
            raise SpecError([Diagnostic(Code.UNKNOWN_ENVIRONMENT, Location("environments"),
                                        f"no environment named {e!r} in the working tree or in {base}")
                             for e in unknown])
        # Content-addressed, so the base's worktree can use the working tree's cache; read-only: diff writes nothing.
        cache = cache or open_cache(root, read_only=True)
        new_pins, old_pins = read_lock(root), read_lock(base_root)  # the base's lock as committed, before borrowing
        new = _compile(root, wanted, "the working tree", notes, cache)
        old = _compile_base(base_root, wanted, base, new_pins, notes, cache)
    finally:
        _remove_worktree(toplevel, worktree)
        shutil.rmtree(scratch, ignore_errors=True)
    pins = tuple(c for c in pin_changes(old_pins, new_pins) if not wanted or c.env in wanted)
    return DiffResult(base, commit, compare(_units(old), _units(new)), tuple(notes), _cost_delta(old, new), pins)


def _cost_delta(old: Result | None, new: Result | None) -> str:
    """The cost table of the systems whose estimate the change moves (added, removed or different)."""
    before, after = (cost.estimates(s for s, _ in r.merged.values()) if r else {} for r in (old, new))
    moved = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    if not moved:
        return ""
    return cost.markdown_table({k: v for k, v in after.items() if k in moved},
                               {k: v for k, v in before.items() if k in moved})


def _compile(root: Path, envs: tuple[str, ...], label: str, notes: list[str], cache: Cache) -> Result | None:
    """A tree compiled offline; None when it has no specs or environments (or none of those asked for)."""
    available = _env_names(root)
    missing = "spec/" if not _yaml_names(root / "spec") else "environments/" if not available else ""
    if missing:
        notes.append(f"{label} has nothing in {missing}: it compiles to nothing")
        return None
    chosen = tuple(e for e in envs if e in available) if envs else ()
    if envs and not chosen:
        return None  # the environments asked for exist only on the other side
    return compile_all(Workspace(root, (), chosen), offline=True, cache=cache)


def _units(result: Result | None) -> list[Unit]:
    return result.units if result else []


def _compile_base(root: Path, envs: tuple[str, ...], ref: str, working_pins: Pins, notes: list[str],
                  cache: Cache) -> Result | None:
    """The base with its own lock. Where that pins nothing for a system (a base older than the lock, or a spec
    change committed without its lock), the working tree's pin is used when it answers the base's request (same
    model and alias or version), and a note says so. A model neither lock pins is an error: diff never asks the
    registry."""
    label = f"the base {ref}"
    try:
        try:
            return _compile(root, envs, label, notes, cache)
        except SpecError as exc:
            if not exc.diagnostics or any(d.code is not Code.LOCK_MISSING for d in exc.diagnostics):
                raise
            missing = exc.diagnostics
        base_pins = read_lock(root)
        borrowed = {key: pin for key, pin in working_pins.items() if key not in base_pins}
        if not borrowed:
            raise _unpinned(ref, missing)
        write_lock(root, {**base_pins, **borrowed})  # only in the temporary worktree
        try:
            result = _compile(root, envs, label, notes, cache)
        except SpecError as exc:
            if all(d.code is Code.LOCK_MISSING for d in exc.diagnostics):
                raise _unpinned(ref, exc.diagnostics) from None
            raise
        assert result is not None  # it compiled before, up to the lock
        used = sorted(key for key, (_, model) in result.merged.items() if key in borrowed and model is not None)
        notes.append(f"{label}'s {LOCK_FILE} pins no model version for "
                     f"{', '.join(f'{env}/{system}' for env, system in used)}: compiled with the working tree's pins")
        return result
    except SpecError as exc:
        raise SpecError([_at_base(d, ref) for d in exc.diagnostics]) from None


def _unpinned(ref: str, diagnostics: list[Diagnostic]) -> SpecError:
    """The base asks for a model version neither lock pins: say why diff did not simply ask the registry."""
    hint = (f" (neither the base {ref} nor the working tree's {LOCK_FILE} pins it, and diff never asks the "
            "registry)")
    return SpecError([replace(d, message=d.message.split(" (run")[0] + hint) for d in diagnostics])


def _at_base(diagnostic: Diagnostic, ref: str) -> Diagnostic:
    """A problem in the base, located as git names a file in a revision: `REF:spec/x.yaml`."""
    location = diagnostic.location
    if location.file.startswith(f"{ref}:"):
        return diagnostic
    return replace(diagnostic, location=Location(f"{ref}:{location.file}", location.line, location.column))


def _yaml_names(directory: Path) -> list[str]:
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file())


def _env_names(root: Path) -> list[str]:
    return _yaml_names(root / "environments")


# --------------------------------------------------------------------------------------------------------- git


def _git(cwd: Path, *args: str, hooks_off: Path | None = None) -> subprocess.CompletedProcess[str]:
    """One git command in `cwd`; git missing, hanging or failing is a usage error, with git's own words."""
    options = ["-c", f"core.hooksPath={hooks_off / 'no-hooks'}"] if hooks_off else []  # no post-checkout hooks
    env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV}
    try:
        done = subprocess.run(["git", "-C", str(cwd), *options, *args], capture_output=True, text=True, env=env,
                              timeout=GIT_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _usage(f"git {args[0]} failed: {exc}") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise _usage(f"git {args[0]} failed: {lines[-1].strip() if lines else f'exit {done.returncode}'}")
    return done


def _resolve(root: Path, base: str) -> tuple[Path, str, str]:
    """The repository's top level, `root`'s place in it (`platform/` or ''), and the commit `base` names."""
    if not base or base.startswith("-"):
        raise _usage(f"--base {base!r} is not a git revision")
    if not root.is_dir():
        raise _usage(f"{root} is not a directory")
    try:
        toplevel = Path(_git(root, "rev-parse", "--show-toplevel").stdout.strip())
        prefix = _git(root, "rev-parse", "--show-prefix").stdout.strip()
    except SpecError:
        raise _usage(f"{root} is not inside a git repository: diff needs git to check out the base") from None
    try:
        commit = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{base}^{{commit}}").stdout
    except SpecError:
        raise _usage(f"--base {base!r} is not a commit in this repository (a branch, tag or commit, e.g. "
                     "origin/main or HEAD~1)") from None
    return toplevel, prefix, commit.strip()


def _remove_worktree(toplevel: Path, worktree: Path) -> None:
    try:
        _git(toplevel, "worktree", "remove", "--force", str(worktree))
    except SpecError:  # never checked out, or already gone: forget it all the same
        shutil.rmtree(worktree, ignore_errors=True)
        with contextlib.suppress(SpecError):
            _git(toplevel, "worktree", "prune")


def _usage(message: str) -> SpecError:
    return SpecError([Diagnostic(Code.USAGE, Location("diff"), message)])


# --------------------------------------------------------------------------------------------------- rendering


def _plural(count: int, word: str) -> str:
    if count == 1:
        return f"1 {word}"
    return f"{count} {word[:-1]}ies" if word.endswith("y") else f"{count} {word}s"


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
        lines.append(f"{section.label}: {_counts(section)}")
        for obj in section.shown:
            lines.append(f"  {obj.marker} {obj.kind} {obj.name}  ({obj.path})")
            if obj.diff:
                lines += obj.diff.rstrip("\n").splitlines()
        if section.hash_only:
            lines.append(f"  = {_plural(section.hash_only, _other(section))} changed only in {SPEC_HASH}")
            if verbose:
                lines += [f"    = {o.kind} {o.name}  ({o.path})" for o in section.objects if o.hash_only]
        lines.append("")
    if result.cost:
        lines += ["Estimated monthly cost of what changed:", result.cost.rstrip("\n"), ""]
    if result.pins:
        lines.append(f"{LOCK_FILE}: {_plural(len(result.pins), 'pin')} changed")
        for change in result.pins:
            lines.append(f"  ~ {change.env}/{change.system} ({change.model})")
            lines += [f"      {name}: {_value(old)} → {_value(new)}" for name, old, new in change.fields]
        lines.append("")
    if not result.has_changes:
        lines.append(f"No changes to {GENERATED}/ against {_against(result)}.")
    else:
        lines.append(f"{GENERATED}/ changes in {_plural(len(result.sections), 'directory')} against "
                     f"{_against(result)}: {_counts(result)}")
    return "\n".join(lines) + "\n"


def _value(value: str | None) -> str:
    return "(none)" if value is None else value


def _pin_table(pins: tuple[PinChange, ...]) -> list[str]:
    rows = ["| environment | system | model | field | before | after |", "|---|---|---|---|---|---|"]
    for change in pins:
        for name, old, new in change.fields:
            rows.append(f"| {change.env} | {_cell(change.system)} | {_cell(change.model)} | `{name}` | "
                        f"{_md_value(old)} | {_md_value(new)} |")
    return rows


def _md_value(value: str | None) -> str:
    """A lock value in a table cell: code, with what would break the table or the code span escaped away."""
    if value is None:
        return "—"
    text = value.replace("|", "\\|").replace("`", "'").replace("\n", " ")
    return f"`{text}`"


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _cell(name: str) -> str:
    return f"`{name}`"


def _markdown_section(section: SectionDiff, with_diffs: bool, base: str) -> str:
    parts = [f"<details><summary><b>{section.label}</b>: {_counts(section)}</summary>", ""]
    for obj in section.shown:
        parts.append(f"- `{obj.marker}` {obj.kind} `{obj.name}` — `{GENERATED}/{obj.path}`")
    if section.hash_only:
        parts.append(f"- {_plural(section.hash_only, _other(section))} changed only in `{SPEC_HASH}`")
    diffs = "".join(o.diff for o in section.shown if o.diff)
    if diffs and with_diffs:
        fence = _fence(diffs)
        parts += ["", f"{fence}diff", diffs.rstrip("\n"), fence]
    elif diffs:
        parts += ["", f"_Diff omitted to keep this comment under GitHub's size limit: run "
                      f"`mlgitops diff --base {base}` locally._"]
    parts += ["", "</details>", ""]
    return "\n".join(parts)



def render_markdown(result: DiffResult, *, limit: int = MARKDOWN_LIMIT) -> str:
    """For a pull-request comment: a heading, a summary table (env, system, added, removed, changed, spec-hash
    only), then a collapsed `<details>` per system/env with its diff in a ```diff fence. Over `limit` characters,
    the remaining sections keep their object lists but drop their diffs."""
    head = [f"### Manifest diff against `{result.base}` (`{result.commit[:12]}`)", ""]
    head += [f"> **Note:** {note}" for note in result.notes] + ([""] if result.notes else [])
    if result.pins:
        head += [f"#### Model pins this change moves in `{LOCK_FILE}`", "", *_pin_table(result.pins), ""]
    if not result.has_changes:
        return "\n".join(head + [f"No changes to {GENERATED}/.", ""])
    head += ["| environment | system | added | removed | changed | spec-hash only |",
             "|---|---|---:|---:|---:|---:|"]
    for s in result.sections:
        head.append(f"| {s.env} | {_cell(s.system)} | {s.added} | {s.removed} | {s.changed} | {s.hash_only} |")
    head += [f"| **total** | | **{result.total('added')}** | **{result.total('removed')}** | "
             f"**{result.total('changed')}** | **{result.total('hash_only')}** |", ""]
    if result.cost:
        head += ["#### Estimated monthly cost of what changed", "", result.cost.rstrip("\n"), ""]
    text = "\n".join(head) + "\n"
    for index, section in enumerate(result.sections):
        full = _markdown_section(section, True, result.base)
        # room for this section and the rest at their shortest
        rest = sum(len(_markdown_section(s, False, result.base)) for s in result.sections[index + 1:])
        text += full if len(text) + len(full) + rest <= limit else _markdown_section(section, False, result.base)
    return text

