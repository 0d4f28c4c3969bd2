"""The task log: what an operator writes, masked, to a file and optionally the console.

Text is masked a whole line at a time. A partial line waits in a buffer until its newline
(or ``close``), so a secret can never slip through by being split across two writes.

The file is created on the first line, so a task that prints nothing (``sh>: true``, most
control-flow tasks) costs no file system write at all; readers treat a missing log file
as an empty log.
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
        self.path = path if isinstance(path, Path) else Path(path)
        self._masker = masker
        self._echo = echo
        self._lock = threading.Lock()
        self._partial = ""
        self._file: TextIO | None = None  # opened on the first line
        self._closed = False

    def write(self, text: str) -> None:
        with self._lock:
            if self._closed:
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
            if self._closed:
                return
            self._closed = True
            if self._partial:
                self._emit(self._partial + "\n")
                self._partial = ""
            if self._file is not None:
                self._file.close()
                self._file = None

    def _emit(self, text: str) -> None:
        masked = self._masker.mask(text)
        file = self._file if self._file is not None else self._open()
        file.write(masked)
        file.flush()
        if self._echo is not None:
            self._echo(masked)

    def _open(self) -> TextIO:
        try:
            self._file = self.path.open("a", encoding="utf-8", newline="")
        except FileNotFoundError:  # the attempt's first log
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8", newline="")
        return self._file

    def __enter__(self) -> TaskLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
