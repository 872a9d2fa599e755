"""Pass 1 (load): malformed and hostile YAML is refused with a stable code at the right file:line:col."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from compiler.errors import Code, Location, SpecError
from compiler.load import MAX_FILE_BYTES, load


def write(tmp_path: Path, text: str | bytes, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> SpecError:
    with pytest.raises(SpecError) as info:
        load(path, "spec.yaml")
    return info.value


def only(error: SpecError, code: Code, line: int, column: int):
    """The error holds exactly one diagnostic, with this code, at this position of spec.yaml."""
    assert len(error.diagnostics) == 1, [str(d) for d in error.diagnostics]
    diagnostic = error.diagnostics[0]
    assert diagnostic.code is code, str(diagnostic)
    assert diagnostic.location == Location("spec.yaml", line, column), str(diagnostic)
    assert str(diagnostic).startswith(f"spec.yaml:{line}:{column}:")
    assert str(diagnostic).endswith(f"[{code.value}]")
    return diagnostic


# --- syntax -------------------------------------------------------------------------------------------------------

def test_malformed_yaml_points_at_the_broken_line(tmp_path):
    path = write(tmp_path, "a: 1\nb: [1, 2\nc: 3\n")
    diagnostic = only(load_error(path), Code.YAML_SYNTAX, 3, 2)
    assert diagnostic.message.startswith("invalid YAML: ")


def test_tab_indentation_is_a_syntax_error_at_the_tab(tmp_path):
    path = write(tmp_path, "a:\n\tb: 1\n")
    diagnostic = only(load_error(path), Code.YAML_SYNTAX, 2, 1)
    assert "'\\t'" in diagnostic.message


def test_integer_with_5000_digits_is_refused_at_its_line(tmp_path):
    path = write(tmp_path, "a: 1\nb: 2\nhuge: " + "9" * 5000 + "\n")
    started = time.perf_counter()
    diagnostic = only(load_error(path), Code.YAML_SYNTAX, 3, 7)
    assert time.perf_counter() - started < 5
    assert diagnostic.message.startswith("invalid YAML value")


def test_a_megabyte_of_open_brackets_is_refused_at_once_at_its_position(tmp_path):
    path = write(tmp_path, "a: 1\nb: " + "[" * 500_000 + "\n")
    only(load_error(path), Code.YAML_SYNTAX, 2, 4)


def test_nesting_deeper_than_the_limit_is_refused(tmp_path):
    path = write(tmp_path, "a: " + "[" * 60 + "]" * 60 + "\n")
    [diagnostic] = load_error(path).diagnostics
    assert diagnostic.code is Code.YAML_SYNTAX
    assert diagnostic.location.line == 1
    assert "nesting deeper than 40 levels" in diagnostic.message


def test_bad_core_tagged_scalar_points_at_its_line(tmp_path):
    path = write(tmp_path, "a: 1\nb: !!float abc\n")
    only(load_error(path), Code.YAML_SYNTAX, 2, 4)


# --- duplicate keys -----------------------------------------------------------------------------------------------

def test_duplicate_key_points_at_the_second_occurrence(tmp_path):
    path = write(tmp_path, "a: 1\nb:\n  x: 1\n  y: 2\n  x: 3\n")
    diagnostic = only(load_error(path), Code.DUPLICATE_KEY, 5, 3)
    assert diagnostic.message == 'duplicate key "x" (the mapping starts on line 3)'


def test_duplicate_top_level_key(tmp_path):
    path = write(tmp_path, "a: 1\nb: 2\na: 3\n")
    diagnostic = only(load_error(path), Code.DUPLICATE_KEY, 3, 1)
    assert '"a"' in diagnostic.message


def test_duplicate_key_in_a_flow_mapping(tmp_path):
    path = write(tmp_path, "a: 1\nb: {x: 1, x: 2}\n")
    only(load_error(path), Code.DUPLICATE_KEY, 2, 11)


# --- hostile input ------------------------------------------------------------------------------------------------

def billion_laughs(levels: int = 9, fan_out: int = 9) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * fan_out) + "]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * fan_out) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_quickly(tmp_path):
    path = write(tmp_path, billion_laughs())
    outcome: dict[str, BaseException | None] = {}

    def target() -> None:
        try:
            load(path, "spec.yaml")
            outcome["error"] = None
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = exc

    started = time.perf_counter()
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "load() did not return within 10s on an alias bomb"
    assert time.perf_counter() - started < 5
    error = outcome["error"]
    assert isinstance(error, SpecError), repr(error)
    [diagnostic] = error.diagnostics
    assert diagnostic.code is Code.ALIAS_EXPANSION
    assert diagnostic.location.file == "spec.yaml"
    assert "expands to more than 20000 nodes" in diagnostic.message
    assert str(diagnostic).endswith("[E103]")


def test_a_few_aliases_are_fine(tmp_path):
    path = write(tmp_path, "base: &b {x: 1}\nc: *b\nd:\n  <<: *b\n  y: 2\n")
    document = load(path, "spec.yaml")
    assert document.data == {"base": {"x": 1}, "c": {"x": 1}, "d": {"x": 1, "y": 2}}


def test_file_over_one_mib_is_refused_before_parsing(tmp_path):
    path = write(tmp_path, b"a: 1\n#" + b"x" * MAX_FILE_BYTES + b"\n")
    diagnostic = only(load_error(path), Code.FILE_TOO_LARGE, 1, 1)
    assert diagnostic.message == (f"file is {MAX_FILE_BYTES + 7} bytes; "
                                  f"specs are capped at {MAX_FILE_BYTES} bytes")


def test_file_of_exactly_one_mib_is_loaded(tmp_path):
    head = b"a: 1\n#"
    path = write(tmp_path, head + b"x" * (MAX_FILE_BYTES - len(head) - 1) + b"\n")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert load(path, "spec.yaml").data == {"a": 1}


def test_missing_file_is_unreadable(tmp_path):
    with pytest.raises(SpecError) as info:
        load(tmp_path / "absent.yaml", "absent.yaml")
    [diagnostic] = info.value.diagnostics
    assert diagnostic.code is Code.FILE_UNREADABLE
    assert str(diagnostic).startswith("absent.yaml:1:1: cannot read file")


@pytest.mark.parametrize("text, what", [
    ("", "empty"),
    ("# nothing but a comment\n", "empty"),
    ("---\n", "empty"),
    ("- a\n- b\n", "a list"),
    ("just a string\n", "a single value"),
])
def test_top_level_must_be_a_mapping(tmp_path, text, what):
    diagnostic = only(load_error(write(tmp_path, text)), Code.NOT_A_MAPPING, 1, 1)
    assert diagnostic.message.startswith("the top level must be a mapping of fields, but the file is ")
    assert what in diagnostic.message


@pytest.mark.parametrize("text, line, column, field, tag", [
    ("a: 1\nrun: !!python/object:os.system\n  x: 1\n", 2, 1, "run",
     "!!python/object:os.system"),
    ("a: 1\nrun: !!python/object/apply:os.system ['echo hi']\n", 2, 1, "run",
     "!!python/object/apply:os.system"),
    ("a:\n  b: !foo bar\n", 2, 3, "a.b", "!foo"),
    ("a:\n  b: !foo {x: 1}\n", 2, 3, "a.b", "!foo"),
])
def test_yaml_tags_are_forbidden(tmp_path, text, line, column, field, tag):
    diagnostic = only(load_error(write(tmp_path, text)), Code.FORBIDDEN_TAG, line, column)
    assert diagnostic.field == field
    assert diagnostic.message == f"YAML tag {tag} is not allowed in a spec"


def test_python_tag_never_runs_anything(tmp_path):
    marker = tmp_path / "pwned"
    path = write(tmp_path, f"a: !!python/object/apply:os.system ['touch {marker}']\n")
    load_error(path)
    assert not marker.exists()


def test_binary_tag_is_forbidden(tmp_path):
    diagnostic = only(load_error(write(tmp_path, "a: 1\nb: !!binary aGVsbG8=\n")), Code.FORBIDDEN_TAG, 2, 1)
    assert diagnostic.field == "b"


def test_core_tags_are_allowed(tmp_path):
    document = load(write(tmp_path, "a: !!str 123\nb: !!int '12'\n"), "spec.yaml")
    assert document.data == {"a": "123", "b": 12}


@pytest.mark.parametrize("text, key, what", [("a: x\n1: x\n", "1", "a number"), ("a: x\n~: x\n", "null", "null"),
                                             ("a: x\ntrue: x\n", "true", "a boolean")])
def test_non_string_keys_are_refused_as_yaml_reads_them(tmp_path, text, key, what):
    diagnostic = only(load_error(write(tmp_path, text)), Code.NON_STRING_KEY, 2, 1)
    assert diagnostic.field == key
    assert diagnostic.message == f'key {key} is {what}, not a string; quote it: "{key}"'


def test_every_problem_of_a_file_is_reported_together(tmp_path):
    path = write(tmp_path, "a: !foo x\nb: 1\n2: y\n")
    error = load_error(path)
    assert [(d.code, d.location.line) for d in error.diagnostics] == [
        (Code.FORBIDDEN_TAG, 1), (Code.NON_STRING_KEY, 3)]


def test_invalid_utf8_points_at_the_bad_byte(tmp_path):
    path = write(tmp_path, b"a: 1\nb: 2\nc: ab\xff\xfe\n")
    diagnostic = only(load_error(path), Code.ENCODING, 3, 6)
    assert diagnostic.message == "file is not valid UTF-8 (byte 0xFF); save it as UTF-8"


@pytest.mark.parametrize("encoding, name", [("utf-16", "UTF-16"), ("utf-16-le", "UTF-16"), ("utf-16-be", "UTF-16"),
                                            ("utf-32", "UTF-32"), ("utf-32-le", "UTF-32")])
def test_a_utf16_or_utf32_file_is_named_as_such(tmp_path, encoding, name):
    diagnostic = only(load_error(write(tmp_path, "apiVersion: v1\nkind: MLSystem\n".encode(encoding))),
                      Code.ENCODING, 1, 1)
    assert diagnostic.message == f"file is {name}, not UTF-8; save it as UTF-8"


def test_latin1_file_is_refused_as_encoding_error(tmp_path):
    path = write(tmp_path, "owner: Jos\u00e9\n".encode("latin-1"))
    only(load_error(path), Code.ENCODING, 1, 11)


def test_two_documents_are_refused(tmp_path):
    diagnostic = only(load_error(write(tmp_path, "a: 1\n---\nb: 2\n")), Code.MULTIPLE_DOCUMENTS, 1, 1)
    assert diagnostic.message == "file holds 2 YAML documents; write one per file"


# --- what loads ---------------------------------------------------------------------------------------------------

def test_utf8_bom_is_accepted(tmp_path):
    path = write(tmp_path, "\ufeffa: 1\nb:\n  c: d\n")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    document = load(path, "spec.yaml")
    assert document.data == {"a": 1, "b": {"c": "d"}}
    assert document.source.locate(("b", "c")) == Location("spec.yaml", 3, 3)


def test_yaml_1_2_keeps_yes_and_no_as_strings(tmp_path):
    document = load(write(tmp_path, "a: yes\nb: off\nc: true\n"), "spec.yaml")
    assert document.data == {"a": "yes", "b": "off", "c": True}


NESTED = """\
top: 1
a:
  b: 2
  c:
    - x
    - {d: 1, e: 2}
