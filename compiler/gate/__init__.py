"""The policy gate's engines and rules: Rego policies over the merged spec and every rendered object, Checkov over the
manifests, waivers, the lock, tenancy, cluster and CRD rules.

The pass itself (pass 6) is `gate/run.py`; `finding.py` holds the data every engine and report shares.
"""
