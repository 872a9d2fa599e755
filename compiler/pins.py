"""`mlgitops.lock.yaml`: the model versions `generated/` pins, per environment and system.

Written by `compile` next to `generated/` and committed with it, so CI, the gate and Argo CD never need the registry;
read by every command that renders. Deterministic: the same pins give the same bytes. Errors (`SpecError`): a lock
that is not valid YAML or not the shape below, at its line; a base revision that is not a commit ([E401]).

The lock is a claim a pull request can edit: `verify.py` checks it against the registry, and `pin_changes` (used by
`check`'s model-version table and by `diff`) shows every field a change moves.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .cache import Cache
from .errors import Code, Diagnostic, Location, SpecError
from .load import SourceMap, load
from .resolve import ResolvedModel
from .yamltext import dump_yaml

LOCK_FILE = "mlgitops.lock.yaml"
HEADER = ("# The model versions generated/ pins, per environment and system. Written by `mlgitops compile`, refreshed\n"
          "# by `mlgitops compile --update-lock`; commit it with generated/. Do not edit by hand.\n")
Pins = dict[tuple[str, str], ResolvedModel]


class _Pin(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model: str
    alias: str | None = None
    version: Annotated[int, Field(ge=1)]
    source_uri: str = Field(alias="sourceUri")
    run_id: str | None = Field(default=None, alias="runId")
    tags: dict[str, str] = {}
    registry: str
    resolved_at: str = Field(alias="resolvedAt")


class _Lock(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    lock_version: Annotated[int, Field(ge=1, le=1)] = Field(alias="lockVersion")
    pins: dict[str, dict[str, _Pin]] = {}


def read_lock(root: Path, cache: Cache | None = None) -> Pins:
    return read_lock_file(root / LOCK_FILE, cache)


def base_lock(root: Path, revision: str = "HEAD", cache: Cache | None = None, *, required: bool = False) -> Pins:
    """The lock as committed at `revision` (empty outside git, or where it had none), to show what a change moves.

    With `required`, a revision that is not a commit of the repository is a usage error, not an empty base: a base
    branch CI forgot to fetch must not make every pin look new."""
    git = ["git", "-C", str(root)]
    try:
        if required:
            found = subprocess.run([*git, "rev-parse", "--verify", "--quiet", "--end-of-options",
                                    f"{revision}^{{commit}}"], capture_output=True, timeout=30, check=False)
            if found.returncode != 0:
                raise SpecError([Diagnostic(Code.USAGE, Location("--base"), f"{revision!r} is not a commit in this "
                                            "repository (fetch it first, e.g. `git fetch origin main`)")])
        # --end-of-options: a revision such as `--output=FILE` is looked up, never taken as an option
        shown = subprocess.run([*git, "show", "--end-of-options", f"{revision}:{LOCK_FILE}"],
                               capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if shown.returncode != 0:
        return {}
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / LOCK_FILE
        path.write_bytes(shown.stdout)
        try:
            return read_lock_file(path, cache)
        except SpecError:
            return {}


def lock_source(root: Path) -> SourceMap:
    """Where each field of the lock is written, read from the file itself (never from a cache): verification
    points at the line of the field that differs."""
    path = root / LOCK_FILE
    return load(path, LOCK_FILE).source if path.exists() else SourceMap(LOCK_FILE)


def read_lock_file(path: Path, cache: Cache | None = None) -> Pins:
    if not path.exists():
        return {}
    document = cache.load(path, LOCK_FILE) if cache else load(path, LOCK_FILE)
    try:
        lock = _Lock.model_validate(document.data)
    except ValidationError as exc:
        raise SpecError([Diagnostic(Code.LOCK_INVALID, document.source.locate(tuple(e["loc"])), e["msg"],
                                    ".".join(map(str, e["loc"]))) for e in exc.errors()]) from None
    return {(env, system): ResolvedModel(p.model, p.version, p.alias, p.source_uri, p.run_id, p.tags, p.registry,
                                         p.resolved_at)
            for env, systems in lock.pins.items() for system, p in systems.items()}


def lock_text(pins: Pins) -> str:
    nested: dict[str, dict[str, dict]] = {}
    for (env, system), pin in sorted(pins.items()):
        entry = {"model": pin.name, "alias": pin.alias, "version": pin.version, "sourceUri": pin.source_uri,
                 "runId": pin.run_id, "tags": pin.tags, "registry": pin.registry, "resolvedAt": pin.resolved_at}
        nested.setdefault(env, {})[system] = {k: v for k, v in entry.items() if v not in (None, {})}
    return HEADER + dump_yaml({"lockVersion": 1, "pins": nested})


def write_lock(root: Path, pins: Pins) -> bool:
    """Write the lock if it changed (atomically: a temporary file renamed over it); True when it did."""
    path, text = root / LOCK_FILE, lock_text(pins)
    if path.exists() and path.read_text() == text:
        return False
    with tempfile.NamedTemporaryFile("w", dir=root, prefix=".mlgitops-lock-", delete=False) as handle:
        handle.write(text)
    os.replace(handle.name, path)
    return True


@dataclass(frozen=True)
class PinChange:
    """One pin that differs between two locks: each changed field as (field, old, new); None where a side has none."""

    env: str
    system: str
    model: str
    fields: tuple[tuple[str, str | None, str | None], ...]


def pin_fields(pin: ResolvedModel) -> dict[str, str]:
    """A pin as the fields a reviewer compares (tags one by one, as `tags.<name>`)."""
    fields = {"model": pin.name, "version": str(pin.version), "sourceUri": pin.source_uri, "runId": pin.run_id,
              **{f"tags.{name}": value for name, value in sorted(pin.tags.items())}}
    return {name: value for name, value in fields.items() if value is not None}


def pin_changes(old: Pins, new: Pins) -> tuple[PinChange, ...]:
    """Every pin added, removed or changed between two locks, by environment and system (resolution times and the
    registry's display name aside: they do not change what is deployed)."""
    changes = []
    for key in sorted(old.keys() | new.keys()):
        before = pin_fields(old[key]) if key in old else {}
        after = pin_fields(new[key]) if key in new else {}
        fields = tuple((name, before.get(name), after.get(name)) for name in sorted(before.keys() | after.keys(),
                                                                                 key=field_order)
                       if before.get(name) != after.get(name))
        if fields:
            changes.append(PinChange(key[0], key[1], (new.get(key) or old[key]).name, fields))
    return tuple(changes)


def field_order(name: str) -> tuple[int, str]:
    top = ("model", "version", "sourceUri", "runId")
    return (top.index(name), "") if name in top else (len(top), name)
