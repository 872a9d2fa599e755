# Pod specs and containers of any workload kind, so manifest rules check every pod the same way.
#
# pods(obj) is a list of {"path": where the pod spec sits in obj, "spec": the pod spec, "containers": [container]}:
# Deployment, StatefulSet, DaemonSet, ReplicaSet, Job (spec.template.spec); CronJob (its jobTemplate); Kubeflow
# training jobs (PyTorchJob and friends: every spec.<x>ReplicaSpecs role); a Trainer v2 TrainJob (the pod of each of
# its runtime patches, whose trainer container takes spec.trainer's image, env and resourcesPerNode); KServe InferenceService (predictor,
# transformer, explainer; the predictor's `model` counts as a container); and the objects an Argo Workflows
# CronWorkflow / Workflow / WorkflowTemplate creates through `resource.manifest` (a YAML string, parsed with
# yaml.unmarshal), and the pod of each of its container templates (a pipeline step, marked `argoStep`).
package mlgitops.lib.k8s

import data.mlgitops.lib.safe

_template_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}

_argo_kinds := {"Workflow", "CronWorkflow", "WorkflowTemplate", "ClusterWorkflowTemplate"}

_kserve_components := ["predictor", "transformer", "explainer"]

# Pod specs of one object, as [path, spec] pairs; Argo embeds are handled by pods() (Rego has no recursion).
_direct(obj) := [["spec.template.spec", obj.spec.template.spec]] if {
	obj.kind in _template_kinds
	is_object(obj.spec.template.spec)
} else := [["spec.jobTemplate.spec.template.spec", obj.spec.jobTemplate.spec.template.spec]] if {
	obj.kind == "CronJob"
	is_object(obj.spec.jobTemplate.spec.template.spec)
} else := [[sprintf("spec.%v.%v.template.spec", [key, role]), replica.template.spec] |
	some key, roles in safe.dict(obj, "spec")
	endswith(key, "ReplicaSpecs")
	some role, replica in safe.dict(roles, [])
	is_object(replica.template.spec)
] if {
	startswith(safe.text(obj, "apiVersion"), "kubeflow.org/")
} else := [[sprintf("spec.runtimePatches[%v].trainingRuntimeSpec.template.spec.replicatedJobs[%v].template.spec.template.spec", [i, j]), _trainer_pod(obj, job.template.spec.template.spec)] |
	some i, patch in safe.list(obj, ["spec", "runtimePatches"])
	some j, job in safe.list(patch, ["trainingRuntimeSpec", "template", "spec", "replicatedJobs"])
	is_object(job.template.spec.template.spec)
] if {
	obj.kind == "TrainJob"
	startswith(safe.text(obj, "apiVersion"), "trainer.kubeflow.org/")
} else := [[sprintf("spec.%v", [component]), obj.spec[component]] |
	some component in _kserve_components
	is_object(obj.spec[component])
] if {
	obj.kind == "InferenceService"
} else := []

# A TrainJob's pod patch, its `node` container (the trainer's) completed from spec.trainer. Marked `trainJob`: a
# patch cannot carry every pod field (automountServiceAccountToken), so rules know the runtime's template decides.
_trainer_pod(obj, pod) := object.union(pod, {
	"containers": [_trainer_container(obj, c) | some c in safe.items(pod, "containers")],
	"trainJob": true,
})

_trainer_container(obj, container) := object.union(container, {key: value |
	some [key, field] in [["image", "image"], ["env", "env"], ["resources", "resourcesPerNode"]]
	value := safe.get(obj, ["spec", "trainer", field], null)
	value != null
}) if container.name == "node" else := container

# Objects an Argo workflow creates, from its templates' resource manifests (skipped when not valid YAML).
_argo_embedded(obj) := [[sprintf("%v.templates[%v].resource.manifest", [prefix, i]), yaml.unmarshal(manifest)] |
	obj.kind in _argo_kinds
	some prefix, workflow in {"spec.workflowSpec": safe.dict(obj, ["spec", "workflowSpec"]), "spec": safe.dict(obj, "spec")}
	some i, template in safe.list(workflow, "templates")
	manifest := template.resource.manifest
	is_string(manifest)
	yaml.is_valid(manifest)
]

_raw(obj) := array.concat(array.concat(_direct(obj), _argo_steps(obj)), [[sprintf("%v: %v", [where, path]), spec] |
	some [where, inner] in _argo_embedded(obj)
	is_object(inner)
	some [path, spec] in _direct(inner)
])

# The pod Argo makes of each container template (a pipeline step): the workflow's security context and volumes, the
# template's container and placement. Marked `argoStep`: Argo's executor reports through the API with its token.
_argo_steps(obj) := [[sprintf("%v.templates[%v]", [prefix, i]), object.union(placement, {
	"securityContext": safe.dict(workflow, "securityContext"),
	"volumes": safe.list(workflow, "volumes"),
	"containers": [template.container],
	"argoStep": true,
})] |
	obj.kind in _argo_kinds
	some prefix, workflow in {"spec.workflowSpec": safe.dict(obj, ["spec", "workflowSpec"]), "spec": safe.dict(obj, "spec")}
	some i, template in safe.list(workflow, "templates")
	is_object(template.container)
	placement := {key: template[key] | some key in ["nodeSelector", "tolerations", "priorityClassName"]; template[key]}
]

# Containers of a pod spec: init containers, containers, and a KServe predictor's `model` (objects only).
containers(pod) := array.concat(
	array.concat(safe.items(pod, "initContainers"), safe.items(pod, "containers")),
	[m | m := pod.model; is_object(m)],
)

pods(obj) := [{"path": path, "spec": spec, "containers": containers(spec)} | some [path, spec] in _raw(obj)]

# A field of the container's securityContext, else of the pod's, else `fallback` (container settings win).
effective(pod, container, key, fallback) := value if {
	value := container.securityContext[key]
} else := value if {
	value := pod.securityContext[key]
} else := fallback

# "Deployment fraud-scorer", for messages.
describe(obj) := sprintf("%v %v", [safe.get(obj, "kind", "<object>"), safe.get(obj, ["metadata", "name"], "<unnamed>")])

# "container 'server'", for messages; KServe's model container may be unnamed.
container_name(container) := sprintf("container '%v'", [container.name]) if {
	is_string(container.name)
} else := "the model container"

# "container 'server' of Deployment fraud-scorer", with the pod's path when the object has several pods or embeds them.
subject(obj, pod, container) := sprintf("%v of %v", [container_name(container), describe(obj)]) if {
	count(pods(obj)) == 1
	not contains(pod.path, "manifest")
} else := sprintf("%v at %v of %v", [container_name(container), pod.path, describe(obj)])

# "the pod of Deployment fraud-scorer" (or "the pod at <path> of ..."), for pod-level findings.
pod_subject(obj, pod) := sprintf("the pod of %v", [describe(obj)]) if {
	count(pods(obj)) == 1
	not contains(pod.path, "manifest")
} else := sprintf("the pod at %v of %v", [pod.path, describe(obj)])
