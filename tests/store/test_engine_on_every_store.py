"""The same engine runs on every store backend (PostgreSQL included): a fan-out with a
failure, then a resume that reuses what succeeded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from digpy.agent.local import LocalEngine
from digpy.clock import FakeClock
from digpy.dsl.compiler import compile_workflow
from digpy.dsl.loader import load_text
from digpy.spi import Operator, TaskFailed, TaskResult
from digpy.store.base import Store

RAN: list[str] = []
WORKFLOW = """
+fan:
  _parallel: true
  +a: {note>: a, store: {from_a: 1}}
  +b: {note>: b}
  +c: {note>: c, fail_once: true}
+join:
  note>: join ${from_a}
"""


class NoteOperator(Operator):
    type: ClassVar[str] = "note"

    def run(self) -> TaskResult:
        label = str(self.request.config["_command"])
        first = label not in RAN
        RAN.append(label)
        if self.request.config.get("fail_once") and first:
            raise TaskFailed("first try fails")
        return TaskResult(store_params=self.request.config.get("store") or {})


def test_the_engine_runs_and_resumes_on_this_store(store: Store, tmp_path: Path) -> None:
    RAN.clear()
    workflow = compile_workflow("wf", load_text(WORKFLOW, filename="wf.dig"))
    clock = FakeClock(datetime(2016, 1, 30, tzinfo=UTC))
    engine = LocalEngine(
        tmp_path, store=store, clock=clock, operators=lambda name: NoteOperator,
        max_task_threads=3,
    )
    first = engine.run(workflow)
    second = engine.retry(first.attempt_id, resume="failed")
    assert (first.status.value, second.status.value) == ("error", "success")
    assert sorted(RAN[:3]) == ["a", "b", "c"]
    assert RAN[3:] == ["c", "join 1"]
    assert second.task("+wf+fan+a").state == "success"
