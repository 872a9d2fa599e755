"""Object-store credentials: a spec that reads s3:// or gs:// data needs the environment to declare how its pods
get credentials for that store (`platform.objectStore.identity`), or every read fails with access denied at run
time. E210 at the data's line, naming what the environment lacks."""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import Code
from ..model import Environment, MLSystem
from ..model.platform import STORE_IDENTITIES
from . import Misfit


def object_store_credentials(spec: MLSystem, environment: Environment, environment_file: str) -> Iterator[Misfit]:
    if spec.training is None:
        return
    identity = environment.platform.object_store.identity
    for i, data in enumerate(spec.training.data):
        scheme = data.uri.split("://", 1)[0]
        wanted = STORE_IDENTITIES.get(scheme)
        if wanted is not None and identity not in wanted:
            yield Misfit(("training", "data", i, "uri"), (
                f"{scheme}:// data needs object-store credentials, but environment '{environment.metadata.name}' "
                f"({environment_file}) declares platform.objectStore.identity {identity}; to fix this, declare "
                f"{' or '.join(wanted)} there"), Code.NOT_OFFERED)
