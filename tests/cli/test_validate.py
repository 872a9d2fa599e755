"""Pass 2/3 through the CLI: `validate` on a broken copy of the examples exits 2 with exact, one-line diagnostics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import edit, run_cli

REC = "spec/recommender.yaml"
FRAUD = "spec/fraud-scorer.yaml"
ASSIST = "spec/support-assistant.yaml"

DIAGNOSTIC = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?:(?P<field>\S+): )?"
                        r"(?P<message>.+) \[(?P<code>[EW]\d{3})\]$")


def position(repo: Path, relative: str, line_text: str, token: str) -> tuple[int, int]:
    """1-based line of the one line containing `line_text` (`^` anchors it at the line start), and the column where
    `token` starts on it."""
    lines = (repo / relative).read_text().splitlines()
    if line_text.startswith("^"):
        hits = [number for number, line in enumerate(lines, 1) if line.startswith(line_text[1:])]
    else:
        hits = [number for number, line in enumerate(lines, 1) if line_text in line]
    assert len(hits) == 1, f"{line_text!r} is on lines {hits} of {relative}"
    return hits[0], lines[hits[0] - 1].index(token) + 1


def failed(result, problems: int) -> list[str]:
    """Exit 2, nothing on stdout, no traceback; returns the diagnostic lines (all well-formed, one per problem)."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    plural = "s" if problems != 1 else ""
    assert lines[-1] == f"mlgitops: {problems} problem{plural} found; nothing was written"
    diagnostics = lines[:-1]
    assert len(diagnostics) == problems, result.stderr
    for line in diagnostics:
        assert DIAGNOSTIC.match(line), f"not a one-line diagnostic: {line!r}"
    return diagnostics


def expect(result, relative: str, where: tuple[int, int], field: str, code: str, message: str,
           problems: int = 1) -> str:
    """Exactly one diagnostic at `relative:line:col` for `field`, with `code`, whose message contains `message`."""
    diagnostics = failed(result, problems)
    prefix = f"{relative}:{where[0]}:{where[1]}: {field}: "
    hits = [d for d in diagnostics if d.startswith(prefix)]
    assert len(hits) == 1, f"no single diagnostic starting {prefix!r} in:\n{result.stderr}"
    assert hits[0].endswith(f" [{code}]"), hits[0]
    assert message in hits[0], hits[0]
    return hits[0]


# --- the examples are valid ---------------------------------------------------------------------------------------

def test_examples_validate_cleanly(repo):
    result = run_cli(repo, "validate")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "ok: 3 systems valid in 3 environments (dev, prod, staging)\n"
    assert result.stderr == ""


def test_cron_macro_is_accepted(repo):
    edit(repo, FRAUD, 'schedule: "30 1 * * *"', 'schedule: "@daily"')
    result = run_cli(repo, "validate")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


# --- unknown fields -----------------------------------------------------------------------------------------------

def test_unknown_field_suggests_the_close_name(repo):
    edit(repo, REC, "  replicas: {min: 2, max: 5}", "  replica: {min: 2, max: 5}")
    result = run_cli(repo, "validate")
    line = expect(result, REC, position(repo, REC, "replica: {min: 2, max: 5}", "replica"), "serving.replica",
                  "E201", "unknown field 'replica'")
    assert "did you mean 'replicas'?" in line


def test_snake_case_field_suggests_the_camel_case_name(repo):
    edit(repo, REC, "  maxRuntime: 6h", "  max_runtime: 6h")
    result = run_cli(repo, "validate")
    expect(result, REC, position(repo, REC, "max_runtime: 6h", "max_runtime"), "training.max_runtime", "E201",
           "unknown field 'max_runtime'; did you mean 'maxRuntime'?")


def test_unknown_field_with_nothing_close_lists_the_allowed_ones(repo):
    edit(repo, REC, "  canary: {trafficPercent: 10, promote: false}", "  canary: {trafficPercent: 10, zzzz: 1}")
    result = run_cli(repo, "validate")
    expect(result, REC, position(repo, REC, "zzzz: 1", "zzzz"), "serving.canary.zzzz", "E201",
           "unknown field 'zzzz'; allowed here: promote, trafficPercent")


