"""py>: real child Python processes running the task modules in pyproject_fixtures/."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from digpy_operators.py import PyOperator

from digpy.agent.logs import TaskLogWriter
from digpy.errors import ConfigError, TaskFailed
from digpy.secrets import Masker, SecretAccess
from digpy.spi import TaskResult
from digpy.spi.operator import OperatorContext
from digpy.spi.process import CancelEvent
from digpy.spi.testing import RecordingLog, make_context

FIXTURES = Path(__file__).resolve().parent / "pyproject_fixtures"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    shutil.copytree(FIXTURES, path)
    return path


def _ctx(project: Path, command: str, **kw: Any) -> OperatorContext:
    config = {"_command": command, **kw.pop("params", {})}
    return make_context(project, operator="py", config=config, **kw)


def _run(project: Path, command: str, **kw: Any) -> tuple[TaskResult, list[str]]:
    ctx = _ctx(project, command, **kw)
    result = PyOperator(ctx).run()
    assert isinstance(ctx.log, RecordingLog)
    return result, ctx.log.lines


def _fail(project: Path, command: str, **kw: Any) -> tuple[TaskFailed, str]:
    ctx = _ctx(project, command, **kw)
    with pytest.raises(TaskFailed) as caught:
        PyOperator(ctx).run()
    assert isinstance(ctx.log, RecordingLog)
    return caught.value, ctx.log.text


def _io_dirs(project: Path) -> list[Path]:
    tmp = project / ".digpy" / "tmp"
    return sorted(tmp.iterdir()) if tmp.exists() else []


# -- calling ---------------------------------------------------------------------------------


def test_a_function_gets_its_arguments_from_the_params_by_name(project: Path) -> None:
    _, lines = _run(project, "tasks.greet", params={"name": "Ada", "unused": 1})
    assert lines == ["Hello, Ada!"]


def test_a_default_applies_when_the_param_is_absent_and_a_param_beats_it(project: Path) -> None:
    _, lines = _run(project, "tasks.greet", params={"name": "Ada", "greeting": "Hi"})
    assert lines == ["Hi, Ada!"]


def test_keyword_only_arguments_are_bound_too(project: Path) -> None:
    _, lines = _run(project, "tasks.keyword_only", params={"table": "users"})
    assert lines == ["users/10"]


def test_a_missing_required_argument_fails_naming_it(project: Path) -> None:
    failure, _ = _fail(project, "tasks.greet")
    assert failure.message == (
        "Python command failed with code 1: "
        "Method 'greet' requires parameter 'name' but not set (TypeError)"
    )


def test_kwargs_receives_every_param(project: Path) -> None:
    result, _ = _run(project, "tasks.everything",
                     params={"name": "x", "session_date": "2016-01-30"})
    assert result.store_params == {"seen": {"name": "x", "has_session": True}}


def test_a_method_runs_on_an_instance_built_from_the_params(project: Path) -> None:
    _, lines = _run(project, "tasks.Workflow.step", params={"value": "v", "prefix": "["})
    assert lines == ["[v>"]


def test_a_missing_init_argument_fails_naming_the_class_and_argument(project: Path) -> None:
    failure, _ = _fail(project, "tasks.Job")
    assert "Method 'Job.__init__' requires parameter 'target' but not set (TypeError)" in (
        failure.message)


def test_a_class_alone_runs_its_run_method(project: Path) -> None:
    _, lines = _run(project, "tasks.Job", params={"target": "db"})
    assert lines == ["job runs for db"]


def test_digdag_env_params_holds_the_params(project: Path) -> None:
    _, lines = _run(project, "tasks.read_params", params={"word": "bonjour"})
    assert lines == ["params say bonjour"]


def test_a_module_in_the_workdir_is_found(project: Path) -> None:
    _, lines = _run(project, "local_steps.here", workdir="steps")
    assert lines == ["found in the workdir"]


def test_the_command_runs_in_the_workdir(project: Path) -> None:
    _, lines = _run(project, "tasks.show_cwd_and_path", workdir="steps")
    assert lines == [f"cwd={(project / 'steps').resolve()}"]


def test_a_project_module_named_runner_is_the_projects_own(project: Path) -> None:
    _, lines = _run(project, "runner.which")
    assert lines == ["the project's runner module"]


def test_a_missing_module_fails_naming_it(project: Path) -> None:
    failure, _ = _fail(project, "nosuch.module.func")
    assert failure.message == (
        "Python command failed with code 1: No module named 'nosuch' (ModuleNotFoundError)")


def test_an_import_error_inside_a_module_names_the_missing_dependency(project: Path) -> None:
    failure, _ = _fail(project, "needs_missing_dep.run")
    assert "No module named 'not_installed_anywhere'" in failure.message


def test_a_missing_function_fails_naming_the_module_and_attribute(project: Path) -> None:
    failure, _ = _fail(project, "tasks.nope")
    assert "Module 'tasks' has no attribute 'nope' (AttributeError)" in failure.message


@pytest.mark.parametrize("command", [None, "", "justaname", "a..b", "a.b; rm -rf /", 3])
def test_a_command_that_is_not_a_dotted_name_is_a_config_error(project: Path,
                                                              command: Any) -> None:
    with pytest.raises(ConfigError, match="py> needs the name of what to call"):
        PyOperator(make_context(project, operator="py", config={"_command": command})).run()


# -- results ---------------------------------------------------------------------------------


def test_store_deep_merges_and_export_is_returned(project: Path) -> None:
    result, _ = _run(project, "tasks.store_and_export")
    assert result.store_params == {"a": {"x": 1, "y": 2}, "b": 3}
    assert result.export_params == {"e": {"one": 1, "two": 2}}
    assert result.subtask_config is None


def test_add_subtask_names_subtasks_in_order_and_functions_become_py_tasks(
    project: Path,
) -> None:
    result, _ = _run(project, "tasks.fan_out")
    assert result.subtask_config == {
        "+subtask0": {"name": "one", "py>": "tasks.greet"},
        "+subtask1": {"value": "v", "py>": "tasks.Workflow.step"},
        "+subtask2": {"sh>": "echo hi", "_env": {"A": "1"}},
        "+subtask3": {"echo>": "by keyword"},
    }
    assert list(result.subtask_config) == ["+subtask0", "+subtask1", "+subtask2", "+subtask3"]


def test_a_subtask_function_that_cannot_be_imported_by_name_is_refused(project: Path) -> None:
    failure, _ = _fail(project, "tasks.add_a_lambda")
    assert "cannot be imported by name (TypeError)" in failure.message


def test_a_value_that_is_not_json_fails_at_the_store_call(project: Path) -> None:
    failure, log = _fail(project, "tasks.store_something_odd")
    assert "Parameters must be serializable using JSON" in failure.message
    assert "in store_something_odd" in log


# -- failures --------------------------------------------------------------------------------


def test_an_exception_fails_with_its_message_and_class_and_logs_the_traceback(
    project: Path,
) -> None:
    failure, log = _fail(project, "tasks.explode", params={"table": "users"})
    assert failure.message == (
        "Python command failed with code 1: the table users is empty (ValueError)")
    lines = log.splitlines()
    assert lines[0] == "about to fail"
    assert lines[1] == "Traceback (most recent call last):"
    assert any(line.strip().startswith('raise ValueError(f"the table') for line in lines)
    assert lines[-1] == "ValueError: the table users is empty"
    assert "runner.py" not in log  # the runner's own frames are left out
    assert failure.error["stacktrace"].endswith("ValueError: the table users is empty\n")


def test_sys_exit_in_task_code_fails_with_digdags_explanation(project: Path) -> None:
    failure, _ = _fail(project, "tasks.exit_early")
    assert failure.message.startswith(
        "Python command failed with code 1: Python command tasks.exit_early terminated with "
        "exit code 3.")
    assert failure.message.endswith("(SystemExit)")


def test_the_private_io_directory_is_removed_after_success_and_failure(project: Path) -> None:
    _run(project, "tasks.greet", params={"name": "x"})
    _fail(project, "tasks.explode", params={"table": "t"})
    assert _io_dirs(project) == []
    assert (project / ".digpy" / "tmp").stat().st_mode & 0o077 == 0


# -- environment and interpreter -------------------------------------------------------------


def test_env_entries_may_use_secrets_which_stay_out_of_log_and_error(project: Path) -> None:
    # Given a canary secret passed through _env, a real SecretAccess, masker and log file
    canary = f"dp-canary-{uuid.uuid4()}"
    masker = Masker()
    access = SecretAccess({"api.token": canary}, None, masker)
    log_path = project.parent / "logs" / "task.log"
    params = {"_env": {"TOKEN": "${secret:api.token}", "PLAIN": "x"}}

    # When one task prints it and another raises an exception with it in the message
    with TaskLogWriter(log_path, masker) as log:
        PyOperator(_ctx(project, "tasks.show_env", params=params, secrets=access,
                        log=log)).run()
        with pytest.raises(TaskFailed) as caught:
            PyOperator(_ctx(project, "tasks.leak_the_token", params=params, secrets=access,
                            log=log)).run()

    # Then the code saw the value, but the log, the message and the stacktrace did not
    text = log_path.read_text(encoding="utf-8")
    assert "token=*** plain=x" in text
    assert canary not in text
    assert canary not in caught.value.message
    assert canary not in caught.value.error["stacktrace"]
    assert "bad token ***" in caught.value.message


def test_env_is_read_from_the_tasks_own_keys_only(project: Path) -> None:
    config = {"_command": "tasks.show_env", "_env": {"TOKEN": "t", "PLAIN": "p"}}
    ctx = make_context(project, operator="py", config=config,
                       local_config={"_command": "tasks.show_env"})
    with pytest.raises(TaskFailed, match="KeyError"):
        PyOperator(ctx).run()


def test_the_default_interpreter_is_the_one_running_digpy(project: Path) -> None:
    _, lines = _run(project, "tasks.show_interpreter")
    assert lines[0] == f"interpreter={sys.executable}"


def test_python_may_be_a_path_relative_to_the_workdir(project: Path) -> None:
    wrapper = project / "mypython"
    wrapper.write_text(f'#!/bin/sh\nWRAPPED=path exec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    _, lines = _run(project, "tasks.show_interpreter", params={"python": "./mypython"})
    assert lines[1] == "wrapped=path"


def test_python_may_be_an_argument_list_and_the_py_map_supplies_it(project: Path) -> None:
    (project / "wrap.sh").write_text(f'WRAPPED=list exec "{sys.executable}" "$@"\n')
    _, lines = _run(project, "tasks.show_interpreter",
                    params={"py": {"python": ["/bin/sh", "wrap.sh"]}})
    assert lines[1] == "wrapped=list"


def test_an_interpreter_that_does_not_exist_fails_naming_it(project: Path) -> None:
    failure, _ = _fail(project, "tasks.greet", params={"python": "/no/such/python"})
    assert failure.message.startswith("Cannot start '/no/such/python'")


@pytest.mark.parametrize("python", ["", [], [""], 3, {"path": "x"}])
def test_a_bad_python_option_is_a_config_error_naming_it(project: Path, python: Any) -> None:
    with pytest.raises(ConfigError, match="option 'python'"):
        _run(project, "tasks.greet", params={"python": python, "name": "x"})


# -- kill --------------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_cancel_stops_the_python_process_and_cleans_up(project: Path) -> None:
    # Given a task that sleeps for a minute
    cancel = CancelEvent()
    ctx = _ctx(project, "tasks.sleep_forever", cancel=cancel)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            PyOperator(ctx).run()
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    pid_file = project / "py.pid"
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.05)
    pid = int(pid_file.read_text())

    # When the task is killed
    started = time.monotonic()
    cancel.set("killed by test")
    worker.join(10)

    # Then the operator fails with the reason, the process is gone and nothing is left over
    assert not worker.is_alive()
    assert time.monotonic() - started < 5
    assert len(outcome) == 1 and isinstance(outcome[0], TaskFailed)
    assert outcome[0].message == "killed by test"
    assert not _alive(pid)
    assert _io_dirs(project) == []


def test_the_params_file_is_private_while_the_task_runs(project: Path) -> None:
    (project / "peek.py").write_text(
        "import os, stat, sys\n"
        "def run():\n"
        "    path = sys.argv[2]\n"
        "    print(oct(stat.S_IMODE(os.stat(path).st_mode)))\n"
        "    print(oct(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)))\n")
    _, lines = _run(project, "peek.run")
    assert lines == ["0o600", "0o700"]
    assert os.listdir(project / ".digpy" / "tmp") == []


# -- end to end through the local engine -------------------------------------------------------

E2E_WORKFLOW = """\
timezone: UTC

