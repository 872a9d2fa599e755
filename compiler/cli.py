"""Command line: parses options, calls the driver, prints what happened. No compiler logic lives here.

Every line goes through `Console`, which alone applies -q; every command ends with an exit code of exitcodes.py.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from . import __version__
from .errors import Code, Diagnostic, Location, SpecError
from .exitcodes import EXIT_BAD_INPUT, EXIT_FAIL, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK
from .report import FORMATS as REPORT_FORMATS
from .runtime import configure
from .textutil import plural

CACHE_VARIABLE = "MLGITOPS_CACHE_DIR"  # compiler.cache.DIRECTORY_VARIABLE, named here so --help imports no YAML
TRUSTED_HELP = ("Parse, render and judge what is verified: take only gate results bound to the objects just "
                "rendered from the cache, and never a cache inside the checkout (the default under CI=true).")


def in_ci() -> bool:
    """`CI=true` (or 1), as GitHub Actions, GitLab CI and most others set it."""
    return os.environ.get("CI", "").lower() in ("true", "1")


class Console:
    """Every line the CLI prints, by kind. On stdout: the command's product (`payload`: a report, a schema, a rule;
    or into a file) and its results (`info`, and `detail` with -v). On stderr: `status` (summaries, notes),
    `progress` (a bar, for a person at a terminal) and `warn` (errors, and waits, which -q keeps too).
    Quiet (-q, before or after the command) is applied here and nowhere else: it drops info, detail, status and
    progress."""

    def __init__(self, root: Path, quiet: bool, verbose: bool):
        self.root, self.quiet, self.verbose = root, quiet, verbose
        # A progress bar only for a person at a terminal; CI logs get plain lines.
        self.interactive = sys.stderr.isatty() and not in_ci()

    def payload(self, text: str, output: Path | None = None) -> None:
        """On stdout, or written to `output` (a relative path starts at the root), in UTF-8."""
        if output is None:
            click.echo(text, nl=not text.endswith("\n"))
        else:
            (self.root / output).write_text(text, encoding="utf-8")

    def discard(self, output: Path | None) -> None:
        """Remove an earlier run's file at `output`: a run that cannot judge must not leave a verdict (perhaps a
        pass) where its own goes."""
        if output is not None:
            (self.root / output).unlink(missing_ok=True)

    def info(self, message: str) -> None:
        if not self.quiet:
            click.echo(message)

    def detail(self, message: str) -> None:
        if self.verbose and not self.quiet:
            click.echo(message)

    def status(self, message: str) -> None:
        if not self.quiet:
            click.echo(message, err=True)

    def warn(self, message: str) -> None:
        click.echo(message, err=True)

    def diagnostics(self, items: list[Diagnostic]) -> None:
        for diagnostic in items:
            self.warn(str(diagnostic))

    @property
    def shows_progress(self) -> bool:
        return self.interactive and not self.quiet

    def progress(self, text: str) -> None:
        """A line redrawn in place (no newline)."""
        if self.shows_progress:
            click.echo(text, err=True, nl=False)


def run(console: Console, action: Callable[[], int]) -> None:
    try:
        code = action()
    except SpecError as exc:
        console.diagnostics(exc.diagnostics)
        console.warn(f"mlgitops: {plural(len(exc.diagnostics), 'problem')} found; nothing was written")
        code = EXIT_BAD_INPUT
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except Exception as exc:  # a bug, not bad input: say so plainly, with the details on request
        if console.verbose:
            raise
        console.warn(f"mlgitops: internal error: {type(exc).__name__}: {exc} (run with -v for details)")
        code = EXIT_INTERNAL
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="mlgitops")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="Repository root holding spec/, environments/ and generated/; relative paths start there "
                   "(default: current directory).")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@click.option("-v", "--verbose", is_flag=True, help="Print per-object detail and tracebacks of internal errors.")
@click.option("--no-cache", is_flag=True,
              help=f"Neither read nor write the cache (${CACHE_VARIABLE}, else ~/.cache/mlgitops; redo every unit).")
@click.option("--trusted-cache-only", is_flag=True, help=TRUSTED_HELP)
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Processes to render and gate with (default: $MLGITOPS_JOBS, else one per available core).")
@click.pass_context
def main(ctx: click.Context, root: Path, quiet: bool, verbose: bool, no_cache: bool, trusted_cache_only: bool,
         jobs: int | None) -> None:
    """mlgitops: compile ML system specs into validated Kubernetes manifests for Argo CD."""
    configure()
    ctx.obj = {"root": root, "console": Console(root, quiet, verbose), "cache": not no_cache,
               "trusted": trusted_cache_only or in_ci(), "jobs": jobs}


def _cache(ctx: click.Context, read_only: bool = False):
    from .cache import open_cache

    console: Console = ctx.obj["console"]
    return open_cache(ctx.obj["root"], enabled=ctx.obj["cache"], read_only=read_only, trusted=ctx.obj["trusted"],
                      note=console.status)


def _workspace(ctx: click.Context, paths: tuple[Path, ...], envs: tuple[str, ...] = ()):
    """Relative paths are taken from the root, as with `git -C`."""
    from .driver import Workspace

    root: Path = ctx.obj["root"]
    return Workspace(root, tuple(root / p for p in paths), tuple(envs))


def _output_options(command: Callable) -> Callable:
    """-q and -v after the command too (`mlgitops compile -q`), as well as before it."""

    def set_quiet(ctx: click.Context, _: click.Parameter, value: bool) -> None:
        ctx.find_object(dict)["console"].quiet |= value

    def set_verbose(ctx: click.Context, _: click.Parameter, value: bool) -> None:
        ctx.find_object(dict)["console"].verbose |= value

    def set_no_cache(ctx: click.Context, _: click.Parameter, value: bool) -> None:
        if value:
            ctx.find_object(dict)["cache"] = False

    def set_trusted(ctx: click.Context, _: click.Parameter, value: bool) -> None:
        ctx.find_object(dict)["trusted"] |= value

    command = click.option("--no-cache", is_flag=True, expose_value=False, callback=set_no_cache,
                           help="Neither read nor write the cache.")(command)
    command = click.option("--trusted-cache-only", is_flag=True, expose_value=False, callback=set_trusted,
                           help=TRUSTED_HELP)(command)
    command = click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=set_quiet,
                           help="Print errors only.")(command)
    return click.option("-v", "--verbose", is_flag=True, expose_value=False, callback=set_verbose,
                        help="Print every object written.")(command)


PATHS = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
ENVS = click.option("--env", "envs", multiple=True, metavar="ENV",
                    help="Environment to compile for (repeatable; default: every file in environments/).")


@main.command()
@PATHS
@_output_options
@click.pass_context
def validate(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Load and validate specs (and their merge with every environment); render nothing."""
    from .driver import validate_all

    console: Console = ctx.obj["console"]

    def action() -> int:
        envs, systems = validate_all(_workspace(ctx, paths), _cache(ctx))
        names = sorted({s.name for s in systems})
        console.info(f"ok: {plural(len(names), 'system')} valid in {plural(len(envs), 'environment')} "
                     f"({', '.join(envs)})")
        return EXIT_OK

    run(console, action)


