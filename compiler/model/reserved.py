"""What a spec may not claim because Kubernetes, the compiler or a controller the output targets owns it: label and
annotation key prefixes, and namespaces. One list each, with the reason every entry is there.

A spec label lands on every object of the system, its Namespace and pods included, so a reserved key there is a
way to steer a controller: `pod-security.kubernetes.io/enforce: privileged` on the namespace, Argo CD's tracking
label `argocd.argoproj.io/instance` naming another team's app, `kueue.x-k8s.io/queue-name` naming another team's
queue. A system whose namespace is the platform's own would let its team's AppProject deploy there.
"""

from __future__ import annotations

from ..errors import Code
from .base import CodedValueError

# Key prefixes (the part before `/`): the domain itself and every subdomain of it are reserved. → who owns it.
RESERVED_LABEL_DOMAINS = {
    # Kubernetes reserves both for its core components (docs: "Labels and Selectors"). Covers app.kubernetes.io
    # (the compiler's name/part-of/managed-by/component labels and the selectors built on them),
    # pod-security.kubernetes.io (Pod Security admission reads it on namespaces) and kubernetes.io/metadata.name
    # (the network policies select namespaces by it); k8s.io covers the sigs.k8s.io projects.
    "kubernetes.io": "Kubernetes",
    "k8s.io": "Kubernetes",
    # Kubernetes SIG projects: Kueue admits workloads by kueue.x-k8s.io/queue-name and priority-class, which the
    # compiler sets from training.queue and training.priority.
    "x-k8s.io": "Kubernetes SIG projects (Kueue)",
    # The compiler's own: mlgitops.io/team and env labels; the source, spec-hash and model annotations that the gate,
    # the reports and the Argo CD projects rely on.
    "mlgitops.io": "mlgitops",
    # Argo CD tracks resources by argocd.argoproj.io/instance and reads sync-wave and sync-options; Argo Workflows
    # labels and selects by workflows.argoproj.io/*.
    "argoproj.io": "Argo CD and Argo Workflows",
    # KServe reads serving.kserve.io/* (the deployment mode; the predictor pod label the network policies select).
    "kserve.io": "KServe",
    # Knative Serving, under KServe's serverless mode: networking.knative.dev/visibility, autoscaling.knative.dev/*.
    "knative.dev": "Knative",
    # KEDA reads autoscaling.keda.sh/paused and labels by scaledobject.keda.sh/name.
    "keda.sh": "KEDA",
    # The training operator labels and selects a PyTorchJob's pods by training.kubeflow.org/*.
    "kubeflow.org": "the Kubeflow training operator",
    # external-secrets marks the Secrets it owns with reconcile.external-secrets.io/* and reads
    # external-secrets.io/force-sync.
    "external-secrets.io": "external-secrets",
    # cert-manager issues certificates from cert-manager.io/cluster-issuer on Ingresses (set from the environment).
    "cert-manager.io": "cert-manager",
}

# Namespaces no system may have, whatever the environment's namespacePrefix: Kubernetes' own (every `kube-*`, and
# `default`), besides the environment's Argo CD, monitoring and ingress-controller namespaces and its
# `platformNamespaces`, whose default is this list of the controllers' upstream install namespaces.
KUBERNETES_NAMESPACES = ("default",)
KUBERNETES_NAMESPACE_PREFIX = "kube-"
CONTROLLER_NAMESPACES = (
    "argo",                    # Argo Workflows (pipelines)
    "cert-manager",            # TLS certificates of ingresses
    "external-secrets",        # ExternalSecrets
    "gpu-operator",            # NVIDIA GPU operator (device plugin, GPU Feature Discovery)
    "keda",                    # ScaledObjects (kafka-lag)
    "knative-serving",         # KServe serverless mode
    "kserve",                  # InferenceServices
    "kubeflow",                # the training operator (PyTorchJob)
    "kueue-system",            # Kueue
    "nvidia-dra-driver-gpu",   # the NVIDIA DRA driver (gpu.dra)
)


def reserved_label_domain(key: str) -> str | None:
    """The reserved domain a label or annotation key's prefix falls under (None: the key is the spec's to use)."""
    prefix, slash, _ = key.rpartition("/")
    if not slash:
        return None
    return next((d for d in RESERVED_LABEL_DOMAINS if prefix == d or prefix.endswith(f".{d}")), None)


def check_label_key(key: str) -> str:
    domain = reserved_label_domain(key)
    if domain is not None:
        raise CodedValueError(f"label {key!r} is under {domain}, a prefix reserved for "
                              f"{RESERVED_LABEL_DOMAINS[domain]}; use a prefix of your own domain, or none",
                              Code.RESERVED_LABEL)
    return key
