"""Custom resources (KServe, Kubeflow, KEDA, Argo) as cdk8s ApiObjects.

No typed Python classes are published for these CRDs, so their bodies are plain dicts; the tests hold every one to
its CRD's JSON Schema (strict), which is the check typing would have given.
"""

from __future__ import annotations

from typing import Any

import cdk8s


def custom_resource(scope: cdk8s.Chart, id: str, api_version: str, kind: str, name: str, body: dict[str, Any],
                    labels: dict[str, str] | None = None,
                    annotations: dict[str, str] | None = None) -> cdk8s.ApiObject:
    obj = cdk8s.ApiObject(scope, id, api_version=api_version, kind=kind,
                          metadata=cdk8s.ApiObjectMetadata(name=name, labels=labels, annotations=annotations))
    for key, value in body.items():
        obj.add_json_patch(cdk8s.JsonPatch.add(f"/{key}", value))
    return obj
