"""Secrets chart: an ExternalSecret (external-secrets.io/v1) per `secrets` entry; never a Secret with data.

`vault://<mount>/<path>` names a Vault KV secret; merge has checked that the mount is the one the environment's
(Cluster)SecretStore reads (`secretStore.vaultMount`). The remote key is `<mount>/<path>` (a KV v2 `data/` segment,
as in the Vault API path, dropped), which external-secrets' Vault provider reads as that path whether or not the store
sets `provider.vault.path`: with a path, a key that starts with `<path>/` has it cut and is read below the store's
mount (any other key is read below it too); without one, the key's first segment is the mount, and for KV v2 `data`
is put after it (providers/v1/vault/client_get.go `buildPath`, external-secrets 2.9.0). Dropping the mount, as this
chart once did, let a spec's mount be anything. Each key becomes a `data` entry: the Kubernetes Secret the operator
keeps in sync has one entry per key, mounted read-only into the workloads in `usedBy` (see pods.py). The Secret is
owned by its ExternalSecret, so deleting the spec entry removes it.

`target.deletionPolicy` says what ESO does with the Secret when the provider no longer has the secret (Delete,
Merge or Retain: the ExternalSecret CRD of external-secrets v2.9.0). A prod-tier environment keeps it (Retain), so a
mistake on the Vault side does not take the credentials away from running pods; elsewhere it goes (Delete), so a
removed secret shows up at once.
"""

from __future__ import annotations

import cdk8s

from ..model.environment import tier_of
from .context import RenderContext, SystemChart
from .custom import custom_resource

REFRESH = "1h"


def remote_key(source: str) -> str:
    """`vault://secret/data/recsys/feature-store` → `secret/recsys/feature-store`."""
    mount, *path = source.removeprefix("vault://").split("/")
    return "/".join([mount, *(path[1:] if path[:1] == ["data"] else path)])


class SecretsChart(SystemChart):
    WAVE = -1
    KINDS = (("external-secrets.io", "ExternalSecret"),)
    COMPONENT = "secrets"

    @classmethod
    def applies(cls, ctx: RenderContext) -> bool:
        return bool(ctx.system.spec.secrets)

    def __init__(self, scope: cdk8s.App, ctx: RenderContext):
        super().__init__(scope, "secrets", ctx)
        environment = ctx.system.environment.spec
        store = environment.secret_store
        deletion = "Retain" if tier_of(environment) == "prod" else "Delete"
        for secret in ctx.system.spec.secrets:
            custom_resource(self, secret.name, "external-secrets.io/v1", "ExternalSecret", secret.name, {"spec": {
                "refreshInterval": REFRESH,
                "secretStoreRef": {"kind": store.kind, "name": store.name},
                "target": {"name": secret.name, "creationPolicy": "Owner", "deletionPolicy": deletion},
                "data": [{"secretKey": key, "remoteRef": {"key": remote_key(secret.source), "property": key}}
                         for key in secret.keys],
            }}, ctx.workload_labels(secret.name, self.COMPONENT))
