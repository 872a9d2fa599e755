"""One writer at a time: `compile` holds an exclusive lock on `.mlgitops-compile.lock` in the repository root.

Two compiles of one repository would otherwise race on `generated/`, the model lock and the cache. The second one
waits, saying which process it waits for, and gives up with a clear error after a timeout. The lock is an
`flock` on an open file, so the kernel frees it when its holder exits, even by SIGKILL: a file left behind by a
killed run is no stale lock, and the next run takes it. A finished run removes the file.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import Code, Diagnostic, Location, SpecError

LOCK_NAME = ".mlgitops-compile.lock"


@contextmanager
def exclusive(root: Path, timeout: float, on_wait: Callable[[str], None]) -> Iterator[None]:
    if not root.is_dir():  # nothing to write into: let the run say what is missing
        yield
        return
    path = root / LOCK_NAME
    deadline = time.monotonic() + timeout
    said = False
    while True:
        handle = _open(path)
        if _try_lock(handle):
            if _still_at(handle, path):
                break
        elif not said:
            on_wait(f"mlgitops: waiting for another compile of this repository ({_holder(handle)}) to finish; "
                    f"lock file {LOCK_NAME}")
            said = True
        elif time.monotonic() >= deadline:
            holder = _holder(handle)
            handle.close()
            raise SpecError([Diagnostic(Code.COMPILE_BUSY, Location(LOCK_NAME),
                                        f"another compile of this repository ({holder}) still holds the lock after "
                                        f"{timeout:g}s; nothing was written")])
        handle.close()
        time.sleep(0.05)
    try:
        handle.truncate(0)  # the pid of a killed holder may still be there
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        yield
    finally:
        path.unlink(missing_ok=True)  # a run leaves nothing behind; waiters notice the file is gone and retry
        handle.close()  # closing the file releases the lock


def _open(path: Path):
    try:
        return open(path, "a+")  # noqa: SIM115 — held open while locked, closed by the caller
    except OSError as exc:
        raise SpecError([Diagnostic(Code.OUTPUT, Location(LOCK_NAME), f"cannot open the lock file: {exc}")]) from None


def _try_lock(handle) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _still_at(handle, path: Path) -> bool:
    """The locked file is the one at `path`: not one its last holder removed after we opened it."""
    try:
        return os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
    except FileNotFoundError:
        return False


def _holder(handle) -> str:
    handle.seek(0)
    return handle.read().strip() or "a process that has not yet written its pid"
