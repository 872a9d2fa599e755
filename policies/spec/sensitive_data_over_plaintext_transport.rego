# METADATA
# title: Personal, confidential or restricted training data must not be read over an unencrypted scheme (http, ftp)
# description: GDPR Art. 32 (security of processing - encryption of personal data in transit), ISO/IEC 27001 A.8.24 and NSA/CISA hardening guidance - a dataset URI with http:// or ftp:// sends the data in clear text across the network, where it can be read or altered.
# custom:
#   id: MLG-GDPR-003
#   severity: medium
#   remediation: Read the dataset over an encrypted scheme (https, s3, gs, abfss, hdfs with TLS) in training.data[i].uri.
package mlgitops.spec.sensitive_data_over_plaintext_transport

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

_plaintext := {"http", "ftp", "telnet"}

deny contains spec.finding(msg, sprintf("training.data[%v].uri", [i])) if {
	spec.sensitive(input.system)
	some i, ref in safe.list(input.system, ["training", "data"])
	is_string(ref.uri)
	scheme := lower(split(ref.uri, "://")[0])
	scheme in _plaintext
	msg := sprintf("dataset '%v' of sensitive data is read over unencrypted %v (%v)", [ref.name, scheme, ref.uri])
}
