"""Shared fixtures: a scratch copy of the example repository, the CLI in-process, and strict manifest schemas."""

from __future__ import annotations

import functools
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from compiler.cli import main

ROOT = Path(__file__).resolve().parents[1]
SHARED_SCHEMAS = ROOT.parent / "shared" / "schemas"
K8S_SCHEMAS = SHARED_SCHEMAS / "kubernetes" / "v1.35.0-standalone-strict"
OPA = ROOT.parent / "shared" / "bin" / "opa"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return request.config.getoption("--update-golden")


def copy_examples(root: Path) -> Path:
    """A scratch platform repository: the example specs, environments, policies, tenancy and model lock."""
    for folder in ("spec", "environments", "policies"):
        shutil.copytree(ROOT / folder, root / folder)
    for file in ("mlgitops.lock.yaml", "tenancy.yaml"):
        shutil.copy(ROOT / file, root / file)
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_examples(tmp_path / "repo")


@pytest.fixture(scope="session")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Every object the examples compile to, for every environment, by its path under generated/ (read-only)."""
    root = copy_examples(tmp_path_factory.mktemp("examples"))
    assert run_cli(root, "compile", "--offline").exit_code == 0
    return {path: yaml.safe_load(content) for path, content in tree(root / "generated").items()}


def pod_specs(obj: dict) -> list[dict]:
    """Every pod spec inside a workload, whatever its kind (KServe's predictor counted as one)."""
    spec = obj.get("spec", {})
    kind = obj["kind"]
    if kind in ("Deployment", "Job"):
        return [spec["template"]["spec"]]
    if kind == "CronJob":
        return [spec["jobTemplate"]["spec"]["template"]["spec"]]
    if kind == "PyTorchJob":
        return [r["template"]["spec"] for r in spec["pytorchReplicaSpecs"].values()]
    if kind == "WorkflowTemplate":
        return _workflow_pods(spec)
    if kind == "CronWorkflow":
        return _workflow_pods(spec["workflowSpec"])
    if kind == "InferenceService":
        predictor = spec["predictor"]
        return [{**predictor, "containers": predictor.get("containers") or [predictor["model"]]}]
    return []


def _workflow_pods(spec: dict) -> list[dict]:
    """The pods of an Argo workflow: each container template as the pod Argo makes of it (the workflow's pod
    security context and volumes, the template's placement), and the pods of what a resource template creates."""
    pods = []
    for template in spec.get("templates", []):
        if "container" in template:
            placement = {k: template[k] for k in ("nodeSelector", "tolerations", "priorityClassName") if k in template}
            pods.append({"securityContext": spec.get("securityContext"), "volumes": spec.get("volumes", []),
                         "serviceAccountName": spec.get("serviceAccountName"),
                         "automountServiceAccountToken": spec.get("automountServiceAccountToken", True), **placement,
                         "containers": [template["container"]]})
        elif "resource" in template:
            pods += pod_specs(yaml.safe_load(template["resource"]["manifest"]))
    return pods


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(root: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    """The real CLI, in-process (cdk8s's Node process stays up between tests)."""
    result = CliRunner().invoke(main, ["--root", str(root), *args], env={"CI": "true", **(env or {})})
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)


def edit(repo: Path, relative: str, old: str, new: str) -> None:
    """Replace the single occurrence of `old` in a file of a scratch repository."""
    path = repo / relative
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {relative}"
    path.write_text(text.replace(old, new))


def tree(directory: Path) -> dict[str, bytes]:
    """Every file under a directory, by relative path."""
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@functools.cache
def _schema(api_version: str, kind: str) -> dict:
    group, _, version = api_version.rpartition("/")
    crd = SHARED_SCHEMAS / "crds" / group / f"{kind.lower()}_{version}.json"
    if group and crd.exists():
        path = crd
    elif group:
        path = K8S_SCHEMAS / f"{kind.lower()}-{group.split('.')[0]}-{version}.json"
    else:
        path = K8S_SCHEMAS / f"{kind.lower()}-{version}.json"
    if not path.exists():
        raise LookupError(f"no schema for {api_version} {kind} (looked for {path.name})")
    return json.loads(path.read_text())


def schema_errors(obj: dict) -> list[str]:
    """Strict validation of one manifest against ../shared/schemas; an empty list means valid."""
    schema = _schema(obj["apiVersion"], obj["kind"])
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(obj)]


def require_shared_schemas() -> None:
    if not SHARED_SCHEMAS.is_dir():
        pytest.skip("../shared/schemas is not beside the repository")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def opa_server() -> Iterator[str]:
    """A real OPA server on 127.0.0.1 with no policies, stopped (by its process) at the end of the test."""
    if not OPA.exists():
        pytest.skip("../shared/bin/opa is not beside the repository")
    port = free_port()
    process = subprocess.Popen([str(OPA), "run", "--server", "--addr", f"127.0.0.1:{port}", "--log-level", "error"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("OPA did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server on 127.0.0.1 that accepts every connection and never answers (a hung registry or OPA server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)  # so the accepting thread notices the end of the test
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    for connection in held:
        connection.close()
    listener.close()
