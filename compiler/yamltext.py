"""Deterministic YAML text: the same data always gives the same bytes (stable key order, block style, LF).

Written with PyYAML's C emitter (libyaml), ~10x faster than a pure-Python emitter, which matters at hundreds of
objects per run. Lists sit at their key's indentation, as `kubectl get -o yaml` prints them.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

# Kubernetes readers expect these first; everything else follows alphabetically.
LEADING_KEYS = ("apiVersion", "kind", "metadata", "name", "namespace")


# Plain scalars that some YAML reader would not take for a string: go-yaml v2 (behind Kubernetes' sigs.k8s.io/yaml)
# reads y/n/on/off as booleans and 1e3 or 0x1f as numbers, YAML 1.1 reads 1:20 as base 60. Such strings are quoted.
_AMBIGUOUS = re.compile(r"""^(y|n|yes|no|on|off|true|false|null|~|[-+]?\.?(inf|nan))$
                         |^[-+]?(\.\d+|\d[\d_]*(\.\d*)?)([eE][-+]?\d+)?$
                         |^[-+]?0[xob][\da-f_]+$
                         |^[-+]?\d[\d_]*(:[0-5]?\d)+(\.\d*)?$""", re.IGNORECASE | re.VERBOSE)


class _Dumper(yaml.CSafeDumper):
    pass


def _represent_str(dumper: yaml.BaseDumper, value: str) -> yaml.ScalarNode:
    """Multi-line strings (embedded manifests, scripts) as literal blocks, readable in a diff; look-alikes quoted."""
    style = "|" if "\n" in value else ("'" if _AMBIGUOUS.match(value) else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (LEADING_KEYS.index(k) if k in LEADING_KEYS else len(LEADING_KEYS), k))
        return {k: _canonical(value[k]) for k in keys}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def dump_yaml(data: Any) -> str:
    # width: never fold long strings; a fold is a diff nobody asked for.
    return yaml.dump(_canonical(data), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1 << 20)
