"""Offline admission of custom resources against the upstream CRDs a current cluster serves: the structural schema
(`schema.py`) and the CEL rules (`rules.py`) of the served version (`load.py`), worded as the API server words its
refusals, so what it would refuse is refused before anything is applied."""

from __future__ import annotations

from pathlib import Path

from .load import CrdError, Crds, load_crds
from .schema import validate_object

__all__ = ["CrdError", "Crds", "load_crds", "crd_errors", "is_custom"]


def is_custom(api_version: str) -> bool:
    """A custom resource's apiVersion: a group with a dot that is not one of Kubernetes' own (*.k8s.io)."""
    group = api_version.rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")


def crd_errors(obj: object, directory: Path) -> list[str]:
    """Every refusal of `obj` by the served CRD version of its apiVersion and kind in `directory`; [] = admitted."""
    if not isinstance(obj, dict) or not all(isinstance(obj.get(k), str) for k in ("apiVersion", "kind")):
        return ["<nil>: Required value: apiVersion and kind must be strings"]
    try:
        schema = load_crds(directory).schema(obj["apiVersion"], obj["kind"])
    except CrdError as error:
        return [str(error)]
    return validate_object(obj, schema)
