"""The LocalEngine facade beyond what the data cases cover: errors callers must handle,
kills from elsewhere, Ctrl-C, the run lock, listeners, the real sh>/echo> operators, and
group timeouts."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from digpy.clock import SystemClock
from digpy.engine.listeners import Listener
from digpy.errors import ConfigError, Conflict
from digpy.model.records import Attempt, Task
from digpy.model.states import AttemptStatus
from digpy.store.base import StoreLocked
from digpy.store.sql.local import RunLock, local_state_path, open_local

from .harness import Harness, KillOnStart, compile_text


def test_resuming_from_a_task_after_a_failed_one_is_refused(harness: Harness) -> None:
    workflow = compile_text("+a: {trace>: a, fail: no}\n+b: {trace>: b}\n")
    with harness.engine() as engine:
        first = engine.run(workflow)
        with pytest.raises(ConfigError, match="Resuming non-successful tasks is not allowed"):
            engine.retry(first.attempt_id, resume_from="+b")


def test_resuming_the_failed_tasks_of_a_successful_attempt_is_a_conflict(
    harness: Harness,
) -> None:
    with harness.engine() as engine:
        first = engine.run(compile_text("+a: {trace>: a}\n"))
        with pytest.raises(Conflict, match="succeeded"):
            engine.retry(first.attempt_id, resume="failed")


def test_resume_from_needs_a_pattern_matching_one_task(harness: Harness) -> None:
    workflow = compile_text("+g1: {+x: {trace>: x, fail: no}}\n+g2: {+x: {trace>: x}}\n")
    with harness.engine() as engine:
        first = engine.run(workflow)
        with pytest.raises(ConfigError, match="matches several tasks"):
            engine.retry(first.attempt_id, resume_from="+x")
        with pytest.raises(ConfigError, match="does not exist"):
            engine.retry(first.attempt_id, resume_from="+nope")


def test_a_retry_name_must_be_new_in_the_session(harness: Harness) -> None:
    with harness.engine() as engine:
        first = engine.run(compile_text("+a: {trace>: a, fail_times: 9}\n"))
        engine.retry(first.attempt_id, name="again")
        with pytest.raises(Conflict):
            engine.retry(first.attempt_id, name="again")


def test_start_and_goal_together_are_refused(harness: Harness) -> None:
    with harness.engine() as engine, pytest.raises(ConfigError, match="start and goal"):
        engine.run(compile_text("+a: {trace>: a}\n"), start="+a", goal="+a")


def test_a_kill_written_by_another_process_stops_the_run(harness: Harness) -> None:
    workflow = compile_text("+a: {trace>: a, advance: 5, wait_cancel: true}\n+b: {trace>: b}\n")

    class KillFromOutside(Listener):
        def on_task_started(self, attempt: Attempt, task: Task) -> None:
            def kill() -> None:
                other = open_local(harness.project)  # a second connection, like `digpy kill`
                with other.write() as tx:
                    tx.attempts.request_cancel(attempt.id)
                other.close()

            threading.Thread(target=kill).start()

    harness.listeners = [KillFromOutside()]
    with harness.engine() as engine:
        result = engine.run(workflow)
    assert result.status is AttemptStatus.KILLED
    assert harness.trace.entries == ["a"]


def test_ctrl_c_kills_the_attempt_and_leaves_it_resumable(harness: Harness) -> None:
    workflow = compile_text("+a: {trace>: a}\n+b: {trace>: b}\n+c: {trace>: c}\n")

    class PressCtrlC(Listener):
        pressed = False

        def on_task_started(self, attempt: Attempt, task: Task) -> None:
            if task.full_name == "+wf+b" and not self.pressed:
                self.pressed = True
                raise KeyboardInterrupt

    harness.listeners = [PressCtrlC()]
    with harness.engine() as engine:
        killed = engine.run(workflow)
        assert killed.status is AttemptStatus.KILLED
        assert killed.task("+wf+b").state == "canceled"
        resumed = engine.retry(killed.attempt_id, resume="failed")
    assert resumed.success
    assert harness.trace.entries == ["a", "b", "c"]


def test_a_second_process_on_the_same_project_gets_a_clear_error(harness: Harness) -> None:
    held = pytest.raises(StoreLocked, match="in use by another digpy process")
    with RunLock(local_state_path(harness.project)), harness.engine() as engine, held:
        engine.run(compile_text("+a: {trace>: a}\n"))


def test_a_failing_listener_never_breaks_the_attempt(harness: Harness) -> None:
    class Broken(Listener):
        def on_task_finished(self, attempt: Attempt, task: Task, *, note: str | None = None
                             ) -> None:
            raise RuntimeError("listener bug")

    harness.listeners = [Broken()]
    with harness.engine() as engine:
        assert engine.run(compile_text("+a: {trace>: a}\n")).success


def test_listeners_hear_every_task_start_and_finish(harness: Harness) -> None:
    heard: list[str] = []

    class Recorder(Listener):
        def on_attempt_started(self, attempt: Attempt) -> None:
            heard.append("attempt started")

        def on_task_started(self, attempt: Attempt, task: Task) -> None:
            heard.append(f"start {task.full_name}")

        def on_task_finished(self, attempt: Attempt, task: Task, *, note: str | None = None
                             ) -> None:
            heard.append(f"{task.state.label} {task.full_name}{' ' + note if note else ''}")

        def on_attempt_finished(self, attempt: Attempt) -> None:
            heard.append(f"attempt {attempt.status.value}")

    harness.listeners = [Recorder()]
    with harness.engine() as engine:
        engine.run(compile_text("+a: {trace>: a}\n"))
        heard.clear()
        engine.run(compile_text("+a: {trace>: a}\n"))
    assert heard == [
        "attempt started",
        "start +wf+a",
        "success +wf+a replayed",
        "success +wf",
        "attempt success",
    ]


def test_a_group_timeout_fails_the_task_running_in_it(harness: Harness) -> None:
    workflow = compile_text(
        "+g:\n"
        "  _timeout: 10m\n"
        "  +a: {trace>: a, advance: 300}\n"
        "  +b: {trace>: b, advance: 400, wait_cancel: true}\n"
        "  +c: {trace>: c}\n"
    )
    with harness.engine() as engine:
        result = engine.run(workflow)
    assert result.status is AttemptStatus.ERROR
    assert harness.trace.entries == ["a", "b"]
    assert result.task("+wf+g+b").error == {"message": "timed out after 10m"}
    assert result.task("+wf+g+c").state == "blocked"


def test_the_real_sh_and_echo_operators_run(harness: Harness) -> None:
    workflow = compile_text(
        "_export: {greeting: hello}\n"
        "+write:\n"
        "  sh>: echo \"$greeting $session_date\" > out.txt\n"
        "+say:\n"
        "  echo>: ${greeting} from ${task_name}\n"
        "+fail:\n"
        "  sh>: exit 3\n"
    )
    with harness.engine() as engine:
        result = engine.run(workflow)
    assert (harness.project / "out.txt").read_text() == "hello 2016-01-30\n"
    log = Path(result.task("+wf+say").log_path or "")
    assert log.read_text() == "hello from +wf+say\n"
    assert result.task("+wf+fail").error == {"message": "Command failed with code 3"}


def test_sh_is_stopped_by_a_timeout(harness: Harness) -> None:
    workflow = compile_text("+slow:\n  sh>: sleep 30\n  _timeout: 1s\n")
    harness.clock = SystemClock()  # type: ignore[assignment]  # a real process must be stopped
    with harness.engine() as engine:
        result = engine.run(workflow)
    assert result.task("+wf+slow").error == {"message": "timed out after 1s"}


def test_a_top_level_timeout_bounds_the_whole_attempt(harness: Harness) -> None:
    workflow = compile_text("_timeout: 1s\n+slow:\n  sh>: sleep 30\n+after:\n  sh>: true\n")
    harness.clock = SystemClock()  # type: ignore[assignment]  # a real process must be stopped
    with harness.engine() as engine:
        started = time.monotonic()
        result = engine.run(workflow)
    assert time.monotonic() - started < 10
    assert result.task("+wf+slow").error == {"message": "timed out after 1s"}
    assert result.task("+wf+after").state == "blocked"


def test_kill_cancels_a_running_sh_command(harness: Harness) -> None:
    listener = KillOnStart("+wf+slow")
    harness.listeners = [listener]
    with harness.engine() as engine:
        started = time.monotonic()
        result = engine.run(compile_text("+slow:\n  sh>: sleep 30\n"))
    assert result.status is AttemptStatus.KILLED
    assert result.task("+wf+slow").state == "canceled"
    assert time.monotonic() - started < 10  # the process group was killed, not waited for



def test_an_attempt_cut_off_by_a_crash_can_be_driven_to_the_end(harness: Harness) -> None:
    class Crash(Listener):
        crashed = False

        def on_task_started(self, attempt: Attempt, task: Task) -> None:
            if task.full_name == "+wf+b" and not self.crashed:
                self.crashed = True
                raise SystemExit("the process dies here")

    harness.listeners = [Crash()]
    workflow = compile_text("+a: {trace>: a}\n+b: {trace>: b}\n+c: {trace>: c}\n")
    with harness.engine() as engine:
        with pytest.raises(SystemExit):
            engine.run(workflow)
        with engine.store.read() as tx:
            (running,) = tx.attempts.list_running_attempts()
        result = engine.continue_attempt(running.id)
    assert result.success
    assert harness.trace.entries == ["a", "b", "c"]


def test_require_starts_the_other_workflow_and_waits_for_it(harness: Harness) -> None:
    (harness.project / "other.dig").write_text("+x: {trace>: x}\n")
    workflow = compile_text("+req:\n  require>: other\n+after: {trace>: after}\n")
    with harness.engine() as engine:
        result = engine.run(workflow)
        with engine.store.read() as tx:
            sessions = tx.sessions.list_sessions(engine.registered.project.id)
    assert result.success, result
    assert harness.trace.entries == ["x", "after"]
    assert sorted(s.workflow_name for s in sessions) == ["other", "wf"]


def test_require_of_a_missing_workflow_fails_the_task(harness: Harness) -> None:
    with harness.engine() as engine:
        result = engine.run(compile_text("+req:\n  require>: nowhere\n"))
    assert "Dependent workflow does not exist" in (result.task("+wf+req").error or {})["message"]


def test_the_real_loop_operator_generates_its_iterations(harness: Harness) -> None:
    workflow = compile_text("+loop:\n  loop>: 3\n  _do:\n    trace>: 'iteration ${i}'\n")
    with harness.engine() as engine:
        result = engine.run(workflow)
    assert result.success
    assert harness.trace.entries == ["iteration 0", "iteration 1", "iteration 2"]
    assert result.task("+wf+loop^sub+loop-2").state == "success"


def test_the_real_call_operator_runs_another_workflow_inline(harness: Harness) -> None:
    (harness.project / "callee.dig").write_text(
        "_export: {who: callee}\n+inner: {trace>: 'inner of ${who}', store: {done: yes}}\n"
    )
    workflow = compile_text("+call:\n  call>: callee\n+after: {trace>: 'after ${done}'}\n")
    with harness.engine() as engine:
        result = engine.run(workflow)
    assert result.success, result
    assert harness.trace.entries == ["inner of callee", "after yes"]


def test_a_loop_with_a_retry_retries_the_whole_loop(harness: Harness) -> None:
    workflow = compile_text(
        "+loop:\n  loop>: 2\n  _retry: 2\n  _do:\n    trace>: 'i${i}'\n    fail_times: 1\n"
    )
    with harness.engine() as engine:
        result = engine.run(workflow)
    rows = "\n".join(f"{t.id} {t.full_name} {t.state} {t.error}" for t in result.tasks)
    assert result.success, rows
    # each iteration fails on its first run; every try regenerates the whole loop
    assert harness.trace.entries == ["i0", "i0", "i1", "i0", "i1"]
