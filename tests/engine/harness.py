"""Test operators and a small harness: run ``.dig`` text through the real engine (SQLite
file, FakeClock) and record what ran, in order."""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from digpy.agent.local import LocalEngine
from digpy.clock import FakeClock
from digpy.dsl.compiler import compile_workflow
from digpy.dsl.loader import load_text
from digpy.dsl.model import Workflow
from digpy.engine.listeners import Listener
from digpy.model.records import Attempt, Task
from digpy.model.states import TaskState
from digpy.spi import Operator, PollAgain, TaskFailed, TaskResult

START = datetime(2016, 1, 30, tzinfo=UTC)


class Trace:
    """What test operators did, shared by every task of a run."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.entries: list[str] = []
        self.runs: Counter[str] = Counter()
        self.configs: dict[str, Mapping[str, Any]] = {}
        self.lock = threading.Lock()

    def record(self, entry: str, task_name: str, config: Mapping[str, Any]) -> int:
        with self.lock:
            self.entries.append(entry)
            self.runs[task_name] += 1
            self.configs[task_name] = config
            return self.runs[task_name]


class TraceOperator(Operator):
    """``trace>: label`` records ``label`` (the task name when empty), then does what its
    options say: ``store``/``export``/``reset``/``sub`` (or raw ``_do``) results, ``fail``,
    ``fail_template``, ``fail_times``, ``crash``, ``poll`` (+``poll_interval``), ``advance``
    (FakeClock seconds), ``wait_cancel`` (block until the cancel token is set), ``timed``
    (label@seconds)."""

    type: ClassVar[str] = "trace"
    retryable: ClassVar[bool] = True
    trace: ClassVar[Trace]

    def run(self) -> TaskResult:
        cfg = self.request.config
        label = str(cfg.get("_command") or self.request.task_name)
        if cfg.get("timed"):
            label += f"@{int((self.ctx.clock.now() - START).total_seconds())}"
        runs = self.trace.record(label, self.request.task_name, cfg)
        if cfg.get("advance"):
            self.trace.clock.advance(float(cfg["advance"]))
        if cfg.get("wait_cancel"):
            if not self.ctx.cancel.wait(10):
                raise TaskFailed("never canceled")
            raise TaskFailed(self.ctx.cancel.reason)
        polls = int(self.request.last_state.get("polls", 0))
        if polls < int(cfg.get("poll", 0)):
            raise PollAgain(float(cfg.get("poll_interval", 10)), {"polls": polls + 1})
        if runs <= int(cfg.get("fail_times", 0)):
            raise TaskFailed(str(cfg.get("message", f"failure {runs}")))
        if "fail" in cfg:
            raise TaskFailed(str(cfg["fail"]))
        if "fail_template" in cfg:  # a message with ${...} that no template engine touched
            raise TaskFailed("price ${" + str(cfg["fail_template"]) + "} unknown")
        if "crash" in cfg:
            raise RuntimeError(str(cfg["crash"]))
        return TaskResult(
            subtask_config=cfg.get("_do") or cfg.get("sub"),
            store_params=cfg.get("store") or {},
            export_params=cfg.get("export") or {},
            reset_store_params=tuple(cfg.get("reset") or ()),
        )


class OnceOperator(TraceOperator):
    """Like trace>, but ignores operator-level ``_retry`` (as echo> and fail> do)."""

    type: ClassVar[str] = "once"
    retryable: ClassVar[bool] = False


def compile_text(text: str, name: str = "wf") -> Workflow:
    return compile_workflow(name, load_text(text, filename=f"{name}.dig"), source=f"{name}.dig")


class KillOnStart(Listener):
    """Kills the attempt when the named task starts (on the driver thread)."""

    def __init__(self, task_name: str) -> None:
        self.task_name = task_name
        self.engine: LocalEngine | None = None

    def on_task_started(self, attempt: Attempt, task: Task) -> None:
        if task.full_name == self.task_name and self.engine is not None:
            self.engine.kill(attempt.id)


class Edges(Listener):
    """Every (before, after) state edge the engine took."""

    def __init__(self) -> None:
        self.seen: set[tuple[TaskState, TaskState]] = set()

    def __call__(self, before: TaskState, after: TaskState) -> None:
        self.seen.add((before, after))


@dataclass
class Harness:
    project: Path
    template_db: Path
    clock: FakeClock = field(default_factory=lambda: FakeClock(START))
    edges: Edges = field(default_factory=Edges)
    listeners: Sequence[Listener] = ()
    task_limit: int = 1000
    max_task_threads: int = 4

    def __post_init__(self) -> None:
        self.trace = Trace(self.clock)
        state = self.project / ".digpy" / "state.db"
        if not state.exists():
            state.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(self.template_db, state)

    def engine(self) -> LocalEngine:
        trace = self.trace

        class Traced(TraceOperator):
            pass

        class TracedOnce(OnceOperator):
            pass

        Traced.trace = trace
        TracedOnce.trace = trace
        operators: dict[str, type[Operator]] = {"trace": Traced, "once": TracedOnce}

        def resolve(name: str) -> type[Operator]:
            if name in operators:
                return operators[name]
            from digpy.agent.registry import OperatorRegistry

            return OperatorRegistry.from_entry_points().get(name)

        engine = LocalEngine(
            self.project,
            clock=self.clock,
            operators=resolve,
            listeners=self.listeners,
            max_task_threads=self.max_task_threads,
            task_limit=self.task_limit,
            on_edge=self.edges,
        )
        for listener in self.listeners:
            if isinstance(listener, KillOnStart):
                listener.engine = engine
        return engine
