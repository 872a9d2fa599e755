"""Secrets chart: an ExternalSecret (external-secrets.io/v1) per `secrets` entry; never a Secret with data.

`vault://<mount>/<path>` names a Vault KV secret; the environment's (Cluster)SecretStore points at the mount, so the
remote key is the path below it (a KV v2 `data/` segment, as in the Vault API path, is dropped). Each key becomes a
`data` entry: the Kubernetes Secret the operator keeps in sync has one entry per key, mounted read-only into the
workloads in `usedBy` (see pods.py). The Secret is owned by its ExternalSecret, so deleting the spec entry removes it.
"""

from __future__ import annotations

import cdk8s

from .context import RenderContext, SystemChart
from .custom import custom_resource

REFRESH = "1h"


def remote_key(source: str) -> str:
    """`vault://secret/data/recsys/feature-store` → `recsys/feature-store`."""
    path = source.removeprefix("vault://").split("/")[1:]
    return "/".join(path[1:] if path and path[0] == "data" else path)


class SecretsChart(SystemChart):
    def __init__(self, scope: cdk8s.App, ctx: RenderContext):
        super().__init__(scope, "secrets", ctx)
        store = ctx.system.environment.spec.secret_store
        for secret in ctx.system.spec.secrets:
            custom_resource(self, secret.name, "external-secrets.io/v1", "ExternalSecret", secret.name, {"spec": {
                "refreshInterval": REFRESH,
                "secretStoreRef": {"kind": store.kind, "name": store.name},
                "target": {"name": secret.name, "creationPolicy": "Owner", "deletionPolicy": "Delete"},
                "data": [{"secretKey": key, "remoteRef": {"key": remote_key(secret.source), "property": key}}
                         for key in secret.keys],
            }}, ctx.workload_labels(secret.name, "secrets"))
