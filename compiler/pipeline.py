"""The pipeline: load → validate → merge → resolve → render, over every spec and environment of a repository.

`Workspace` says where things are; `validate_all` stops after validation and merge; `compile_all` also resolves and
renders, returning `Unit`s for `emit`. Every spec and environment is checked before anything is rendered, and all
diagnostics of a run are raised together (`SpecError`), so one run shows every problem.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .emit import Unit
from .errors import Code, Diagnostic, Location, SpecError
from .load import Document, load
from .lock import Pins, read_lock
from .merge import EnvironmentDoc, MergedSystem, check_overrides, merge
from .model import Environment, MLSystem
from .plaintext import find_plaintext_secrets
from .resolve import ResolvedModel, resolve_all
from .validate import validate

SPEC_SUFFIXES = (".yaml", ".yml")
ARGOCD_DIR = "_argocd"  # generated/<env>/_argocd: not a DNS label, so never a system's directory
AUTOSCALERS = ("HorizontalPodAutoscaler", "ScaledObject")


@dataclass(frozen=True)
class Workspace:
    root: Path
    paths: tuple[Path, ...] = ()  # specs or directories of specs; empty means spec/
    envs: tuple[str, ...] = ()  # empty means every environment

    @property
    def spec_dir(self) -> Path:
        return self.root / "spec"

    @property
    def env_dir(self) -> Path:
        return self.root / "environments"

    @property
    def whole(self) -> bool:
        """True when the run covers every spec, so systems without a spec can be pruned from the output."""
        return not self.paths or all(p.resolve() == self.spec_dir.resolve() for p in self.paths)

    def display(self, path: Path) -> str:
        """Paths in messages and annotations are relative to the repository root."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()


@dataclass
class Result:
    units: list[Unit] = field(default_factory=list)
    timings: dict[tuple[str, str], float] = field(default_factory=dict)
    envs: list[str] = field(default_factory=list)
    systems: list[str] = field(default_factory=list)
    # (env, system) → the merged system and the model version its manifests pin, for the gate
    merged: dict[tuple[str, str], tuple[MergedSystem, ResolvedModel | None]] = field(default_factory=dict)
    environments: dict[str, EnvironmentDoc] = field(default_factory=dict)
    lock: Pins = field(default_factory=dict)  # the lock as this run leaves it


def _yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file())


def spec_files(ws: Workspace) -> list[Path]:
    files: list[Path] = []
    for path in ws.paths or (ws.spec_dir,):
        if path.is_dir():
            files += _yaml_files(path)
        elif path.is_file():
            files.append(path)
        else:
            raise SpecError([Diagnostic(Code.NO_INPUT, Location(ws.display(path)), "no such file or directory")])
    if not files:
        where = ", ".join(ws.display(p) for p in ws.paths or (ws.spec_dir,))
        raise SpecError([Diagnostic(Code.NO_INPUT, Location(where), "no spec files (*.yaml) found")])
    return sorted(set(files))


def load_environments(ws: Workspace) -> dict[str, EnvironmentDoc]:
    if not ws.env_dir.is_dir():
        raise SpecError([Diagnostic(Code.NO_INPUT, Location(ws.display(ws.env_dir)), "no environments directory")])
    environments, problems = {}, []
    for path in _yaml_files(ws.env_dir):
        try:
            document = load(path, ws.display(path))
            _refuse_plaintext_secrets(document)
            spec = validate(Environment, document.data, document.source)
        except SpecError as exc:
            problems += exc.diagnostics
            continue
        if spec.metadata.name != path.stem:
            problems.append(_name_mismatch(document, spec.metadata.name, path.stem))
            continue
        environments[spec.metadata.name] = EnvironmentDoc(spec.metadata.name, spec, document)
    if problems:
        raise SpecError(problems)
    if not environments:
        raise SpecError([Diagnostic(Code.NO_INPUT, Location(ws.display(ws.env_dir)), "no environment files found")])
    return environments


def _refuse_plaintext_secrets(document: Document) -> None:
    found = find_plaintext_secrets(document)
    if found:
        raise SpecError(found)


def _name_mismatch(document: Document, name: str, stem: str) -> Diagnostic:
    return Diagnostic(Code.NAME_MISMATCH, document.source.locate(("metadata", "name")),
                      f"metadata.name {name!r} must match the file name {stem!r}", "metadata.name")


