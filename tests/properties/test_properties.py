"""Hostile input, property-based: random and mutated specs never crash load → validate → merge, nor the CLI.

Whatever the bytes, the answer is a model or a `SpecError` whose every diagnostic is one line at a position that
exists in its file. Inputs come from hypothesis (arbitrary bytes and text, structured mutations of the example
specs and environments, text-level mutations of their files) and from `tests/fuzz_regressions/`, where each input
that once crashed the fuzzer (`make fuzz`) stays. Derandomized, without an example database: CI sees the same
examples every run.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.errors import Code, SpecError
from compiler.load import Document, load
from compiler.merge import EnvironmentDoc, check_overrides, merge
from compiler.model import Environment, MLSystem
from compiler.validate import validate
from helpers import ROOT, copy_examples, run_cli

SPECS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "spec").glob("*.yaml"))
ENV_FILES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "environments").glob("*.yaml"))
ORIGINAL = {name: (ROOT / name).read_bytes() for name in SPECS + ENV_FILES}
PLAIN = {name: yaml.safe_load(raw) for name, raw in ORIGINAL.items()}
REGRESSIONS = ROOT / "tests" / "fuzz_regressions"
FUZZ_NAME = "spec/fuzz.yaml"  # what tools/fuzz.py calls its input


def _loaded(name: str) -> Document:
    return load(ROOT / name, name)


ENVIRONMENTS = {Path(name).stem: EnvironmentDoc(Path(name).stem, validate(Environment, d.data, d.source), d)
                for name in ENV_FILES for d in [_loaded(name)]}
SYSTEMS = {name: _loaded(name) for name in SPECS}

# A warning would print on stderr between the one-line diagnostics: here it fails the test like an exception.
pytestmark = pytest.mark.filterwarnings("error")

DIAGNOSTIC = re.compile(r"^[^:\s]+:\d+:\d+: .*\[[EW]\d{3}\]$")
SUMMARY = re.compile(r"^mlgitops: (\d+) problems? found; nothing was written$")


def profile(examples: int, *also_suppress: HealthCheck) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, *also_suppress])


# --- the property -----------------------------------------------------------------------------------------------------

def line_bound(raw: bytes) -> int:
    """Lines in a file, plus one for the end of it; generous: YAML also breaks lines at CR, NEL, U+2028."""
    try:
        return len(raw.decode("utf-8-sig").splitlines()) + 1
    except UnicodeDecodeError:
        return len(raw.splitlines()) + 1


def assert_clean(error: SpecError, files: dict[str, bytes]) -> None:
    """Every diagnostic is one line, in one of `files`, at a line and column that exist there."""
    assert error.diagnostics, "a SpecError without diagnostics"
    for diagnostic in error.diagnostics:
        text, where = str(diagnostic), diagnostic.location
        assert len(text.splitlines()) == 1 and DIAGNOSTIC.match(text), f"not a one-line diagnostic: {text!r}"
        assert where.file in files, f"diagnostic in a file the run did not read: {text!r}"
        raw = files[where.file]
        assert 1 <= where.line <= line_bound(raw), f"line outside {where.file}: {text!r}"
        assert 1 <= where.column <= len(raw) + 1, f"column outside {where.file}: {text!r}"


def passes(name: str, raw: bytes) -> list[Any]:
    """load → validate → merge, as `mlgitops validate` runs them, with `raw` standing in for the file `name` and the
    other examples as they are. Returns the models; raises the SpecError of the first pass that refused."""
    document = load(Path(name), name, raw=raw)
    if document.data.get("kind") == "Environment":
        spec = validate(Environment, document.data, document.source)
        environment = EnvironmentDoc(spec.metadata.name, spec, document)
        return [spec] + [merge(system, environment).spec for system in SYSTEMS.values()]
    spec = validate(MLSystem, document.data, document.source)
    check_overrides(document, sorted(ENVIRONMENTS))
    return [spec] + [merge(document, environment).spec for environment in ENVIRONMENTS.values()]


def assert_model_or_clean_error(name: str, raw: bytes) -> None:
    try:
        models = passes(name, raw)
    except SpecError as exc:
        assert_clean(exc, {**ORIGINAL, name: raw})
    else:
        assert all(isinstance(model, (MLSystem, Environment)) for model in models)


def load_error(raw: bytes) -> SpecError:
    with pytest.raises(SpecError) as info:
        load(Path("spec/x.yaml"), "spec/x.yaml", raw=raw)
    assert_clean(info.value, {"spec/x.yaml": raw})
    return info.value


def passes_error(name: str, raw: bytes) -> SpecError:
    with pytest.raises(SpecError) as info:
        passes(name, raw)
    assert_clean(info.value, {**ORIGINAL, name: raw})
    return info.value


# --- strategies -------------------------------------------------------------------------------------------------------

def _words(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(map(str, value)).union(*map(_words, value.values()))
    if isinstance(value, list):
        return set().union(*map(_words, value))
    return {value} if isinstance(value, str) else set()


# Field names and values of the examples: mutations that speak the spec language get past the first check.
WORDS = sorted(set().union(*map(_words, PLAIN.values())))
TEXT = st.text(max_size=24) | st.sampled_from(WORDS)
SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=10**18, max_value=10**400)
           | st.floats() | TEXT | st.dates())
KEYS = TEXT | st.integers() | st.booleans() | st.none()  # non-string keys are a load error, not a crash
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
                      max_leaves=12)


def _slots(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) of a document, for a mutation to pick."""
    slots = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        slots.append((value, key))
        slots += _slots(child)
    return slots


