"""No spec value is ever run: not by the YAML loader, not by a shell, not by the renderer or the gate.

Two kinds of proof: an audit of the compiler's source for every way Python can run a string (eval, shells,
unsafe loaders), and real runs on specs whose values are shell and YAML payloads that would leave a marker file.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import ROOT, edit, run_cli, tree

REC = "spec/recommender.yaml"
SOURCES = sorted((ROOT / "compiler").rglob("*.py"))
RUNS_STRINGS = {"eval", "exec", "compile", "__import__", "breakpoint"}
SHELLS = {("os", "system"), ("os", "popen"), ("os", "execl"), ("os", "execlp"), ("os", "execv"), ("os", "execvp"),
          ("os", "spawnl"), ("os", "spawnv"), ("subprocess", "getoutput"), ("subprocess", "getstatusoutput")}
UNSAFE_MODULES = {"pickle", "marshal", "shelve", "dill", "cloudpickle", "jsonpickle"}


def dotted_name(node: ast.AST) -> tuple[str, ...]:
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute):
        return (*dotted_name(node.value), node.attr)
    return ()


def audit(source: str, where: str) -> list[str]:
    """Every way this Python source could run a string as code or through a shell, as `file:line: why`."""
    problems = []
    nodes = list(ast.walk(ast.parse(source, where)))
    pyyaml = any(isinstance(n, ast.Import) and any(a.name == "yaml" for a in n.names) for n in nodes)
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = {a.name.split(".")[0] for a in node.names} | {(getattr(node, "module", "") or "").split(".")[0]}
            if modules & UNSAFE_MODULES:
                problems.append(f"{where}:{node.lineno}: imports {sorted(modules & UNSAFE_MODULES)}")
        if not isinstance(node, ast.Call):
            continue
        name, line = dotted_name(node.func), f"{where}:{node.lineno}"
        if len(name) == 1 and name[0] in RUNS_STRINGS:
            problems.append(f"{line}: {name[0]}() runs a string as code")
        if name[-2:] in SHELLS:
            problems.append(f"{line}: {'.'.join(name)} goes through a shell")
        if name[-1:] == ("import_module",):
            problems.append(f"{line}: a module chosen at run time")
        if name[:1] == ("subprocess",) and (not node.args or not isinstance(node.args[0], ast.List)):
            problems.append(f"{line}: subprocess takes an argument list, not a string")
        if name[:1] == ("subprocess",) and any(k.arg == "shell" for k in node.keywords):
            problems.append(f"{line}: subprocess with shell=")
        if pyyaml and name in (("yaml", "load"), ("yaml", "load_all"), ("yaml", "unsafe_load"), ("yaml", "full_load")):
            problems.append(f"{line}: PyYAML's loaders construct Python objects from tags")
        if name[-1:] == ("YAML",):
            typ = [k.value.value for k in node.keywords if k.arg == "typ" and isinstance(k.value, ast.Constant)]
            if typ not in (["rt"], ["safe"]):
                problems.append(f"{line}: ruamel YAML(typ={typ}) may construct objects")
    return problems


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_compiler_never_runs_a_string(path: Path) -> None:
    assert audit(path.read_text(), path.relative_to(ROOT).as_posix()) == []


@pytest.mark.parametrize("source", ["eval(text)", "os.system(text)", "subprocess.run(text)",
                                    "subprocess.run(['a'], shell=True)", "import yaml\nyaml.load(text)",
                                    "YAML(typ='unsafe')", "YAML()", "import pickle", "from marshal import loads",
                                    "importlib.import_module(text)"])
def test_the_audit_catches_each_form_it_looks_for(source: str) -> None:
    assert audit(source + "\n", "sample.py")


def payloads(marker: Path) -> list[str]:
    return [f"$(touch {marker})", f"`touch {marker}`", f"; touch {marker}", f"| touch {marker}",
            f"{{{{ touch {marker} }}}}", f"&& touch {marker}", f"__import__('os').system('touch {marker}')"]


def test_shell_and_template_payloads_in_spec_values_are_data(repo: Path, tmp_path: Path) -> None:
    """Payloads in command, args and env values compile and pass through the gate as plain strings, run by nobody."""
    marker = tmp_path / "pwned"
    values = payloads(marker)
    edit(repo, REC, "  command: [python, -m, recsys.train]",
         f"  command: {yaml.safe_dump(values, default_flow_style=True, width=10_000).strip()}")
    quoted = [yaml.safe_dump(value, default_style='"').strip() for value in values]
    env = "".join(f"    PAYLOAD_{i}: {value}\n" for i, value in enumerate(quoted))
    edit(repo, REC, "  port: 8080\n", "  port: 8080\n  env:\n" + env)
    result = run_cli(repo, "compile", "--offline")
    assert result.exit_code == 0, result.stderr
    check = run_cli(repo, "check", "--format", "json")
    assert check.exit_code in (0, 1), check.stderr  # judged: a verdict, not a crash
    assert not marker.exists()
    documents = [yaml.safe_load(content) for path, content in tree(repo / "generated").items()
                 if path.split("/")[1] == "recommender"]
    strings = set(_strings(documents))
    for value in values:
        assert value in strings, f"{value!r} is carried verbatim into the manifests"


def _strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value
        if "\n" in value:  # a manifest embedded as text (a CronWorkflow's resource template)
            yield from _strings(yaml.safe_load(value))


@pytest.mark.parametrize("payload", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "!!python/name:os.system",
])
def test_python_tags_are_refused_in_a_real_process_and_run_nothing(repo: Path, tmp_path: Path, payload: str) -> None:
    marker = tmp_path / "pwned"
    edit(repo, REC, "  port: 8080\n", f"  port: 8080\n  args: {payload.format(marker=marker)}\n")
    process = subprocess.run([sys.executable, "-m", "compiler", "--root", str(repo), "compile", "--offline"],
                             capture_output=True, text=True, timeout=300, cwd=ROOT, env={**os.environ, "CI": "true"})
    assert process.returncode == 2, process.stderr
    assert "is not allowed in a spec [E106]" in process.stderr
    assert "Traceback" not in process.stderr
    assert not marker.exists()
    assert not (repo / "generated").exists()


def test_a_revision_that_looks_like_an_option_is_only_a_revision(tmp_path: Path) -> None:
    """`git show --output=FILE` would write a file: the revision goes after --end-of-options."""
    from compiler.pins import base_lock

    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    (tmp_path / "README").write_text("a repository with one commit, so that `git show` has something to show\n")
    subprocess.run([*git, "add", "README"], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "one"], check=True)
    before = sorted(tmp_path.iterdir())
    assert base_lock(tmp_path, f"--output={tmp_path / 'written'}") == {}
    assert sorted(tmp_path.iterdir()) == before
