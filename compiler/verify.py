"""The lock is checked, not believed: every pin of `mlgitops.lock.yaml` against the model registry's own record.

A pull request can edit the lock (forged `validation.status: approved`, a fresh `validation.date`, another model's
`sourceUri`), and the prod model-risk rules judge what the lock says. So `check` asks each system's registry
(`resolve.tracking_uri`) for the version every pin names and compares its source URI (the storage URI resolving
writes), run id and tags with the lock. Not the alias: an alias that moved since the lock was written makes the
pin stale (`compile --update-lock` refreshes it), not false.

Input: the pins a run uses, its merged systems, the repository root. Output: a `Verification` — the pins that could
not be checked (registry unreachable or not configured, or `--offline`), with why. One question per registry, model
and version in a run, never cached: the registry's word can change (a validation is revoked). Errors (`SpecError`,
exit 2), one per differing field, at that field's line in the lock: a version the registry does not have [E706]; a
source URI, run id or tag that is not the registry's [E705].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import Code, Diagnostic, SpecError
from .load import SourceMap, dotted
from .merge import MergedSystem
from .pins import LOCK_FILE, Pins, field_order, lock_source, pin_fields
from .resolve import Registry, ResolvedModel, display_uri, tracking_uri

OFFLINE = "--offline was given"


@dataclass(frozen=True)
class Verification:
    unverified: dict[tuple[str, str], str] = field(default_factory=dict)  # (env, system) → why it was not checked

    @property
    def notes(self) -> tuple[str, ...]:
        """One note per reason, for the report: how many pins were taken on trust, and why."""
        by_reason: dict[str, int] = {}
        for reason in self.unverified.values():
            by_reason[reason] = by_reason.get(reason, 0) + 1
        return tuple(f"{LOCK_FILE} was not verified against the model registry ({reason}): {count} "
                     f"pin{'' if count == 1 else 's'} taken on trust, which in prod-tier environments blocks "
                     "(MLG-LOCK-001)" for reason, count in sorted(by_reason.items()))


def verify_lock(pins: Pins, systems: list[MergedSystem], root: Path, *, offline: bool = False) -> Verification:
    """Check the pin of every system × environment against its registry; raise on any difference."""
    registries: dict[str, Registry] = {}
    unverified: dict[tuple[str, str], str] = {}
    problems: list[Diagnostic] = []
    source: SourceMap | None = None
    for system in sorted(systems, key=lambda s: (s.env, s.name)):
        key = (system.env, system.name)
        pin, uri = pins.get(key), tracking_uri(system)
        if pin is None:
            continue
        if offline or not uri:
            unverified[key] = OFFLINE if offline else (f"environment {system.env!r} names no model registry "
                                                       "(mlflow.trackingUri) and MLFLOW_TRACKING_URI is not set")
            continue
        if uri not in registries:
            registries[uri] = Registry(uri, display_uri(uri, root))
        try:
            record = registries[uri].pinned(pin.name, pin.version)
        except ConnectionError as exc:
            unverified[key] = str(exc)
            continue
        except LookupError as exc:
            record = exc
        source = source or lock_source(root)
        problems += differences(key, pin, record, source)
    if problems:
        raise SpecError(problems)
    return Verification(unverified)


def differences(key: tuple[str, str], pin: ResolvedModel, record: ResolvedModel | LookupError,
                source: SourceMap) -> list[Diagnostic]:
    """One diagnostic per field where the lock and the registry's record of the pinned version disagree."""
    base = ("pins", *key)
    if isinstance(record, LookupError):
        path = (*base, "version")
        return [Diagnostic(Code.LOCK_UNKNOWN_VERSION, source.locate(path), str(record), dotted(path))]
    said, says = pin_fields(pin), pin_fields(record)
    found = []
    for name in sorted(said.keys() | says.keys(), key=field_order):
        if said.get(name) == says.get(name):
            continue
        path = (*base, *name.split(".", 1))  # `tags.validation.status` → ("tags", "validation.status")
        found.append(Diagnostic(Code.LOCK_MISMATCH, source.locate(path),
                                f"the lock says {_shown(said.get(name))}, the registry says {_shown(says.get(name))}",
                                dotted(path)))
    return found


def _shown(value: str | None) -> str:
    return "nothing" if value is None else repr(value)