def test_unknown_field_in_an_environment_override_points_at_the_override(repo):
    edit(repo, ASSIST, "      replicas: {min: 2, max: 8}", "      replica: {min: 2, max: 8}")
    result = run_cli(repo, "validate")
    expect(result, ASSIST, position(repo, ASSIST, "replica: {min: 2, max: 8}", "replica"), "serving.replica",
           "E201", "did you mean 'replicas'?")


# --- types and units ----------------------------------------------------------------------------------------------

def test_wrong_type_names_the_value(repo):
    edit(repo, REC, "{min: 2, max: 5}", "{min: two, max: 5}")
    result = run_cli(repo, "validate")
    expect(result, REC, position(repo, REC, "{min: two, max: 5}", "min"), "serving.replicas.min", "E203",
           "valid integer, unable to parse string as an integer (got 'two')")


def test_missing_required_field_points_at_its_parent(repo):
    edit(repo, FRAUD, "  owner: payments-risk@example.com\n", "")
    result = run_cli(repo, "validate")
    expect(result, FRAUD, position(repo, FRAUD, "metadata:", "metadata"), "metadata.owner", "E202",
           "missing required field 'owner'")


def test_wrong_kind_is_refused(repo):
    edit(repo, FRAUD, "kind: MLSystem", "kind: Environment")
    result = run_cli(repo, "validate")
    expect(result, FRAUD, position(repo, FRAUD, "kind: Environment", "kind"), "kind", "E205",
           "expected kind: MLSystem, found 'Environment'")


@pytest.mark.parametrize("old, new, line_text, token, field, message", [
    ("memory: 4Gi}", "memory: 4 gigs}", "memory: 4 gigs", "memory", "serving.resources.memory",
     "'4 gigs' is not a memory quantity: write e.g. 512Mi, 4Gi or 1G"),
    ('cpu: "2", memory', 'cpu: "2 cores", memory', 'cpu: "2 cores"', "cpu", "serving.resources.cpu",
     "'2 cores' is not a CPU quantity: write cores (2, 0.5) or millicores (500m)"),
    ("latencyP95: 150ms", "latencyP95: fast", "latencyP95: fast", "latencyP95", "serving.slo.latencyP95",
     "'fast' is not a duration: write e.g. 150ms, 30s, 6h or 1h30m"),
    ("availability: 99.9%", "availability: 101%", "availability: 101%", "availability", "serving.slo.availability",
     "'101%' is not a percentage: write e.g. 99.9% or 1% (above 0, at most 100)"),
    ('schedule: "0 * * * *"', 'schedule: "61 * * * *"', "schedule: \"61", "schedule", "monitoring.drift.schedule",
     "'61 * * * *' is not a cron schedule (Bad minute): write five fields, e.g. '0 3 * * 0'"),
    ('schedule: "0 * * * *"', 'schedule: "0 3 L * *"', 'schedule: "0 3 L', "schedule", "monitoring.drift.schedule",
     "'0 3 L * *' uses L, W or #, which Kubernetes CronJobs do not support"),
    ('schedule: "0 * * * *"', 'schedule: "0 * * * 5#2"', "5#2", "schedule", "monitoring.drift.schedule",
     "'0 * * * 5#2' uses L, W or #, which Kubernetes CronJobs do not support"),
], ids=["memory", "cpu", "latency", "availability", "cron-minute", "cron-L", "cron-hash"])
def test_invalid_units_are_explained(repo, old, new, line_text, token, field, message):
    edit(repo, REC, old, new)
    result = run_cli(repo, "validate")
    expect(result, REC, position(repo, REC, line_text, token), field, "E203", message)


def test_infinite_gpu_count_is_bad_input_not_a_crash(repo):
    edit(repo, REC, "    count: 1\n    type: nvidia-t4", "    count: .inf\n    type: nvidia-t4")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2, result.stderr
    assert "serving.gpu.count" in result.stderr
    assert "internal error" not in result.stderr


