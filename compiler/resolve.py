"""Pass 4 — resolve: the spec's `model` (alias or version) → the model version the manifests pin.

Input: a `MergedSystem`. Output: `ResolvedModel` (or None when the system declares no model) and warnings.
Until the MLflow registry integration lands, a `model.version` is pinned as written and an alias is left
unresolved: it renders as the MLflow model URI `models:/<name>@<alias>` with the annotation
`mlgitops.io/model-version: unresolved`, and a warning points at the alias line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Code, Diagnostic, Severity
from .merge import MergedSystem


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    version: int | None
    alias: str | None
    source_uri: str
    run_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)  # registry tags: validation status and date, datasets

    @property
    def version_label(self) -> str:
        return str(self.version) if self.version is not None else "unresolved"


def resolve(system: MergedSystem) -> tuple[ResolvedModel | None, list[Diagnostic]]:
    model = system.spec.model
    if model is None:
        return None, []
    if model.version is not None:
        return ResolvedModel(model.name, model.version, None, f"models:/{model.name}/{model.version}"), []
    alias = model.wanted_alias
    path = ("model", "alias") if model.alias else ("model",)
    warning = Diagnostic(Code.UNRESOLVED_MODEL, system.source.locate(path),
                         f"alias {alias!r} of model {model.name!r} is not resolved to a version "
                         f"(registry integration pending); rendering models:/{model.name}@{alias}",
                         "model.alias", Severity.WARNING)
    return ResolvedModel(model.name, None, alias, f"models:/{model.name}@{alias}"), [warning]
