"""The `pipeline` section: a DAG of steps checked at the spec's lines — unknown steps, cycles, inputs from steps
that have not run, and what a pipeline needs from the rest of the spec."""

from __future__ import annotations

import re

import pytest

from helpers import edit, run_cli

REC = "spec/recommender.yaml"
PIPELINE = """
pipeline:
  steps:
    - name: validate-data
      kind: validate-data
      checks: {maxAge: 36h, minRows: 100000}
    - name: train
      kind: train
      dependsOn: [validate-data]
      outputs: [{name: run-id, path: /tmp/outputs/run-id}]
    - name: evaluate
      kind: evaluate
      dependsOn: [train]
      inputs: [train.run-id]
      gate: {metric: ndcg_at_10, minImprovement: 0.002}
    - name: register
      kind: register
      dependsOn: [evaluate]
      inputs: [train.run-id]
  triggers:
    schedule: weekly
    onDrift: true
"""


@pytest.fixture
def piped(repo):
    """The recommender with one worker (so its train step can hand back outputs) and the pipeline above."""
    text = (repo / REC).read_text()
    start = text.index("\npipeline:")
    text = text[:start] + text[text.index("\nmonitoring:"):]
    text = text.replace("  workers: 4\n", "").replace("      workers: 2\n", "")
    text = re.sub(r"  window: low-carbon.*\n", '  window: "01:00-05:00"\n', text)
    (repo / REC).write_text(text + PIPELINE)
    return repo


def line_of(repo, text: str) -> int:
    lines = (repo / REC).read_text().splitlines()
    [found] = [n for n, line in enumerate(lines, 1) if text in line]
    return found


def problems(result) -> list[str]:
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.splitlines()[:-1]


def test_a_four_step_pipeline_is_valid(piped):
    result = run_cli(piped, "validate")
    assert result.exit_code == 0, result.stderr


def test_a_dependency_on_an_unknown_step_is_an_error_at_its_item(piped):
    edit(piped, REC, "      dependsOn: [evaluate]\n", "      dependsOn: [evaluation]\n")
    line = line_of(piped, "dependsOn: [evaluation]")
    assert problems(run_cli(piped, "validate")) == [
        f"{REC}:{line}:19: pipeline.steps[3].dependsOn[0]: step 'register' depends on 'evaluation', which is not a "
        "step; steps are: validate-data, train, evaluate, register [E204]"]


def test_a_cycle_is_an_error_at_the_step_that_starts_it(piped):
    edit(piped, REC, "      dependsOn: [validate-data]\n", "      dependsOn: [validate-data, register]\n")
    line = line_of(piped, "dependsOn: [validate-data, register]")
    assert problems(run_cli(piped, "validate")) == [
        f"{REC}:{line}:7: pipeline.steps[1].dependsOn: the steps wait for each other in a cycle: train needs register "
        "needs evaluate needs train [E204]"]


def test_a_step_that_depends_on_itself_is_a_cycle(piped):
    edit(piped, REC, "      dependsOn: [validate-data]\n", "      dependsOn: [train]\n")
    assert "pipeline.steps[1].dependsOn: the steps wait for each other in a cycle: train needs train [E204]" in run_cli(
        piped, "validate").stderr


def test_an_input_from_a_step_that_has_not_run_is_an_error(piped):
    edit(piped, REC, "      inputs: [train.run-id]\n      gate:", "      inputs: [register.model]\n      gate:")
    line = line_of(piped, "inputs: [register.model]")
    assert problems(run_cli(piped, "validate")) == [
        f"{REC}:{line}:16: pipeline.steps[2].inputs[0]: input 'register.model' is no step's output [E204]"]


def test_an_input_needs_its_step_upstream(piped):
    edit(piped, REC, "      dependsOn: [evaluate]\n", "      dependsOn: [validate-data]\n")
    lines = (piped / REC).read_text().splitlines()
    line = lines.index("      inputs: [train.run-id]", line_of(piped, "- name: register"))
    assert problems(run_cli(piped, "validate")) == [
        f"{REC}:{line + 1}:16: pipeline.steps[3].inputs[0]: input 'train.run-id' comes from a step that does not run "
        "before 'register': add it to dependsOn [E204]"]


