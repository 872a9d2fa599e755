"""The label and annotation keys the compiler writes on rendered objects and reads back.

One definition each, so that the renderers (render/), the gate (gate/), `diff` and the cluster commands (cluster/)
agree on them. Constants only. Keys under these prefixes are reserved to their owners (model/reserved.py).
"""

# Kubernetes' recommended labels
NAME_LABEL = "app.kubernetes.io/name"
COMPONENT_LABEL = "app.kubernetes.io/component"  # the spec section an object renders (serving, training, …)
PART_OF_LABEL = "app.kubernetes.io/part-of"  # the system
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"

# mlgitops' own
TEAM_LABEL = "mlgitops.io/team"
ENV_LABEL = "mlgitops.io/env"
SOURCE_ANNOTATION = "mlgitops.io/source"  # the spec file an object comes from
SPEC_HASH_ANNOTATION = "mlgitops.io/spec-hash"  # changes on every object of a system when its spec changes
MODEL_NAME_ANNOTATION = "mlgitops.io/model-name"
MODEL_VERSION_ANNOTATION = "mlgitops.io/model-version"
MODEL_URI_ANNOTATION = "mlgitops.io/model-uri"
MODEL_ALIAS_ANNOTATION = "mlgitops.io/model-alias"
MODEL_RUN_ID_ANNOTATION = "mlgitops.io/model-run-id"

# Read by the controllers the output targets
SYNC_WAVE = "argocd.argoproj.io/sync-wave"  # Argo CD's sync order (an annotation)
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"  # the Kueue LocalQueue a workload waits in
PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"  # a Kueue WorkloadPriorityClass of the same name