def selected_envs(ws: Workspace, environments: dict[str, EnvironmentDoc]) -> list[str]:
    unknown = [e for e in ws.envs if e not in environments]
    if unknown:
        raise SpecError([Diagnostic(Code.UNKNOWN_ENVIRONMENT, Location(ws.display(ws.env_dir)),
                                    f"no environment named {e!r}; environments are: {', '.join(environments)}")
                         for e in unknown])
    return list(dict.fromkeys(ws.envs)) if ws.envs else sorted(environments)


def load_systems(ws: Workspace, environments: dict[str, EnvironmentDoc]) -> list[Document]:
    documents, problems, seen = [], [], {}
    for path in spec_files(ws):
        try:
            document = load(path, ws.display(path))
            _refuse_plaintext_secrets(document)
            spec = validate(MLSystem, document.data, document.source)
            check_overrides(document, sorted(environments))
        except SpecError as exc:
            problems += exc.diagnostics
            continue
        name = spec.metadata.name
        if name != path.stem:
            problems.append(_name_mismatch(document, name, path.stem))
        elif name in seen:
            problems.append(Diagnostic(Code.DUPLICATE_SYSTEM, document.source.locate(("metadata", "name")),
                                       f"system {name!r} is also defined in {seen[name]}", "metadata.name"))
        else:
            seen[name] = document.file
            documents.append(document)
    if problems:
        raise SpecError(problems)
    return documents


def validate_all(ws: Workspace) -> tuple[list[str], list[MergedSystem]]:
    """The selected environments, and every system merged for each of them; raises all problems together."""
    envs, merged, _ = _merge_all(ws)
    return envs, merged


def _merge_all(ws: Workspace) -> tuple[list[str], list[MergedSystem], dict[str, EnvironmentDoc]]:
    environments = load_environments(ws)
    envs = selected_envs(ws, environments)
    documents = load_systems(ws, environments)
    merged, problems = [], []
    for document in documents:
        for env in envs:
            try:
                merged.append(merge(document, environments[env]))
            except SpecError as exc:
                problems += exc.diagnostics
    if problems:
        raise SpecError(problems)
    return envs, merged, environments


def compile_all(ws: Workspace, progress: Callable[[MergedSystem, int, int], None] | None = None, *,
                update_lock: bool = False, offline: bool = False) -> Result:
    from .render import render  # cdk8s and Node start only when something is rendered
    from .render.argocd import render_argocd

    envs, systems, environments = _merge_all(ws)
    locked = read_lock(ws.root)
    pins = resolve_all(systems, locked, ws.root, update=update_lock, offline=offline)
    result = Result(envs=envs, systems=sorted({s.name for s in systems}), environments=environments,
                    lock=_next_lock(locked, pins, systems, ws))
    for done, system in enumerate(systems, 1):
        started = time.perf_counter()
        model = pins.get((system.env, system.name))
        result.merged[(system.env, system.name)] = (system, model)
        result.units.append(Unit(system.env, system.name, system.spec_file, render(system, model)))
        result.timings[(system.env, system.name)] = time.perf_counter() - started
        if progress:
            progress(system, done, len(systems))
    if ws.whole:  # the Argo CD apps list every system of an environment: only a run over all specs rewrites them
        for env in envs:
            started = time.perf_counter()
            units = [u for u in result.units if u.env == env]
            autoscaled = {u.system: any(o["kind"] in AUTOSCALERS for o in u.objects) for u in units}
            objects = render_argocd(environments[env], [s for s in systems if s.env == env], autoscaled)
            result.units.append(Unit(env, ARGOCD_DIR, environments[env].document.file, objects))
            result.timings[(env, ARGOCD_DIR)] = time.perf_counter() - started
    return result


def _next_lock(locked: Pins, pins: Pins, systems: list[MergedSystem], ws: Workspace) -> Pins:
    """This run's pins; entries of systems and environments the run did not cover stay, unless it covered all."""
    covered = {(s.env, s.name) for s in systems}
    kept = {} if ws.whole and not ws.envs else {k: v for k, v in locked.items() if k not in covered}
    return {**kept, **pins}