"""


def test_source_map_locates_nested_keys(tmp_path):
    document = load(write(tmp_path, NESTED), "spec/nested.yaml")
    assert document.file == "spec/nested.yaml"
    assert document.data == {"top": 1, "a": {"b": 2, "c": ["x", {"d": 1, "e": 2}]}}
    locate = document.source.locate
    assert locate(("top",)) == Location("spec/nested.yaml", 1, 1)
    assert locate(("a",)) == Location("spec/nested.yaml", 2, 1)
    assert locate(("a", "b")) == Location("spec/nested.yaml", 3, 3)
    assert locate(("a", "c")) == Location("spec/nested.yaml", 4, 3)
    assert locate(("a", "c", 0)) == Location("spec/nested.yaml", 5, 7)
    assert locate(("a", "c", 1, "e")) == Location("spec/nested.yaml", 6, 14)


def test_missing_path_falls_back_to_its_nearest_ancestor(tmp_path):
    document = load(write(tmp_path, NESTED), "spec/nested.yaml")
    locate = document.source.locate
    assert locate(("a", "missing")) == locate(("a",)) == Location("spec/nested.yaml", 2, 1)
    assert locate(("a", "b", "deeper", "still")) == Location("spec/nested.yaml", 3, 3)
    assert locate(("a", "c", 7)) == Location("spec/nested.yaml", 4, 3)
    assert locate(("nowhere",)) == locate(()) == Location("spec/nested.yaml", 1, 1)


def test_display_name_defaults_to_the_path(tmp_path):
    path = write(tmp_path, "a: [1\n")
    with pytest.raises(SpecError) as info:
        load(path)
    assert str(info.value.diagnostics[0]).startswith(f"{path}:2:1:")
