"""The task log: what an operator writes, masked, to a file and optionally the console.

Text is masked a whole line at a time. A partial line waits in a buffer until its newline
(or ``close``), so a secret can never slip through by being split across two writes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from digpy.secrets.masking import Masker

MAX_PARTIAL_CHARS = 1024 * 1024


class TaskLogWriter:
    """Implements the spi ``TaskLog``. Thread-safe; every write is flushed, so a log can be
    followed while the task runs."""

    def __init__(
        self, path: Path, masker: Masker, echo: Callable[[str], None] | None = None
    ) -> None:
        self.path = Path(path)
        self._masker = masker
        self._echo = echo
        self._lock = threading.Lock()
        self._partial = ""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO | None = self.path.open("a", encoding="utf-8", newline="")

    def write(self, text: str) -> None:
        with self._lock:
            if self._file is None:
                raise ValueError(f"write to a closed task log ({self.path})")
            text = self._partial + text
            complete, newline, self._partial = text.rpartition("\n")
            if newline:
                self._emit(complete + newline)
            if len(self._partial) > MAX_PARTIAL_CHARS:  # bound memory on endless lines
                self._emit(self._partial + "\n")
                self._partial = ""

    def close(self) -> None:
        with self._lock:
            if self._file is None:
                return
            if self._partial:
                self._emit(self._partial + "\n")
                self._partial = ""
            self._file.close()
            self._file = None

    def _emit(self, text: str) -> None:
        assert self._file is not None
        masked = self._masker.mask(text)
        self._file.write(masked)
        self._file.flush()
        if self._echo is not None:
            self._echo(masked)

    def __enter__(self) -> TaskLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
