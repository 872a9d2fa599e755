"""Checkov over the rendered manifests, in process (the same findings as the CLI, without its ~2 s start-up).

Input: rendered units (the gate passes one at a time) and policies/checkov.yaml. Output: one `Hit` per failed check
per object, which the gate maps back to the object's system, environment and spec field. The manifests are written
to a temporary directory, one file per object, and scanned together.
Errors (`SpecError`, exit 2, fail closed): an unreadable or malformed configuration (at its line), a scan that
raises, returns nothing, or leaves a manifest unparsed (Checkov skips, for one, any file it takes for a Helm template).
"""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..emit import Unit, layout, plan
from ..errors import Code, Diagnostic, Location, SpecError
from ..textutil import first_line
from .finding import SEVERITIES, Rule


@dataclass(frozen=True)
class CheckovConfig:
    skip: tuple[str, ...]
    severity: dict[str, str]

    def severity_of(self, check_id: str) -> str:
        return self.severity.get(check_id, self.severity.get("default", "medium"))


@dataclass(frozen=True)
class Hit:
    check_id: str
    title: str
    path: str  # generated/-relative path of the object's file: <env>/<system>/<kind>-<name>.yaml


def load_config(path: Path, display: str) -> CheckovConfig:
    def refuse(message: str, at: Location | None = None) -> SpecError:
        return SpecError([Diagnostic(Code.CHECKOV, at or Location(display), message)])

    text = ""
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)  # one line at the problem, not PyYAML's multi-line report
        at = Location(display, mark.line + 1, mark.column + 1) if mark else Location(display)
        raise refuse(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", at) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise refuse(f"cannot read the Checkov configuration: {exc}") from None
    raw = raw or {}
    if not isinstance(raw, dict) or not isinstance(raw.get("severity") or {}, dict):
        raise refuse("the Checkov configuration is a mapping: skip-check (a list of check ids) and severity")
    def at_key(key: str) -> Location:  # the line of a top-level key, for a value that is wrong
        found = re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE)
        return Location(display, text.count("\n", 0, found.start()) + 1 if found else 1)

    severity = {str(k): str(v) for k, v in (raw.get("severity") or {}).items()}
    bad = [f"{k}: {v}" for k, v in severity.items() if v not in SEVERITIES]
    if bad:
        raise refuse(f"severity must be one of {SEVERITIES} ({', '.join(bad)})", at_key("severity"))
    skip = raw.get("skip-check") or []
    # Checkov itself crashes on a check id that is not a string: refuse it here, where the file is named.
    if not isinstance(skip, list) or not all(isinstance(check, str) for check in skip):
        raise refuse(f"skip-check must be a list of Checkov check ids such as CKV_K8S_43, not {skip!r}",
                     at_key("skip-check"))
    return CheckovConfig(tuple(skip), severity)


def scan(units: list[Unit], config: CheckovConfig, expect_checks: bool = True) -> list[Hit]:
    """Fails closed unless Checkov parsed every manifest, and (`expect_checks`) ran some check on them: Checkov has
    no checks for Argo CD's kinds, but any other unit holds Namespaces, workloads and policies it must check."""
    files = plan(units)
    with tempfile.TemporaryDirectory(prefix="mlgitops-checkov-") as scratch:
        root = Path(scratch)
        for relative, content in files.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        try:  # setting Checkov up can fail as well as running it
            from checkov.kubernetes.runner import Runner
            from checkov.runner_filter import RunnerFilter

            runner_filter = RunnerFilter(framework=["kubernetes"], skip_checks=list(config.skip),
                                         show_progress_bar=False)
            runner = Runner()
            with contextlib.redirect_stdout(io.StringIO()):  # Checkov prints banners we don't want in reports
                report = runner.run(root_folder=str(root), runner_filter=runner_filter)
        except Exception as exc:  # noqa: BLE001 — a scanner crash must fail the gate, never pass it
            raise SpecError([Diagnostic(Code.CHECKOV, Location("policies/checkov.yaml"),
                                        f"Checkov failed: {type(exc).__name__}: {first_line(str(exc))}")]) from None
        report = report[0] if isinstance(report, list) else report
        # a file Checkov skips still has an entry, with no objects in it
        parsed = {Path(path).relative_to(root).as_posix() for path, objects in (runner.definitions or {}).items()
                  if objects}
        unparsed = sorted(set(files) - parsed)
        if unparsed:  # at the spec it came from: a value there made the manifest unreadable to Checkov
            unit = layout(units)[unparsed[0]][0]
            raise SpecError([Diagnostic(Code.CHECKOV, Location(unit.source),
                                        f"Checkov skipped {len(unparsed)} of {len(files)} rendered manifests "
                                        f"({', '.join(unparsed[:3])}{' …' if len(unparsed) > 3 else ''}); the gate "
                                        "does not pass what Checkov did not scan")])
        if report is None:
            raise SpecError([Diagnostic(Code.CHECKOV, Location("policies/checkov.yaml"), "Checkov returned no report")])
        if expect_checks and not (report.passed_checks or report.failed_checks or report.skipped_checks):
            raise SpecError([Diagnostic(Code.CHECKOV, Location("policies/checkov.yaml"),
                                        "Checkov checked nothing in the rendered manifests")])
        hits = [Hit(r.check_id, r.check_name, Path(r.file_path).as_posix().lstrip("/")) for r in report.failed_checks]
    return sorted(hits, key=lambda h: (h.path, h.check_id))


def rule_for(check_id: str, title: str, config: CheckovConfig) -> Rule:
    return Rule(check_id, config.severity_of(check_id), title,
                "A Checkov Kubernetes check (CIS Kubernetes Benchmark and Kubernetes hardening guidance), run on "
                "the rendered manifests.",
                "Change the spec field the finding points at, or waive the check in the spec with a reason, an "
                "approver and an expiry date.", "checkov")
