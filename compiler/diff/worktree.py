"""The two sides of a diff: the base revision checked out with git, and each side compiled offline.

`resolve` finds the repository and the commit a `--base` names; `checkout` puts that commit in a temporary
`git worktree` (hooks off) and removes it afterwards; `compile_tree` compiles a side in memory from its own
`mlgitops.lock.yaml`, and `compile_base` falls back to the working tree's pins where the base's lock has none. Diff
never asks the model registry and never writes outside the temporary worktree. Errors: git missing, failing or not
a repository, a base that is not a commit ([E401] USAGE); the base's problems located as `REF:spec/x.yaml`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from ..cache import Cache
from ..driver import SPEC_SUFFIXES, Result, Workspace, compile_all
from ..errors import Code, Diagnostic, Location, SpecError
from ..pins import LOCK_FILE, Pins, read_lock, write_lock
from ..unitkey import UnitKey

GIT_TIMEOUT_SECONDS = 120
# Variables a git hook sets that would point `git -C` at another repository or index.
_GIT_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR", "GIT_PREFIX")


@contextlib.contextmanager
def checkout(toplevel: Path, commit: str) -> Iterator[Path]:
    """`commit` checked out in a temporary worktree, removed on the way out whatever happens."""
    scratch = Path(tempfile.mkdtemp(prefix="mlgitops-diff-"))
    worktree = scratch / "base"
    try:
        _git(toplevel, "worktree", "add", "--detach", "--quiet", str(worktree), commit, hooks_off=scratch)
        yield worktree
    finally:
        _remove_worktree(toplevel, worktree)
        shutil.rmtree(scratch, ignore_errors=True)




def compile_tree(root: Path, envs: tuple[str, ...], label: str, notes: list[str], cache: Cache) -> Result | None:
    """A tree compiled offline; None when it has no specs or environments (or none of those asked for)."""
    available = env_names(root)
    missing = "spec/" if not _yaml_names(root / "spec") else "environments/" if not available else ""
    if missing:
        notes.append(f"{label} has nothing in {missing}: it compiles to nothing")
        return None
    chosen = tuple(e for e in envs if e in available) if envs else ()
    if envs and not chosen:
        return None  # the environments asked for exist only on the other side
    return compile_all(Workspace(root, (), chosen), offline=True, cache=cache)


def compile_base(root: Path, envs: tuple[str, ...], ref: str, working_pins: Pins, notes: list[str],
                  cache: Cache) -> Result | None:
    """The base with its own lock. Where that pins nothing for a system (a base older than the lock, or a spec
    change committed without its lock), the working tree's pin is used when it answers the base's request (same
    model and alias or version), and a note says so. A model neither lock pins is an error: diff never asks the
    registry."""
    label = f"the base {ref}"
    try:
        try:
            return compile_tree(root, envs, label, notes, cache)
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
            result = compile_tree(root, envs, label, notes, cache)
        except SpecError as exc:
            if all(d.code is Code.LOCK_MISSING for d in exc.diagnostics):
                raise _unpinned(ref, exc.diagnostics) from None
            raise
        assert result is not None  # it compiled before, up to the lock
        used = sorted(key for key, (_, model) in result.merged.items() if key in borrowed and model is not None)
        notes.append(f"{label}'s {LOCK_FILE} pins no model version for "
                     f"{', '.join(str(UnitKey(*key)) for key in used)}: compiled with the working tree's pins")
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


def env_names(root: Path) -> list[str]:
    return _yaml_names(root / "environments")


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


def resolve(root: Path, base: str) -> tuple[Path, str, str]:
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

