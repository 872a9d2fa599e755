"""Pass 6 — gate: Rego policies over the merged spec and every rendered object, Checkov over the manifests, waivers.

See `gate/run.py` for the orchestration; `finding.py` holds the data every engine and report shares.
"""
