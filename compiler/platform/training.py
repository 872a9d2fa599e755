"""Training on the platform: the kind each queued workload is, Kueue's integration for it, the queues, priorities
and the trainer API.

Kueue admits only the kinds whose integration is enabled (`integrations.frameworks`); a queued workload of
another kind stays suspended forever. A queue name is a LocalQueue the system's namespace gets (render/training.py),
pointing at the ClusterQueue the environment names for it. Kueue v0.19.2 (kubernetes-sigs/kueue 8eab687,
config/components/manager/controller_manager_config.yaml) ships `kubeflow.org/pytorchjob` off.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import Code
from ..load import FieldPath
from ..model import Environment, MLSystem
from ..model.pipeline import StepKind
from ..model.platform import TRAINER_V1, Platform
from .misfit import Misfit

# The Kueue integration (its framework name) that admits each kind a queued workload is rendered as.
INTEGRATION = {"Job": "batch/job", "Pod": "pod", "TrainJob": "trainer.kubeflow.org/trainjob",
               "PyTorchJob": "kubeflow.org/pytorchjob"}
# Kueue labels and admits every workload without a queue through the namespace's LocalQueue of this name, when it
# exists (kueue v0.19.2 pkg/controller/jobs/pod/pod_webhook.go Default, pkg/controller/constants DefaultLocalQueueName):
# with the stock `pod` integration that would gate the serving and Argo pods too.
KUEUE_DEFAULT_QUEUE = "default"
# The init container training-operator v1 injects into every Worker; an override is read from this file.
V1_INIT_TEMPLATE = "/etc/config/initContainer.yaml"


def distributed_kind(platform: Platform) -> str:
    """The kind distributed training is rendered as: Trainer v2's TrainJob, or training-operator v1's PyTorchJob."""
    return "PyTorchJob" if platform.trainer.api == TRAINER_V1 else "TrainJob"


@dataclass(frozen=True)
class QueueUse:
    field: FieldPath
    queue: str
    kind: str  # the kind of the workload Kueue admits through the queue


def queue_uses(spec: MLSystem, platform: Platform) -> list[QueueUse]:
    """Every queue a workload of the system is admitted through, with the field that names it."""
    uses = []
    training, pipeline = spec.training, spec.pipeline
    distributed = training is not None and training.workers > 1
    if training is not None and training.queue:
        field = ("training", "queue")
        if distributed:
            uses.append(QueueUse(field, training.queue, distributed_kind(platform)))
        elif pipeline is None:
            uses.append(QueueUse(field, training.queue, "Job"))
        elif any((step.resources or training.resources).gpu is not None for step in pipeline.of_kind(StepKind.train)):
            uses.append(QueueUse(field, training.queue, "Pod"))  # the train step's pod: Argo makes it, Kueue admits it
    for i, step in enumerate(pipeline.steps if pipeline is not None else []):
        if step.kind is not StepKind.train and step.queue and step.resources and step.resources.gpu is not None:
            uses.append(QueueUse(("pipeline", "steps", i, "queue"), step.queue, "Pod"))
    return uses


def check_training(spec: MLSystem, environment: Environment, environment_file: str) -> Iterator[Misfit]:
    platform = environment.platform
    kueue = platform.kueue
    uses = queue_uses(spec, platform)
    for use in uses:
        if use.queue not in kueue.queues:
            yield Misfit(use.field, f"queue {use.queue} is not a queue of this environment (platform.kueue.queues "
                                    f"in {environment_file}: {', '.join(sorted(kueue.queues)) or 'none'})",
                         Code.NOT_OFFERED)
        if use.queue == KUEUE_DEFAULT_QUEUE:
            yield Misfit(use.field, f"a LocalQueue named {KUEUE_DEFAULT_QUEUE} makes Kueue queue every pod of the "
                                    "namespace that names no queue, serving included: name the queue otherwise")
        integration = INTEGRATION[use.kind]
        if integration not in kueue.integrations:
            yield Misfit(use.field, f"Kueue would never admit this {use.kind}: its integration {integration} is "
                                    f"not in platform.kueue.integrations of {environment_file}")
    training = spec.training
    if training is None:
        return
    if training.priority:
        if training.priority not in platform.priority_classes:
            yield Misfit(("training", "priority"), f"PriorityClass {training.priority} is not in "
                                                   f"platform.priorityClasses of {environment_file}", Code.NOT_OFFERED)
        if any(use.field == ("training", "queue") for use in uses) and \
                training.priority not in kueue.workload_priority_classes:
            yield Misfit(("training", "priority"), f"Kueue WorkloadPriorityClass {training.priority} is not in "
                                                   f"platform.kueue.workloadPriorityClasses of {environment_file}",
                         Code.NOT_OFFERED)
    if training.workers == 1:
        return
    if platform.trainer.api == TRAINER_V1 and not platform.trainer.init_container_hardened:
        # kubeflow/trainer release-1.9 pkg/controller.v1/pytorch/initcontainer.go: every Worker gets init-pytorch
        # from a template without a securityContext, which Pod Security "restricted" rejects.
        yield Misfit(("training", "workers"), "training-operator v1 injects an init-pytorch container without a "
                                              "securityContext into every Worker, which restricted Pod Security "
                                              f"rejects: give the operator a {V1_INIT_TEMPLATE} template with a "
                                              "restricted securityContext and set platform.trainer."
                                              "initContainerHardened, or use Trainer v2 (platform.trainer.api: "
                                              "trainer.kubeflow.org/v1alpha1)")
    if platform.trainer.api != TRAINER_V1 and training.resources.gpu is not None and training.resources.gpu.dra:
        # kubeflow/trainer 8c0f505 (after v2.3.0) pkg/apis/trainer/v1alpha1/trainjob_types.go: PodSpecPatch has no
        # resourceClaims, so a TrainJob cannot ask for DRA devices.
        yield Misfit(("training", "resources", "gpu", "dra"), "a TrainJob's runtimePatches cannot add "
                                                                "resourceClaims: distributed training takes device-"
                                                                "plugin GPUs (dra: false) on Trainer v2")
