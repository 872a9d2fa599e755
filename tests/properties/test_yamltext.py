"""Emitted YAML: key order, quoting of look-alikes, literal blocks, and the same bytes every time."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.yamltext import dump_yaml, go_yaml_reads_as_non_string


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


# Each is a number (or a time) to go-yaml v2/v3: underscores are dropped before strconv.ParseInt(s, 0, 64), which
# takes 0x/0o/0b prefixes; yamlStyleFloat takes `.5` and `1e30`; the table has `+.inf`; parseTimestamp `2001-1-2`.
GO_NUMBERS = ["1e3_0", "0_x1f", "-_1", "0b1_0", "0o17", "1_000", ".5", "+.inf", "0x_1", "1e3", "-0b1", "+0x1F",
              "09", "0O7", "1__", "1_2.5_0e1_0", "._5", "2001-1-2", "2001-12-14t21:59:43.1Z", "<<", "Off", "Y"]
GO_STRINGS = ["8Gi", "500m", "25%", "x1e3", "_1", "0x", "1e", "1.2.3", "v1", "1-2", "+", "-inf", "0xg",
              "t", "f", "o", "nvidia-a100-80gb", "2001-12", "20011-1-2"]


@pytest.mark.parametrize("value", GO_NUMBERS)
def test_strings_go_yaml_reads_as_numbers_are_quoted(value: str) -> None:
    assert go_yaml_reads_as_non_string(value)
    text = dump_yaml({"v": value})
    assert text.startswith("v: '") or text.startswith('v: "'), text
    assert yaml.safe_load(text) == {"v": value}


@pytest.mark.parametrize("value", GO_STRINGS)
def test_strings_go_yaml_reads_as_strings_stay_plain(value: str) -> None:
    assert not go_yaml_reads_as_non_string(value)
    assert dump_yaml({"v": value}) == f"v: {value}\n"


def _plain_scalars(text: str) -> list[str]:
    return [e.value for e in yaml.parse(text) if isinstance(e, yaml.ScalarEvent) and e.style is None]


NUMBERISH = st.text(alphabet="0123456789_+-.:eExXoObBaAfFinNyYtT~<", max_size=10)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(NUMBERISH, st.text(max_size=12)))
def test_every_dumped_string_is_read_back_as_a_string(value: str) -> None:
    """Property: whatever the string, each scalar written plain is a string by go-yaml's rule (and PyYAML reads the
    same value back), keys and values alike."""
    text = dump_yaml({value: [value]})
    assert yaml.safe_load(text) == {value: [value]}
    assert not [s for s in _plain_scalars(text) if go_yaml_reads_as_non_string(s)], text
