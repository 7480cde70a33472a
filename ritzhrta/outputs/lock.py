"""One writer per run folder: an advisory lock on ``DIR/.lock`` (fcntl.flock).

The lock is held for the whole solve and released by the kernel when the process ends, so a
lock left by a killed process is never stale: the next run takes it. The file holds the pid
of the holder, for the message that refuses a second writer.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

__all__ = ["RunFolderBusy", "run_folder_lock", "LOCK_FILE"]

LOCK_FILE = ".lock"


class RunFolderBusy(ValueError):
    """Another process is writing the run folder."""


@contextmanager
def run_folder_lock(out: Path) -> Iterator[None]:
    """Hold the run folder's lock (create the folder if needed) or raise :class:`RunFolderBusy`."""
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform: nothing to hold
        yield
        return
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise RunFolderBusy(f"run folder {out} is in use by another ritzhrta process (pid {holder}); "
                                "wait for it or choose another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
