"""`mlgitops.lock.yaml`: the model versions `generated/` pins, per environment and system.

Written by `compile` next to `generated/` and committed with it, so CI, the gate and Argo CD never need the registry;
read by every command that renders. Deterministic: the same pins give the same bytes. Errors (`SpecError`): a lock
that is not valid YAML or not the shape below, at its line.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .cache import Cache
from .errors import Code, Diagnostic, SpecError
from .load import load
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


def base_lock(root: Path, revision: str = "HEAD", cache: Cache | None = None) -> Pins:
    """The lock as committed at `revision` (empty outside git, or where it had none), to show what a change moves."""
    try:
        # --end-of-options: a revision such as `--output=FILE` is looked up, never taken as an option
        shown = subprocess.run(["git", "-C", str(root), "show", "--end-of-options", f"{revision}:{LOCK_FILE}"],
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
