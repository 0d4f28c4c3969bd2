"""Control-flow operators run end to end: small ``.dig`` projects through the real engine
(``LocalEngine``: SQLite under ``.digpy/``, FakeClock, real compiler and templates), with a
``trace>`` operator recording what ran, in order."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from digpy_operators.call import CallOperator
from digpy_operators.for_each import ForEachOperator
from digpy_operators.for_range import ForRangeOperator
from digpy_operators.if_ import IfOperator
from digpy_operators.loop import LoopOperator

from digpy.agent.local import LocalEngine
from digpy.clock import FakeClock
from digpy.dsl.compiler import compile_workflow
from digpy.dsl.loader import load_file
from digpy.engine.results import RunResult
from digpy.spi import Operator, TaskResult

START = datetime(2016, 1, 30, tzinfo=UTC)
CONTROL_FLOW: tuple[type[Operator], ...] = (
    LoopOperator, ForEachOperator, ForRangeOperator, IfOperator, CallOperator)


class Trace:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.labels: list[str] = []
        self.workdirs: dict[str, str] = {}


class TraceOperator(Operator):
    """``trace>: label`` records the (rendered) label and the task's workdir."""

    type: ClassVar[str] = "trace"
    retryable: ClassVar[bool] = False
    trace: ClassVar[Trace]

    def run(self) -> TaskResult:
        with self.trace.lock:
            self.trace.labels.append(str(self.request.config.get("_command", "")))
            relative = self.ctx.workdir.relative_to(self.ctx.project_path).as_posix()
            self.trace.workdirs[self.request.task_name] = relative
        return TaskResult.empty()


def run_project(root: Path, files: Mapping[str, str], workflow: str = "main",
                params: Mapping[str, Any] | None = None,
                threads: int = 1) -> tuple[RunResult, Trace]:
    """Write ``files`` under ``root`` and run ``<workflow>.dig`` to completion."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    trace = Trace()
    traced = type("Traced", (TraceOperator,), {"trace": trace})
    operators: dict[str, type[Operator]] = {cls.type: cls for cls in CONTROL_FLOW}
    operators["trace"] = traced
    config = load_file(root / f"{workflow}.dig", project_root=root)
    wf = compile_workflow(workflow, config, source=f"{workflow}.dig")
    with LocalEngine(root, clock=FakeClock(START), operators=operators.__getitem__,
                     max_task_threads=threads, echo=lambda _text: None) as engine:
        result = engine.run(wf, session_time=START, params=params)
    return result, trace


def succeeded(result: RunResult) -> list[str]:
    return [t.full_name for t in result.tasks if t.state == "success"]


def test_a_loop_runs_its_body_in_order_with_i_exported(tmp_path: Path) -> None:
    result, trace = run_project(tmp_path, {"main.dig": """
+repeat:
  loop>: 3
  _do:
    trace>: step ${i}
+after:
  trace>: done
"""})
    assert result.success, result.error
    assert trace.labels == ["step 0", "step 1", "step 2", "done"]
    assert {"+main+repeat^sub+loop-0", "+main+repeat^sub+loop-2"} <= set(succeeded(result))


def test_a_loop_count_can_come_from_a_template(tmp_path: Path) -> None:
    result, trace = run_project(tmp_path, {"main.dig": """
_export:
  n: 2
+repeat:
  loop>: ${n}
  _do:
    trace>: ${i}
"""})
    assert result.success, result.error
    assert trace.labels == ["0", "1"]


def test_nested_for_each_exports_both_variables_to_the_inner_tasks(tmp_path: Path) -> None:
    result, trace = run_project(tmp_path, {"main.dig": """
+outer:
  for_each>:
    fruit: [apple, orange]
  _do:
    +inner:
      for_each>:
        verb: [eat, throw]
      _do:
        trace>: ${verb} ${fruit}
"""})
    assert result.success, result.error
    assert trace.labels == ["eat apple", "throw apple", "eat orange", "throw orange"]
    assert ("+main+outer^sub+for-0=fruit=1=orange+inner^sub+for-0=verb=0=eat"
            in succeeded(result))


def test_for_range_slices_run_in_parallel_and_all_finish(tmp_path: Path) -> None:
    result, trace = run_project(tmp_path, {"main.dig": """
+batches:
  for_range>:
    from: 0
    to: 10
    slices: 3
  _parallel: true
  _do:
    trace>: ${range.index}:${range.from}-${range.to}
"""}, threads=3)
    assert result.success, result.error
    assert sorted(trace.labels) == ["0:0-4", "1:4-8", "2:8-10"]
    assert "+main+batches^sub+range-from=8&to=10" in succeeded(result)


@pytest.mark.parametrize(("flag", "expected"), [("true", ["then"]), ("false", ["else"])])
def test_if_runs_do_or_else_do(tmp_path: Path, flag: str, expected: list[str]) -> None:
    result, trace = run_project(tmp_path, {"main.dig": """
+choose:
  if>: ${flag}
  _do:
    trace>: then
  _else_do:
    trace>: else
+after:
  trace>: after
"""}, params={"flag": flag})
    assert result.success, result.error
    assert trace.labels == [*expected, "after"]


def test_if_without_the_chosen_branch_succeeds_with_nothing_run(tmp_path: Path) -> None:
    result, trace = run_project(tmp_path, {"main.dig": """
+choose:
  if>: false
  _do:
    trace>: then
"""})
    assert result.success, result.error
    assert trace.labels == []


def test_call_runs_a_workflow_in_a_subfolder_with_that_folder_as_workdir(tmp_path: Path) -> None:
    result, trace = run_project(tmp_path, {
        "main.dig": """
+prepare:
  call>: jobs/child
+after:
  trace>: after in ${timezone}
""",
        "jobs/child.dig": """
timezone: Asia/Tokyo
_export:
  table: users
+load:
  trace>: load ${table}
+nested:
  call>: inner
""",
        "jobs/inner.dig": "+deep:\n  trace>: inner\n",
    })
    assert result.success, result.error
    assert trace.labels == ["load users", "inner", "after in UTC"]
    assert trace.workdirs == {
        "+main+prepare^sub+load": "jobs",
        "+main+prepare^sub+nested^sub+deep": "jobs",
        "+main+after": ".",
    }


def test_a_call_to_a_missing_file_fails_the_task_with_a_suggestion(tmp_path: Path) -> None:
    result, _ = run_project(tmp_path, {
        "main.dig": "+go:\n  call>: chlid\n",
        "child.dig": "+a:\n  trace>: a\n",
    })
    assert not result.success
    error = result.task("+main+go").error or {}
    assert "chlid.dig" in error.get("message", "")
    assert "child.dig" in error.get("message", "")


def test_backfill_with_loop_and_call_runs_the_callee_once_per_day(tmp_path: Path) -> None:
    result, trace = run_project(tmp_path, {
        "main.dig": """
+days:
  loop>: 2
  _do:
    call>: daily.dig
    _export:
      day: day-${i}
""",
        "daily.dig": "+work:\n  trace>: ${day}\n",
    })
    assert result.success, result.error
    assert trace.labels == ["day-0", "day-1"]
