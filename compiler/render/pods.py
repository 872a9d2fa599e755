"""Pod templates every workload shares: hardened security context, sized resources, GPU placement, probes.

Pods meet the Pod Security Standard "restricted" profile: non-root with a high UID, no privilege escalation, all
capabilities dropped, RuntimeDefault seccomp, a read-only root filesystem, and no service-account token unless a
workload needs the API.

ML frameworks need somewhere to write, so every pod gets sized emptyDirs: /tmp, and a cache directory that HOME and
the frameworks' cache variables point at (with UID 10001 there is no passwd entry, so HOME would be the read-only
`/`, where Hugging Face, PyTorch hub and Triton put their caches). Their size is the container's ephemeral-storage
request and limit, so the scheduler places the pod where the disk is, and the quota counts it. GPU and distributed
pods also get a memory-backed /dev/shm: a container runtime gives 64 MiB, too little for PyTorch's DataLoader workers
and NCCL's shared-memory transport. Its pages are charged to the container's memory, so its size is added to the
container's memory request and limit (the spec's memory stays the process's own).

Each pod runs as its workload's own ServiceAccount, and the secrets it uses are mounted read-only as files under
/var/run/secrets/mlgitops/<name> (files, not environment variables: env vars leak into crash dumps, `kubectl
describe` and child processes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cdk8s
from cdk8s_plus_34 import k8s

from ..model.environment import Environment
from ..model.mlsystem import Gpu, Probes, Resources
from ..model.names import SECRET_VOLUME_PREFIX
from ..model.units import memory_bytes
from .gpu import gpu_container_claims, gpu_limits, gpu_node_selector, gpu_pod_claims, gpu_tolerations

RUN_AS = 10001  # a high UID/GID, away from any host user
SCRATCH_VOLUME, SCRATCH_SIZE = "tmp", "1Gi"
CACHE_VOLUME, CACHE_DIR, CACHE_SIZE = "cache", "/var/cache/mlgitops", "4Gi"
# Named as KServe's Hugging Face and vLLM runtimes name theirs (config/runtimes/kserve-huggingfaceserver.yaml,
# kserve aaac4e294): KServe merges the predictor's pod spec into the runtime's by strategic merge, so this volume
# and its mount replace the runtime's rather than clash with them at /dev/shm.
SHARED_MEMORY_VOLUME, SHARED_MEMORY_SIZE = "devshm", "2Gi"
CACHE_ENV = {"HOME": CACHE_DIR, "XDG_CACHE_HOME": CACHE_DIR, "HF_HOME": f"{CACHE_DIR}/huggingface",
             "TORCH_HOME": f"{CACHE_DIR}/torch", "TRITON_CACHE_DIR": f"{CACHE_DIR}/triton"}
SECRETS_DIR = "/var/run/secrets/mlgitops"
SECRET_FILE_MODE = 0o440


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    image: str | None  # None: the serving runtime brings the image (KServe model formats)
    resources: Resources
    gpu: Gpu | None = None
    command: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    port: int | None = None
    probes: Probes | None = None
    secrets: tuple[str, ...] = ()  # names of the Kubernetes Secrets (kept in sync by ExternalSecrets) to mount


def needs_shared_memory(gpu: Gpu | None, distributed: bool = False) -> bool:
    """GPU pods and the pods of a distributed job: where DataLoader workers and NCCL exchange data in /dev/shm."""
    return gpu is not None or distributed


def container_resources(resources: Resources, shared_memory: bool) -> dict[str, str]:
    """What a compiler-written container requests, and is limited to: the spec's CPU and memory, /dev/shm's memory
    when it has one, and its /tmp and cache on disk."""
    memory = resources.memory
    if shared_memory:
        memory = mebibytes(memory_bytes(memory) + memory_bytes(SHARED_MEMORY_SIZE))
    disk = mebibytes(memory_bytes(SCRATCH_SIZE) + memory_bytes(CACHE_SIZE))
    return {"cpu": resources.cpu, "memory": memory, "ephemeral-storage": disk}


def mebibytes(size: int) -> str:
    """A byte count as a Kubernetes quantity in whole MiB (GiB when it divides)."""
    mib = -(-size // (1 << 20))
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


def container(spec: ContainerSpec, environment: Environment, shared_memory: bool = False) -> k8s.Container:
    quantities = {name: k8s.Quantity.from_string(value)
                  for name, value in container_resources(spec.resources, shared_memory).items()}
    http = spec.port is not None and spec.probes is not None
    return k8s.Container(
        name=spec.name,
        image=spec.image,
        image_pull_policy=None if spec.image is None else ("IfNotPresent" if "@sha256:" in spec.image else "Always"),
        command=spec.command or None,
        args=spec.args or None,
        env=[k8s.EnvVar(name=k, value=v) for k, v in sorted({**CACHE_ENV, **spec.env}.items())],
        ports=[k8s.ContainerPort(name="http", container_port=spec.port, protocol="TCP")] if spec.port else None,
        # Requests equal limits: Guaranteed QoS, and the quota arithmetic stays exact.
        resources=k8s.ResourceRequirements(
            requests=quantities, limits={**quantities, **gpu_limits(spec.gpu, environment)},
            claims=gpu_container_claims(spec.gpu, environment)),
        readiness_probe=_http_probe(spec.probes.readiness, period=10) if http else None,
        liveness_probe=_http_probe(spec.probes.liveness, period=20) if http else None,
        security_context=k8s.SecurityContext(
            allow_privilege_escalation=False, privileged=False, read_only_root_filesystem=True,
            run_as_non_root=True, run_as_user=RUN_AS, run_as_group=RUN_AS,
            capabilities=k8s.Capabilities(drop=["ALL"]),
            seccomp_profile=k8s.SeccompProfile(type="RuntimeDefault")),
        volume_mounts=[k8s.VolumeMount(name=SCRATCH_VOLUME, mount_path="/tmp"),
                       k8s.VolumeMount(name=CACHE_VOLUME, mount_path=CACHE_DIR)] + (
            [k8s.VolumeMount(name=SHARED_MEMORY_VOLUME, mount_path="/dev/shm")] if shared_memory else []) + [
            k8s.VolumeMount(name=_secret_volume(name), mount_path=f"{SECRETS_DIR}/{name}", read_only=True)
            for name in spec.secrets],
    )


def _secret_volume(name: str) -> str:
    return SECRET_VOLUME_PREFIX + name


def _http_probe(path: str, period: int) -> k8s.Probe:
    return k8s.Probe(http_get=k8s.HttpGetAction(path=path, port=k8s.IntOrString.from_string("http")),
                     period_seconds=period, timeout_seconds=5, failure_threshold=3)


def pod_spec(containers: list[ContainerSpec], environment: Environment, *, service_account: str,
             restart_policy: str | None = None, priority_class: str | None = None,
             spread: dict[str, str] | None = None, workload: str | None = None,
             distributed: bool = False) -> k8s.PodSpec:
    """`workload` names the DRA ResourceClaimTemplate (`<workload>-gpu`) when a container asks for one;
    `distributed` marks a pod of a multi-worker job (it gets /dev/shm, as GPU pods do)."""
    gpu = next((c.gpu for c in containers if c.gpu is not None), None)
    shared_memory = needs_shared_memory(gpu, distributed)
    secrets = sorted({name for c in containers for name in c.secrets})
    return k8s.PodSpec(
        containers=[container(c, environment, shared_memory) for c in containers],
        restart_policy=restart_policy,
        service_account_name=service_account,
        automount_service_account_token=False,
        resource_claims=gpu_pod_claims(gpu, environment, workload),
        enable_service_links=False,
        priority_class_name=priority_class,
        node_selector=gpu_node_selector(gpu, environment),
        tolerations=gpu_tolerations(gpu, environment),
        security_context=k8s.PodSecurityContext(
            run_as_non_root=True, run_as_user=RUN_AS, run_as_group=RUN_AS, fs_group=RUN_AS,
            seccomp_profile=k8s.SeccompProfile(type="RuntimeDefault")),
        topology_spread_constraints=_spread(spread) if spread else None,
        volumes=[_empty_dir(SCRATCH_VOLUME, SCRATCH_SIZE), _empty_dir(CACHE_VOLUME, CACHE_SIZE)] + (
            [_empty_dir(SHARED_MEMORY_VOLUME, SHARED_MEMORY_SIZE, medium="Memory")] if shared_memory else []) + [
            k8s.Volume(name=_secret_volume(name), secret=k8s.SecretVolumeSource(
                secret_name=name, default_mode=SECRET_FILE_MODE)) for name in secrets],
    )


def _empty_dir(name: str, size: str, medium: str | None = None) -> k8s.Volume:
    return k8s.Volume(name=name, empty_dir=k8s.EmptyDirVolumeSource(medium=medium,
                                                                   size_limit=k8s.Quantity.from_string(size)))


def _spread(selector: dict[str, str]) -> list[k8s.TopologySpreadConstraint]:
    """Replicas spread over zones, then nodes; soft, so a small cluster still schedules them."""
    return [k8s.TopologySpreadConstraint(max_skew=1, topology_key=key, when_unsatisfiable="ScheduleAnyway",
                                         label_selector=k8s.LabelSelector(match_labels=selector))
            for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")]


def template(labels: dict[str, str], spec: k8s.PodSpec,
             annotations: dict[str, str] | None = None) -> k8s.PodTemplateSpec:
    return k8s.PodTemplateSpec(metadata=k8s.ObjectMeta(labels=labels, annotations=annotations or None), spec=spec)


def template_json(scope: cdk8s.Chart, pod_template: k8s.PodTemplateSpec) -> dict:
    """A typed pod template as JSON, for custom resources that embed one (PyTorchJob, InferenceService).

    Serialised through cdk8s's own PodTemplate class so the JSON is exactly what a built-in kind would carry;
    the scratch object is removed from the chart again.
    """
    scratch = k8s.KubePodTemplate(scope, "pod-template-scratch", template=pod_template)
    rendered = scratch.to_json()["template"]
    scope.node.try_remove_child(scratch.node.id)
    return rendered
