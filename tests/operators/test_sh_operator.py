"""sh>: real /bin/sh processes, as spec "Notes on sh>" describes them."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from digpy_operators.sh import ShOperator

from digpy.agent.logs import TaskLogWriter
from digpy.errors import ConfigError, TaskFailed
from digpy.secrets import Masker, SecretAccess
from digpy.spi.operator import OperatorContext
from digpy.spi.process import CancelEvent
from digpy.spi.testing import RecordingLog, make_context


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    path.mkdir()
    return path


def _ctx(project: Path, config: dict[str, Any], **kw: Any) -> OperatorContext:
    return make_context(project, operator="sh", config=config, **kw)


def _run(project: Path, config: dict[str, Any], **kw: Any) -> list[str]:
    ctx = _ctx(project, config, **kw)
    ShOperator(ctx).run()
    assert isinstance(ctx.log, RecordingLog)
    return ctx.log.lines


def _runner_scripts(project: Path) -> list[Path]:
    tmp = project / ".digpy" / "tmp"
    return sorted(tmp.iterdir()) if tmp.exists() else []


def test_stdout_and_stderr_stream_to_the_task_log(project: Path) -> None:
    lines = _run(project, {"_command": "echo to-out; echo to-err >&2"})
    assert sorted(lines) == ["to-err", "to-out"]


def test_a_non_zero_exit_fails_with_the_digdag_message(project: Path) -> None:
    with pytest.raises(TaskFailed) as caught:
        _run(project, {"_command": "echo partial; exit 3"})
    assert caught.value.message == "Command failed with code 3"


def test_params_are_exported_strings_as_is_and_others_as_compact_json(project: Path) -> None:
    (project / "sub").mkdir()
    config = {
        "_command": 'echo "$greeting|$count|$flags|$nested|$nothing|$_workdir"',
        "greeting": "hello world",
        "count": 3,
        "flags": [True, 1.5],
        "nested": {"a": {"b": "ü"}},
        "nothing": None,
        "_workdir": "sub",
        "not-a-name": "skipped",
    }
    lines = _run(project, config, workdir="sub")
    assert lines == ['hello world|3|[true,1.5]|{"a":{"b":"ü"}}|null|sub']


def test_invalid_variable_names_are_not_exported(project: Path) -> None:
    lines = _run(project, {"_command": "env | grep -c '^not-a-name=' || true", "not-a-name": 1})
    assert lines == ["0"]


def test_the_command_runs_in_the_workdir(project: Path) -> None:
    (project / "steps").mkdir()
    lines = _run(project, {"_command": "pwd"}, workdir="steps")
    assert lines == [str((project / "steps").resolve())]


def test_a_secret_in_the_command_is_resolved(project: Path) -> None:
    lines = _run(project, {"_command": "echo ${secret:greeting.word}"},
                 secrets={"greeting.word": "bonjour"})
    assert lines == ["bonjour"]


def test_a_missing_secret_fails_before_anything_runs(project: Path) -> None:
    with pytest.raises(TaskFailed, match="Secret not found for key: 'nope'"):
        _run(project, {"_command": "touch ran; echo ${secret:nope}"})
    assert not (project / "ran").exists()


def test_env_entries_may_use_secrets_and_are_masked_in_the_log(project: Path) -> None:
    # Given a canary secret used through _env, a real SecretAccess, masker and log file
    canary = f"dp-canary-{uuid.uuid4()}"
    masker = Masker()
    access = SecretAccess({"api.token": canary}, None, masker)
    echoed: list[str] = []
    log_path = project.parent / "logs" / "task.log"
    config = {"_command": 'echo "token=$TOKEN"; echo "$TOKEN" >&2', "_env": {
        "TOKEN": "${secret:api.token}", "PLAIN": "x"}}

    # When the task runs
    with TaskLogWriter(log_path, masker, echo=echoed.append) as log:
        ShOperator(_ctx(project, config, secrets=access, log=log)).run()

    # Then the process saw the secret, but neither the log file nor the console did
    text = log_path.read_text(encoding="utf-8")
    assert sorted(text.splitlines()) == ["***", "token=***"]
    assert canary not in text
    assert canary not in "".join(echoed)


def test_env_is_read_from_the_tasks_own_keys_only(project: Path) -> None:
    # An _env exported by a parent is in config but not in local_config, so it is ignored.
    config = {"_command": 'echo "[$FROM_PARENT]"', "_env": {"FROM_PARENT": "yes"}}
    lines = _run(project, config, local_config={"_command": config["_command"]})
    assert lines == ["[]"]


def test_an_invalid_env_name_is_a_config_error_naming_it(project: Path) -> None:
    with pytest.raises(ConfigError, match="Invalid _env name '1BAD'"):
        _run(project, {"_command": "true", "_env": {"1BAD": "x"}})


def test_a_shell_option_replaces_bin_sh(project: Path) -> None:
    shell = project / "myshell"
    shell.write_text('#!/bin/sh\necho "myshell got $1"\n')
    shell.chmod(0o755)
    lines = _run(project, {"_command": "echo ignored", "shell": [str(shell)]})
    assert len(lines) == 1 and lines[0].startswith("myshell got .digpy/tmp/sh-")


def test_the_namespaced_sh_shell_applies_and_a_top_level_shell_beats_it(project: Path) -> None:
    for name in ("outer", "inner"):
        script = project / name
        script.write_text(f'#!/bin/sh\necho "{name}"\n')
        script.chmod(0o755)
    namespaced = {"_command": "true", "sh": {"shell": [str(project / "inner")]}}
    assert _run(project, namespaced) == ["inner"]
    both = {**namespaced, "shell": [str(project / "outer")]}
    assert _run(project, both) == ["outer"]


def test_a_shell_that_is_not_a_list_is_a_config_error_naming_the_option(project: Path) -> None:
    with pytest.raises(ConfigError, match="option 'shell'"):
        _run(project, {"_command": "true", "shell": "/bin/bash"})


def test_the_project_directory_is_on_the_path(project: Path) -> None:
    tool = project / "project-tool"
    tool.write_text("#!/bin/sh\necho tool ran\n")
    tool.chmod(0o755)
    lines = _run(project, {"_command": 'project-tool; echo "$PATH"'})
    assert lines[0] == "tool ran"
    assert lines[1].split(os.pathsep)[-1] == str(project)


def test_the_runner_script_is_private_and_removed_after_success_and_failure(
    project: Path,
) -> None:
    lines = _run(project, {"_command": 'stat -c %a "$0"'})
    assert lines == ["700"]
    with pytest.raises(TaskFailed):
        _run(project, {"_command": "exit 1"})
    assert _runner_scripts(project) == []
    mode = stat.S_IMODE((project / ".digpy" / "tmp").stat().st_mode)
    assert mode & 0o077 == 0


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_a_secret_never_appears_on_the_command_line(project: Path) -> None:
    lines = _run(project, {"_command": "tr '\\0' ' ' < /proc/$$/cmdline; echo; echo ${secret:k}"},
                 secrets={"k": "hidden-value"})
    assert "hidden-value" not in lines[0]
    assert lines[1] == "hidden-value"


def _alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie waiting for its parent to reap it counts as gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_kill_stops_the_whole_process_group_within_a_second(project: Path) -> None:
    # Given a command whose child ignores SIGTERM and would outlive its parent
    command = (
        "sh -c 'trap \"\" TERM; echo $$ > child.pid; sleep 60' &\n"
        "sleep 60\n"
    )
    cancel = CancelEvent()
    canceled_at: list[float] = []

    def kill_when_child_started() -> None:
        while not (project / "child.pid").exists() or not (project / "child.pid").read_text():
            time.sleep(0.01)
        canceled_at.append(time.monotonic())
        cancel.set("Killed by the user")

    threading.Thread(target=kill_when_child_started, daemon=True).start()

    # When the task is killed
    with pytest.raises(TaskFailed, match="Killed by the user"):
        _run(project, {"_command": command}, cancel=cancel)
    elapsed = time.monotonic() - canceled_at[0]

    # Then the run ends within about a second, and the child, already sent SIGKILL, is gone
    # as soon as the kernel has delivered it (a few ms; more on a loaded machine)
    child = int((project / "child.pid").read_text())
    assert elapsed < 1.5
    while _alive(child) and time.monotonic() - canceled_at[0] < 1.5:
        time.sleep(0.01)
    assert not _alive(child)
    assert _runner_scripts(project) == []


def test_sh_without_a_command_is_a_config_error(project: Path) -> None:
    with pytest.raises(ConfigError, match="sh> needs a command"):
        _run(project, {})


def test_sh_is_retryable_unlike_echo_fail_and_wait() -> None:
    assert ShOperator.type == "sh"
    assert ShOperator.retryable is True


def test_json_export_matches_what_python_json_reads_back(project: Path) -> None:
    value = {"list": [1, "two", None], "n": 1.0}
    lines = _run(project, {"_command": 'echo "$data"', "data": value})
    assert json.loads(lines[0]) == value
