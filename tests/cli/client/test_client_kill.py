"""`digpy kill` stops an attempt that another process is running."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from client_helpers import Cli, Outcome, write

SLOW = """\
+first:
  sh>: sleep 30
+never:
  sh>: echo never >> trace.txt
"""


def wait_for(check: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def running_task(cli: Cli) -> bool:
    listed: Outcome = cli("tasks", "1", "--json")
    return listed.code == 0 and any(t["full_name"] == "+slow+first" and t["state"] == "running"
                                    for t in listed.json())


def test_kill_of_a_running_attempt_ends_it_killed_quickly(project: Path, cli: Cli,
                                                         tmp_path: Path) -> None:
    write(project, "slow.dig", SLOW)
    env = {**os.environ, "DIGPY_CONFIG_HOME": str(tmp_path / "config")}
    run = subprocess.Popen([sys.executable, "-m", "digpy", "run", "slow", "--project",
                            str(project)], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: running_task(cli))
        began = time.monotonic()

        killed = cli("kill", "1")

        assert (killed.code, killed.out) == (0, "Kill requested for attempt 1\n")
        assert run.wait(timeout=15) == 1
        assert time.monotonic() - began < 10
    finally:
        run.kill()
        run.wait()
    attempt = cli("attempt", "1", "--json").json()
    assert (attempt["status"], attempt["cancel_requested"]) == ("killed", True)
    assert not (project / "trace.txt").exists()


def test_kill_of_a_finished_attempt_says_so_and_exits_1(project: Path, cli: Cli) -> None:
    write(project, "quick.dig", "+a:\n  echo>: hi\n")
    cli("run", "quick")

    refused = cli("kill", "1")

    assert refused.code == 1
    assert refused.err == "error: attempt 1 is already success; nothing to kill\n"


def test_log_follow_prints_lines_as_they_come_until_the_attempt_is_done(
        project: Path, cli: Cli, tmp_path: Path) -> None:
    write(project, "talk.dig", "+talk:\n  sh>: echo first; sleep 1.5; echo second\n"
                               "+after:\n  sh>: echo third\n")
    env = {**os.environ, "DIGPY_CONFIG_HOME": str(tmp_path / "config")}
    run = subprocess.Popen([sys.executable, "-m", "digpy", "run", "talk", "--project",
                            str(project)], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: cli("attempt", "1", "--json").code == 0)

        followed = cli("log", "1", "-f")

        assert run.wait(timeout=15) == 0
    finally:
        run.kill()
        run.wait()
    assert followed.code == 0
    assert followed.out.count("first\n") == followed.out.count("second\n") == 1
    assert followed.out.index("first") < followed.out.index("second") < followed.out.index(
        "third")
    assert cli("attempt", "1", "--json").json()["status"] == "success"
