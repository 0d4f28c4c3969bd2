"""The local store of a project: where it lives, the lock that lets one process drive its
attempts, and opening it with the stdlib backend (no SQLAlchemy import on this path)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from digpy.store.base import StoreLocked
from digpy.store.sql.lite import LiteStore

LOCAL_STATE_DIR = ".digpy"
LOCAL_STATE_FILE = "state.db"


def local_state_path(project_path: Path) -> Path:
    """Where ``digpy run`` keeps a project's state: ``<project>/.digpy/state.db``."""
    return project_path / LOCAL_STATE_DIR / LOCAL_STATE_FILE


def open_local(project_path: Path) -> LiteStore:
    """Open (creating if needed) ``<project>/.digpy/state.db``."""
    path = local_state_path(project_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return LiteStore(path)


class RunLock:
    """An exclusive lock file (``<database>.lock``) held while a process drives attempts.

    ``digpy kill`` and read-only commands do not take it: they only need short transactions.
    """

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """:raises StoreLocked: another live process holds the lock."""
        import fcntl

        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise StoreLocked(
                f"{self.path.with_suffix('')} is in use by another digpy process (pid "
                f"{owner}); wait for that run to finish or stop it, then try again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor drops the flock
            self._file = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
