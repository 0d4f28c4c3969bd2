"""TaskLogWriter: masked before it is written or echoed, whole lines, thread-safe."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from digpy.agent.logs import TaskLogWriter
from digpy.secrets.masking import Masker


def test_the_log_creates_its_directory_and_appends_text(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "2016-01-30" / "task.log"
    with TaskLogWriter(path, Masker()) as log:
        log.write("one\n")
        log.write("two\n")
    assert path.read_text() == "one\ntwo\n"


def test_a_canary_secret_never_reaches_the_file_or_the_console(tmp_path: Path) -> None:
    canary = f"dp-canary-{uuid.uuid4()}"
    masker = Masker()
    masker.add(canary)
    echoed: list[str] = []
    path = tmp_path / "task.log"

    with TaskLogWriter(path, masker, echo=echoed.append) as log:
        log.write(f"connecting with {canary}\n")
        # split across two writes: masking waits for the whole line
        log.write(f"again {canary[:10]}")
        log.write(f"{canary[10:]} done\n")

    assert canary not in path.read_text()
    assert canary not in "".join(echoed)
    assert path.read_text() == "connecting with ***\nagain *** done\n"
    assert "".join(echoed) == path.read_text()


def test_a_secret_registered_while_the_task_runs_is_masked_from_then_on(tmp_path: Path) -> None:
    masker = Masker()
    path = tmp_path / "task.log"
    with TaskLogWriter(path, masker) as log:
        log.write("before\n")
        masker.add("late-secret")
        log.write("value late-secret\n")
    assert path.read_text() == "before\nvalue ***\n"


def test_a_log_nothing_was_written_to_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "task.log"
    TaskLogWriter(path, Masker()).close()
    assert not path.parent.exists()


def test_an_unfinished_line_is_written_on_close(tmp_path: Path) -> None:
    path = tmp_path / "task.log"
    log = TaskLogWriter(path, Masker())
    log.write("no newline")
    assert not path.exists()  # nothing is written before the newline (the file comes with it)
    log.close()
    log.close()  # closing twice is harmless
    assert path.read_text() == "no newline\n"


def test_writing_after_close_is_an_error(tmp_path: Path) -> None:
    log = TaskLogWriter(tmp_path / "task.log", Masker())
    log.close()
    with pytest.raises(ValueError, match="closed task log"):
        log.write("late\n")


def test_lines_from_several_threads_are_never_interleaved(tmp_path: Path) -> None:
    path = tmp_path / "task.log"
    with TaskLogWriter(path, Masker()) as log:

        def writer(n: int) -> None:
            for i in range(200):
                log.write(f"thread-{n}-line-{i:03d}\n")

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    lines = path.read_text().splitlines()
    assert len(lines) == 800
    assert all(line.startswith("thread-") and len(line) == len("thread-0-line-000")
               for line in lines)