# --- cross-field rules --------------------------------------------------------------------------------------------

RULES = {
    "mig-without-profile": (ASSIST, "    migProfile: 3g.40gb\n", "", "sharing: mig", "sharing",
                            "serving.gpu.sharing", "sharing: mig needs migProfile (e.g. 1g.10gb)"),
    "kafka-lag-without-kafka": (FRAUD, "    kafka:\n      bootstrapServers: kafka.streaming.svc:9092\n"
                                       "      topic: card-authorizations\n      consumerGroup: fraud-scorer\n"
                                       "      lagThreshold: 500\n      sasl: {mechanism: scram_sha512, secretName: "
                                       "kafka-credentials}   # KEDA reads the lag with the app's credentials\n", "",
                                "metric: kafka-lag", "metric",
                                "serving.autoscaling.metric", "metric: kafka-lag needs the kafka block"),
    "min-above-max": (REC, "{min: 2, max: 5}", "{min: 6, max: 5}", "{min: 6, max: 5}", "min",
                      "serving.replicas.min", "replicas.min (6) must be <= replicas.max (5)"),
    "deployment-without-image": (FRAUD, "  image: registry.example.com/fraud/scorer:3.2.0\n", "",
                                 "runtime: deployment", "runtime", "serving.runtime",
                                 "runtime: deployment needs serving.image"),
    "canary-with-deployment": (FRAUD, "  port: 9000\n", "  port: 9000\n  canary: {trafficPercent: 5}\n",
                               "canary: {trafficPercent: 5}", "canary", "serving.canary",
                               "canary traffic splitting needs runtime: kserve"),
    "alias-and-version": (REC, "  alias: champion\n", "  alias: champion\n  version: 3\n", "version: 3",
                          "version", "model.version", "set either model.alias or model.version, not both"),
    "cpu-target-over-100": (REC, "    target: 70", "    target: 170", "target: 170", "target",
                            "serving.autoscaling.target", "a cpu target is a percentage of the request (1-100)"),
}


@pytest.mark.parametrize("case", list(RULES))
def test_cross_field_rules(repo, case):
    relative, old, new, line_text, token, field, message = RULES[case]
    edit(repo, relative, old, new)
    result = run_cli(repo, "validate")
    expect(result, relative, position(repo, relative, line_text, token), field, "E204", message)


def test_serving_needs_a_model_or_an_image(repo):
    edit(repo, REC, "model:\n  name: recsys-ranker\n  alias: champion\n  format: pytorch\n", "")
    edit(repo, REC, "  image: registry.example.com/recsys/serve:1.4.2\n", "")
    result = run_cli(repo, "validate")
    expect(result, REC, position(repo, REC, "^serving:", "serving"), "serving", "E204",
           "serving needs a model (from the registry) or serving.image")


# --- environments and identity ------------------------------------------------------------------------------------

def test_override_for_an_unknown_environment(repo):
    edit(repo, ASSIST, "  prod:\n", "  prd:\n")
    result = run_cli(repo, "validate")
    expect(result, ASSIST, position(repo, ASSIST, "  prd:", "prd"), "environments.prd", "E301",
           "no environment named 'prd'; did you mean 'prod'?")


def test_override_cannot_change_the_system_identity(repo):
    edit(repo, ASSIST, "  prod:\n", "  prod:\n    metadata: {name: other}\n")
    result = run_cli(repo, "validate")
    expect(result, ASSIST, position(repo, ASSIST, "metadata: {name: other}", "name"),
           "environments.prod.metadata.name", "E204", "metadata.name cannot be set per environment")


def test_name_must_match_the_file_name(repo):
    edit(repo, REC, "  name: recommender\n", "  name: recommender2\n")
    result = run_cli(repo, "validate")
    expect(result, REC, position(repo, REC, "name: recommender2", "name"), "metadata.name", "E303",
           "'recommender2' must match the file name 'recommender'")


