"""Custom resources against the CRDs a current cluster serves (../shared/crds): the examples' output passes their
structural schemas and CEL rules, the kube-apiserver v1.36.2 recordings are matched (what it admitted passes, what it
refused is refused), and known-bad objects are refused with the server's words."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from compiler.crds import crd_errors as errors_in
from compiler.crds import is_custom
from compiler.crds.schema import validate_object
from helpers import ROOT, SHARED_CRDS, crd_errors

RECORDINGS = ROOT.parent / "shared" / "apiserver-recordings"
NOT_CHECKED = ("<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; "
               "correct the existing errors to complete validation")


def _custom_resources(compiled: dict[str, dict]) -> dict[str, dict]:
    """Every custom resource of the output, and those an Argo resource template creates (a TrainJob, a Workflow)."""
    found = {}
    for path, obj in compiled.items():
        if not is_custom(obj["apiVersion"]):
            continue
        found[path] = obj
        spec = obj["spec"].get("workflowSpec", obj["spec"]) if obj["kind"] in ("CronWorkflow", "WorkflowTemplate") \
            else {}
        for template in spec.get("templates", []):
            if "resource" in template:
                found[f"{path}#{template['name']}"] = yaml.safe_load(template["resource"]["manifest"])
    return found


def _one(compiled: dict[str, dict], env: str, kind: str) -> dict:
    return copy.deepcopy(next(o for p, o in _custom_resources(compiled).items()
                              if p.startswith(f"{env}/") and o["kind"] == kind))


def _recorded(prefix: str) -> list[tuple[dict, dict, dict]]:
    """(index entry, request body, response body) of each recorded custom-resource write under `prefix`."""
    if not RECORDINGS.is_dir():
        pytest.skip("../shared/apiserver-recordings is not beside the repository")
    entries = json.loads((RECORDINGS / "index.json").read_text())["entries"]
    found = []
    for entry in entries:
        body = entry["request"].get("bodyFile")
        if not entry["file"].startswith(prefix) or not body or not body.endswith(".yaml"):
            continue
        request = yaml.safe_load((RECORDINGS / body).read_text())
        if is_custom(request["apiVersion"]):
            found.append((entry, request, json.loads((RECORDINGS / entry["file"]).read_text())))
    return found


def test_every_custom_resource_of_every_environment_passes_the_current_crds(compiled: dict[str, dict]) -> None:
    resources = _custom_resources(compiled)
    assert {p.split("/")[0] for p in resources} == {"dev", "staging", "prod"}
    assert {o["kind"] for o in resources.values()} >= {
        "Application", "AppProject", "CronWorkflow", "WorkflowTemplate", "Workflow", "TrainJob", "InferenceService",
        "ScaledObject", "TriggerAuthentication", "LocalQueue", "ExternalSecret", "PrometheusRule", "PodMonitor",
        "ServiceMonitor"}
    assert {p: e for p, o in resources.items() if (e := crd_errors(o))} == {}


def test_what_the_server_admitted_passes_and_what_it_refused_is_refused() -> None:
    recorded = _recorded("dryrun/")
    admitted = [(e["file"], r) for e, r, _ in recorded if e["response"]["status"] in (200, 201)]
    refused = [(e, r, b) for e, r, b in recorded if e["response"]["status"] >= 400]
    assert len(admitted) >= 20 and {r["kind"] for _, r in admitted} >= {"InferenceService", "WorkflowTemplate"}
    assert {f: e for f, r in admitted if (e := crd_errors(r))} == {}
    assert len(refused) == 7  # spec.schedule: prod's two CronWorkflows, one three ways; an unknown field twice
    for entry, request, response in refused:
        errors = crd_errors(request)
        assert errors, entry["file"]
        if entry["response"]["status"] == 500:  # server-side apply names the first undeclared field
            assert response["message"].rpartition("): ")[2] in errors, entry["file"]


def test_a_cronworkflow_with_spec_schedule_is_refused_as_argo_workflows_4_removed_it() -> None:
    body = RECORDINGS / "dryrun" / "failures"
    old = yaml.safe_load((body / "cronworkflow-spec-schedule.apply.request.yaml").read_text())
    assert crd_errors(old) == ["spec.schedules: Required value", ".spec.schedule: field not declared in schema",
                               NOT_CHECKED]
    assert crd_errors(yaml.safe_load((body / "cronworkflow-schedules.apply.request.yaml").read_text())) == []


def test_an_enum_violation_is_refused_as_the_server_refused_it_and_minreplicas_minus_one_is_not() -> None:
    [(_, request, response)] = _recorded("errors/422-invalid-cr")
    assert request["spec"]["predictor"]["minReplicas"] == -1
    assert crd_errors(request) == [f"{c['field']}: {c['message']}" for c in response["details"]["causes"]]


def test_keda_refuses_a_minimum_above_the_maximum(compiled: dict[str, dict]) -> None:
    scaled = _one(compiled, "prod", "ScaledObject")
    assert crd_errors(scaled) == []
    scaled["spec"]["minReplicaCount"] = scaled["spec"]["maxReplicaCount"] + 1
    assert crd_errors(scaled) == ['spec: Invalid value: "object": minReplicaCount must be less than or equal to '
                                  "maxReplicaCount"]
    del scaled["spec"]["maxReplicaCount"]  # the rule's own default maximum, 100
    scaled["spec"]["minReplicaCount"] = 101
    assert len(crd_errors(scaled)) == 1


def test_trainer_refuses_a_trainjob_whose_generated_name_is_not_an_rfc_1035_label(compiled: dict[str, dict]) -> None:
    job = _one(compiled, "prod", "TrainJob")
    assert "name" not in job["metadata"] and crd_errors(job) == []  # named by the server from generateName
    job["metadata"]["generateName"] = "7-recommender-train-"
    assert crd_errors(job) == ['<nil>: Invalid value: "object": metadata.name must match RFC 1035 DNS label format']
    job["metadata"]["generateName"] = "r" * 70
    assert crd_errors(job) == []  # the server cuts the prefix to 58 characters before adding its 5


def test_argo_refuses_a_dag_task_named_with_a_digit_or_with_both_dependency_forms(compiled: dict[str, dict]) -> None:
    template = _one(compiled, "prod", "WorkflowTemplate")
    [dag] = [t for t in template["spec"]["templates"] if "dag" in t]
    task = dag["dag"]["tasks"][1]
    assert task["dependencies"] and crd_errors(template) == []
    task["name"] = "2-" + task["name"]
    [error] = crd_errors(template)
    assert error.endswith(": Invalid value: \"object\": task name cannot begin with a digit when using 'depends' or "
                          "'dependencies'") and error.startswith("spec.templates[")
    task["name"] = task["name"][2:]
    task["depends"] = " && ".join(task["dependencies"])
    [error] = crd_errors(template)
    assert error.endswith("cannot use both 'depends' and 'dependencies'")


def test_an_unknown_field_anywhere_is_refused_and_null_is_pruned(compiled: dict[str, dict]) -> None:
    service = _one(compiled, "prod", "InferenceService")
    service["spec"]["predictor"]["minReplica"] = 2
    service["metadata"]["labelz"] = {}
    assert crd_errors(service) == [".metadata.labelz: field not declared in schema",
                                   ".spec.predictor.minReplica: field not declared in schema"]
    service = _one(compiled, "prod", "InferenceService")
    service["spec"]["predictor"]["minReplicas"] = None  # not nullable: the server drops it
    assert crd_errors(service) == []


def test_types_patterns_and_lengths_are_checked(compiled: dict[str, dict]) -> None:
    queue = _one(compiled, "prod", "LocalQueue")
    queue["spec"]["clusterQueue"] = "Not_A_Name"
    [error, not_checked] = crd_errors(queue)  # the LocalQueue CRD has (transition) rules, so the note
    assert error.startswith('spec.clusterQueue: Invalid value: "Not_A_Name": spec.clusterQueue in body should match')
    assert not_checked == NOT_CHECKED
    queue["spec"]["clusterQueue"] = "q" * 254
    assert crd_errors(queue) == ["spec.clusterQueue: Too long: may not be more than 253 bytes", NOT_CHECKED]
    scaled = _one(compiled, "prod", "ScaledObject")
    scaled["spec"]["maxReplicaCount"] = "20"
    assert crd_errors(scaled) == ['spec.maxReplicaCount: Invalid value: "string": spec.maxReplicaCount in body must '
                                  'be of type integer: "20"', NOT_CHECKED]


def test_a_go_only_pattern_is_checked_as_go_reads_it(compiled: dict[str, dict]) -> None:
    rule = _one(compiled, "prod", "PrometheusRule")
    rule["spec"]["groups"][0]["partial_response_strategy"] = "WARN"  # pattern ^(?i)(abort|warn)?$: Python's re refuses
    assert crd_errors(rule) == []
    rule["spec"]["groups"][0]["partial_response_strategy"] = "warn\n"
    assert crd_errors(rule) == ['spec.groups[0].partial_response_strategy: Invalid value: "warn\\n": '
                                "spec.groups[0].partial_response_strategy in body should match '^(?i)(abort|warn)?$'"]


def test_the_formats_the_server_checks_are_checked() -> None:
    schema = {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"},
                                               "data": {"type": "string", "format": "byte"},
                                               "n": {"type": "integer", "format": "int32"}}}
    obj = {"apiVersion": "example.com/v1", "kind": "X", "metadata": {"name": "x"}}
    assert validate_object({**obj, "at": "2026-12-02T10:00:00Z", "data": "aGk=", "n": 2**40}, schema) == []
    assert validate_object({**obj, "at": "yesterday", "data": "not base64!"}, schema) == [
        'at: Invalid value: "yesterday": at in body must be of type date-time: "yesterday"',
        'data: Invalid value: "not base64!": data in body must be of type byte: "not base64!"']


def test_a_rule_calling_a_function_the_offline_library_lacks_fails_closed() -> None:
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {"q": {"type": "string"}},
              "x-kubernetes-validations": [{"rule": "quantity(self.q).isGreaterThan(quantity('1'))",
                                            "message": "q must exceed 1"}]}}}
    obj = {"apiVersion": "example.com/v1", "kind": "X", "metadata": {"name": "x"}, "spec": {"q": "2"}}
    assert validate_object(obj, schema) == ['spec: Invalid value: "object": unsupported CEL function '
                                            "isGreaterThan, quantity (not evaluated offline)"]
    schema["properties"]["spec"]["x-kubernetes-validations"] = [{"rule": "self.q == oldSelf.q", "message": "fixed"}]
    assert validate_object(obj, schema) == []  # a transition rule: nothing to compare with on create
    schema["properties"]["spec"]["x-kubernetes-validations"][0].update(
        rule="!oldSelf.hasValue() && self.q == '1'", optionalOldSelf=True, message="q starts at 1")
    assert validate_object(obj, schema) == ['spec: Invalid value: "object": q starts at 1']  # runs, oldSelf absent


def test_the_kubernetes_schema_extensions_are_honoured() -> None:
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "port": {"x-kubernetes-int-or-string": True},
        "note": {"type": "string", "nullable": True},
        "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                  "items": {"type": "object", "properties": {"name": {"type": "string"}, "n": {"type": "integer"}}}},
        "template": {"type": "object", "x-kubernetes-embedded-resource": True,
                     "x-kubernetes-preserve-unknown-fields": True},
        "mode": {"type": "string", "default": "fast"}},
        "x-kubernetes-validations": [
            {"rule": "self.mode == 'fast'", "messageExpression": "'mode is ' + self.mode", "fieldPath": ".mode",
             "reason": "FieldValueForbidden"}]}}}
    obj = {"apiVersion": "example.com/v1", "kind": "X", "metadata": {"name": "x"}, "spec": {
        "port": "http", "note": None, "tags": ["a", "b"], "ports": [{"name": "a", "n": 1}, {"name": "b", "n": 1}],
        "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"anything": 1}}}}
    assert validate_object(obj, schema) == []  # the default mode satisfies the rule
    obj["spec"].update(port=1.5, tags=["a", "a"], ports=[{"name": "a"}, {"name": "a"}],
                       template={"metadata": {"nam": "p"}})
    assert validate_object(obj, schema) == [
        'spec.port: Invalid value: "number": spec.port in body must be of type integer or string: 1.5',
        'spec.tags[1]: Duplicate value: "a"', 'spec.ports[1]: Duplicate value: {"name": "a"}',
        "spec.template.apiVersion: Required value: must not be empty",
        "spec.template.kind: Required value: must not be empty",
        ".spec.template.metadata.nam: field not declared in schema", NOT_CHECKED]
    obj = {**obj, "spec": {"mode": "slow"}}
    assert validate_object(obj, schema) == ["spec.mode: Forbidden: mode is slow"]


def test_size_counts_code_points_as_kubernetes_cel_does() -> None:
    schema = {"type": "object", "properties": {"s": {"type": "string", "x-kubernetes-validations": [
        {"rule": "size(self) <= 3 && self.size() >= 3 && 'size(' != ''", "message": "three characters"}]}}}
    obj = {"apiVersion": "example.com/v1", "kind": "X", "metadata": {"name": "x"}}
    assert validate_object({**obj, "s": "héé"}, schema) == []  # 5 bytes, 3 characters
    assert validate_object({**obj, "s": "héé!"}, schema) == ['s: Invalid value: "string": three characters']


def test_bad_input_is_an_error_message_never_a_traceback() -> None:
    assert errors_in([], SHARED_CRDS) == ["<nil>: Required value: apiVersion and kind must be strings"]
    assert errors_in({"apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret"}, SHARED_CRDS) == [
        "external-secrets.io/v1beta1 ExternalSecret: is not served in crds/ (the server: 404 page not found)"]
    assert errors_in({"apiVersion": "ray.io/v1", "kind": "RayJob"}, SHARED_CRDS)[0].startswith("ray.io/v1 RayJob:")
    assert crd_errors({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": [], "spec": 3})