@st.composite
def mutated_data(draw: st.DrawFn, names: list[str]) -> tuple[str, bytes]:
    """An example file with 1–4 structural mutations, dumped back to YAML."""
    name = draw(st.sampled_from(names))
    data: Any = copy.deepcopy(PLAIN[name])
    for _ in range(draw(st.integers(1, 4))):
        slots = _slots(data)
        operation = draw(st.sampled_from(["drop", "replace", "inject", "retype", "nest", "root"]))
        if operation == "root" or not slots:
            data = draw(VALUES)
            continue
        container, key = draw(st.sampled_from(slots))
        value = container[key]
        if operation == "drop":
            del container[key]
        elif operation == "replace":
            container[key] = draw(VALUES)
        elif operation == "inject":
            target = value if isinstance(value, dict) else container
            if isinstance(target, dict):
                target[draw(KEYS)] = draw(VALUES)
            else:
                target.append(draw(VALUES))
        elif operation == "retype":  # the same value, as the wrong type
            container[key] = draw(st.sampled_from([str(value), [value], {"value": value}, 1.5, -1, True, None]))
        else:  # deep nesting, past the loader's limit at times
            for _ in range(draw(st.integers(1, 60))):
                value = draw(st.sampled_from([[value], {"x": value}]))
            container[key] = value
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=draw(st.booleans()),
                          default_flow_style=draw(st.sampled_from([False, None, True])))
    return name, text.encode()


SNIPPETS = ["\t", "  ", "\n", "\n  ", "\n- ", "- ", ": ", ":", "? ", ",", "{", "}", "[", "]", "{{{", "[[", "|", ">-",
            "'", '"', "#", "\\", "%", "@", "`", "&a ", "*a", "*b ", "&a [*a, *a]", "<<: *a\n", "<<: {x: 1}\n",
            "!!str ", "!!int ", "!!float ", "!!binary ", "!!set ", "!!omap ", "!!timestamp ", "!foo ",
            "!!python/object/apply:os.system ", "---\n", "...\n", "%YAML 1.1\n---\n", "%TAG !e! tag:e.com,2000:\n",
            "\x00", "\x07", "\x1b", "\ufeff", "\r", "\r\n", "\x85", "\u2028", "\u200b", "é", "а", "😀",
            "9" * 5000, "1e999", "-.inf", ".nan", "0x1F", "0o17", "1_000", "~", "null", "2024-02-30", "12:30:45",
            "yes", "on", "\"\\u\"", "'a''b'"]


