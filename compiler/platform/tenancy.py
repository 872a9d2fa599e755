"""Object-store credentials: a spec that reads s3:// or gs:// objects (its training data, a validate-data step's
schema) needs the environment to declare how its pods get credentials for that store
(`platform.objectStore.identity`), or every read fails with access denied at run time. E210 at the URI's line,
naming what the environment lacks."""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import Code
from ..load import FieldPath
from ..model import Environment, MLSystem
from ..model.platform import STORE_IDENTITIES
from .misfit import Misfit


def _object_uris(spec: MLSystem) -> Iterator[tuple[FieldPath, str]]:
    if spec.training is not None:
        for i, data in enumerate(spec.training.data):
            yield ("training", "data", i, "uri"), data.uri
    if spec.pipeline is not None:
        for i, step in enumerate(spec.pipeline.steps):
            if step.checks is not None and step.checks.schema_uri is not None:
                yield ("pipeline", "steps", i, "checks", "schema"), step.checks.schema_uri


def object_store_credentials(spec: MLSystem, environment: Environment, environment_file: str) -> Iterator[Misfit]:
    identity = environment.platform.object_store.identity
    for field, uri in _object_uris(spec):
        scheme = uri.split("://", 1)[0]
        wanted = STORE_IDENTITIES.get(scheme)
        if wanted is not None and identity not in wanted:
            yield Misfit(field, (
                f"{scheme}:// needs object-store credentials, but environment '{environment.metadata.name}' "
                f"({environment_file}) declares platform.objectStore.identity {identity}; to fix this, declare "
                f"{' or '.join(wanted)} there"), Code.NOT_OFFERED)