@main.command(name="compile")
@PATHS
@ENVS
@_output_options
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output directory (default: generated/ under the root); it is left holding what the specs "
                   "produce and nothing else.")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if the output directory or the lock is not what the specs produce.")
@click.option("--update-lock", is_flag=True, help="Ask the model registry again for every pinned version.")
@click.option("--offline", is_flag=True, help="Compile from mlgitops.lock.yaml alone; never ask the registry.")
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=600, show_default=True, metavar="SECONDS",
              help="How long to wait for another compile of this repository to finish.")
@click.pass_context
def compile_command(ctx: click.Context, paths: tuple[Path, ...], envs: tuple[str, ...], out: Path | None,
                    check: bool, update_lock: bool, offline: bool, lock_timeout: float) -> None:
    """Compile specs into generated/<env>/<system>/."""
    from . import emit, mutex
    from .driver import output_scope, stale
    from .pins import LOCK_FILE, write_lock
    from .unitkey import UnitKey

    console: Console = ctx.obj["console"]
    ws = _workspace(ctx, paths, envs)
    out = ws.root / (out or "generated")

    def action() -> int:
        started = time.perf_counter()
        # --check compares with what is committed: it never asks the registry, and a missing pin is an error
        result = _compile_with_progress(console, ws, update_lock=update_lock, offline=offline or check,
                                        cache=_cache(ctx, read_only=check), jobs=ctx.obj["jobs"])
        for unit in result.units:
            seconds = result.timings[(unit.env, unit.system)]
            how = "cached" if (unit.env, unit.system) in result.reused else f"{seconds:.2f}s"
            console.info(f"  {UnitKey(unit.env, unit.system)}: {plural(len(unit.objects), 'object')} ({how})")
            for obj in unit.objects:
                console.detail(f"    {obj['apiVersion']} {obj['kind']} {obj['metadata']['name']}")
        total = sum(len(u.objects) for u in result.units)
        shape = (f"{plural(len(result.systems), 'system')} × {plural(len(result.envs), 'environment')}, "
                 f"{plural(total, 'object')}")
        if check:
            differ = stale(ws, out, result)
            for line in differ:
                console.warn(f"  {line}")
            if differ:
                console.warn(f"mlgitops: {ws.display(out)}/ is stale ({plural(len(differ), 'file')} differ); "
                             "run `mlgitops compile` and commit the result")
                return EXIT_FAIL
            console.info(f"up to date: {shape} match {ws.display(out)}/")
            return EXIT_OK
        emit.write(out, result.units, output_scope(ws, result), inputs=(ws.root, ws.spec_dir, ws.env_dir))
        if write_lock(ws.root, result.lock):
            console.info(f"updated {LOCK_FILE}")
        console.info(f"compiled {shape} into {ws.display(out)}/ in {time.perf_counter() - started:.1f}s")
        return EXIT_OK

    def locked_action() -> int:
        # One writer at a time; `--check` writes nothing and needs no lock.
        with mutex.exclusive(ws.root, lock_timeout, console.warn):
            return action()

    run(console, action if check else locked_action)


