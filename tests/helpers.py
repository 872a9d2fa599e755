"""What the tests share besides fixtures: the repository's paths, a scratch copy of the examples, the CLI in-process
against a real (sqlite) model registry seeded with the example models, strict manifest schemas, loopback servers.
Fixtures and hooks stay in conftest.py."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
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
from compiler.model.platform import Platform
from compiler.runtime import configure

configure()  # in-process use, before any test module imports cdk8s, Checkov or regorus

ROOT = Path(__file__).resolve().parents[1]
SHARED_SCHEMAS = ROOT.parent / "shared" / "schemas"
K8S_SCHEMAS = SHARED_SCHEMAS / "kubernetes" / "v1.35.0-standalone-strict"
SHARED_CRDS = ROOT.parent / "shared" / "crds"
OPA_VARIABLE = "MLGITOPS_OPA"
CACHE_VARIABLE = "MLGITOPS_CACHE_DIR"


def opa_binary() -> str:
    """The reference OPA binary: $MLGITOPS_OPA, else `opa` on PATH; the test is skipped (saying how) without one."""
    found = os.environ.get(OPA_VARIABLE) or shutil.which("opa")
    if not found:
        pytest.skip(f"no opa binary: put opa on PATH or set {OPA_VARIABLE}=/path/to/opa to run this test")
    return found


def copy_examples(root: Path) -> Path:
    """A scratch platform repository: the example specs, environments, policies, tenancy and model lock."""
    for folder in ("spec", "environments", "policies"):
        shutil.copytree(ROOT / folder, root / folder)
    for file in ("mlgitops.lock.yaml", "tenancy.yaml"):
        shutil.copy(ROOT / file, root / file)
    return root


def pod_specs(obj: dict, platform: Platform | None = None) -> list[dict]:
    """Every pod spec inside a workload, whatever its kind (KServe's predictor counted as one). With the
    environment's `platform`, workflow pods as Argo builds them: with the containers its controller adds."""
    spec = obj.get("spec", {})
    kind = obj["kind"]
    if kind in ("Deployment", "Job"):
        return [spec["template"]["spec"]]
    if kind == "CronJob":
        return [spec["jobTemplate"]["spec"]["template"]["spec"]]
    if kind == "PyTorchJob":
        return [r["template"]["spec"] for r in spec["pytorchReplicaSpecs"].values()]
    if kind == "TrainJob":  # the patch of the runtime's pod, with the trainer container it names
        [patch] = spec["runtimePatches"]
        [node] = patch["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"]
        pod = node["template"]["spec"]["template"]["spec"]
        trainer = spec["trainer"]
        return [{**pod, "containers": [{**c, "image": trainer["image"], "resources": trainer["resourcesPerNode"]}
                                       for c in pod["containers"]]}]
    if kind == "WorkflowTemplate":
        return _workflow_pods(spec, platform)
    if kind == "CronWorkflow":
        return _workflow_pods(spec["workflowSpec"], platform)
    if kind == "InferenceService":
        predictor = spec["predictor"]
        return [{**predictor, "containers": predictor.get("containers") or [predictor["model"]]}]
    return []


def _workflow_pods(spec: dict, platform: Platform | None = None) -> list[dict]:
    """The pods of an Argo workflow: each container template as the pod Argo makes of it (the workflow's pod
    security context and volumes, the template's placement), and the pods of what a resource template creates.
    With a platform, each template's pod also has the executor containers Argo adds, and its podSpecPatch applied."""
    pods = []
    for template in spec.get("templates", []):
        pod = {"securityContext": spec.get("securityContext"), "volumes": spec.get("volumes", []),
               "serviceAccountName": spec.get("serviceAccountName"),
               "automountServiceAccountToken": spec.get("automountServiceAccountToken", True)}
        if "container" in template:
            placement = {k: template[k] for k in ("nodeSelector", "tolerations", "priorityClassName") if k in template}
            pod = {**pod, **placement, "containers": [template["container"]]}
            pods.append(_as_argo_builds(pod, template, platform.argo_workflows) if platform else pod)
        elif "resource" in template:
            if platform:  # the pod running `argoexec resource` is Argo's own
                pods.append(_as_argo_builds({**pod, "containers": []}, template, platform.argo_workflows))
            pods += pod_specs(yaml.safe_load(template["resource"]["manifest"]), platform)
    return pods


# The securityContext of the containers Argo adds, as the controller sets it (argo-workflows v4.1.2, workflow/
# controller/workflowpod.go newExecContainer): the configured executor.securityContext, nil on a stock install
# (hardened: what the environment says its configuration meets); for resource templates without one,
# common.MinimalCtrSC(), whose root filesystem is read-only for `main` only.
_RESTRICTED = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True,
               "seccompProfile": {"type": "RuntimeDefault"}}
_MINIMAL_CTR_SC = {**_RESTRICTED, "privileged": False, "runAsUser": 8737}


