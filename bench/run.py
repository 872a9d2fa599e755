"""`make bench`: time the compiler on the example repository and write bench/results.json.

Each measurement runs the real CLI as a fresh process (cold start included: Python imports, jsii and Node start),
several times, and keeps the median. Numbers are for comparing commits on one machine, not absolute claims.
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def timed(args: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "compiler", "-q", *args], cwd=cwd, check=True,
                   env={**os.environ, "CI": "true"})
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        repo = Path(scratch)
        for folder in ("spec", "environments", "policies"):
            shutil.copytree(ROOT / folder, repo / folder)
        shutil.copy(ROOT / "mlgitops.lock.yaml", repo / "mlgitops.lock.yaml")
        cases = {"validate": ["validate"], "compile": ["compile"], "compile --check": ["compile", "--check"],
                 "check": ["check", "--format", "json", "--output", "report.json"]}
        timed(["compile"], repo)  # warm the file cache once
        results = {name: statistics.median(timed(args, repo) for _ in range(RUNS)) for name, args in cases.items()}
        objects = sum(1 for _ in (repo / "generated").rglob("*.yaml"))
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "systems": len(list((ROOT / "spec").glob("*.yaml"))),
        "environments": len(list((ROOT / "environments").glob("*.yaml"))),
        "objects": objects,
        "runs": RUNS,
        "median_seconds": {k: round(v, 3) for k, v in results.items()},
    }
    (ROOT / "bench" / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'command':<18} {'median (s)':>10}   ({report['systems']} systems × {report['environments']} "
          f"environments, {objects} objects, {RUNS} runs)")
    for name, seconds in results.items():
        print(f"{name:<18} {seconds:>10.3f}")


if __name__ == "__main__":
    main()
