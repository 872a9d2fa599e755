"""The incremental cache: `.mlgitops-cache/`, content-addressed, so a run redoes only what its inputs changed.

Every entry is named by the SHA-256 of everything that produced it: the compiler's own fingerprint (its version,
its source files and the versions of cdk8s, Checkov and regorus), the bytes of the spec and environment files, the
lock entry, and for gate results also the policy files, the date the run judges by and the Rego engine. So an
entry can never be stale — a changed input is a different name — and invalidation is exact: whatever a change
does not reach keeps its name. Three kinds of entries: `load` (a YAML file parsed, with its source map),
`render` (a unit's objects) and `gate` (a unit's findings before waivers).

Entries are JSON (never pickle: a cache directory must not be a way to run code), written atomically, and an entry
that does not parse is a miss. Deleting the directory is always safe. `enabled=False` (`--no-cache`) reads and
writes nothing. Entries unused for `MAX_AGE_DAYS` are pruned after a run over the whole repository.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__
from .load import MAX_FILE_BYTES, Document, load

CACHE_DIR = ".mlgitops-cache"
FORMAT = "1"  # bump when the shape of entries changes
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


class Cache:
    def __init__(self, root: Path, enabled: bool = True, read_only: bool = False):
        self.directory = root / CACHE_DIR
        self.enabled = enabled
        self.read_only = read_only  # reads entries, writes none (a command that promises to write nothing)
        self._pending: list[tuple[str, str, Any]] = []

    def _path(self, kind: str, key: str) -> Path:
        return self.directory / kind / key[:2] / f"{key}.json"

    def get(self, kind: str, key: str) -> Any | None:
        if not self.enabled:
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
        entry = self.get("load", key) if key else None
        if entry is not None:
            return Document.from_json(entry)
        document = load(path, display, raw)
        if check:
            check(document)
        if key:
            self.put_later("load", key, document.to_json())
        return document

    def prune(self, max_age_days: int = MAX_AGE_DAYS) -> int:
        """Delete entries (and stray temporary files) not used for `max_age_days`; how many were deleted."""
        if not self.enabled or self.read_only or not self.directory.is_dir():
            return 0
        cutoff, removed = time.time() - max_age_days * 86400, 0
        for path in self.directory.glob("*/*/*.json"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except OSError:
                continue
        return removed
