"""`digpy timeline` (a Gantt chart in plain text off a terminal) and `digpy report`
(Markdown and JSON, compared with the previous successful attempt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from client_helpers import Cli, write

# +flaky fails twice, then succeeds (its third try): two retries.
RETRIED = """\
+first:
  sh>: sleep 0.2
+flaky:
  _retry: 2
  sh>: 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; test $n -ge 3'
"""

STORING = """\
+count:
  py>: rowcount.count
+check:
  sh>: test -f ok
"""

ROWCOUNT = """\
import digdag


def count():
    digdag.env.store({"rows": int(open("rows.txt").read()), "table": "users"})
"""


def test_timeline_draws_each_task_with_start_duration_bar_state_and_retries(
        project: Path, cli: Cli) -> None:
    write(project, "wf.dig", RETRIED)
    assert cli("run", "wf").code == 0

    drawn = cli("timeline", "1", "--width", "20")

    assert drawn.code == 0
    title, root, first, flaky = drawn.out.splitlines()
    assert title.startswith("attempt 1 of wf (session 1, ") and ": success, " in title
    assert root.startswith("+wf ") and "|####################|" in root
    assert first.startswith("  +wf+first ") and first.endswith("success")
    assert flaky.endswith("success  retries: 2")
    bar = flaky[flaky.index("|") + 1:flaky.rindex("|")]
    assert bar.startswith(" ") and bar.endswith("#")  # it started after +first


def test_timeline_follow_on_a_finished_attempt_prints_once(project: Path, cli: Cli) -> None:
    write(project, "wf.dig", RETRIED)
    cli("run", "wf")

    followed = cli("timeline", "1", "--follow")

    assert followed.code == 0
    assert followed.out.count("attempt 1 of wf") == 1


@pytest.fixture
def three_attempts(project: Path, cli: Cli) -> Path:
    """Attempt 1 stores rows=3 and succeeds; 2 stores rows=5 and succeeds; 3 fails."""
    write(project, "wf.dig", STORING)
    write(project, "rowcount.py", ROWCOUNT)
    write(project, "ok", "")
    write(project, "rows.txt", "3")
    assert cli("run", "wf", "--session", "2016-01-30", "-p", "target=dev").code == 0
    write(project, "rows.txt", "5")
    assert cli("run", "wf", "--session", "2016-01-31", "-p", "target=dev").code == 0
    (project / "ok").unlink()
    assert cli("run", "wf", "--session", "2016-02-01").code == 1
    return project


def test_report_json_compares_with_the_previous_successful_attempt(
        three_attempts: Path, cli: Cli) -> None:
    data = cli("report", "2", "--format", "json").json()

    assert set(data) == {"attempt", "revision", "params", "duration", "tasks",
                         "failed_tasks", "compared_with"}
    assert (data["attempt"]["id"], data["attempt"]["trigger"]) == (2, "run")
    assert data["params"] == {"target": "dev"}
    assert len(data["revision"]["hash"]) == 64
    assert {t["full_name"]: t["store_params"] for t in data["tasks"]}["+wf+count"] == {
        "rows": 5, "table": "users"}
    compared = data["compared_with"]
    assert compared["attempt_id"] == 1
    assert compared["changed_store_params"] == [
        {"task": "+wf+count", "key": "rows", "before": 3, "after": 5}]
    assert {r["full_name"] for r in compared["tasks"]} == {"+wf", "+wf+count", "+wf+check"}
    assert all(isinstance(r["delta"], float) for r in compared["tasks"])


def test_report_markdown_lists_failed_tasks_and_the_comparison(
        three_attempts: Path, cli: Cli) -> None:
    md = cli("report", "3").out

    assert md.startswith("# Attempt 3 of wf: error\n")
    assert "| trigger | run |" in md
    assert "## Failed tasks\n\n- `+wf+check`: Command failed with code 1" in md
    assert "## Compared with attempt 2 (success, session 2016-02-01" not in md
    assert "## Compared with attempt 2 (success, session 2016-01-31T00:00:00+00:00)" in md
    assert "Stored params: no change." in md
    assert '| `+wf+count` | success |' in md


def test_report_without_an_earlier_success_says_there_is_nothing_to_compare(
        three_attempts: Path, cli: Cli) -> None:
    data = cli("report", "1", "--format", "json").json()
    assert data["compared_with"] is None
    assert "No earlier successful attempt" in cli("report", "1").out
