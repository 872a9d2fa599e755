"""`mlgitops init DIR`: a new platform repository that passes `mlgitops check` as soon as it is compiled.

What it writes: `spec/` with one example system, `environments/` (dev, prod), the policy library (`policies/`: the
Rego rules and their tests, `lib/`, `checkov.yaml`, copied from this mlgitops checkout so the new repository owns and
extends them), a `tenancy.yaml` granting the example's placeholder team what it uses, a `.github/CODEOWNERS` that
gives the platform team what the gate trusts (tenancy.yaml, policies/, environments/, .github/) and each team its
spec files, the pull-request and main workflows, a `.pre-commit-config.yaml` using the published hooks, the JSON
Schemas for editors, an empty `mlgitops.lock.yaml`, a README and a `.gitignore`. Not `generated/`: the README's first
step is `mlgitops compile`.

The example serves from an image that bundles its model (no `model:`), so it needs no model registry and no lock
entry: a pinned version would need a lock claiming a registry answer nobody asked for, with a validation date that
would make `check` fail once it is older than `compliance.validation.maxAgeDays`. Its comment shows how to add one.

Deterministic: the same arguments give the same files, byte for byte. Refuses (`SpecError`, `Code.USAGE`) a target
that is a file or a directory with anything in it but a `.git` (so `git init DIR && mlgitops init DIR` works).
Everything is read and checked before the first file is written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from . import __version__
from .errors import Code, Diagnostic, Location, SpecError
from .pins import LOCK_FILE, lock_text
from .schema import json_schema

TEMPLATES = Path(__file__).resolve().parent / "templates"
# The policy library sits beside the package in the mlgitops repository (the package is installed editable from it).
POLICIES = Path(__file__).resolve().parents[1] / "policies"
POLICY_DIRS = ("spec", "manifests", "lib")

# Where the workflows and the pre-commit hooks get mlgitops from: GitHub owner/name and a tag or commit.
TOOL_REPOSITORY = "example/mlgitops"
TOOL_REF = f"v{__version__}"

# target path -> template path under templates/
TEMPLATE_FILES = {
    "spec/churn-predictor.yaml": "spec/churn-predictor.yaml",
    "tenancy.yaml": "tenancy.yaml",
    ".github/CODEOWNERS": "CODEOWNERS",
    "environments/dev.yaml": "environments/dev.yaml",
    "environments/prod.yaml": "environments/prod.yaml",
    ".github/workflows/pull-request.yml": "workflows/pull-request.yml",
    ".github/workflows/main.yml": "workflows/main.yml",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
    "README.md": "README.md",
    ".gitignore": "gitignore",
}
SCHEMAS = {"schemas/mlsystem.schema.json": "MLSystem", "schemas/environment.schema.json": "Environment",
           "schemas/tenancy.schema.json": "Tenancy"}

_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")


def _usage(where: Path | str, message: str) -> SpecError:
    return SpecError([Diagnostic(Code.USAGE, Location(str(where)), message)])


def files(tool_repository: str = TOOL_REPOSITORY, tool_ref: str = TOOL_REF) -> dict[str, bytes]:
    """Every file of a new platform repository, by path relative to it (sorted)."""
    if not _REPOSITORY.match(tool_repository):
        raise _usage("init", f"tool repository {tool_repository!r} is not a GitHub owner/name")
    if not _REF.match(tool_ref) or ".." in tool_ref:
        raise _usage("init", f"tool ref {tool_ref!r} is not a git tag, branch or commit")
    out: dict[str, bytes] = {}
    for target, template in TEMPLATE_FILES.items():
        text = (TEMPLATES / template).read_text(encoding="utf-8")
        text = text.replace("@@TOOL_REPOSITORY@@", tool_repository).replace("@@TOOL_REF@@", tool_ref)
        out[target] = text.encode()
    for target, kind in SCHEMAS.items():
        out[target] = (json.dumps(json_schema(kind), indent=2, sort_keys=True) + "\n").encode()
    out[LOCK_FILE] = lock_text({}).encode()
    out.update(_policy_library())
    return dict(sorted(out.items()))


def _policy_library() -> dict[str, bytes]:
    missing = [name for name in POLICY_DIRS if not (POLICIES / name).is_dir()]
    if missing or not (POLICIES / "checkov.yaml").is_file():
        raise SpecError([Diagnostic(Code.FILE_UNREADABLE, Location(str(POLICIES)),
                                    "mlgitops init copies the policy library (policies/spec, manifests, lib and "
                                    "checkov.yaml) from the mlgitops repository it is installed from, and it is not "
                                    "there; install mlgitops from a checkout of its repository (pip install -e)")])
    library = {"policies/checkov.yaml": (POLICIES / "checkov.yaml").read_bytes()}
    for name in POLICY_DIRS:
        for path in sorted((POLICIES / name).glob("*.rego")):
            library[f"policies/{name}/{path.name}"] = path.read_bytes()
    return library


def scaffold(target: Path, *, tool_repository: str = TOOL_REPOSITORY, tool_ref: str = TOOL_REF) -> list[Path]:
    """Create a new platform repository in `target` (created if missing); return the files written, sorted."""
    if target.exists() and not target.is_dir():
        raise _usage(target, "is a file; mlgitops init needs a new or empty directory")
    if target.is_dir():
        present = sorted(p.name for p in target.iterdir() if p.name != ".git")
        if present:
            shown = ", ".join(present[:5]) + (", …" if len(present) > 5 else "")
            raise _usage(target, f"is not empty ({shown}); mlgitops init only writes into a new or empty directory")
    content = files(tool_repository, tool_ref)  # everything read and checked before anything is written
    written = []
    for relative, data in content.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written
