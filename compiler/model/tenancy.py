"""`Tenancy`: what each team may reach (tenancy.yaml at the repository root), owned and reviewed by the platform.

Per team: the spec files it owns, its Vault path prefixes, data URI prefixes, model names, ingress hosts and
domains, its budgets, the PriorityClasses it may use and who may approve its waivers for how long. The platform's
own hosts are claimed by no team. The gate (gate/tenancy.py) refuses whatever a spec asks beyond its team's grants.

Prefixes match whole path segments: `s3://features/recsys` grants `s3://features/recsys/v3`, not
`s3://features/recsys-old`. A host is exact (`recs.example.com`) or a domain (`*.payments.example.com`: any host
below it, at any depth, not the domain itself).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from .base import SpecModel
from .units import DnsLabel, PositiveInt

HOST = r"([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}"


def segments(value: str) -> list[str]:
    """`scheme://a/b/` → [`scheme:`, `a`, `b`]: the parts a prefix is matched by (a trailing `/` is no part)."""
    scheme, _, rest = value.partition("://")
    return [f"{scheme}:", *rest.rstrip("/").split("/")]


def _no_dot_segments(value: str) -> str:
    if any(part in ("", ".", "..") for part in segments(value)[1:]):
        raise ValueError(f"{value!r} has an empty, `.` or `..` path segment; write the prefix it means")
    return value


def _plain_path(value: str) -> str:
    if any(part in (".", "..") for part in value.split("/")):
        raise ValueError(f"{value!r} has a `.` or `..` segment; name the files under spec/ directly")
    return value


HostGrant = Annotated[str, Field(pattern=rf"^(\*\.)?{HOST}$",
                                 description="a host (recs.example.com) or every host below a domain "
                                             "(*.payments.example.com)")]
VaultPrefix = Annotated[str, Field(pattern=r"^vault://[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)*/?$"),
                        AfterValidator(_no_dot_segments)]
DataPrefix = Annotated[str, Field(pattern=r"^[a-z][a-z0-9+.-]*://[^\s/]+(/\S*)?$"), AfterValidator(_no_dot_segments)]
ModelGrant = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*\*?$", max_length=256,
                                  description="a registered model name, or a prefix ending in * (recsys-*)")]
SpecGlob = Annotated[str, Field(pattern=r"^spec/([^/\s\\]+/)*[^/\s\\]+$",
                                description="a spec file or a glob of them under spec/ (* and ? within one "
                                            "path segment)"),
                     AfterValidator(_plain_path)]
Approver = Annotated[str, Field(pattern=r"^\S+$", max_length=256)]


class Platform(SpecModel):
    hosts: list[HostGrant] = []
    """The platform's own hosts and domains (Argo CD, MLflow, Grafana, the API servers): no spec may claim them."""


class Budgets(SpecModel):
    """The most one system of the team may ask for, in any environment."""

    gpus: Annotated[float, Field(ge=0)]
    """GPUs (whole-GPU equivalents, a MIG slice as its share) one system may hold at its peak: serving at
    replicas.max (twice with a canary), every training worker, the drift check and the pipeline's other steps."""
    workers: PositiveInt
    """The largest training.workers."""
    replicas: Annotated[int, Field(ge=0)]
    """The largest serving.replicas.max (or min, when there is no max)."""


class WaiverGrant(SpecModel):
    approvers: Annotated[list[Approver], Field(min_length=1)]
    """Who may approve the team's waivers (`approvedBy`): e-mail addresses or group names, compared ignoring case."""
    max_days: Annotated[int, Field(ge=1, le=3650)]
    """The longest a waiver may run: its `expires` at most this many days after the day judged."""


class Team(SpecModel):
    specs: Annotated[list[SpecGlob], Field(min_length=1)]
    """The spec files the team owns; `metadata.team` of each must be the team."""
    vault: list[VaultPrefix] = []
    """Vault paths the team's `secrets[].from` may name (vault://mount/path/; a KV v2 `data/` after the mount is the
    same path)."""
    data: list[DataPrefix] = []
    """URI prefixes of the data the team may name: training data, pipeline checks' schemas, validation records."""
    models: list[ModelGrant] = []
    """Registered models the team may serve and train."""
    hosts: list[HostGrant] = []
    """Ingress hosts and domains the team may serve on."""
    budgets: Budgets
    priority_classes: list[DnsLabel] = []
    """PriorityClasses the team's training may run at (training.priority)."""
    waivers: WaiverGrant | None = None
    """Who may approve the team's waivers and for how long; without it the team may waive nothing."""


class Tenancy(SpecModel):
    """Which team owns which spec files, and what each team's systems may reach."""

    api_version: Literal["mlgitops.io/v1alpha1"]
    kind: Literal["Tenancy"]
    platform: Platform = Platform()
    teams: Annotated[dict[DnsLabel, Team], Field(min_length=1)]
