"""What differs between two compilations: objects matched by their path under `generated/`, grouped by unit.

Input: the units of each side (`emit.Unit`). Output: `SectionDiff`s, one per environment and system (or the
environment's Argo CD apps, `_argocd`) that differs, each object added, removed or changed — a changed one with a
unified diff of its YAML text, and marked when only its spec hash moved. `DiffResult` is the whole diff as data;
diff/render.py shows it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from ..cost import Estimate
from ..emit import ARGOCD_DIR, Unit, layout
from ..labels import SPEC_HASH_ANNOTATION
from ..pins import PinChange
from ..unitkey import UnitKey
from ..yamltext import dump_yaml

GENERATED = "generated"
CONTEXT_LINES = 2
_HASH_VALUE = re.compile(re.escape(SPEC_HASH_ANNOTATION) + r": '?([0-9a-f]+)'?")


def _without_hash(text: str) -> str:
    """The object with its spec hash blanked wherever it appears: in the annotation, and where a pipeline's register
    step records it as lineage."""
    found = _HASH_VALUE.search(text)
    return text.replace(found.group(1), "<spec-hash>") if found else text


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
    def unit(self) -> UnitKey:
        return UnitKey(self.env, self.system)
@dataclass(frozen=True)
class DiffResult:
    base: str  # the ref as given
    commit: str  # what it resolved to
    sections: tuple[SectionDiff, ...] = ()  # only sections with differences, by environment then system
    notes: tuple[str, ...] = ()  # how the comparison was made where that is not the obvious way (fallbacks)
    # (base, working tree) estimates of the units whose estimate the change moves; None on a side without the unit
    cost: dict[UnitKey, tuple[Estimate | None, Estimate | None]] = field(default_factory=dict)
    pins: tuple[PinChange, ...] = ()  # pins of mlgitops.lock.yaml that differ, whether or not generated/ does

    @property
    def has_changes(self) -> bool:
        return bool(self.sections)

    def total(self, what: str) -> int:
        return sum(getattr(s, what) for s in self.sections)

    @property
    def objects(self) -> tuple[ObjectDiff, ...]:
        return tuple(o for s in self.sections for o in s.objects)


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
    grouped: dict[UnitKey, list[ObjectDiff]] = {}
    for item in found:
        grouped.setdefault(UnitKey(item.env, item.system), []).append(item)
    order = sorted(grouped, key=lambda key: (key.env, key.system == ARGOCD_DIR, key.system))
    return tuple(SectionDiff(key.env, key.system, tuple(grouped[key])) for key in order)


def unified_diff(path: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 f"a/{GENERATED}/{path}", f"b/{GENERATED}/{path}", n=CONTEXT_LINES)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)