@st.composite
def mutated_text(draw: st.DrawFn, names: list[str]) -> tuple[str, bytes]:
    """An example file with 1–5 edits to its text: characters, snippets of YAML syntax, whole lines."""
    name = draw(st.sampled_from(names))
    text = ORIGINAL[name].decode()
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(text)))
        end = min(len(text), at + draw(st.integers(0, 40)))
        lines = text.splitlines(keepends=True)
        line = draw(st.integers(0, max(len(lines) - 1, 0)))
        operation = draw(st.sampled_from(["snippet", "text", "delete", "duplicate", "line"]))
        if operation == "snippet":
            text = text[:at] + draw(st.sampled_from(SNIPPETS)) + text[at:]
        elif operation == "text":
            text = text[:at] + draw(st.text(max_size=8)) + text[at:]
        elif operation == "delete":
            text = text[:at] + text[end:]
        elif operation == "duplicate":
            text = text[:end] + text[at:end] + text[end:]
        elif lines:  # a whole line: dropped, doubled, or indented one step more or less
            change = draw(st.sampled_from(["drop", "double", "indent", "dedent"]))
            replacement = {"drop": "", "double": lines[line] * 2, "indent": "  " + lines[line],
                           "dedent": lines[line][2:] if lines[line].startswith("  ") else lines[line]}[change]
            text = "".join(lines[:line] + [replacement] + lines[line + 1:])
    return name, text.encode("utf-8", "surrogatepass")


# --- properties of the passes -----------------------------------------------------------------------------------------

@profile(500)
@given(st.binary(max_size=2000) | st.text(max_size=400).map(str.encode))
def test_arbitrary_bytes_load_to_a_document_or_a_located_error(raw):
    try:
        document = load(Path("spec/x.yaml"), "spec/x.yaml", raw=raw)
    except SpecError as exc:
        assert_clean(exc, {"spec/x.yaml": raw})
    else:
        assert isinstance(document.data, dict)
        assert all(1 <= loc.line <= line_bound(raw) for loc in document.source.locations.values())


# Text made of YAML's own tokens reaches far deeper into the parser than uniformly random characters.
TOKENS = [*":-?,[]{}&*!|>'\"#%@`\\ \t\n\rax0.~", "<<", "!!", "---", "\n  ", "&a ", "*a ", "kind: ", "MLSystem",
          "Environment"]
YAMLISH = st.lists(st.sampled_from(TOKENS), max_size=80).map("".join)


@profile(500)
@given(YAMLISH)
def test_yaml_like_text_goes_through_every_pass_cleanly(text):
    assert_model_or_clean_error(FUZZ_NAME, text.encode())


@profile(300)
@given(mutated_data(SPECS))
def test_structurally_mutated_specs_validate_and_merge_cleanly(case):
    assert_model_or_clean_error(*case)


@profile(150)
@given(mutated_data(ENV_FILES))
def test_structurally_mutated_environments_validate_and_merge_cleanly(case):
    assert_model_or_clean_error(*case)


@profile(600)
@given(mutated_text(SPECS + ENV_FILES))
def test_textually_mutated_files_validate_and_merge_cleanly(case):
    assert_model_or_clean_error(*case)


# --- the command line -------------------------------------------------------------------------------------------------

@profile(100, HealthCheck.function_scoped_fixture)  # one scratch repository, each example rewrites its files
@given(mutated_text(SPECS + ENV_FILES) | mutated_data(SPECS + ENV_FILES))
def test_validate_on_a_mutated_repository_exits_0_or_2_with_one_line_diagnostics(tmp_path, case):
    repo = tmp_path / "repo"
    if not repo.exists():
        copy_examples(repo)
    for relative, raw in {**ORIGINAL, case[0]: case[1]}.items():  # the previous example's edit undone
        (repo / relative).write_bytes(raw)
    result = run_cli(repo, "validate")
    assert result.exit_code in (0, 2), (result.exit_code, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 0:
        assert result.stdout.startswith("ok: ")
        return
    *diagnostics, summary = result.stderr.splitlines()
    assert SUMMARY.match(summary) and int(SUMMARY.match(summary)[1]) == len(diagnostics), result.stderr
    for line in diagnostics:
        assert DIAGNOSTIC.match(line), f"not a one-line diagnostic: {line!r}"


# --- what fuzzing found -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted(p for p in REGRESSIONS.iterdir() if p.suffix in (".yaml", ".bin")),
                         ids=lambda p: p.name)
