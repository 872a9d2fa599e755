"""Pod templates every workload shares: hardened security context, sized resources, GPU placement, probes.

Pods meet the Pod Security Standard "restricted" profile: non-root with a high UID, no privilege escalation, all
capabilities dropped, RuntimeDefault seccomp, a read-only root filesystem (with a writable emptyDir at /tmp), and no
service-account token unless a workload needs the API. Each runs as its workload's own ServiceAccount, and the
secrets it uses are mounted read-only as files under /var/run/secrets/mlgitops/<name> (files, not environment
variables: env vars leak into crash dumps, `kubectl describe` and child processes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cdk8s
from cdk8s_plus_34 import k8s

from ..model.environment import Environment
from ..model.mlsystem import Gpu, Probes, Resources
from ..model.names import SECRET_VOLUME_PREFIX
from .gpu import gpu_container_claims, gpu_limits, gpu_node_selector, gpu_pod_claims, gpu_tolerations

RUN_AS = 10001  # a high UID/GID, away from any host user
SCRATCH_VOLUME = "tmp"
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


def container(spec: ContainerSpec, environment: Environment) -> k8s.Container:
    quantities = {"cpu": k8s.Quantity.from_string(spec.resources.cpu),
                  "memory": k8s.Quantity.from_string(spec.resources.memory)}
    http = spec.port is not None and spec.probes is not None
    return k8s.Container(
        name=spec.name,
        image=spec.image,
        image_pull_policy=None if spec.image is None else ("IfNotPresent" if "@sha256:" in spec.image else "Always"),
        command=spec.command or None,
        args=spec.args or None,
        env=[k8s.EnvVar(name=k, value=v) for k, v in sorted(spec.env.items())] or None,
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
        volume_mounts=[k8s.VolumeMount(name=SCRATCH_VOLUME, mount_path="/tmp")] + [
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
             spread: dict[str, str] | None = None, workload: str | None = None) -> k8s.PodSpec:
    """`workload` names the DRA ResourceClaimTemplate (`<workload>-gpu`) when a container asks for one."""
    gpu = next((c.gpu for c in containers if c.gpu is not None), None)
    secrets = sorted({name for c in containers for name in c.secrets})
    return k8s.PodSpec(
        containers=[container(c, environment) for c in containers],
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
        volumes=[k8s.Volume(name=SCRATCH_VOLUME, empty_dir=k8s.EmptyDirVolumeSource(
            size_limit=k8s.Quantity.from_string("1Gi")))] + [
            k8s.Volume(name=_secret_volume(name), secret=k8s.SecretVolumeSource(
                secret_name=name, default_mode=SECRET_FILE_MODE)) for name in secrets],
    )


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
