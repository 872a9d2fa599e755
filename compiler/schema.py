"""JSON Schema of the spec kinds, as editors (yaml-language-server) and other tools consume it."""

from __future__ import annotations

from typing import Any

from .model import Environment, MLSystem
from .model.tenancy import Tenancy

SCHEMA_ID = "https://mlgitops.io/schemas/{kind}.schema.json"
KINDS = {"MLSystem": MLSystem, "Environment": Environment, "Tenancy": Tenancy}


def json_schema(kind: str) -> dict[str, Any]:
    model = KINDS[kind]
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": SCHEMA_ID.format(kind=kind.lower()), **schema}
