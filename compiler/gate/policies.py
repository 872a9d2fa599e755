"""The policy library: Rego files under policies/, their `# METADATA`, and the rules they define.

Layout (one rule per file, conftest-style): `policies/spec/<rule>.rego` (package `mlgitops.spec.<rule>`),
`policies/manifests/<rule>.rego` (package `mlgitops.manifests.<rule>`), helpers in `policies/lib/`, unit tests in
`*_test.rego` beside each rule (never loaded by the gate). Teams add a rule by adding a file: no Python changes.
Errors (`SpecError`, exit 2 — the gate fails closed): a file that does not parse (with its file:line:col), is not
UTF-8 or cannot be read, a rule without complete metadata, a rule outside its directory's package (the gate would
never evaluate it), two rules with one id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import Code, Diagnostic, Location, SpecError
from ..textutil import line_col
from .finding import SEVERITIES, Rule

SCOPES = ("spec", "manifests")
RULE_ID = re.compile(r"^MLG-[A-Z]+-\d{3}$")
PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)


@dataclass(frozen=True)
class PolicyFile:
    path: Path
    display: str  # repository-relative, for messages
    text: str
    package: str
    rule: Rule | None  # None for library files


@dataclass(frozen=True)
class PolicyLibrary:
    files: tuple[PolicyFile, ...]

    def rules(self) -> dict[str, Rule]:
        return {f.rule.id: f.rule for f in self.files if f.rule}

    def rule_of_package(self, package: str) -> Rule:
        return next(f.rule for f in self.files if f.package == package and f.rule)


def load_library(root: Path, display_root: Path) -> PolicyLibrary:
    files, problems = [], []
    for path in sorted(root.glob("*/*.rego")):
        if path.name.endswith("_test.rego") or path.parent.name not in (*SCOPES, "lib"):
            continue
        display = path.resolve().relative_to(display_root.resolve()).as_posix() if path.is_relative_to(
            display_root) else path.as_posix()
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8")
        except OSError as exc:
            problems.append(Diagnostic(Code.FILE_UNREADABLE, Location(display), f"cannot read policy: {exc.strerror}"))
            continue
        except UnicodeDecodeError as exc:
            problems.append(Diagnostic(Code.ENCODING, Location(display, *line_col(raw, exc.start)),
                                       "policy is not valid UTF-8"))
            continue
        package = PACKAGE.search(text)
        if not package:
            problems.append(Diagnostic(Code.POLICY, Location(display), "no `package` declaration"))
            continue
        misplaced = _misplaced(package.group(1), path.parent.name)
        if misplaced:
            problems.append(Diagnostic(Code.POLICY, Location(display, line_col(text, package.start())[0]), misplaced))
            continue
        rule = None
        if path.parent.name in SCOPES:
            rule, problem = _rule_metadata(text, display, path.stem.replace("_", "-"))
            if problem:
                problems.append(problem)
                continue
        files.append(PolicyFile(path, display, text, package.group(1), rule))
    seen: dict[str, str] = {}
    for f in files:
        if f.rule and f.rule.id in seen:
            problems.append(Diagnostic(Code.POLICY, Location(f.display),
                                       f"rule id {f.rule.id} is also used by {seen[f.rule.id]}"))
        elif f.rule:
            seen[f.rule.id] = f.display
    if problems:
        raise SpecError(problems)
    return PolicyLibrary(tuple(files))


def _misplaced(package: str, folder: str) -> str | None:
    """The gate evaluates `data.mlgitops.<scope>.<name>.deny` and `.warn` only: a rule in any other package would
    silently never run, and a library file in a rule package would produce findings without metadata."""
    if folder in SCOPES and not re.fullmatch(rf"mlgitops\.{folder}\.\w+", package):
        return f"package {package} is never evaluated: rules in policies/{folder}/ belong in mlgitops.{folder}.<name>"
    if folder not in SCOPES and re.match(rf"mlgitops\.({'|'.join(SCOPES)})(\.|$)", package):
        return f"package {package} is for rules (policies/spec/, policies/manifests/), not policies/{folder}/"
    return None


def _rule_metadata(text: str, display: str, name: str) -> tuple[Rule | None, Diagnostic | None]:
    """The package-scoped `# METADATA` block: title, description (the rationale), custom id/severity/remediation."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == "# METADATA"), None)
    if start is None:
        return None, Diagnostic(Code.POLICY, Location(display), "rule file has no `# METADATA` block")
    block = []
    for line in lines[start + 1:]:
        if not line.startswith("#"):
            break
        block.append(line[2:] if line.startswith("# ") else line[1:])
    try:
        meta = yaml.safe_load("\n".join(block)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)  # in the block, whose lines lost their leading `# `
        at = Location(display, start + 2 + mark.line, mark.column + 3) if mark else Location(display, start + 2)
        return None, Diagnostic(Code.POLICY, at,
                                f"METADATA is not valid YAML: {getattr(exc, 'problem', None) or exc}")
    if not isinstance(meta, dict) or not isinstance(meta.get("custom") or {}, dict):
        return None, Diagnostic(Code.POLICY, Location(display, start + 1),
                                "METADATA must be a mapping (title, description, custom: {id, severity, remediation})")
    custom = meta.get("custom") or {}
    missing = [k for k in ("title", "description") if not meta.get(k)]
    missing += [f"custom.{k}" for k in ("id", "severity", "remediation") if not custom.get(k)]
    if missing:
        return None, Diagnostic(Code.POLICY, Location(display, start + 1), f"METADATA lacks {', '.join(missing)}")
    if not RULE_ID.match(str(custom["id"])) or custom["severity"] not in SEVERITIES:
        return None, Diagnostic(Code.POLICY, Location(display, start + 1),
                                f"METADATA id must match MLG-<AREA>-<NNN> and severity be one of {SEVERITIES}")
    return Rule(str(custom["id"]), custom["severity"], meta["title"], meta["description"], custom["remediation"],
                "rego", name), None