+compute:
  py>: tasks.store_and_export

+show:
  sh>: echo "sh sees a=$a b=$b"

+echo:
  echo>: "echo sees x=${a.x} y=${a.y} b=${b}"

+fan:
  py>: tasks.fan_out
"""


def _registry() -> Any:
    from digpy_operators.echo import EchoOperator
    from digpy_operators.sh import ShOperator

    from digpy.agent.registry import OperatorRegistry

    registry = OperatorRegistry()
    for cls in (PyOperator, ShOperator, EchoOperator):
        registry.register(cls)
    return registry.get


def test_a_py_store_is_read_by_later_sh_and_echo_tasks_and_subtasks_run(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a project whose py> task stores values and another one adds subtasks
    from datetime import UTC, datetime

    from digpy.agent.local import LocalEngine
    from digpy.clock import FakeClock
    from digpy.dsl.project import load_project

    session = datetime(2016, 1, 30, tzinfo=UTC)
    (project / "flow.dig").write_text(E2E_WORKFLOW)
    workflow = load_project(project).workflows["flow"]

    # When it runs through the local engine
    with LocalEngine(project, operators=_registry(), clock=FakeClock(session)) as engine:
        result = engine.run(workflow, session_time=session)

    # Then later tasks saw the stored values, and the subtasks ran under ^sub
    assert result.success, result.error
    logs = {t.full_name: Path(t.log_path).read_text() for t in result.tasks
            if t.log_path and Path(t.log_path).is_file()}
    assert 'sh sees a={"x":1,"y":2} b=3' in logs["+flow+show"]
    assert "echo sees x=1 y=2 b=3" in logs["+flow+echo"]
    assert logs["+flow+fan^sub+subtask0"] == "Hello, one!\n"
    assert logs["+flow+fan^sub+subtask1"] == "<v>\n"
    assert logs["+flow+fan^sub+subtask2"] == "hi\n"
    assert logs["+flow+fan^sub+subtask3"] == "by keyword\n"
    assert result.store_params["a"] == {"x": 1, "y": 2}
