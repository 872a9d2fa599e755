"""Tenancy grants: what a team's grant in tenancy.yaml covers, and the file's own consistency.

Input: the validated `Tenancy` and its `Document`. `conflicts` lists what the file contradicts itself in (E306, at
the later entry, naming the earlier): a team granted a host of the platform, a host (or domain) granted to two
teams, a spec file (pattern) given to two teams. The matching helpers are what the gate judges specs with.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from .errors import Code, Diagnostic
from .load import Document, dotted
from .model.tenancy import Tenancy, segments

TENANCY_FILE = "tenancy.yaml"


def within(value: str, prefix: str) -> bool:
    """`value` is `prefix` or below it, by whole path segments; a value with `.`, `..` or empty segments never is
    (a store or a bucket may resolve them)."""
    parts = segments(value)
    if any(part in ("", ".", "..") for part in parts[1:]):
        return False
    wanted = segments(prefix)
    return parts[:len(wanted)] == wanted


def vault_path(source: str) -> str:
    """`vault://secret/data/x` and `vault://secret/x` are one KV v2 secret (the renderer drops `data/`)."""
    mount, _, path = source.removeprefix("vault://").partition("/")
    return f"vault://{mount}/{path.removeprefix('data/') if path != 'data' else ''}".rstrip("/")


def host_covered(host: str, grant: str) -> bool:
    """An exact grant covers its host; `*.d` covers every host below `d` (not `d` itself)."""
    return host.endswith(grant[1:]) if grant.startswith("*.") else host == grant


def hosts_overlap(a: str, b: str) -> bool:
    """Some host is covered by both grants."""
    if a.startswith("*.") and b.startswith("*."):
        return host_covered(a[2:], b) or host_covered(b[2:], a) or a == b
    return host_covered(b, a) if a.startswith("*.") else host_covered(a, b)


def paths_overlap(a: str, b: str) -> bool:
    """Ingress `Prefix` paths match by whole segments: `/a` takes `/a/b` but not `/ab` (a trailing `/` is none)."""
    ours, theirs = [p for p in a.split("/") if p], [p for p in b.split("/") if p]
    shorter = min(len(ours), len(theirs))
    return ours[:shorter] == theirs[:shorter]


def model_covered(name: str, grant: str) -> bool:
    return name.startswith(grant[:-1]) if grant.endswith("*") else name == grant


def spec_matches(path: str, pattern: str) -> bool:
    """Glob segment by segment: `*` never crosses a `/`."""
    parts, wanted = path.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(fnmatchcase(p, w) for p, w in zip(parts, wanted, strict=True))


def owners(tenancy: Tenancy, spec_file: str) -> list[str]:
    return sorted(team for team, grant in tenancy.teams.items() if any(spec_matches(spec_file, p) for p in grant.specs))


def conflicts(tenancy: Tenancy, document: Document) -> list[Diagnostic]:
    problems = []

    def conflict(path: tuple, message: str) -> None:
        problems.append(Diagnostic(Code.TENANCY_CONFLICT, document.source.locate(path), message, dotted(path)))

    def at(path: tuple) -> str:
        return str(document.source.locate(path))

    # (grant, its team or None for the platform, where it is written)
    hosts: list[tuple[str, str | None, tuple]] = [(host, None, ("platform", "hosts", i))
                                                  for i, host in enumerate(tenancy.platform.hosts)]
    files: list[tuple[str, str, tuple]] = []
    for team, grant in tenancy.teams.items():
        for i, host in enumerate(grant.hosts):
            path = ("teams", team, "hosts", i)
            clash = next((h for h in hosts if h[1] != team and hosts_overlap(host, h[0])), None)
            if clash:
                holder = "the platform" if clash[1] is None else f"team {clash[1]!r}"
                conflict(path, f"host {host!r} overlaps {clash[0]!r}, granted to {holder} at {at(clash[2])}; "
                               "a host belongs to one team")
            hosts.append((host, team, path))
        for i, pattern in enumerate(grant.specs):
            path = ("teams", team, "specs", i)
            clash = next((f for f in files if f[1] != team and f[0] == pattern), None)
            if clash:
                conflict(path, f"spec files {pattern!r} are also granted to team {clash[1]!r} at {at(clash[2])}; "
                               "a spec file has one owner")
            files.append((pattern, team, path))
    return problems
