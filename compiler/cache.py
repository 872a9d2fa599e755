"""The incremental cache, content-addressed, so a run redoes only what its inputs changed.

Every entry is named by the SHA-256 of everything that produced it: the compiler's own fingerprint (its version,
its source files and the versions of cdk8s, Checkov and regorus), the bytes of the spec and environment files, the
lock entry, and for gate results also the policy files, the date the run judges by and the Rego engine. So an
entry can never be stale — a changed input is a different name — and invalidation is exact: whatever a change
does not reach keeps its name. Three kinds of entries: `load` (a YAML file parsed, with its source map),
`render` (a unit's objects) and `gate` (a unit's findings before waivers).

The keys are computable by anyone (every input is public), so the cache is only as trustworthy as the directory
that holds it. It lives outside the repository (`default_directory()`: `$MLGITOPS_CACHE_DIR`, else
`$XDG_CACHE_HOME/mlgitops`, else `~/.cache/mlgitops`), where a pull request cannot put files; `open_cache` refuses
a directory inside the repository that holds files git tracks (E503). Each entry also records what it was made from
and is a miss unless that matches what is at hand: a load entry the digest of the bytes it parsed, a render entry
its job's inputs, a gate entry the digest of the objects it judged. A *trusted* cache (CI, `--trusted-cache-only`)
reads gate entries only — every file is parsed and every unit rendered, and a gate entry counts only when bound to
the objects just rendered — and ignores a directory inside the checkout altogether.

Entries are JSON (never pickle: a cache directory must not be a way to run code), written atomically, and an entry
that does not parse is a miss. Deleting the directory is always safe. `enabled=False` (`--no-cache`) reads and
writes nothing. Entries unused for `MAX_AGE_DAYS` are pruned after a run over the whole repository.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

from . import __version__
from .errors import Code, Diagnostic, Location, SpecError
from .load import MAX_FILE_BYTES, Document, load

DIRECTORY_VARIABLE = "MLGITOPS_CACHE_DIR"
FORMAT = "2"  # bump when the shape of entries changes
SHOWN_TRACKED = 3  # tracked files named in the refusal; the rest are counted
KINDS = ("load", "render", "gate")
ENTRY_NAME = re.compile(r"[0-9a-f]{64}\.json|\.tmp-\w+\.json")  # an entry, or a write cut short
TRUSTED_KINDS = ("gate",)  # what a trusted cache reads: the expensive part, re-bound to what the run rendered
MAX_AGE_DAYS = 14
# Third-party code whose behaviour is part of the output: rendering, the Rego engine, Checkov's checks.
OUTPUT_PACKAGES = ("cdk8s", "cdk8s-plus-34", "checkov", "gordon-to-regorus", "pydantic")


def digest(*parts: str | bytes) -> str:
    """SHA-256 over the parts, each length-prefixed so that ("ab", "c") and ("a", "bc") differ."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def canonical(value: Any) -> str:
    """JSON with sorted keys: the same value always gives the same text (and so the same digest)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@cache
def fingerprint() -> str:
    """The compiler as an input: its version, every source file, and the versions of output-relevant packages."""
    package = Path(__file__).resolve().parent
    parts: list[str | bytes] = [FORMAT, __version__]
    for path in sorted(package.rglob("*.py")):
        parts += [path.relative_to(package).as_posix(), path.read_bytes()]
    for name in OUTPUT_PACKAGES:
        try:
            parts += [name, metadata.version(name)]
        except metadata.PackageNotFoundError:
            parts += [name, "absent"]
    return digest(*parts)


def tree_digest(directory: Path) -> str:
    """Every file under a directory, by relative path and content (the policy library as one input)."""
    parts: list[str | bytes] = []
    if directory.is_dir():
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            parts += [path.relative_to(directory).as_posix(), path.read_bytes()]
    return digest(*parts)


def default_directory() -> Path:
    """Where the cache lives: `$MLGITOPS_CACHE_DIR`, else `$XDG_CACHE_HOME/mlgitops`, else `~/.cache/mlgitops` —
    outside every repository, and shared by them (content-addressed keys make that safe). As the XDG Base Directory
    specification says, an empty or relative `XDG_CACHE_HOME` is ignored."""
    chosen = os.environ.get(DIRECTORY_VARIABLE, "")
    if chosen:
        return Path(os.path.abspath(os.path.expanduser(chosen)))
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "mlgitops"


def open_cache(root: Path, *, enabled: bool = True, read_only: bool = False, trusted: bool = False,
               note: Callable[[str], None] | None = None) -> Cache:
    """The run's cache, once it is known that no file of the checkout can be read as an entry: a trusted run
    ignores a cache directory inside the checkout (and `note`s that it did); any other run refuses one holding
    files git tracks (E503) — a commit is not a run."""
    cache = Cache(enabled=enabled, read_only=read_only, trusted=trusted)
    inside = _within_checkout(cache.directory, root) if enabled else None
    if inside is None:
        return cache
    if trusted:
        if note:
            note(f"mlgitops: the cache directory {inside}/ is inside the checkout, so it was ignored: a trusted run "
                 "(CI=true or --trusted-cache-only) reads no entry a checkout could bring")
        return Cache(cache.directory, enabled=False)
    tracked = _tracked_files(inside.top, inside.paths)
    if tracked:
        shown = ", ".join(tracked[:SHOWN_TRACKED]) + (f" and {len(tracked) - SHOWN_TRACKED} more"
                                                       if len(tracked) > SHOWN_TRACKED else "")
        raise SpecError([Diagnostic(Code.CACHE_TRACKED, Location(str(inside)),
                                    f"the cache directory holds {len(tracked)} file{'s' * (len(tracked) != 1)} "
                                    f"tracked by git ({shown}); "
                                    "cache entries must come from a run, never from a commit: remove them with "
                                    f"`git rm -r --cached {inside}` or set {DIRECTORY_VARIABLE} outside the "
                                    "repository")])
    return cache


class _Inside(NamedTuple):
    """A cache directory inside a checkout: where git runs, and the directory relative to it (as written, and with
    links resolved when that differs)."""

    top: Path
    paths: list[str]

    def __str__(self) -> str:
        return self.paths[0]


def _within_checkout(directory: Path, root: Path) -> _Inside | None:
    """Whether the cache directory lies in the repository root or the git work tree around it (a pull request
    can put files anywhere in that work tree)."""
    checkout = next((p for p in (root.resolve(), *root.resolve().parents) if (p / ".git").exists()), root.resolve())
    written, resolved = Path(os.path.normpath(directory.absolute())), directory.resolve()
    for top in dict.fromkeys((Path(os.path.normpath(root.absolute())), root.resolve(), checkout)):
        paths = [p.relative_to(top).as_posix() for p in dict.fromkeys((written, resolved)) if p.is_relative_to(top)]
        if paths:
            return _Inside(top, paths)
    return None


def _tracked_files(top: Path, paths: list[str]) -> list[str]:
    """Files under `paths` (relative to `top`) that git tracks or has staged; none where there is no git."""
    try:
        listed = subprocess.run(["git", "-C", str(top), "ls-files", "-z", "--", *paths], capture_output=True,
                                timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted(set(listed.stdout.decode(errors="replace").split("\0")) - {""}) if listed.returncode == 0 else []


class Cache:
    def __init__(self, directory: Path | None = None, *, enabled: bool = True, read_only: bool = False,
                 trusted: bool = False):
        self.directory = directory if directory is not None else default_directory()
        self.enabled = enabled
        self.read_only = read_only  # reads entries, writes none (a command that promises to write nothing)
        self.trusted = trusted  # reads gate entries only, and those only when bound to freshly rendered objects
        self._pending: list[tuple[str, str, Any]] = []

    @property
    def identity(self) -> tuple:
        """What decides which entries this cache yields (a worker keys its engines by it)."""
        return (self.directory, self.enabled, self.read_only, self.trusted)

    def _path(self, kind: str, key: str) -> Path:
        return self.directory / kind / key[:2] / f"{key}.json"

    def get(self, kind: str, key: str) -> Any | None:
        if not self.enabled or (self.trusted and kind not in TRUSTED_KINDS):
            return None
        path = self._path(kind, key)
        try:
            entry = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        if not self.read_only:
            with contextlib.suppress(OSError):
                os.utime(path)  # recently used: kept by `prune`
        return entry.get("value")

    def put_later(self, kind: str, key: str, value: Any) -> None:
        """Written by `flush`, once the whole run's input is known to be good: bad input writes nothing at all."""
        if self.enabled and not self.read_only:
            self._pending.append((kind, key, value))

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        for kind, key, value in pending:
            self.put(kind, key, value)

    def put(self, kind: str, key: str, value: Any) -> None:
        """Best effort: a cache that cannot be written (read-only checkout, full disk) only costs time."""
        if not self.enabled or self.read_only:
            return
        path = self._path(kind, key)
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # other local users cannot add entries
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".tmp-", suffix=".json", delete=False,
                                             encoding="utf-8") as handle:
                json.dump({"key": key, "value": value}, handle, separators=(",", ":"), ensure_ascii=False)
            os.replace(handle.name, path)
        except OSError:
            return

    def load(self, path: Path, display: str, check: Callable[[Document], None] | None = None) -> Document:
        """`load.load`, or a file whose exact bytes were loaded (and passed `check`) before, from the cache:
        parsing is most of what validating a repository costs."""
        try:
            raw = path.read_bytes() if path.stat().st_size <= MAX_FILE_BYTES else None
        except OSError:
            raw = None  # `load` says what is wrong with it
        purpose = getattr(check, "__qualname__", "plain")
        key = digest(fingerprint(), "load", purpose, display, raw) if raw is not None and self.enabled else None
        cached = self._bound_document(self.get("load", key) if key else None, display, raw)
        if cached is not None:
            return cached
        document = load(path, display, raw)
        if check:
            check(document)
        if key:
            self.put_later("load", key, document.to_json())
        return document

    @staticmethod
    def _bound_document(entry: Any, display: str, raw: bytes | None) -> Document | None:
        """The entry's document, if it says it was parsed from these very bytes of this file (else a miss)."""
        if not isinstance(entry, dict) or raw is None or entry.get("file") != display \
                or entry.get("sha256") != hashlib.sha256(raw).hexdigest():
            return None
        try:
            return Document.from_json(entry)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            return None  # not an entry this compiler wrote

    def prune(self, max_age_days: int = MAX_AGE_DAYS) -> int:
        """Delete entries (and stray temporary files) not used for `max_age_days`; how many were deleted."""
        if not self.enabled or self.read_only or not self.directory.is_dir():
            return 0
        cutoff, removed = time.time() - max_age_days * 86400, 0
        # Only what `put` writes: the directory may be one the user shares with other files ($MLGITOPS_CACHE_DIR).
        for path in (p for kind in KINDS for p in (self.directory / kind).glob("*/*.json")
                     if ENTRY_NAME.fullmatch(p.name)):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except OSError:
                continue
        return removed