def _as_argo_builds(pod: dict, template: dict, argo) -> dict:
    """A template's pod with the executor containers of the controller's pod layout, then the template's
    podSpecPatch merged by container name (util.ApplyPodSpecPatch, a strategic merge)."""
    resource = "resource" in template
    context = _RESTRICTED if argo.executor_hardened else _MINIMAL_CTR_SC if resource else None
    injected = {"containers": ["main"] if resource else ["supervisor" if argo.initless_pod else "wait"],
                "initContainers": [] if argo.initless_pod else ["init"]}
    pod = {**pod, "initContainers": [], "containers": [dict(c) for c in pod["containers"]]}
    for field, names in injected.items():
        for name in names:
            container = {"name": name, "image": "quay.io/argoproj/argoexec"}
            if context:
                container["securityContext"] = {**context, "readOnlyRootFilesystem": name == "main"}
            pod[field].insert(0, container)
    patch = json.loads(template.get("podSpecPatch", "{}"))
    for field in ("containers", "initContainers"):
        for patched in patch.get(field, []):
            target = next((c for c in pod[field] if c["name"] == patched["name"]), None)
            if target is None:  # a strategic merge adds it, without an image: the pod would be invalid
                pod[field].append(patched)
            else:
                target["securityContext"] = {**target.get("securityContext", {}), **patched.get("securityContext", {})}
    return pod


REGISTRY_HOME: list[Path] = []  # where the session's example registry lives (set once per session)


@functools.cache

def example_registry() -> str:
    """A real MLflow registry (sqlite) seeded by tools/seed_registry.py, as `make run` seeds the demo's: the
    committed lock verifies against it. Seeded on first use, once per session (about 7 s); read-only for tests."""
    uri = f"sqlite:///{REGISTRY_HOME[0] / 'registry.db'}"
    spec = importlib.util.spec_from_file_location("seed_registry", ROOT / "tools" / "seed_registry.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.seed(uri)
    return uri


def registry_with(directory: Path, pins) -> str:
    """A private copy of the example registry (`directory/registry.db`, a file copy: no seeding) whose record of
    each pin's version is what the pin says: tags replaced, a model missing from the examples registered (earlier
    versions as placeholders). For tests whose lock pins what the examples' registry does not hold."""
    from mlflow import MlflowClient

    path = directory / "registry.db"
    shutil.copy(Path(example_registry().removeprefix("sqlite:///")), path)
    uri = f"sqlite:///{path}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    for pin in {(p.name, p.version): p for p in pins}.values():
        if not client.search_registered_models(f"name = '{pin.name}'"):
            client.create_registered_model(pin.name)
            for number in range(1, pin.version + 1):
                last = number == pin.version
                client.create_model_version(pin.name, pin.source_uri if last else f"s3://placeholder/{number}",
                                            run_id=pin.run_id if last else None)
        version = client.get_model_version(pin.name, str(pin.version))
        for key in set(version.tags) - set(pin.tags):
            client.delete_model_version_tag(pin.name, str(pin.version), key)
        for key, value in pin.tags.items():
            client.set_model_version_tag(pin.name, str(pin.version), key, value)
    return uri


@dataclass

class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(root: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    """The real CLI, in-process (cdk8s's Node process stays up between tests), with the example registry as
    MLFLOW_TRACKING_URI unless `env` sets its own."""
    env = env or {}
    registry = {} if "MLFLOW_TRACKING_URI" in env else {"MLFLOW_TRACKING_URI": example_registry()}
    result = CliRunner().invoke(main, ["--root", str(root), *args], env={"CI": "true", **registry, **env})
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)


def edit(repo: Path, relative: str, old: str, new: str) -> None:
    """Replace the single occurrence of `old` in a file of a scratch repository."""
    path = repo / relative
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {relative}"
    path.write_text(text.replace(old, new))


def line_of(root: Path, relative: str, text: str, after: str = "") -> int:
    """The 1-based line of a file that holds `text`: the single one, or with `after` the first below the single line
    that starts with `after` (a top-level key). Tests locate diagnostics by it, so that edits of the examples do
    not break them."""
    lines = list(enumerate((root / relative).read_text().splitlines(), 1))
    if after:
        [start] = [i for i, line in lines if line.startswith(after)]
        return next(i for i, line in lines[start:] if text in line)
    [number] = [i for i, line in lines if text in line]
    return number


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
    """Strict validation of one manifest; an empty list means valid. A custom resource is judged by the served version
    of its current upstream CRD (../shared/crds, CEL rules included), which wins over the older JSON Schema of
    ../shared/schemas where they disagree; built-in kinds by ../shared/schemas."""
    from compiler.crds import is_custom

    if is_custom(obj["apiVersion"]) and SHARED_CRDS.is_dir():
        return crd_errors(obj)
    schema = _schema(obj["apiVersion"], obj["kind"])
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(obj)]


def crd_errors(obj: dict) -> list[str]:
    """A custom resource against the served version of its upstream CRD in ../shared/crds (structural schema and CEL
    rules, worded as the API server words them); an empty list means the server would admit it."""
    from compiler.crds import crd_errors as errors

    if not SHARED_CRDS.is_dir():
        pytest.skip("../shared/crds is not beside the repository")
    return errors(obj, SHARED_CRDS)


def require_shared_schemas() -> None:
    if not SHARED_SCHEMAS.is_dir():
        pytest.skip("../shared/schemas is not beside the repository")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager

def mlflow_server_on(backend: str, home: Path) -> Iterator[str]:
    """A real `mlflow server` on 127.0.0.1 over the `backend` store (artifacts in `home`), stopped by its process
    group at the end."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    mlflow = Path(sys.executable).with_name("mlflow")
    process = subprocess.Popen(
        [str(mlflow), "server", "--backend-store-uri", backend, "--default-artifact-root", str(home / "artifacts"),
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("mlflow server did not start")
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
