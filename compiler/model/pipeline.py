"""`pipeline`: training as a DAG of steps — validate the data, train, evaluate against the champion, register — and
what starts it (a schedule, a drift alert).

Steps run in the order written unless a step names its `dependsOn`; then the steps form a DAG, checked here: known
names, no cycle, inputs only from steps that run before. Built-in kinds take their image and arguments from the rest
of the spec and the environment's step image; `custom` steps bring their own.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import RuleError, SpecModel
from .units import DNS_LABEL, AliasName, DnsLabel, Duration, PositiveInt, Schedule, TimeZone, Uri
from .workload import EnvVars, Image, Resources

OutputName = Annotated[str, Field(pattern=DNS_LABEL)]  # (DnsLabel would add maxLength to the schema)
STEP_RESOURCES = Resources(cpu="1", memory="2Gi")  # a built-in or custom step that does not say
LINEAGE = ("git", "spec-hash", "data-uris", "metrics", "run-id")


class StepKind(StrEnum):
    validate_data = "validate-data"
    train = "train"
    evaluate = "evaluate"
    register = "register"
    custom = "custom"


class DataChecks(SpecModel):
    """What `validate-data` checks on every dataset of training.data before training may start."""

    schema_uri: Annotated[Uri | None, Field(alias="schema")] = None
    """The expected schema (a JSON Schema or an expectation suite), e.g. s3://features/recsys/v3/_schema.json."""
    max_age: Duration | None = None
    """Freshness: the newest data must be younger than this (e.g. 36h)."""
    min_rows: PositiveInt | None = None


class MetricGate(SpecModel):
    """What `evaluate` asks of the candidate: to match or beat the registered champion on one metric."""

    metric: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:/-]+$")]
    """A metric the training run logs to MLflow, e.g. ndcg_at_10."""
    higher_is_better: bool = True
    min_improvement: Annotated[float, Field(ge=0)] = 0
    """How far the candidate must be ahead of the champion (0: at least as good)."""
    champion_alias: AliasName = "champion"


class StepOutput(SpecModel):
    name: OutputName
    path: Annotated[str, Field(pattern=r"^/\S+$")]
    """The file the step writes the value to; later steps take it as `<step>.<name>` in their inputs."""


class Step(SpecModel):
    name: DnsLabel
    kind: StepKind = StepKind.custom
    depends_on: list[DnsLabel] | None = None
    """Steps that must succeed first; when no step says, each step follows the one written before it."""
    image: Image | None = None
    """Required for custom steps; built-in steps run training.image (train) or the environment's step image."""
    command: list[str] = []
    args: list[str] = []
    env: EnvVars = {}
    resources: Resources | None = None
    """For train, training.resources; otherwise 1 CPU and 2Gi unless given."""
    queue: DnsLabel | None = None
    """Kueue LocalQueue of a GPU step; the train step uses training.queue."""
    inputs: list[Annotated[str, Field(pattern=r"^[a-z0-9-]+\.[a-z0-9-]+$")]] = []
    """Outputs of earlier steps, as `<step>.<output>`; each reaches the step as an environment variable."""
    outputs: list[StepOutput] = []
    checks: DataChecks | None = None
    """validate-data only."""
    gate: MetricGate | None = None
    """evaluate only, and required there."""
    lineage: list[Literal["git", "spec-hash", "data-uris", "metrics", "run-id"]] = list(LINEAGE)
    """register only: what is tagged on the model version."""
    timeout: Duration | None = None

    @model_validator(mode="after")
    def _kind_rules(self) -> Step:
        if self.kind is StepKind.custom and self.image is None:
            raise RuleError("image", f"custom step {self.name!r} needs an image")
        if self.checks is not None and self.kind is not StepKind.validate_data:
            raise RuleError("checks", "checks belong to a validate-data step")
        if self.kind is StepKind.evaluate and self.gate is None:
            raise RuleError("kind", "an evaluate step needs its gate: {metric, minImprovement}")
        if self.gate is not None and self.kind is not StepKind.evaluate:
            raise RuleError("gate", "a gate belongs to an evaluate step")
        return self


