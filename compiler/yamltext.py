"""Deterministic YAML text: the same data always gives the same bytes (stable key order, block style, LF)."""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString, SingleQuotedScalarString

# Kubernetes readers expect these first; everything else follows alphabetically.
LEADING_KEYS = ("apiVersion", "kind", "metadata", "name", "namespace")
# Kubernetes parses YAML 1.1, where these plain strings are booleans or base-60 numbers: quote them.
_YAML11_AMBIGUOUS = re.compile(r"^(y|yes|n|no|true|false|on|off|~|null)$|^[-+]?\d[\d_]*(:[0-5]?\d)+(\.[\d_]*)?$",
                               re.IGNORECASE)


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (LEADING_KEYS.index(k) if k in LEADING_KEYS else len(LEADING_KEYS), k))
        return {k: _canonical(value[k]) for k in keys}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    if isinstance(value, str) and _YAML11_AMBIGUOUS.match(value):
        return SingleQuotedScalarString(value)
    return value


def dump_yaml(data: Any) -> str:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 4096  # never fold long strings: a fold is a diff nobody asked for
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(_canonical(data), out)
    return out.getvalue()
