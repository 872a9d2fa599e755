"""The compiler driver: load → validate → merge → resolve → render, over every spec and environment of a repository.

`Workspace` says where things are; `validate_all` stops after validation and merge; `prepare` also resolves and
turns the result into self-contained `Job`s; `compile_all` renders them — from the cache where their inputs are
unchanged, across worker processes otherwise — returning `Unit`s for `emit`; `stale` compares them (and the lock)
with what is on disk. Every spec and environment is checked before anything is rendered, and all diagnostics of a
run are raised together (`SpecError`), so one run shows every problem. `tenancy.yaml`, when the repository has
one, is loaded and checked with the specs (see tenancy.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .cache import Cache, canonical, digest, fingerprint
from .emit import ARGOCD_DIR, Scope, Unit, assemble_argocd, differences
from .errors import Code, Diagnostic, Location, SpecError
from .load import Document
from .merge import EnvironmentDoc, MergedSystem, check_overrides, merge
from .model import Environment, MLSystem
from .model.tenancy import Tenancy
from .parallel import run_all
from .pins import LOCK_FILE, Pins, lock_text, read_lock
from .plaintext import find_plaintext_secrets
from .resolve import ResolvedModel, resolve_all
from .tenancy import TENANCY_FILE, conflicts
from .validate import validate

SPEC_SUFFIXES = (".yaml", ".yml")


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
        """Paths in messages and annotations are relative to the repository root (as written: links not followed)."""
        for written, root in ((Path(os.path.normpath(path.absolute())), Path(os.path.normpath(self.root.absolute()))),
                              (path.resolve(), self.root.resolve())):
            if written.is_relative_to(root):
                return written.relative_to(root).as_posix()
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
    reused: set[tuple[str, str]] = field(default_factory=set)  # units whose objects came from the cache


def _yaml_files(directory: Path) -> list[Path]:
    """A link that leads nowhere is listed too, so that it is reported rather than silently skipped."""
    return sorted(p for p in directory.iterdir() if p.suffix in SPEC_SUFFIXES and (p.is_file() or p.is_symlink()))


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


def load_checked(ws: Workspace, path: Path, cache: Cache | None = None) -> Document:
    """A spec or environment file, loaded and free of plaintext secrets."""
    _refuse_links_out_of(ws, path)
    cache = cache or Cache(enabled=False)
    return cache.load(path, ws.display(path), _refuse_plaintext_secrets)


def _refuse_links_out_of(ws: Workspace, path: Path) -> None:
    """A file in the repository that links outside it would let a pull request have CI read any file of the
    runner and quote it in error messages. (A path outside the repository named on the command line is the
    caller's own choice.)"""
    inside = Path(os.path.normpath(path.absolute())).is_relative_to(os.path.normpath(ws.root.absolute()))
    if inside and not path.resolve().is_relative_to(ws.root.resolve()):
        raise SpecError([Diagnostic(Code.UNSAFE_PATH, Location(ws.display(path)),
                                    "is a symbolic link to a file outside the repository; refused")])


def load_environments(ws: Workspace, cache: Cache | None = None) -> dict[str, EnvironmentDoc]:
    if not ws.env_dir.is_dir():
        raise SpecError([Diagnostic(Code.NO_INPUT, Location(ws.display(ws.env_dir)), "no environments directory")])
    environments, problems = {}, []
    for path in _yaml_files(ws.env_dir):
        try:
            document = load_checked(ws, path, cache)
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


def load_tenancy(ws: Workspace, cache: Cache | None = None) -> Tenancy | None:
    """tenancy.yaml, validated and consistent; None when the repository has none (it is single-tenant)."""
    path = ws.root / TENANCY_FILE
    if not (path.exists() or path.is_symlink()):
        return None
    document = load_checked(ws, path, cache)
    tenancy = validate(Tenancy, document.data, document.source)
    problems = conflicts(tenancy, document)
    if problems:
        raise SpecError(problems)
    return tenancy


def _refuse_plaintext_secrets(document: Document) -> None:
    found = find_plaintext_secrets(document)
    if found:
        raise SpecError(found)


def _name_mismatch(document: Document, name: str, stem: str) -> Diagnostic:
    return Diagnostic(Code.NAME_MISMATCH, document.source.locate(("metadata", "name")),
                      f"{name!r} must match the file name {stem!r}", "metadata.name")


def selected_envs(ws: Workspace, environments: dict[str, EnvironmentDoc]) -> list[str]:
    unknown = [e for e in ws.envs if e not in environments]
    if unknown:
        raise SpecError([Diagnostic(Code.UNKNOWN_ENVIRONMENT, Location(ws.display(ws.env_dir)),
                                    f"no environment named {e!r}; environments are: {', '.join(environments)}")
                         for e in unknown])
    return list(dict.fromkeys(ws.envs)) if ws.envs else sorted(environments)


def load_systems(ws: Workspace, environments: dict[str, EnvironmentDoc], cache: Cache | None = None) -> list[Document]:
    documents, problems, seen = [], [], {}
    for path in spec_files(ws):
        try:
            document = load_checked(ws, path, cache)
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


def validate_all(ws: Workspace, cache: Cache | None = None) -> tuple[list[str], list[MergedSystem]]:
    """The selected environments, and every system merged for each of them; raises all problems together."""
    envs, merged, _, _ = _merge_all(ws, cache)
    return envs, merged


def _merge_all(ws: Workspace, cache: Cache | None = None) -> tuple[list[str], list[MergedSystem],
                                                                    dict[str, EnvironmentDoc], Tenancy | None]:
    environments = load_environments(ws, cache)
    envs = selected_envs(ws, environments)
    documents = load_systems(ws, environments, cache)
    merged, problems = [], []
    try:
        tenancy = load_tenancy(ws, cache)
    except SpecError as exc:  # reported with the merge's problems
        tenancy, problems = None, list(exc.diagnostics)
    for document in documents:
        for env in envs:
            try:
                merged.append(merge(document, environments[env]))
            except SpecError as exc:
                problems += exc.diagnostics
    if problems:
        raise SpecError(problems)
    if cache:
        cache.flush()
    return envs, merged, environments, tenancy


@dataclass(frozen=True)
class Job:
    """One unit of rendering work, self-contained so that a worker process can do it: a system in an environment,
    or (`system == ARGOCD_DIR`) the Argo CD objects of an environment, which list every system of it."""

    env: str
    system: str
    source: str  # the file the unit's objects come from: the spec, or the environment for Argo CD
    systems: tuple[MergedSystem, ...]  # the system; for Argo CD every system of the environment
    environment: EnvironmentDoc
    pin: ResolvedModel | None
    inputs: str  # what the objects are made from (canonical JSON), recorded in the render entry
    key: str  # content address of the rendered objects (see cache.py): the digest of `inputs`

    @property
    def argocd(self) -> bool:
        return self.system == ARGOCD_DIR


@dataclass
class Prepared:
    """Everything validated, merged and pinned, and the rendering jobs that follow from it."""

    envs: list[str]
    systems: list[MergedSystem]
    environments: dict[str, EnvironmentDoc]
    pins: Pins
    lock: Pins
    jobs: list[Job]
    tenancy: Tenancy | None = None  # None: the repository is single-tenant


def prepare(ws: Workspace, cache: Cache | None = None, *, update_lock: bool = False,
            offline: bool = False) -> Prepared:
    """Load, validate, merge and resolve; one job per system × environment, plus Argo CD's on a whole run."""
    envs, systems, environments, tenancy = _merge_all(ws, cache)
    locked = read_lock(ws.root, cache)
    pins = resolve_all(systems, locked, ws.root, update=update_lock, offline=offline)
    if cache:
        cache.flush()  # the lock's load entry, now that it proved good
    jobs = [_system_job(system, environments[system.env], pins.get((system.env, system.name)))
            for system in systems]
    if ws.whole:  # the Argo CD apps list every system of an environment: only a run over all specs rewrites them
        jobs += [_argocd_job(environments[env], [s for s in systems if s.env == env]) for env in envs]
    return Prepared(envs, systems, environments, pins, _next_lock(locked, pins, systems, ws), jobs, tenancy)


def _system_job(system: MergedSystem, environment: EnvironmentDoc, pin: ResolvedModel | None) -> Job:
    inputs = canonical({"compiler": fingerprint(), "unit": "system", "env": system.env,
                        "spec": [system.spec_file, system.spec_sha256],
                        "environment": [environment.document.file, environment.document.sha256],
                        "pin": asdict(pin) if pin else None})
    return Job(system.env, system.name, system.spec_file, (system,), environment, pin, inputs, digest(inputs))


def _argocd_job(environment: EnvironmentDoc, systems: list[MergedSystem]) -> Job:
    members = sorted([s.name, s.spec.metadata.team] for s in systems)  # all the projects read of the systems
    inputs = canonical({"compiler": fingerprint(), "unit": "argocd", "env": environment.name,
                        "environment": [environment.document.file, environment.document.sha256],
                        "systems": members})
    return Job(environment.name, ARGOCD_DIR, environment.document.file, tuple(systems), environment, None, inputs,
               digest(inputs))


Rendered = tuple[list[dict[str, Any]], list[dict[str, Any]]]  # the unit's objects, and its objects for _argocd/


def render_job(job: Job) -> Rendered:
    """A system's objects and its Argo CD Application; or, for an Argo CD job, the projects and the root app."""
    from .render import render  # cdk8s and Node start only when something is rendered
    from .render.argocd import render_application, render_projects

    if job.argocd:
        return [], render_projects(job.environment, list(job.systems))
    system = job.systems[0]
    autoscaled = system.spec.serving is not None and system.spec.serving.autoscaled_deployment
    return render(system, job.pin), [render_application(job.environment, system, autoscaled)]


def cached_render(job: Job, cache: Cache) -> Rendered | None:
    """The job's objects from its render entry, if that says it was made from the job's very inputs."""
    entry = cache.get("render", job.key)
    if not isinstance(entry, dict) or entry.get("inputs") != job.inputs:
        return None
    objects, argocd = entry.get("objects"), entry.get("argocd")
    return (objects, argocd) if isinstance(objects, list) and isinstance(argocd, list) else None


def rendered(job: Job, cache: Cache) -> Rendered:
    """The job's objects, from the cache or freshly rendered (and then cached)."""
    found = cached_render(job, cache)
    if found is not None:
        return found
    objects, argocd = render_job(job)
    cache.put("render", job.key, {"inputs": job.inputs, "objects": objects, "argocd": argocd})
    return objects, argocd


def _render_task(task: tuple[Job, Cache]) -> tuple[Rendered, float]:
    started = time.perf_counter()
    output = rendered(*task)
    return output, time.perf_counter() - started


def compile_all(ws: Workspace, progress: Callable[[int, int], None] | None = None, *, update_lock: bool = False,
                offline: bool = False, cache: Cache | None = None, jobs: int | None = None) -> Result:
    cache = cache or Cache(enabled=False)
    prepared = prepare(ws, cache, update_lock=update_lock, offline=offline)
    result = Result(envs=prepared.envs, systems=sorted({s.name for s in prepared.systems}),
                    environments=prepared.environments, lock=prepared.lock)
    result.merged = {(s.env, s.name): (s, prepared.pins.get((s.env, s.name))) for s in prepared.systems}
    outputs = [cached_render(job, cache) for job in prepared.jobs]  # only what the cache lacks needs workers
    misses = [index for index, found in enumerate(outputs) if found is None]
    done = len(prepared.jobs) - len(misses)
    report = (lambda count: progress(done + count, len(prepared.jobs))) if progress else None
    for index, (output, seconds) in zip(misses, run_all(_render_task, [(prepared.jobs[i], cache) for i in misses],
                                                        jobs, report), strict=True):
        outputs[index] = output
        result.timings[(prepared.jobs[index].env, prepared.jobs[index].system)] = seconds
    # an Argo CD job renders an environment's projects, a system's job that system's Application
    projects: dict[str, list[dict[str, Any]]] = {env: [] for env in prepared.envs}
    applications: dict[str, list[dict[str, Any]]] = {env: [] for env in prepared.envs}
    for job, (objects, for_argocd) in zip(prepared.jobs, outputs, strict=True):  # type: ignore[misc]
        (projects if job.argocd else applications)[job.env].extend(for_argocd)
        if (job.env, job.system) not in result.timings:
            result.reused.add((job.env, job.system))
            result.timings[(job.env, job.system)] = 0.0
        if not job.argocd:
            result.units.append(Unit(job.env, job.system, job.source, objects))
    if ws.whole:  # only a run over every spec rewrites _argocd/, which lists every system
        for env in prepared.envs:
            result.units.append(Unit(env, ARGOCD_DIR, prepared.environments[env].document.file,
                                     assemble_argocd(projects[env], applications[env])))
        cache.prune()
    return result


def output_scope(ws: Workspace, result: Result) -> Scope:
    """What the run answers for under the output directory (see emit.Scope)."""
    return Scope.of(result.units, result.envs, sorted(result.environments), ws.whole)


def stale(ws: Workspace, out: Path, result: Result) -> list[str]:
    """What `compile --check` finds out of date: each path under `out` that is not what the run produces
    (emit.differences), and the lock when its text is not the run's."""
    found = differences(out, result.units, output_scope(ws, result))
    lock = ws.root / LOCK_FILE
    if lock_text(result.lock) != (lock.read_text() if lock.exists() else ""):
        found.append(f"~ {LOCK_FILE}")
    return found


def _next_lock(locked: Pins, pins: Pins, systems: list[MergedSystem], ws: Workspace) -> Pins:
    """This run's pins; entries of systems and environments the run did not cover stay, unless it covered all."""
    covered = {(s.env, s.name) for s in systems}
    kept = {} if ws.whole and not ws.envs else {k: v for k, v in locked.items() if k not in covered}
    return {**kept, **pins}
