"""Task log files through the real engine and the real sh> operator: a file appears with
the first line a task prints, and a failed task always has one (the report names it)."""

from __future__ import annotations

from pathlib import Path

from digpy.agent.local import LocalEngine

from .harness import compile_text


def _log_files(project: Path) -> dict[str, str]:
    logs = project / ".digpy" / "logs"
    return {p.name: p.read_text() for p in logs.rglob("*.log")} if logs.exists() else {}


def test_only_tasks_that_print_or_fail_leave_a_log_file(tmp_path: Path) -> None:
    workflow = compile_text(
        "+quiet:\n  sh>: 'true'\n"
        "+loud:\n  sh>: echo hello\n"
        "+broken:\n  sh>: exit 3\n"
    )
    with LocalEngine(tmp_path, echo=lambda line: None) as engine:
        result = engine.run(workflow)

    assert not result.success
    assert _log_files(tmp_path) == {"+wf+loud.log": "hello\n", "+wf+broken.log": ""}
    stored = {t.full_name: t.log_path for t in result.tasks if t.log_path}
    assert Path(stored["+wf+broken"]).is_file()
    assert not Path(stored["+wf+quiet"]).exists()