def test_two_steps_with_one_name(piped):
    edit(piped, REC, "    - name: register\n", "    - name: evaluate\n")
    result = problems(run_cli(piped, "validate"))
    assert result[0].endswith("pipeline.steps[3].name: step 'evaluate' is declared twice [E204]")


def test_an_evaluate_step_needs_its_gate(piped):
    edit(piped, REC, "      gate: {metric: ndcg_at_10, minImprovement: 0.002}\n", "")
    line = line_of(piped, "kind: evaluate")
    assert problems(run_cli(piped, "validate")) == [
        f"{REC}:{line}:7: pipeline.steps[2].kind: an evaluate step needs its gate: {{metric, minImprovement}} [E204]"]


def test_with_a_pipeline_training_is_scheduled_by_its_trigger(piped):
    edit(piped, REC, '  window: "01:00-05:00"\n', '  window: "01:00-05:00"\n  schedule: "0 3 * * 0"\n')
    line = line_of(piped, 'schedule: "0 3 * * 0"')
    assert problems(run_cli(piped, "validate")) == [
        f"{REC}:{line}:3: training.schedule: with a pipeline, training runs as its train step: schedule it with "
        "pipeline.triggers.schedule [E204]"]


def test_a_drift_trigger_needs_a_drift_check(piped):
    text = (piped / REC).read_text()
    start = text.index("  drift:\n")
    end = text.index("  dashboards:")
    (piped / REC).write_text(text[:start] + text[end:])
    line = line_of(piped, "onDrift: true")
    assert problems(run_cli(piped, "validate")) == [
        f"{REC}:{line}:5: pipeline.triggers.onDrift: onDrift needs the drift check of monitoring.drift [E204]"]


def test_steps_without_dependencies_run_in_the_order_written(piped):
    text = (piped / REC).read_text()
    for needs in ("[validate-data]", "[train]", "[evaluate]"):
        text = text.replace(f"      dependsOn: {needs}\n", "")
    (piped / REC).write_text(text)
    assert run_cli(piped, "validate").exit_code == 0


def test_the_pipeline_schedule_is_placed_in_the_training_window(piped):
    # weekly in 01:00-05:00, read in the region's zone → Sunday 01:00; a cron outside it is refused at the trigger
    from compiler.driver import Workspace, validate_all

    _, systems = validate_all(Workspace(piped), None)
    [triggers] = {s.spec.pipeline.triggers for s in systems if s.name == "recommender"}
    assert (triggers.schedule, triggers.time_zone) == ("0 1 * * 0", "Europe/Dublin")  # the region's zone
    edit(piped, REC, "    schedule: weekly\n", '    schedule: "0 6 * * 0"\n')
    line = line_of(piped, 'schedule: "0 6 * * 0"')
    assert problems(run_cli(piped, "validate")) == [
        f"{REC}:{line}:5: pipeline.triggers.schedule: the run of Sun 05 Jan 2025 06:00 GMT starts outside the window "
        f"hours 01:00-05:00 (Europe/Dublin) in environment '{env}' [E204]" for env in ("dev", "prod", "staging")]


def test_a_distributed_train_step_hands_back_no_outputs(piped):
    edit(piped, REC, "  image: registry.example.com/recsys/train:1.4.2\n",
         "  image: registry.example.com/recsys/train:1.4.2\n  workers: 2\n")
    line = line_of(piped, "outputs: [{name: run-id")
    assert problems(run_cli(piped, "validate")) == [
        f"{REC}:{line}:7: pipeline.steps[1].outputs: a train step of several workers runs as a distributed job "
        "(TrainJob or PyTorchJob), which hands back no outputs; later steps find its run by the MLflow tag "
        "mlgitops.workflow [E204]"]
