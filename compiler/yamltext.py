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


# How go-yaml resolves a plain scalar (resolve.go `resolve`, branches v2 and v3; v2 is what sigs.k8s.io/yaml, and
# so kubectl and Argo CD, read manifests with). The first character picks a hint: a sign or digit may be a
# number or a timestamp, '.' a float, y/n/t/f/o/~ only a word of the table below. For a number, *every* underscore is
# removed first and the rest goes to strconv.ParseInt(s, 0, 64) (base 0: 0x, 0o, 0b, a leading 0 for octal), then
# ParseUint, then, if it matches yamlStyleFloat, ParseFloat; so `0_x1f`, `-_1` and `1e3_0` are numbers to Go.
# PyYAML's own resolver (YAML 1.1: 1:20 in base 60, 2001-12-14) quotes the rest by itself.
_GO_WORDS = {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False",
             "FALSE", "on", "On", "ON", "off", "Off", "OFF", "", "~", "null", "Null", "NULL", ".nan", ".NaN", ".NAN",
             ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<"}  # v2's; v3's ⊂
_GO_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")  # ParseInt, base 0
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")  # yamlStyleFloat
# parseTimestamp's layouts ("2006-1-2T15:4:5.999999999Z07:00", "2006-1-2 15:4:5.999999999", "2006-1-2"), loosely.
_GO_TIMESTAMP = re.compile(r"\d{4}-\d\d?-\d\d?([Tt ]\d\d?:\d\d?:\d\d?(\.\d*)?(Z|[-+]\d\d:\d\d)?)?")


def go_yaml_reads_as_non_string(value: str) -> bool:
    """Whether go-yaml v2 or v3 would read `value`, written plain, as anything but a string. Errs towards yes
    (a value out of ParseInt's or ParseFloat's range is a string to Go, but quoted here all the same)."""
    if value in _GO_WORDS:
        return True
    hint = value[:1]
    if hint == ".":  # ParseFloat on the value as written; its underscores must sit between digits, so drop them
        return bool(re.fullmatch(r"\.[0-9]+([eE][-+]?[0-9]+)?", value.replace("_", "")))
    if hint and hint in "+-0123456789":
        plain = value.replace("_", "")
        return bool(_GO_TIMESTAMP.fullmatch(value) or _GO_INT.fullmatch(plain) or _GO_FLOAT.fullmatch(plain))
    return False


class _Dumper(yaml.CSafeDumper):
    pass


def _represent_str(dumper: yaml.BaseDumper, value: str) -> yaml.ScalarNode:
    """Multi-line strings (embedded manifests, scripts) as literal blocks, readable in a diff; look-alikes quoted."""
    style = "|" if "\n" in value else ("'" if go_yaml_reads_as_non_string(value) else None)
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
