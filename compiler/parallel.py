"""Running units of work across cores: a process pool when there is enough work to pay for starting one.

Rendering goes through jsii to a Node process and Checkov is pure Python, so threads would not help: each worker
is a fresh interpreter (`spawn`: it inherits no Node pipe, lock or half-initialised state from the parent), imports
what it needs once, and handles many units. Results come back in the order of the items, so the output does not
depend on which worker finished first. A `SpecError` raised in a worker reaches the caller as itself; a worker that
dies (killed, out of memory) fails the run rather than dropping its units.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from .runtime import configure

T = TypeVar("T")
R = TypeVar("R")

JOBS_VARIABLE = "MLGITOPS_JOBS"
# Below this many units, starting workers (a fresh interpreter, Checkov and cdk8s imports each) costs about what
# the work itself does (measured: the examples' 12 units take 4.2 s in one process, 3.6 s over two); `--jobs N`
# asks for workers regardless.
MIN_PARALLEL_ITEMS = 16


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may run on (containers, taskset)
    except AttributeError:
        return os.cpu_count() or 1


def default_jobs() -> int:
    value = os.environ.get(JOBS_VARIABLE, "")
    return int(value) if value.isdigit() and int(value) > 0 else available_cores()


def run_all(function: Callable[[T], R], items: Sequence[T], jobs: int | None = None,
            on_done: Callable[[int], None] | None = None) -> list[R]:
    """`[function(item) for item in items]`, over `jobs` processes (default: when that pays); `on_done(count)` as
    they finish."""
    enough = len(items) >= (2 if jobs else MIN_PARALLEL_ITEMS)
    jobs = jobs or default_jobs()
    if jobs <= 1 or not enough:
        results = []
        for item in items:
            results.append(function(item))
            if on_done:
                on_done(len(results))
        return results
    results: list[R | None] = [None] * len(items)
    context = multiprocessing.get_context("spawn")
    # each worker sets up the engines' environment itself: a caller other than the CLI may not have
    with ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=context, initializer=configure) as pool:
        futures = {pool.submit(function, item): index for index, item in enumerate(items)}
        pending, finished = set(futures), 0
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                try:
                    results[futures[future]] = future.result()
                except BrokenProcessPool:
                    raise RuntimeError("a worker process died (killed or out of memory); nothing was written") \
                        from None
                except BaseException:
                    for other in pending:
                        other.cancel()
                    raise
                finished += 1
                if on_done:
                    on_done(finished)
    return results  # type: ignore[return-value]