def test_environment_name_must_match_its_file_name(repo):
    edit(repo, "environments/dev.yaml", "  name: dev\n", "  name: develop\n")
    result = run_cli(repo, "validate")
    expect(result, "environments/dev.yaml", position(repo, "environments/dev.yaml", "name: develop", "name"),
           "metadata.name", "E303", "'develop' must match the file name 'dev'")


# --- several problems, and where merged values come from ----------------------------------------------------------

def test_two_errors_in_one_file_are_both_reported(repo):
    edit(repo, REC, "  port: 8080\n", "  port: 99999\n  replica: 3\n")
    result = run_cli(repo, "validate")
    first = expect(result, REC, position(repo, REC, "port: 99999", "port"), "serving.port", "E203",
                   "less than or equal to 65535 (got 99999)", problems=2)
    second = expect(result, REC, position(repo, REC, "replica: 3", "replica"), "serving.replica", "E201",
                    "did you mean 'replicas'?", problems=2)
    lines = result.stderr.splitlines()
    assert lines.index(first) < lines.index(second)  # sorted by position


def test_errors_in_two_files_are_reported_in_one_run(repo):
    edit(repo, REC, "latencyP95: 150ms", "latencyP95: fast")
    edit(repo, FRAUD, "  port: 9000\n", "  prot: 9000\n")
    result = run_cli(repo, "validate")
    diagnostics = failed(result, 2)
    assert diagnostics[0].startswith(f"{FRAUD}:{position(repo, FRAUD, 'prot: 9000', 'prot')[0]}:3: serving.prot: ")
    assert diagnostics[1].startswith(f"{REC}:{position(repo, REC, 'latencyP95: fast', 'l')[0]}:5: ")


def test_error_introduced_by_an_override_is_reported_at_the_override(repo):
    edit(repo, ASSIST, "      replicas: {min: 2, max: 8}", "      replicas: {min: 9, max: 8}")
    result = run_cli(repo, "validate")
    expect(result, ASSIST, position(repo, ASSIST, "replicas: {min: 9, max: 8}", "min"), "serving.replicas.min",
           "E204", "replicas.min (9) must be <= replicas.max (8)")


def test_invalid_value_set_by_an_override_is_reported_at_the_override(repo):
    edit(repo, REC, "      replicas: {min: 1, max: 1}\n", "      replicas: {min: 1, max: 1}\n      port: 0\n")
    result = run_cli(repo, "validate")
    expect(result, REC, position(repo, REC, "      port: 0", "port"), "serving.port", "E203",
           "greater than or equal to 1 (got 0)")


def test_error_introduced_by_an_environment_default_is_reported_in_the_environment_file(repo):
    env = "environments/dev.yaml"
    edit(repo, env, "    replicas: {min: 1}\n", "    replicas: {min: 1}\n    port: 0\n")
    result = run_cli(repo, "validate")  # only support-assistant leaves port to the default
    expect(result, env, position(repo, env, "port: 0", "port"), "serving.port", "E203",
           "greater than or equal to 1 (got 0)")


def test_snake_case_and_camel_case_of_one_field_conflict(repo):
    """A snake_case key is refused beside its camelCase twin as well as alone."""
    edit(repo, REC, "  maxRuntime: 6h\n", "  maxRuntime: 6h\n  max_runtime: 1h\n")
    result = run_cli(repo, "validate")
    expect(result, REC, position(repo, REC, "max_runtime: 1h", "max_runtime"), "training.max_runtime", "E201",
           "unknown field 'max_runtime'; did you mean 'maxRuntime'?")


def test_a_wildcard_repository_url_is_refused(repo):
    env = "environments/prod.yaml"
    edit(repo, env, "repoURL: https://github.com/example/ml-platform.git", "repoURL: https://github.com/example/*")
    result = run_cli(repo, "validate")
    expect(result, env, position(repo, env, "repoURL:", "repoURL"), "argocd.repoURL", "E203", "should match pattern")
