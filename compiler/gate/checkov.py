"""Checkov over the rendered manifests, in process (the same findings as the CLI, without its ~2 s start-up).

Input: rendered units (the gate passes one at a time) and policies/checkov.yaml. Output: one `Hit` per failed check
per object, which the gate maps back to the object's system, environment and spec field. The manifests are written
to a temporary directory, one file per object, and scanned together.
Errors (`SpecError`, exit 2, fail closed): an unreadable configuration, a scan that raises or returns nothing.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..emit import Unit, plan
from ..errors import Code, Diagnostic, Location, SpecError
from .finding import SEVERITIES, Rule

# Checkov must not call its vendor's API (there is no network here, and the gate must not depend on one).
os.environ.setdefault("BC_SKIP_MAPPING", "TRUE")
os.environ.setdefault("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
# Each scan is one unit of a few dozen files, and the gate already runs one worker per core: Checkov forking its
# own parser processes per scan would cost more than the parsing.
os.environ.setdefault("CHECKOV_PARALLELIZATION_TYPE", "none")


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
    try:
        raw = yaml.safe_load(path.read_text()) if path.exists() else {}
    except yaml.YAMLError as exc:
        raise SpecError([Diagnostic(Code.CHECKOV, Location(display), f"not valid YAML: {exc}")]) from None
    raw = raw or {}
    severity = {str(k): str(v) for k, v in (raw.get("severity") or {}).items()}
    bad = [f"{k}: {v}" for k, v in severity.items() if v not in SEVERITIES]
    if bad or not isinstance(raw.get("skip-check", []), list):
        raise SpecError([Diagnostic(Code.CHECKOV, Location(display),
                                    f"severity must be one of {SEVERITIES} and skip-check a list ({', '.join(bad)})")])
    return CheckovConfig(tuple(raw.get("skip-check") or ()), severity)


def scan(units: list[Unit], config: CheckovConfig, expect_checks: bool = True) -> list[Hit]:
    """Fails closed unless Checkov parsed every manifest, and (`expect_checks`) ran some check on them: Checkov has
    no checks for Argo CD's kinds, but any other unit holds Namespaces, workloads and policies it must check."""
    from checkov.kubernetes.runner import Runner
    from checkov.runner_filter import RunnerFilter

    files = plan(units)
    with tempfile.TemporaryDirectory(prefix="mlgitops-checkov-") as scratch:
        root = Path(scratch)
        for relative, content in files.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        runner_filter = RunnerFilter(framework=["kubernetes"], skip_checks=list(config.skip),
                                     show_progress_bar=False)
        runner = Runner()
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # Checkov prints banners we don't want in reports
                report = runner.run(root_folder=str(root), runner_filter=runner_filter)
        except Exception as exc:  # noqa: BLE001 — a scanner crash must fail the gate, never pass it
            raise SpecError([Diagnostic(Code.CHECKOV, Location("policies/checkov.yaml"),
                                        f"Checkov failed: {type(exc).__name__}: {exc}")]) from None
        report = report[0] if isinstance(report, list) else report
        parsed = len(runner.definitions or {})
        if report is None or parsed != len(files):
            raise SpecError([Diagnostic(Code.CHECKOV, Location("policies/checkov.yaml"),
                                        f"Checkov parsed {parsed} of {len(files)} rendered manifests")])
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