def test_fuzz_regression_is_a_clean_error(path):
    """Each file once crashed `make fuzz` or a property above; it goes through the fuzzer's target and must meet the
    same contract (see the README there for where each came from)."""
    assert_model_or_clean_error(FUZZ_NAME, path.read_bytes())


def test_a_control_character_is_a_syntax_error_at_its_position():
    [diagnostic] = load_error(b"a: 1\nb: x\x00y\n").diagnostics
    assert (diagnostic.code, diagnostic.location.line, diagnostic.location.column) == (Code.YAML_SYNTAX, 2, 5)
    assert "U+0000" in diagnostic.message


# The same family as the fuzzer's finds, met while reading ruamel's constructor: each raised past load().
@pytest.mark.parametrize("text, line, column", [
    ("a: 1\nb: !!set x\n", 2, 4),  # a collection tag on a scalar
    ("a: 1\nb: !!bool x\n", 2, 4),  # a scalar its tag can't read
    ("a: !!int ''\n", 1, 4),
    ("a:\n  ? {x: {y: 1}}\n  : 1\n", 2, 5),  # a key that holds a mapping
    ("a: [1, ? [x, [y]] : 1]\n", 1, 10),  # a key that holds a list
    ("a: &a [*a, !!set x]\n", 1, 12),  # the culprit inside a node that contains itself
    ("a: !!float abc\n---\nb: [\n", 1, 4),  # a later document that does not even parse
])
def test_a_value_ruamel_cannot_build_is_a_syntax_error_at_the_node(text, line, column):
    [diagnostic] = load_error(text.encode()).diagnostics
    assert (diagnostic.code, diagnostic.location.line, diagnostic.location.column) == (Code.YAML_SYNTAX, line, column)
    assert diagnostic.message.startswith("invalid YAML value: ")


def test_a_core_scalar_tag_on_a_list_is_refused():
    [diagnostic] = load_error(b"a:\n  - !!str [1, 2]\n").diagnostics
    assert (diagnostic.code, diagnostic.field, diagnostic.location.line) == (Code.FORBIDDEN_TAG, "a[0]", 2)


def test_a_comment_ruamel_cannot_place_is_a_syntax_error():
    [diagnostic] = load_error(b"a: 1\nb:\n  #\n  > # c\n  x\n").diagnostics
    assert diagnostic.code is Code.YAML_SYNTAX
    assert "move a comment that follows a `|` or `>` indicator" in diagnostic.message


def test_a_key_with_a_line_break_keeps_its_diagnostic_on_one_line():
    spec = ORIGINAL[SPECS[0]] + b'"bad\\nkey": 1\n'
    error = passes_error(SPECS[0], spec)
    [diagnostic] = [d for d in error.diagnostics if d.code is Code.UNKNOWN_FIELD]
    assert diagnostic.field == "'bad\\nkey'"
    [duplicate] = load_error(b'a: 1\n"x\\ny": 1\n"x\\ny": 2\n').diagnostics
    assert duplicate.message.startswith("duplicate key 'x\\ny' ")


# --- the fuzzer itself ------------------------------------------------------------------------------------------------

def test_fuzz_harness_runs_and_reports_executions_and_coverage(tmp_path):
    process = subprocess.run([sys.executable, str(ROOT / "tools" / "fuzz.py")], capture_output=True, text=True,
                             timeout=300, cwd=ROOT, env={**os.environ, "FUZZ_SECONDS": "3", "FUZZ_DIR": str(tmp_path)})
    assert process.returncode == 0, process.stdout + process.stderr[-3000:]
    summary = re.search(r"^fuzz: (\d+) executions in \d+ s, coverage: (\d+) edges, (\d+) features, crashes: (\d+)$",
                        process.stdout, re.MULTILINE)
    assert summary, process.stdout
    executions, edges, features, crashes = map(int, summary.groups())
    assert executions > 0 and edges > 0 and features > 0
    assert crashes == 0
