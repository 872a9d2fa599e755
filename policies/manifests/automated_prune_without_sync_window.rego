# METADATA
# title: A prod Argo CD Application with automated prune needs sync windows in the environment (argocd.syncWindows)
# description: Change management (ISO/IEC 27001 A.8.32, SOC 2 CC8.1, DORA Art. 9 ICT change management) - automated prune deletes from the cluster whatever disappears from Git, at any hour; in prod such changes must land in an agreed window when people are there to watch and roll back.
# custom:
#   id: MLG-ARGO-001
#   severity: high
#   remediation: Add argocd.syncWindows to the prod environment file (e.g. kind allow, schedule "0 8 * * 1-5", duration 10h), or keep argocd.autoSync false for prod.
package mlgitops.manifests.automated_prune_without_sync_window

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "") if {
	input.object.kind == "Application"
	startswith(safe.text(input.object, "apiVersion"), "argoproj.io/")
	spec.prod(input.environment)
	input.object.spec.syncPolicy.automated.prune == true
	count(safe.list(input.environment, ["argocd", "syncWindows"])) == 0
	msg := sprintf("%v prunes automatically in %v, but the environment defines no argocd.syncWindows", [k8s.describe(input.object), input.environment.name])
}