class Triggers(SpecModel):
    schedule: Schedule | None = None
    """Cron, or daily/weekly placed inside training.window."""
    time_zone: TimeZone | None = None
    """The zone the schedule is read in; by default training.timeZone, else the region's, else UTC."""
    on_drift: bool = False
    """Run the pipeline when the drift alert of monitoring.drift fires."""
    drift_cooldown: Duration = "24h"
    """After a drift-triggered run starts, how long a still-firing alert starts no other."""


class Pipeline(SpecModel):
    steps: Annotated[list[Step], Field(min_length=1)]
    triggers: Triggers = Triggers()

    def dependencies(self, index: int) -> list[str]:
        """The steps a step waits for: its dependsOn, or (with none written anywhere) the step before it."""
        if any(step.depends_on is not None for step in self.steps):
            return list(self.steps[index].depends_on or [])
        return [self.steps[index - 1].name] if index else []

    def upstream(self, index: int) -> set[str]:
        """Every step that has run before this one starts."""
        positions = {step.name: i for i, step in enumerate(self.steps)}
        seen: set[str] = set()
        pending = self.dependencies(index)
        while pending:
            name = pending.pop()
            if name not in seen:
                seen.add(name)
                pending += self.dependencies(positions[name])
        return seen

    def of_kind(self, kind: StepKind) -> list[Step]:
        return [step for step in self.steps if step.kind is kind]

    @model_validator(mode="after")
    def _a_dag(self) -> Pipeline:
        names: dict[str, int] = {}
        for i, step in enumerate(self.steps):
            if step.name in names:
                raise RuleError(("steps", i, "name"), f"step {step.name!r} is declared twice")
            names[step.name] = i
        for i, step in enumerate(self.steps):
            for j, wanted in enumerate(step.depends_on or []):
                if wanted not in names:
                    raise RuleError(("steps", i, "dependsOn", j),
                                    f"step {step.name!r} depends on {wanted!r}, which is not a step; steps are: "
                                    f"{', '.join(names)}")
        cycle = _cycle(self)
        if cycle:
            i = names[cycle[0]]
            raise RuleError(("steps", i, "dependsOn"), f"the steps wait for each other in a cycle: "
                                                       f"{' needs '.join(cycle)}")
        for i, step in enumerate(self.steps):
            for j, reference in enumerate(step.inputs):
                source, output = reference.split(".", 1)
                if source not in names or output not in {o.name for o in self.steps[names[source]].outputs}:
                    raise RuleError(("steps", i, "inputs", j), f"input {reference!r} is no step's output")
                if source not in self.upstream(i):
                    raise RuleError(("steps", i, "inputs", j), f"input {reference!r} comes from a step that does "
                                                               f"not run before {step.name!r}: add it to dependsOn")
        if len(self.of_kind(StepKind.train)) > 1:
            raise RuleError("steps", "a pipeline has one train step (it runs the training section)")
        return self


def _cycle(pipeline: Pipeline) -> list[str]:
    """The first cycle in the dependencies, as names from a step back to itself; empty when there is none."""
    state: dict[str, str] = {}  # name → "open" while on the path, "done" after
    positions = {step.name: i for i, step in enumerate(pipeline.steps)}

    def visit(name: str, path: list[str]) -> list[str]:
        state[name] = "open"
        for needed in pipeline.dependencies(positions[name]):
            if state.get(needed) == "open":
                return path[path.index(needed):] + [name, needed] if needed in path else [name, needed]
            if needed not in state and (found := visit(needed, path + [name])):
                return found
        state[name] = "done"
        return []

    for step in pipeline.steps:
        if step.name not in state and (found := visit(step.name, [])):
            return found
    return []
