# METADATA
# title: Every container must request and limit CPU and memory
# description: Availability and multi-tenancy (CIS Kubernetes 5.x resource governance, NSA/CISA Kubernetes Hardening Guidance on resource policies, NIST SP 800-53 SC-6) - a container without requests is scheduled blind and one without limits can starve its node, taking other teams' models down; requests equal to limits also make quotas and cost estimates exact.
# custom:
#   id: MLG-POD-001
#   severity: medium
#   remediation: Set cpu and memory in the component's resources (serving.resources, training.resources, monitoring.drift.resources); mlgitops renders them as equal requests and limits.
package mlgitops.manifests.container_without_resource_limits

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, spec.field_of(input.component, "resources")) if {
	some pod in k8s.pods(input.object)
	some container in pod.containers
	some bound in ["requests", "limits"]
	some resource in ["cpu", "memory"]
	safe.get(container, ["resources", bound, resource], null) == null
	msg := sprintf("%v has no %v %v", [k8s.subject(input.object, pod, container), resource, _singular[bound]])
}

_singular := {"requests": "request", "limits": "limit"}
