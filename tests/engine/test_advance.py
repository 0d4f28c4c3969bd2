"""``AttemptExecutor.advance``: a task's outcome, the propagation it causes and the claim of
the next task are one transaction on the real SQLite store — one commit per task of a
sequential workflow, all or nothing, and announced only once committed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digpy.agent.local import LocalEngine
from digpy.engine.attempts import attempt_scope
from digpy.engine.executor import AttemptExecutor
from digpy.engine.listeners import Listener
from digpy.engine.outcomes import Succeeded
from digpy.model.records import Attempt, Task, TaskOutput
from digpy.model.states import TaskState
from digpy.store.base import Tx
from digpy.store.sql.lite import LiteStore

from .harness import compile_text

NOW = datetime(2016, 1, 30, tzinfo=UTC)
S = TaskState


class CountingStore(LiteStore):
    """The real store, counting its write transactions."""

    writes = 0

    @contextmanager
    def write(self) -> Iterator[Tx]:
        self.writes += 1
        with super().write() as tx:
            yield tx


def _no_log(task: Task) -> str | None:
    return None


def _start(project: Path, text: str) -> tuple[CountingStore, Attempt]:
    store = CountingStore(project / "state.db")
    with LocalEngine(project, store=store) as engine:
        attempt = engine.start(compile_text(text), session_time=NOW)
    return store, attempt


def _executor(store: CountingStore, attempt: Attempt, project: Path, **kw: object
              ) -> AttemptExecutor:
    scope = attempt_scope(store, attempt, project_path=project, defaults={})
    return AttemptExecutor(store, attempt, scope, **kw)  # type: ignore[arg-type]


def _stored(store: CountingStore, attempt: Attempt) -> dict[str, TaskState]:
    with store.read() as tx:
        return {t.full_name: t.state for t in tx.tasks.list_tasks(attempt.id)}


def test_a_finished_task_and_the_claim_of_the_next_one_are_one_commit(tmp_path: Path) -> None:
    store, attempt = _start(tmp_path, "+a: {echo>: a}\n+b: {echo>: b}\n+c: {echo>: c}\n")
    executor = _executor(store, attempt, tmp_path)
    (a,) = executor.advance([], NOW, claim=4, log_path=_no_log)

    before = store.writes
    (b,) = executor.advance([(a, Succeeded())], NOW, claim=4, log_path=_no_log)

    assert store.writes - before == 1
    assert b.full_name.endswith("+b") and b.state is S.RUNNING
    stored = _stored(store, attempt)
    assert [stored[n] for n in (a.full_name, b.full_name)] == [S.SUCCESS, S.RUNNING]


def test_advance_writes_nothing_when_nothing_can_move(tmp_path: Path) -> None:
    store, attempt = _start(tmp_path, "+a: {echo>: a}\n")
    executor = _executor(store, attempt, tmp_path)
    executor.advance([], NOW, claim=1, log_path=_no_log)
    before = store.writes

    assert executor.advance([], NOW, claim=1, log_path=_no_log) == []
    assert store.writes == before


def test_a_failure_inside_advance_rolls_back_the_outcome_too(tmp_path: Path) -> None:
    # Given an executor whose next claim (READY -> RUNNING) blows up once
    store, attempt = _start(tmp_path, "+a: {echo>: a}\n+b: {echo>: b}\n")
    armed = [False]

    def on_edge(before: TaskState, after: TaskState) -> None:
        if armed[0] and after is S.RUNNING:
            raise RuntimeError("disk on fire")

    executor = _executor(store, attempt, tmp_path, on_edge=on_edge)
    (a,) = executor.advance([], NOW, claim=1, log_path=_no_log)
    armed[0] = True

    # When a's success and b's claim are recorded together
    with pytest.raises(RuntimeError, match="disk on fire"):
        executor.advance([(a, Succeeded())], NOW, claim=1, log_path=_no_log)

    # Then neither landed, and the graph shows what the store holds
    stored = _stored(store, attempt)
    assert stored[a.full_name] is S.RUNNING
    assert {t.full_name: t.state for t in executor.graph.tasks.values()} == stored
    armed[0] = False
    (b,) = executor.advance([(a, Succeeded())], NOW, claim=1, log_path=_no_log)
    assert _stored(store, attempt)[b.full_name] is S.RUNNING


def test_listeners_hear_of_a_batch_only_after_it_committed(tmp_path: Path) -> None:
    store, attempt = _start(tmp_path, "+a: {echo>: a}\n+b: {echo>: b}\n")
    observer = LiteStore(tmp_path / "state.db")  # another connection: committed rows only
    seen: list[tuple[str, TaskState]] = []

    class Watch(Listener):
        def _look(self, task: Task) -> None:
            with observer.read() as tx:
                seen.append((task.full_name, tx.tasks.get_task(task.id).state))

        def on_task_started(self, attempt: Attempt, task: Task) -> None:
            self._look(task)

        def on_task_finished(self, attempt: Attempt, task: Task, *, note: str | None = None
                             ) -> None:
            self._look(task)

    executor = _executor(store, attempt, tmp_path, listeners=Watch())
    (a,) = executor.advance([], NOW, claim=1, log_path=_no_log)
    (b,) = executor.advance([(a, Succeeded())], NOW, claim=1, log_path=_no_log)
    observer.close()

    assert seen == [(a.full_name, S.RUNNING), (a.full_name, S.SUCCESS), (b.full_name, S.RUNNING)]


def test_a_sequential_run_commits_once_per_task(tmp_path: Path) -> None:
    text = "".join(f"+t{i}:\n  echo>: {i}\n" for i in range(20))
    store = CountingStore(tmp_path / "state.db")
    with LocalEngine(tmp_path, store=store, echo=lambda line: None) as engine:
        workflow = compile_text(text)
        engine.register([workflow])
        before = store.writes
        assert engine.run(workflow).success
    # session + attempt, the first claim, one per task, the attempt's end: never 3 per task
    assert store.writes - before <= 20 + 6


def test_the_graph_holds_exactly_the_rows_the_store_has_after_each_advance(
    tmp_path: Path,
) -> None:
    # The graph is updated from what was written, never re-read: every field must match.
    store, attempt = _start(tmp_path, "+a: {echo>: a}\n+b: {echo>: b}\n")
    executor = _executor(store, attempt, tmp_path)
    (a,) = executor.advance([], NOW, claim=4, log_path=lambda t: f"/logs/{t.id}.log")
    output = TaskOutput(export_params={"x": 1}, store_params={"y": [2]}, reset_keys=("z",),
                        report={"rows": 3})
    executor.advance([(a, Succeeded(output))], NOW, claim=4, log_path=_no_log)
    with store.read() as tx:
        rows = {t.id: t for t in tx.tasks.list_tasks(attempt.id)}
    assert {t.id: t for t in executor.graph.tasks.values()} == rows
    assert rows[a.id].log_path == f"/logs/{a.id}.log"
    assert rows[a.id].store_params == {"y": [2]}



class FinishRollsBackOnce(CountingStore):
    """The real store, whose first transaction that finishes an attempt fails at the commit
    and rolls back (a connection lost before the COMMIT landed), once ``armed``."""

    armed = False

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with super().write() as tx:
            running = tx.attempts.count_running_attempts() if self.armed else 0
            yield tx
            if self.armed and tx.attempts.count_running_attempts() < running:
                self.armed = False
                raise ConnectionError("connection lost before the commit")


def test_an_attempt_whose_finish_rolled_back_is_not_done_and_finishes_on_the_next_advance(
    tmp_path: Path,
) -> None:
    store = FinishRollsBackOnce(tmp_path / "state.db")
    with LocalEngine(tmp_path, store=store) as engine:
        attempt = engine.start(compile_text("+a: {echo>: a}\n"), session_time=NOW)
    executor = _executor(store, attempt, tmp_path)
    (a,) = executor.advance([], NOW, claim=1, log_path=_no_log)
    store.armed = True

    with pytest.raises(ConnectionError):  # the root succeeded; finishing the attempt failed
        executor.advance([(a, Succeeded())], NOW, claim=1, log_path=_no_log)

    # A driver drops executors that are done: this one must not claim to be.
    assert not executor.done
    assert executor.advance([], NOW, claim=1, log_path=_no_log) == []
    assert executor.done
    with store.read() as tx:
        assert tx.attempts.get_attempt(attempt.id).status.value == "success"
