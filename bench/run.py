"""`make bench`: the gate at platform scale, on a synthetic repository (bench/synth.py), against Checkov alone.

Measured in one run on this machine, each command a fresh process with its cache in a scratch directory:
  (a) cold `mlgitops check` (no cache) on N systems × dev/staging/prod,
  (b) `checkov -d generated --framework kubernetes` alone on the same rendered manifests,
  (c) `check` again with nothing changed, (d) `check` after one spec changed,
  (e) the peak memory of (a): the sum over its process tree (workers included), sampled every 20 ms,
and (a) again at 3N. Also (c) as CI runs it (`--trusted-cache-only`: every unit rendered, gate results reused only
for the objects just rendered), and the start-up of `--help` and `validate`. Writes bench/results.json and prints a
table.
Numbers compare commits on one machine; they are not a claim about any other. `BENCH_SYSTEMS` sets N (default
100), `BENCH_RUNS` the repetitions of the quick measurements (median, default 3).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SYSTEMS = int(os.environ.get("BENCH_SYSTEMS", "100"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
TARGETS = {"a_over_b": 1.5, "c_over_a": 0.05, "d_over_a": 0.10, "peak_rss_gib": 1.5, "a3n_over_a": 3.3}

sys.path.insert(0, str(ROOT))
from bench.synth import generate  # noqa: E402


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(p) for p in task.read_text().split()]
        except OSError:
            continue
    return found


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory:
    """Peak resident memory of a process and all its descendants, summed (Linux /proc)."""

    def __init__(self, pid: int):
        self.pid, self.peak_kib, self._done = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.is_set():
            pending, total = [self.pid], 0
            while pending:
                pid = pending.pop()
                total += _rss_kib(pid)
                pending += _children(pid)
            self.peak_kib = max(self.peak_kib, total)
            time.sleep(0.02)

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return self.peak_kib / 1024 / 1024  # GiB


def run(args: list[str], cwd: Path, measure_memory: bool = False, ok: tuple[int, ...] = (0, 1)) -> tuple[float, float]:
    """Seconds (and peak tree memory in GiB) of one command; `check` exits 1 on findings, which is fine here."""
    # CI unset: (c) and (d) measure the developer's cache; the trusted run is asked for by its flag.
    env = {**os.environ, "CI": "", "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    memory = TreeMemory(process.pid) if measure_memory else None
    _, stderr = process.communicate()
    seconds = time.perf_counter() - started
    peak = memory.stop() if memory else 0.0
    if process.returncode not in ok:
        sys.exit(f"bench: {' '.join(args)} exited {process.returncode}:\n{stderr.decode()[-2000:]}")
    return seconds, peak


def mlgitops(*args: str) -> list[str]:
    return [str(BIN / "mlgitops"), "-q", *args]


CHECK = ("check", "--format", "json", "--output", "report.json")


def measure(systems: int, full: bool) -> dict:
    """The measurements at one size; `full` adds (b), (c), (d) and the start-up times."""
    with tempfile.TemporaryDirectory(prefix="mlgitops-bench-") as scratch, \
            tempfile.TemporaryDirectory(prefix="mlgitops-bench-cache-") as cache:
        os.environ["MLGITOPS_CACHE_DIR"] = cache
        repo = Path(scratch)
        generate(repo, systems)
        out: dict = {"systems": systems}
        cold, peak = run(mlgitops(*CHECK), repo, measure_memory=True)
        out.update(cold_check=cold, peak_rss_gib=peak)
        if not full:
            return out
        summary = json.loads((repo / "report.json").read_text())["summary"]
        run(mlgitops("compile", "--offline"), repo)
        out["objects"] = sum(1 for _ in (repo / "generated").rglob("*.yaml"))
        out["findings"] = summary
        checkov = [str(BIN / "checkov"), "-d", "generated", "--framework", "kubernetes", "--quiet", "--compact"]
        out["checkov_alone"], _ = run(checkov, repo)
        out["unchanged_check"] = statistics.median(run(mlgitops(*CHECK), repo)[0] for _ in range(RUNS))
        out["unchanged_check_trusted"] = statistics.median(run(mlgitops("--trusted-cache-only", *CHECK), repo)[0]
                                                           for _ in range(RUNS))
        spec = next((repo / "spec").glob("deployment-cpu-*.yaml"))
        text, times = spec.read_text(), []
        for step in range(RUNS):  # a different edit each time, so each run has something new to gate
            spec.write_text(text.replace("max: 6", f"max: {7 + step}", 1))
            times.append(run(mlgitops(*CHECK), repo)[0])
        out["one_spec_changed"] = statistics.median(times)
        out["help"] = statistics.median(run(mlgitops("--help"), repo)[0] for _ in range(RUNS))
        shutil.rmtree(cache)
        out["validate_cold"], _ = run(mlgitops("validate"), repo)
        out["validate_cached"] = statistics.median(run(mlgitops("validate"), repo)[0] for _ in range(RUNS))
        return out


def versions() -> dict:
    node = subprocess.run([os.environ.get("JSII_NODE", "node"), "--version"], capture_output=True, text=True)
    found = {name: metadata.version(name) for name in ("mlgitops", "checkov", "cdk8s", "gordon-to-regorus")}
    return {**found, "python": platform.python_version(), "node": node.stdout.strip()}


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    return {"cpus": len(os.sched_getaffinity(0)), "cpu": model, "memory_gib": round(memory / 1024 / 1024, 1),
            "platform": platform.platform()}


def main() -> None:
    base = measure(SYSTEMS, full=True)
    print(f"bench: N={SYSTEMS}: {json.dumps(base)}", flush=True)
    scaled = measure(3 * SYSTEMS, full=False)
    print(f"bench: N={3 * SYSTEMS}: {json.dumps(scaled)}", flush=True)
    ratios = {"a_over_b": base["cold_check"] / base["checkov_alone"],
              "c_over_a": base["unchanged_check"] / base["cold_check"],
              "d_over_a": base["one_spec_changed"] / base["cold_check"],
              "peak_rss_gib": base["peak_rss_gib"],
              "a3n_over_a": scaled["cold_check"] / base["cold_check"]}
    report = {
        "machine": machine(), "versions": versions(), "runs": RUNS,
        "seconds": {k: round(v, 3) for k, v in base.items() if isinstance(v, float) and k != "peak_rss_gib"},
        "peak_rss_gib": round(base["peak_rss_gib"], 3),
        "at_3n": {"systems": scaled["systems"], "cold_check": round(scaled["cold_check"], 3),
                  "peak_rss_gib": round(scaled["peak_rss_gib"], 3)},
        "systems": SYSTEMS, "environments": 3, "objects": base["objects"], "findings": base["findings"],
        "ratios": {k: round(v, 3) for k, v in ratios.items()},
        "targets": {k: {"limit": TARGETS[k], "met": ratios[k] <= TARGETS[k]} for k in TARGETS},
    }
    (ROOT / "bench" / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))
    if not all(t["met"] for t in report["targets"].values()):
        sys.exit("bench: a target was missed (see bench/results.json)")


def table(report: dict) -> str:
    s, r, n = report["seconds"], report["ratios"], report["systems"]
    rows = [
        ("(a) check, cold (no cache)", f"{s['cold_check']:.1f} s", ""),
        ("(b) checkov -d alone", f"{s['checkov_alone']:.1f} s", f"(a)/(b) = {r['a_over_b']:.2f}  (<= 1.5)"),
        ("(c) check, nothing changed", f"{s['unchanged_check']:.2f} s", f"(c)/(a) = {r['c_over_a']:.3f} (<= 0.05)"),
        ("(d) check, one spec changed", f"{s['one_spec_changed']:.2f} s", f"(d)/(a) = {r['d_over_a']:.3f} (<= 0.10)"),
        ("(c) trusted (as in CI)", f"{s['unchanged_check_trusted']:.2f} s", "every unit rendered, none judged"),
        ("(e) peak memory of (a)", f"{report['peak_rss_gib']:.2f} GiB", "(<= 1.5 GiB)"),
        (f"(a) at N={report['at_3n']['systems']}", f"{report['at_3n']['cold_check']:.1f} s",
         f"ratio = {r['a3n_over_a']:.2f}  (<= 3.3)"),
        ("--help", f"{s['help']:.2f} s", ""),
        ("validate, cold / cached", f"{s['validate_cold']:.2f} / {s['validate_cached']:.2f} s", ""),
    ]
    m = report["machine"]
    head = (f"N={n} systems × 3 environments, {report['objects']} objects; {m['cpus']} CPUs ({m['cpu']}), "
            f"{m['memory_gib']} GiB; checkov {report['versions']['checkov']}")
    return "\n".join([head] + [f"{a:<30} {b:>14}   {c}" for a, b, c in rows])


if __name__ == "__main__":
    main()
