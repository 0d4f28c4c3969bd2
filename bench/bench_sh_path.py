"""Where a sequential ``sh>`` task's time goes: the driver's critical path, step by step.

    python3 bench/bench_sh_path.py

Runs RUNS attempts of 100 sequential ``sh>: true`` tasks in one warm interpreter (a
throwaway project, ``LocalEngine`` as ``digpy run`` uses it) with a timestamp taken on
entry to and exit from each step below, then prints the median microseconds of every gap
between consecutive timestamps, largest share first. The same is done for a bare loop of
``subprocess.run(['/bin/sh', '-c', 'true'])`` (the issue's baseline), split into its spawn
and its wait.

On a machine with two or more cores the child runs while the driver continues, so only
steps between one command's exit and the next command's spawn add to the wall time; the
R2 record, for one, is written while the command starts and hides behind it. The wrappers
add about a microsecond per step.
"""

from __future__ import annotations

import functools
import itertools
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import print_table

import digpy.agent.pool as pool
import digpy.agent.runner as runner
import digpy.engine.executor as executor
import digpy.spi.process as process
from digpy.agent.local import LocalEngine
from digpy.dsl.project import load_project

RUNS = 8
TASKS = 100
Marks = list[tuple[str, int]]


def _wrap(marks: Marks, owner: Any, name: str, label: str) -> None:
    original: Callable[..., Any] = getattr(owner, name)
    clock = time.perf_counter_ns

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        marks.append((label + " >", clock()))
        try:
            return original(*args, **kwargs)
        finally:
            marks.append((label + " <", clock()))

    setattr(owner, name, timed)


def _instrument(marks: Marks) -> None:
    from digpy_operators import sh

    steps = [
        (executor.AttemptExecutor, "advance", "advance (record, propagate, claim, commit)"),
        (runner.TaskRunner, "prepare", "prepare (params, request, context)"),
        (sh.ShOperator, "_environment", "sh> environment"),
        (sh, "_write_runner_script", "sh> runner script"),
        (subprocess.Popen, "__init__", "spawn (Popen)"),
        (process._Watch, "wait", "wait (the command runs)"),
        (process, "run_command", "run_command"),
        (pool.Driver, "_run_inline", "run inline"),
    ]
    for owner, name, label in steps:
        _wrap(marks, owner, name, label)


def _gaps(marks: Marks, into: dict[tuple[str, str], list[float]]) -> None:
    for (a, ta), (b, tb) in itertools.pairwise(marks):
        into[(a, b)].append((tb - ta) / 1000)


def engine_path(project: Path) -> list[list[str]]:
    marks: Marks = []
    _instrument(marks)
    gaps: dict[tuple[str, str], list[float]] = defaultdict(list)
    workflow = next(iter(load_project(project).workflows.values()))
    with LocalEngine(project) as engine:
        engine.run(workflow, rerun=True)
        for _ in range(RUNS):
            marks.clear()
            engine.run(workflow, rerun=True)
            _gaps(marks, gaps)
    per_run = {k: v for k, v in gaps.items() if len(v) >= RUNS * TASKS * 0.9}
    rows = sorted(per_run.items(), key=lambda kv: -statistics.median(kv[1]))
    total = sum(statistics.median(v) for _, v in rows)
    return [[_step(a, b), f"{statistics.median(v):.1f}", f"{statistics.median(v) / total:.0%}"]
            for (a, b), v in rows] + [["sum per task", f"{total:.1f}", ""]]


def _step(a: str, b: str) -> str:
    if a[:-2] == b[:-2] and a.endswith(">") and b.endswith("<"):
        return a[:-2]
    return f"between {a} and {b}"


def bare_path() -> list[list[str]]:
    spawn, wait = [], []
    for _ in range(RUNS * TASKS):
        t0 = time.perf_counter_ns()
        child = subprocess.Popen(["/bin/sh", "-c", "true"])
        t1 = time.perf_counter_ns()
        child.wait()
        t2 = time.perf_counter_ns()
        spawn.append((t1 - t0) / 1000)
        wait.append((t2 - t1) / 1000)
    total = statistics.median(spawn) + statistics.median(wait)
    return [["spawn (Popen)", f"{statistics.median(spawn):.1f}", ""],
            ["wait (the command runs)", f"{statistics.median(wait):.1f}", ""],
            ["sum per call", f"{total:.1f}", ""]]


def main() -> None:
    project = Path(tempfile.mkdtemp(prefix="digpy-bench-"))
    lines = ["timezone: UTC"] + [f"+t{i}:\n  sh>: 'true'" for i in range(TASKS)]
    (project / "bench.dig").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{TASKS} sequential sh> true, {RUNS} runs, median microseconds per task")
    print_table(engine_path(project), ["step (engine)", "us", "share"])
    print()
    print_table(bare_path(), ["step (subprocess.run loop)", "us", ""])


if __name__ == "__main__":
    main()
