"""A task that is the only one to run runs on the driver's thread (no hand-off to a worker),
and everything a worker thread gave it still holds: kills from another process, ``_timeout``
and parallel tasks on worker threads."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import ClassVar

from digpy.agent.local import LocalEngine
from digpy.dsl.compiler import compile_workflow
from digpy.dsl.loader import load_text
from digpy.dsl.model import Workflow
from digpy.engine.listeners import Listener
from digpy.model.records import Attempt, Task
from digpy.model.states import AttemptStatus
from digpy.spi import Operator, TaskResult
from digpy.store.sql.local import open_local


class ThreadOperator(Operator):
    """``thread>: label`` records which thread ran it."""

    type: ClassVar[str] = "thread"
    seen: ClassVar[dict[str, str]] = {}

    def run(self) -> TaskResult:
        self.seen[self.request.task_name] = threading.current_thread().name
        return TaskResult.empty()


def _resolve(name: str) -> type[Operator]:
    if name == "thread":
        return ThreadOperator
    from digpy.agent.registry import OperatorRegistry

    return OperatorRegistry.from_entry_points().get(name)


def _workflow(text: str) -> Workflow:
    return compile_workflow("wf", load_text(text, filename="wf.dig"), source="wf.dig")


def test_sequential_tasks_run_on_the_driver_thread_and_parallel_ones_on_workers(
    tmp_path: Path,
) -> None:
    ThreadOperator.seen.clear()
    workflow = _workflow(
        "+a: {thread>: a}\n"
        "+b: {thread>: b}\n"
        "+par:\n  _parallel: true\n  +c: {thread>: c}\n  +d: {thread>: d}\n"
    )
    with LocalEngine(tmp_path, operators=_resolve) as engine:
        assert engine.run(workflow).success
    driver = threading.current_thread().name
    assert ThreadOperator.seen["+wf+a"] == driver
    assert ThreadOperator.seen["+wf+b"] == driver
    assert ThreadOperator.seen["+wf+par+c"] != driver
    assert ThreadOperator.seen["+wf+par+d"] != driver


def test_a_kill_from_another_process_stops_a_lone_sh_command_and_what_follows(
    tmp_path: Path,
) -> None:
    class KillFromOutside(Listener):
        def on_task_started(self, attempt: Attempt, task: Task) -> None:
            if task.full_name != "+wf+slow":
                return

            def kill() -> None:
                other = open_local(tmp_path)  # a second connection, like `digpy kill`
                with other.write() as tx:
                    tx.attempts.request_cancel(attempt.id)
                other.close()

            threading.Thread(target=kill).start()

    workflow = _workflow("+slow:\n  sh>: sleep 30\n+after:\n  sh>: touch after\n")
    started = time.monotonic()
    with LocalEngine(tmp_path, listeners=[KillFromOutside()]) as engine:
        result = engine.run(workflow)
    assert time.monotonic() - started < 10  # the watchdog noticed it, not the sleep's end
    assert result.status is AttemptStatus.KILLED
    assert result.task("+wf+slow").state == "canceled"
    assert not (tmp_path / "after").exists()


def test_a_lone_tasks_timeout_fails_it_and_the_next_task_still_runs_inline(
    tmp_path: Path,
) -> None:
    ThreadOperator.seen.clear()
    workflow = _workflow(
        "+slow:\n  sh>: sleep 30\n  _timeout: 1s\n  _error:\n    thread>: cleanup\n"
    )
    started = time.monotonic()
    with LocalEngine(tmp_path, operators=_resolve) as engine:
        result = engine.run(workflow)
    assert time.monotonic() - started < 10
    assert result.task("+wf+slow").error == {"message": "timed out after 1s"}
    assert list(ThreadOperator.seen.values()) == [threading.current_thread().name]
