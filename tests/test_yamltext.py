"""Emitted YAML: key order, quoting of look-alikes, literal blocks, and the same bytes every time."""

from __future__ import annotations

import yaml

from compiler.yamltext import dump_yaml


def test_kubernetes_keys_lead_and_the_rest_is_sorted() -> None:
    text = dump_yaml({"spec": {"b": 1, "a": 2}, "metadata": {"namespace": "ns", "name": "x"}, "kind": "K",
                      "apiVersion": "v1"})
    assert text == "apiVersion: v1\nkind: K\nmetadata:\n  name: x\n  namespace: ns\nspec:\n  a: 2\n  b: 1\n"


def test_strings_a_kubernetes_reader_would_misread_are_quoted() -> None:
    ambiguous = ["on", "No", "y", "true", "null", "~", "1:20", "1e3", "0x1f", "0o17", "8", "0.5", ".inf", ""]
    text = dump_yaml({"values": ambiguous})
    assert all(f"- '{value}'" in text for value in ambiguous), text
    assert yaml.safe_load(text) == {"values": ambiguous}
    plain = dump_yaml({"values": ["8Gi", "500m", "25%", "yes please", "x1e3", "nvidia-t4"]})
    assert "'" not in plain


def test_multi_line_strings_are_literal_blocks_and_round_trip() -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\n"
    text = dump_yaml({"manifest": manifest})
    assert text == "manifest: |\n  apiVersion: v1\n  kind: ConfigMap\n"
    assert yaml.safe_load(text) == {"manifest": manifest}


def test_long_strings_are_never_folded() -> None:
    expr = "sum(rate(x[5m])) / " * 40
    assert dump_yaml({"expr": expr}).count("\n") == 1