def _compile_with_progress(console: Console, ws, **options):
    from .driver import compile_all

    if not console.shows_progress:
        return compile_all(ws, **options)

    def tick(done: int, total: int) -> None:
        filled = 30 * done // total
        console.progress(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} units\x1b[K")

    try:
        return compile_all(ws, progress=tick, **options)
    finally:
        console.progress("\r\x1b[K")




@main.command()
@PATHS
@ENVS
@_output_options
@click.option("--format", "report_format", type=click.Choice(list(REPORT_FORMATS)), default="text", show_default=True,
              help="Report format: text for people, json, sarif (code scanning), junit (CI test reports), github "
                   "(workflow annotations), markdown (PR comment).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to FILE instead of stdout.")
@click.option("--opa-url", metavar="URL", default=None,
              help="Evaluate the policies on this OPA server instead of in process (each request waits at most "
                   "$MLGITOPS_OPA_TIMEOUT seconds, default 10).")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Judge dates (waiver expiry, validation age) as of this day, e.g. to see what expires next month.")
@click.option("--shard", metavar="I/N", default=None,
              help="Gate only shard I of N (systems dealt round-robin by name), for a CI matrix; join the shards' "
                   "reports with `mlgitops merge-reports`.")
@click.option("--offline", is_flag=True,
              help="Never ask the model registry: the lock is not verified (the report says so; prod pins block).")
@click.option("--base", default=None, metavar="GIT-REF",
              help="Revision whose lock the model-version table compares with, e.g. origin/main in a pull request "
                   "(default: HEAD).")
@click.option("--crds", type=click.Path(path_type=Path), default=None, envvar="MLGITOPS_CRDS", metavar="DIR",
              help="Judge every custom resource by the CRDs in DIR (*.yaml or *.yaml.xz, the controllers' releases "
                   "the clusters run): structural schema and CEL rules (default: $MLGITOPS_CRDS).")
@click.pass_context
def check(ctx: click.Context, paths: tuple[Path, ...], envs: tuple[str, ...], report_format: str,
          output: Path | None, opa_url: str | None, today, shard: str | None, offline: bool,
          base: str | None, crds: Path | None) -> None:
    """Compile in memory and run the policy gate: Rego rules on specs and manifests, Checkov, waivers."""
    from .gate.run import run_gate
    from .shard import WHOLE, Shard

    console: Console = ctx.obj["console"]
    ws = _workspace(ctx, paths, envs)

    def action() -> int:
        try:
            chosen = Shard.parse(shard) if shard is not None else WHOLE
        except ValueError as exc:
            raise SpecError([Diagnostic(Code.USAGE, Location("--shard"), str(exc))]) from None
        console.discard(output)
        result = run_gate(ws, opa_url, today.date() if today else None, cache=_cache(ctx), shard=chosen,
                          jobs=ctx.obj["jobs"], offline=offline, base=base, crds=ws.root / crds if crds else None)
        console.payload(REPORT_FORMATS[report_format](result), output)
        summary = result.summary()
        verdict = "failed" if result.failed() else "passed"
        if output is not None or report_format != "text":  # text ends with its verdict
            console.status(f"mlgitops check {verdict}: {plural(summary['errors'], 'blocking finding')}, "
                           f"{plural(summary['warnings'], 'warning')}, {summary['waived']} waived")
        return EXIT_FAIL if result.failed() else EXIT_OK

    run(console, action)


@main.command(name="merge-reports")
@click.argument("reports", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the merged report to FILE instead of stdout.")
@_output_options
@click.pass_context
def merge_reports_command(ctx: click.Context, reports: tuple[Path, ...], output: Path | None) -> None:
    """Join the JSON or SARIF reports of `check --shard I/N` runs (all N of them) into one; exit 1 if it fails."""
    from .report.shards import merge_reports

    console: Console = ctx.obj["console"]
    root: Path = ctx.obj["root"]

    def action() -> int:
        text, failed = merge_reports([root / report for report in reports], root)
        console.payload(text, output)
        console.status(f"mlgitops merge-reports: {plural(len(reports), 'shard')} merged; gate "
                       f"{'failed' if failed else 'passed'}")
        return EXIT_FAIL if failed else EXIT_OK

    run(console, action)


@main.command()
@ENVS
@_output_options
@click.option("--base", default="HEAD", show_default=True, metavar="GIT-REF",
              help="Revision to compare with (compiled from a temporary git worktree).")
@click.option("--format", "diff_format", type=click.Choice(["text", "markdown"]), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the diff to FILE instead of stdout.")
@click.pass_context
def diff(ctx: click.Context, envs: tuple[str, ...], base: str, diff_format: str, output: Path | None) -> None:
    """Show what the working tree changes in generated/, per system and environment, against a git revision."""
    from .diff import diff_against, render_markdown, render_text

    console: Console = ctx.obj["console"]

    def action() -> int:
        result = diff_against(ctx.obj["root"], base, envs, _cache(ctx, read_only=True))
        text = render_markdown(result) if diff_format == "markdown" else render_text(result, verbose=console.verbose)
        console.payload(text, output)
        return EXIT_OK

    run(console, action)


def _cluster_options(command: Callable) -> Callable:
    """How to reach the environment's cluster: only through a kubeconfig (or the pod's in-cluster identity)."""
    command = click.option("--context", default=None, metavar="NAME",
                           help="Kubeconfig context (default: its current context).")(command)
    command = click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), default=None,
                           help="Kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster "
                                "ServiceAccount).")(command)
    return click.option("--env", "env", required=True, metavar="ENV", help="The environment whose cluster to read.")(
        command)


def _connect(ctx: click.Context, env: str, kubeconfig: Path | None, context: str | None):
    """The environment (validated) and a connection to its cluster; failures are located at `cluster.server`."""
    from .cluster.client import connect
    from .driver import load_environments, selected_envs

    ws = _workspace(ctx, (), (env,))
    environments = load_environments(ws)
    selected_envs(ws, environments)
    environment = environments[env]
    where = environment.document.source.locate(("cluster", "server"))
    return ws, environment, connect(ws.root / kubeconfig if kubeconfig else None, context, where)


@main.command(name="verify")
@_cluster_options
@_output_options
@click.option("--format", "report_format", type=click.Choice(list(REPORT_FORMATS)), default="text", show_default=True,
              help="Report format, as for `check`.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to FILE instead of stdout.")
@click.pass_context
def verify_command(ctx: click.Context, env: str, kubeconfig: Path | None, context: str | None, report_format: str,
                   output: Path | None) -> None:
    """Server-side dry run of generated/<env>/ against the environment's cluster, in Argo CD's sync order: every
    object the API server refuses, does not serve or warns about is a finding at its spec line. Exit codes as
    `check`: 0 admitted, 1 blocking findings, 2 unreachable, unauthorised or bad input (nothing judged)."""
    from datetime import date

    from .cluster.dryrun import read_manifests, verify
    from .driver import validate_all

    console: Console = ctx.obj["console"]

    def action() -> int:
        ws, environment, connection = _connect(ctx, env, kubeconfig, context)
        console.discard(output)
        _, systems = validate_all(ws)
        result = verify(connection, environment, systems, read_manifests(ws.root, env), date.today())
        console.payload(REPORT_FORMATS[report_format](result), output)
        summary = result.summary()
        if output is not None or report_format != "text":
            console.status(f"mlgitops verify {'failed' if result.failed() else 'passed'}: "
                           f"{plural(summary['errors'], 'blocking finding')}, {plural(summary['warnings'], 'warning')}")
        return EXIT_FAIL if result.failed() else EXIT_OK

    run(console, action)


@main.group()
def cluster() -> None:
    """Read an environment's cluster through the Kubernetes API (a kubeconfig or the in-cluster identity)."""


@cluster.command(name="snapshot")
@_cluster_options
@_output_options
@click.option("--update-facts", is_flag=True,
              help="Rewrite clusters/<env>.yaml when the cluster's facts changed (without it: exit 1 on drift).")
@click.pass_context
def cluster_snapshot(ctx: click.Context, env: str, kubeconfig: Path | None, context: str | None,
                     update_facts: bool) -> None:
    """Write what the cluster offers (nodes and GPUs, DRA, Kueue, classes, served APIs, controller configs) to
    clusters/<env>.yaml, for the gate's cluster-aware rules. An existing snapshot is only compared with the
    cluster (exit 1 if they differ) unless --update-facts is given."""
    from .cluster.snapshot import drift, read_snapshot, snapshot_path, take, write_snapshot

    console: Console = ctx.obj["console"]

    def action() -> int:
        ws, _, connection = _connect(ctx, env, kubeconfig, context)
        path = snapshot_path(ws.root, env)
        live = take(connection, env)
        if path.exists() and not update_facts:
            changed = drift(read_snapshot(path, ws.display(path)), live)
            if changed:
                console.warn(f"mlgitops: the cluster differs from {ws.display(path)} in {', '.join(changed)}; run "
                             "`mlgitops cluster snapshot --update-facts` and commit the result")
                return EXIT_FAIL
            console.info(f"up to date: {ws.display(path)} matches the cluster ({connection.context})")
            return EXIT_OK
        written = write_snapshot(path, live)
        pools = sum(p.nodes for p in live.node_pools)
        console.info(f"{'wrote' if written else 'unchanged:'} {ws.display(path)}: Kubernetes "
                     f"{live.kubernetes_version}, {plural(pools, 'node')} in {plural(len(live.node_pools), 'pool')}, "
                     f"{plural(len(live.apis), 'API group version')}")
        return EXIT_OK

    run(console, action)


STATUS_FORMATS = ("text", "json", "markdown")  # compiler.cluster.status.FORMATS, named here so --help imports less


@main.command()
@_cluster_options
@_output_options
@click.option("--format", "status_format", type=click.Choice(STATUS_FORMATS), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the status to FILE instead of stdout.")
@click.pass_context
def status(ctx: click.Context, env: str, kubeconfig: Path | None, context: str | None, status_format: str,
           output: Path | None) -> None:
    """Show what the cluster runs for each system of ENV: the Argo CD Application's sync and health, the
    InferenceService's (or Deployment's) readiness, URL and model version next to the lock's pin, and the last
    training run. The objects are those of the committed generated/ENV/; only GETs are sent.

    Exit 0 when all is read and well; 1 when a system is OutOfSync or Degraded, or does not serve the version
    mlgitops.lock.yaml pins (not deployed included); 2 when the cluster cannot be read (refused credentials, no
    answer, nothing listening: one line at the environment's cluster.server) or the input is bad.
    """
    from .cluster.status import FORMATS, read_status, read_targets
    from .pins import read_lock

    console: Console = ctx.obj["console"]

    def action() -> int:
        console.discard(output)  # a read that fails must not leave an earlier status where this one's goes
        ws, _, connection = _connect(ctx, env, kubeconfig, context)
        statuses = read_status(connection, read_targets(ws.root, ws.root / "generated", env), read_lock(ws.root), env)
        console.payload(FORMATS[status_format](env, connection, statuses), output)
        return EXIT_FAIL if any(s.attention for s in statuses) else EXIT_OK

    run(console, action)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--tool-repo", metavar="OWNER/NAME", default=None,
              help="GitHub repository the scaffold's workflows and hooks install mlgitops from.")
@click.option("--tool-ref", metavar="REF", default=None, help="Tag or commit of that repository to pin.")
@click.pass_context
def init(ctx: click.Context, directory: Path, tool_repo: str | None, tool_ref: str | None) -> None:
    """Scaffold a new platform repository (spec/, environments/, policies/, workflows, one example) in DIRECTORY."""
    from .init import TOOL_REF, TOOL_REPOSITORY, scaffold

    console: Console = ctx.obj["console"]

    def action() -> int:
        target = ctx.obj["root"] / directory  # relative to --root, like every other path
        written = scaffold(target, tool_repository=tool_repo or TOOL_REPOSITORY, tool_ref=tool_ref or TOOL_REF)
        console.info(f"created {plural(len(written), 'file')} in {directory}/")
        console.info(f"next: cd {directory} && mlgitops compile && mlgitops check")
        return EXIT_OK

    run(console, action)


@main.command()
@click.argument("rule_id")
@click.pass_context
def explain(ctx: click.Context, rule_id: str) -> None:
    """Show what a rule requires, why, and how to fix a finding (own rules, waiver rules, Checkov checks)."""
    from .gate.run import explain_rule

    def action() -> int:
        rule = explain_rule(rule_id, ctx.obj["root"])
        if rule is None:
            raise SpecError([Diagnostic(Code.USAGE, Location("explain"), f"no rule {rule_id!r}; rule ids look like "
                                        "MLG-SUP-001 or CKV_K8S_43 (see `mlgitops check` output)")])
        ctx.obj["console"].payload(f"{rule.id}  [{rule.severity}]  ({rule.engine})\n{rule.title}\n\n"
                                   f"Why:\n  {rule.rationale}\n\nFix:\n  {rule.remediation}\n")
        return EXIT_OK

    run(ctx.obj["console"], action)


@main.command()
@click.option("--kind", type=click.Choice(["MLSystem", "Environment", "Tenancy"]), default="MLSystem",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to FILE, not stdout.")
@click.pass_context
def schema(ctx: click.Context, kind: str, out: Path | None) -> None:
    """Export the JSON Schema of a spec kind, for editors (yaml-language-server) and other tools."""
    from .schema import json_schema

    def action() -> int:
        ctx.obj["console"].payload(json.dumps(json_schema(kind), indent=2, sort_keys=True) + "\n", out)
        return EXIT_OK

    run(ctx.obj["console"], action)


if __name__ == "__main__":
    main()
