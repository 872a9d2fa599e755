# METADATA
# title: Every system must name a cost center (metadata.costCenter)
# description: Cost allocation and accountability (FinOps Foundation allocation capability, ISO/IEC 27001 A.5.9 asset ownership) - GPU training and serving are the largest items on the platform's bill; a system without a cost center cannot be charged back, budgeted or flagged when it overspends.
# custom:
#   id: MLG-COST-001
#   severity: low
#   remediation: Set metadata.costCenter to the finance cost center that pays for the system (e.g. cc-1234).
package mlgitops.spec.missing_cost_center

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "metadata.costCenter") if {
	safe.get(input.system, ["metadata", "costCenter"], null) == null
	msg := sprintf("system '%v' names no metadata.costCenter to charge its compute to", [input.system.metadata.name])
}
