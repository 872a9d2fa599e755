"""The documents Rego policies see. Policies are written against these shapes; keep them stable.

Spec policies (`policies/spec/`), once per system and environment:
    input.system       the merged spec as written (camelCase), defaults filled in, dates as ISO strings
    input.environment  the environment file's fields (camelCase, no `defaults`), plus `name` and `tier`
                       (dev | staging | prod)
    input.model        {name, version (null until pinned), alias, sourceUri, runId, tags} or null
    input.objects      every object rendered for the system in this environment
    input.today        the date of the run, YYYY-MM-DD (policies compare dates against it, not the clock)
Manifest policies (`policies/manifests/`), once per rendered object:
    input.object       the object
    input.system, input.env, input.component   its system, environment name, and `app.kubernetes.io/component`
    input.environment  as above
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from ..labels import COMPONENT_LABEL
from ..merge import EnvironmentDoc, MergedSystem
from ..model.environment import tier_of
from ..resolve import ResolvedModel


def _plain(value: Any) -> Any:
    """JSON types only (dates become ISO strings), as both Rego engines see them."""
    return json.loads(json.dumps(value, default=str))


def environment_input(environment: EnvironmentDoc) -> dict[str, Any]:
    data = {k: v for k, v in environment.document.data.items() if k != "defaults"}
    return _plain({**data, "name": environment.name, "tier": tier_of(environment.spec)})


def spec_input(system: MergedSystem, model: ResolvedModel | None, objects: list[dict], today: date) -> dict:
    model_doc = None
    if model is not None:
        model_doc = {"name": model.name, "version": model.version, "alias": model.alias,
                     "sourceUri": model.source_uri, "runId": model.run_id, "tags": dict(model.tags)}
    return _plain({"system": system.spec.model_dump(mode="json", by_alias=True, exclude={"environments"}),
                   "environment": environment_input(system.environment), "model": model_doc, "objects": objects,
                   "today": today.isoformat()})


def manifest_input(obj: dict, system: str, env: str, environment: dict[str, Any]) -> dict:
    component = obj.get("metadata", {}).get("labels", {}).get(COMPONENT_LABEL, "")
    return {"object": obj, "system": system, "env": env, "component": component, "environment": environment}
