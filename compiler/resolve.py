"""Pass 4 — resolve: the spec's `model` (an alias or a version) → the immutable model version the manifests pin.

Input: merged systems and the lock (`mlgitops.lock.yaml`). Output: a `ResolvedModel` per system × environment,
and the lock as it should now be. A system's entry in the lock is used as long as the spec asks for the same thing
(model name and alias or version) — CI and Argo CD never depend on the registry being up. The MLflow model registry
is asked only for a new or changed request, or for every entry with `--update-lock`; `--offline` never asks and
fails on a missing entry. The registry is the environment's `mlflow.trackingUri`, or `MLFLOW_TRACKING_URI`.
Errors (`SpecError`, exit 2, nothing written), each at the spec's model line and naming the registry: unknown model,
alias or version; an unreachable or failing registry (bounded timeouts and retries); a missing lock entry offline.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from .errors import Code, Diagnostic, SpecError
from .merge import MergedSystem
from .model.mlsystem import Model
from .textutil import first_line

# Bounded waits: MLflow's own defaults (120 s, 7 retries with backoff) would hold a CI gate for many minutes.
REGISTRY_TIMEOUT_SECONDS, REGISTRY_RETRIES = "10", "2"


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    version: int | None
    alias: str | None
    source_uri: str
    run_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)  # registry tags: validation status and date, datasets
    registry: str = ""
    resolved_at: str = ""

    @property
    def version_label(self) -> str:
        return str(self.version) if self.version is not None else "unresolved"

    def asks_for(self, model: Model) -> bool:
        """Does this pin answer what the spec asks for now (same model, same alias or version)?"""
        return (self.name, self.alias, None if self.alias else self.version) == \
            (model.name, model.wanted_alias, model.version)


def tracking_uri(system: MergedSystem) -> str | None:
    return os.environ.get("MLFLOW_TRACKING_URI") or system.environment.spec.mlflow.tracking_uri


def display_uri(uri: str, root: Path) -> str:
    """The registry as the lock and messages show it: no credentials, repository-relative sqlite paths."""
    uri = re.sub(r"//[^/@]+@", "//", uri)
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///"))
        if path.is_absolute() and path.resolve().is_relative_to(root.resolve()):
            return "sqlite:///" + path.resolve().relative_to(root.resolve()).as_posix()
    return uri


class Registry:
    """One MLflow registry, through MLflow's own client."""

    def __init__(self, uri: str, shown_as: str):
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", REGISTRY_TIMEOUT_SECONDS)
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", REGISTRY_RETRIES)
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
        from mlflow import MlflowClient  # heavy: only when something must be resolved

        self.uri, self.shown_as = uri, shown_as
        self.client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        self._answers: dict[tuple, ResolvedModel | Exception] = {}

    def resolve(self, model: Model) -> ResolvedModel:
        """Raises `LookupError` (not in the registry) or `ConnectionError` (the registry did not answer).

        One question per model and alias or version in a run, however many environments ask it.
        """
        return self._answer((model.name, model.wanted_alias, model.version))

    def pinned(self, name: str, version: int) -> ResolvedModel:
        """The registry's record of one version (to check a lock's pin against it); errors as `resolve`."""
        return self._answer((name, None, version))

    def _answer(self, key: tuple[str, str | None, int | None]) -> ResolvedModel:
        if key not in self._answers:
            # A registry that did not answer once is not asked again in this run: each wait is bounded, their sum too.
            down = next((a for a in self._answers.values() if isinstance(a, ConnectionError)), None)
            try:
                if down is not None:
                    raise down
                self._answers[key] = self._ask(*key)
            except (LookupError, ConnectionError) as exc:
                self._answers[key] = exc
        answer = self._answers[key]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def _ask(self, name: str, alias: str | None, version: int | None) -> ResolvedModel:
        from mlflow.exceptions import MlflowException

        try:
            if version is not None:
                found = self.client.get_model_version(name, str(version))
            else:
                found = self.client.get_model_version_by_alias(name, alias)
        except MlflowException as exc:
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
                wanted = f"version {version}" if version is not None else f"alias {alias!r}"
                raise LookupError(f"model {name!r} has no {wanted} in the registry {self.shown_as}") from None
            raise ConnectionError(self._failure(exc)) from None
        except Exception as exc:  # noqa: BLE001 — network and driver errors of every kind
            raise ConnectionError(self._failure(exc)) from None
        return ResolvedModel(name, int(found.version), alias, self._storage_uri(found),
                             found.run_id or None, dict(sorted((found.tags or {}).items())), self.shown_as,
                             datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    def _failure(self, exc: Exception) -> str:
        """One line: unreachable (with the reason the socket gave) or failing (with the registry's own words)."""
        text = str(exc)
        reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text) or re.search(r"(Read timed out|timed out)", text)
        if reason or "Max retries exceeded" in text:
            why = reason.group(1).strip() if reason else "no answer"
            return f"the registry {self.shown_as} is unreachable ({why})"
        return f"the registry {self.shown_as} failed: {first_line(text)[:300]}"

    def _storage_uri(self, version) -> str:
        """Where the model's files are: the version's source, or its logged model's artifacts (MLflow 3)."""
        if version.source.startswith("models:/") and getattr(version, "model_id", None):
            return self.client.get_logged_model(version.model_id).artifact_location
        return version.source


def resolve_all(systems: list[MergedSystem], locked: dict[tuple[str, str], ResolvedModel], root: Path, *,
                update: bool = False, offline: bool = False) -> dict[tuple[str, str], ResolvedModel]:
    """The pin of every system × environment that declares a model: from the lock, or freshly from the registry."""
    pins: dict[tuple[str, str], ResolvedModel] = {}
    registries: dict[str, Registry] = {}
    problems: list[Diagnostic] = []
    for system in systems:
        model = system.spec.model
        if model is None:
            continue
        key = (system.env, system.name)
        where = system.source.locate(("model", "version") if model.version is not None else ("model", "alias"))
        pin = locked.get(key)
        if pin is not None and pin.asks_for(model) and not update:
            pins[key] = pin
            continue
        if offline:
            problems.append(Diagnostic(Code.LOCK_MISSING, where,
                                       f"mlgitops.lock.yaml pins no version of {model.name!r} for {system.env} "
                                       "(run `mlgitops compile` with the registry reachable)", "model"))
            continue
        uri = tracking_uri(system)
        if not uri:
            problems.append(Diagnostic(Code.REGISTRY, where, f"environment {system.env!r} names no model registry "
                                       "(mlflow.trackingUri) and MLFLOW_TRACKING_URI is not set", "model"))
            continue
        if uri not in registries:
            registries[uri] = Registry(uri, display_uri(uri, root))
        try:
            fresh = registries[uri].resolve(model)
        except (LookupError, ConnectionError) as exc:
            code = Code.MODEL_NOT_FOUND if isinstance(exc, LookupError) else Code.REGISTRY
            problems.append(Diagnostic(code, where, str(exc), "model"))
            continue
        # An unchanged answer keeps its resolution time, so re-resolving does not churn the lock.
        pins[key] = pin if pin is not None and replace(fresh, resolved_at=pin.resolved_at) == pin else fresh
    if problems:
        raise SpecError(problems)
    return pins
