"""`make fuzz`: coverage-guided fuzzing (atheris, libFuzzer) of load → validate → merge on arbitrary bytes.

Every input must end in a model or a `SpecError` whose diagnostics are one line each, at a line and column that
exist in their file; anything else (another exception, a warning, a diagnostic outside its file) is a crash. The
corpus starts from the example specs and environments and grows in `.fuzz/corpus/`; a crash leaves its input in
`.fuzz/` as `crash-<sha1>` and the run exits non-zero. Once fixed, the input goes to `tests/fuzz_regressions/`.

`python tools/fuzz.py` runs for `FUZZ_SECONDS` (default 60) and ends with one line:
`fuzz: N executions in S s, coverage: X edges, F features, crashes: C`. `FUZZ_DIR` moves `.fuzz/`.
`python tools/fuzz.py FILE...` replays inputs through the same target (libFuzzer's own command line).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[1]
NAME = "spec/fuzz.yaml"  # the path diagnostics of the fuzzed input carry

# Coverage of the YAML parser and the compiler guides the search (pydantic validates in Rust, out of atheris' sight).
with atheris.instrument_imports(include=["compiler", "ruamel.yaml"]):
    from compiler.errors import SpecError
    from compiler.load import load
    from compiler.merge import EnvironmentDoc, check_overrides, merge
    from compiler.model import Environment, MLSystem
    from compiler.validate import validate

# A warning would print on stderr between the one-line diagnostics: a crash like any other.
warnings.simplefilter("error")

EXAMPLES = {p.relative_to(ROOT).as_posix(): p.read_bytes()
            for p in sorted(ROOT.glob("environments/*.yaml")) + sorted(ROOT.glob("spec/*.yaml"))}
DOCUMENTS = {name: load(ROOT / name, name, raw) for name, raw in EXAMPLES.items()}
ENVIRONMENTS = [EnvironmentDoc(Path(name).stem, validate(Environment, d.data, d.source), d)
                for name, d in DOCUMENTS.items() if name.startswith("environments/")]
SYSTEMS = [d for name, d in DOCUMENTS.items() if name.startswith("spec/")]
# Tokens libFuzzer splices into inputs: YAML's syntax and the spec's field names reach deeper than random bytes.
SYNTAX = ["---", "...", "&a ", "*a", "<<: ", "!!", "!!str ", "!!set ", "!foo ", "? ", "- ", ": ", "|", ">-", "{", "}",
          "[", "]", "#", "%YAML 1.1", "\t", "\r"]
TOKENS = sorted({t.encode() for t in SYNTAX} | set(re.findall(rb"([A-Za-z][\w-]*):", b"".join(EXAMPLES.values()))))


def lines(raw: bytes) -> int:
    """Lines in a file, plus one for its end; generous: YAML also breaks lines at CR, NEL, U+2028."""
    try:
        return len(raw.decode("utf-8-sig").splitlines()) + 1
    except UnicodeDecodeError:
        return len(raw.splitlines()) + 1


def check(error: SpecError, data: bytes) -> None:
    """The clean-error contract: each diagnostic is one line, at a position that exists in its file."""
    files = {**EXAMPLES, NAME: data}
    for diagnostic in error.diagnostics:
        where, raw = diagnostic.location, files.get(diagnostic.location.file)
        assert len(str(diagnostic).splitlines()) == 1, f"diagnostic is not one line: {str(diagnostic)!r}"
        assert raw is not None, f"diagnostic in a file the run did not read: {diagnostic}"
        assert 1 <= where.line <= lines(raw), f"line outside {where.file}: {diagnostic}"
        assert 1 <= where.column <= len(raw) + 1, f"column outside {where.file}: {diagnostic}"


def test_one_input(data: bytes) -> None:
    """As `mlgitops validate` runs the passes, with the input standing in for one spec or environment."""
    try:
        document = load(Path(NAME), NAME, raw=data)
        if document.data.get("kind") == "Environment":
            spec = validate(Environment, document.data, document.source)
            merges = [(system, EnvironmentDoc(spec.metadata.name, spec, document)) for system in SYSTEMS]
        else:
            validate(MLSystem, document.data, document.source)
            check_overrides(document, sorted(e.name for e in ENVIRONMENTS))
            merges = [(document, environment) for environment in ENVIRONMENTS]
    except SpecError as exc:
        check(exc, data)
        return
    for system, environment in merges:  # each merge on its own, as the pipeline collects them
        try:
            merge(system, environment)
        except SpecError as exc:
            check(exc, data)


def artifacts(workdir: Path) -> set[Path]:
    return {p for pattern in ("crash-*", "timeout-*", "oom-*") for p in workdir.glob(pattern)}


def fuzz(seconds: int, workdir: Path) -> int:
    """Run libFuzzer in a child process and summarise its statistics; the child's exit code is the result."""
    corpus = workdir / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    dictionary = workdir / "yaml.dict"
    dictionary.write_text("".join('"' + "".join(f"\\x{b:02x}" for b in token) + '"\n' for token in TOKENS))
    before = artifacts(workdir)
    # The first corpus directory receives new inputs; the examples are read-only seeds.
    command = [sys.executable, __file__, f"-max_total_time={seconds}", f"-artifact_prefix={workdir}/",
               f"-dict={dictionary}", "-timeout=30", "-print_final_stats=1",
               str(corpus), str(ROOT / "spec"), str(ROOT / "environments")]
    started = time.monotonic()
    stats: dict[str, int] = {}
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True, errors="replace", cwd=ROOT) as child:
        for line in child.stderr:
            if not re.match(r"#\d+\s+(NEW|REDUCE)|INFO: Instrumenting", line):  # a line per input or module: noise
                sys.stderr.write(line)
            status = re.search(r"^#(\d+)\s.*\bcov: (\d+) ft: (\d+)", line)
            if status:
                stats.update(runs=int(status[1]), cov=int(status[2]), ft=int(status[3]))
            final = re.match(r"stat::number_of_executed_units: (\d+)", line)
            if final:
                stats["runs"] = int(final[1])
    code = child.returncode
    crashes = sorted(artifacts(workdir) - before)
    print(f"fuzz: {stats.get('runs', 0)} executions in {time.monotonic() - started:.0f} s, "
          f"coverage: {stats.get('cov', 0)} edges, {stats.get('ft', 0)} features, "
          f"crashes: {len(crashes) or int(code != 0)}")
    for path in crashes:
        print(f"fuzz: crashing input kept in {path}")
    return code


if __name__ == "__main__":
    if len(sys.argv) > 1:  # the child (or a replay): libFuzzer reads its flags and inputs from the command line
        atheris.Setup(sys.argv, test_one_input)
        atheris.Fuzz()
    workdir = Path(os.environ.get("FUZZ_DIR", ROOT / ".fuzz")).resolve()
    sys.exit(fuzz(int(os.environ.get("FUZZ_SECONDS", "60")), workdir))
