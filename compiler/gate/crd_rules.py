"""MLG-CRD-001: every rendered custom resource against the served version of its CRD, offline — the structural
schema and the `x-kubernetes-validations` CEL rules, in the API server's words (compiler/crds/). The CRDs are those a
cluster runs (`check --crds DIR`, or $MLGITOPS_CRDS: the controllers' release CRD files, as applied to the cluster),
so a profile that renders for another release than the one installed is refused before Argo CD syncs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..crds import crd_errors, is_custom
from .finding import Rule

ENGINE = "crd"
REFUSED = "MLG-CRD-001"
RULES = {REFUSED: Rule(
    REFUSED, "high", "A custom resource is refused by its CRD", engine=ENGINE, name="refused-by-crd",
    rationale="The API server validates a custom resource against the structural schema and CEL rules of the CRD "
              "version it serves; server-side apply refuses an undeclared field outright. What the CRD refuses, "
              "Argo CD's sync fails on.",
    remediation="Read the field the message names: fix the spec, or set the platform profile's version to the "
                "controller release the cluster runs.")}


def refusal(obj: dict[str, Any], crds: Path) -> str | None:
    """Why the CRD in `crds` refuses `obj`, every cause in one line as the API server gives them in one error; None for
    built-in kinds and admitted objects."""
    causes = crd_errors(obj, crds) if is_custom(obj.get("apiVersion", "")) else []
    if not causes:
        return None
    name = (obj.get("metadata") or {}).get("name", "?")
    return f"{obj['kind']} {name} is refused by the CRD of {obj['apiVersion']}: {'; '.join(causes)}"
