"""Engine benchmarks: wall time (median of several runs, each a fresh Python process, so
start-up and imports count) and peak memory, against the budgets of the engine issue.

    python3 bench/bench_engine.py            # all scenarios
    python3 bench/bench_engine.py seq1000    # one scenario
    python3 bench/bench_engine.py sh100 sh-warm   # the two sh> comparisons

Each run builds a throwaway project, then a child process loads it and runs it with
``LocalEngine`` (the same facade ``digpy run`` uses), writing state to ``.digpy/state.db``.

The ``sh>`` budget (100 sequential ``sh>: true`` within 1.5x a plain loop of
``subprocess.run``) is measured twice: as whole processes (``sh100``: interpreter start-up
and imports count on both sides) and in one warm interpreter (``sh-warm``: the per-task
steady state). Engine and baseline runs alternate, so machine noise hits both alike.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import print_table

REPO = Path(__file__).resolve().parent.parent
RUNS = 5


def _seq(n: int, line: str) -> str:
    return "".join(f"+t{i}:\n  {line}\n" for i in range(n))


def _wide(groups: int, each: int) -> str:
    """``groups`` parallel groups of ``each`` sequential echo> tasks."""
    out = ["_parallel: true\n"]
    for g in range(groups):
        out.append(f"+g{g}:\n")
        out += [f"  +t{i}:\n    echo>: g{g} t{i}\n" for i in range(each)]
    return "".join(out)


SCENARIOS: dict[str, tuple[str, str, int, float]] = {
    # name: (workflow text, what, threads, budget seconds)
    "one": ("+hello:\n  echo>: hello\n", "one-task run", 0, 0.35),
    "seq1000": (_seq(1000, "echo>: hi ${task_name}"), "1,000 sequential echo>", 0, 2.0),
    "par1000": (
        "_parallel: true\n" + _seq(1000, "echo>: hi ${task_name}"),
        "1,000 parallel echo> (8 threads)",
        8,
        2.5,
    ),
    "big10000": (_wide(100, 100), "10,000 tasks (100 parallel groups x 100)", 8, 20.0),
    # issue 4: dynamic generation at scale (the child raises the task limit to 20,000)
    "loop10000": ("+repeat:\n  loop>: 10000\n  _do:\n    echo>: ${i}\n",
                  "loop>: 10000 of echo>", 0, 20.0),
}

SH_ROUNDS = 7  # alternating engine/baseline pairs for the sh> comparisons
SH_TASKS = 100

CHILD = """
import sys
from pathlib import Path
sys.path.insert(0, {repo!r})
project = Path(sys.argv[1])
from digpy.dsl.project import load_project
from digpy.agent.local import LocalEngine
loaded = load_project(project)
workflow = next(iter(loaded.workflows.values()))
with LocalEngine(project, max_task_threads=int(sys.argv[2]), task_limit=20000) as engine:
    result = engine.run(workflow, rerun=True)
assert result.success, result.error
"""


def _project(text: str) -> Path:
    root = Path(tempfile.mkdtemp(prefix="digpy-bench-"))
    (root / "bench.dig").write_text(text, encoding="utf-8")
    return root


def _env() -> dict[str, str]:
    # An installed digpy has compiled bytecode; a checkout run with PYTHONDONTWRITEBYTECODE
    # would recompile every module on every start and measure that instead.
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _child_run(text: str, threads: int, project: Path | None = None) -> float:
    project = project or _project(text)
    code = CHILD.format(repo=str(REPO))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(project), str(threads)], check=True,
                   cwd=REPO, env=_env())
    return time.perf_counter() - start


def _median(fn: Callable[[], float], runs: int) -> tuple[float, float]:
    samples = [fn() for _ in range(runs)]
    return statistics.median(samples), max(samples) - min(samples)


LOOP = "import subprocess\nfor _ in range({n}): subprocess.run(['/bin/sh', '-c', 'true'])\n"

# Both loops in one warm interpreter: N sequential sh> tasks through LocalEngine (one
# warm-up run first) against N subprocess.run calls, alternating; prints seconds per pair.
WARM = """
import subprocess, sys, time
from pathlib import Path
sys.path.insert(0, {repo!r})
from digpy.dsl.project import load_project
from digpy.agent.local import LocalEngine
project, n, rounds = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
workflow = next(iter(load_project(project).workflows.values()))
with LocalEngine(project) as engine:
    assert engine.run(workflow, rerun=True).success
    for _ in range(rounds):
        start = time.perf_counter()
        assert engine.run(workflow, rerun=True).success
        middle = time.perf_counter()
        for _ in range(n):
            subprocess.run(['/bin/sh', '-c', 'true'])
        print(middle - start, time.perf_counter() - middle, flush=True)
"""


def _spread(samples: list[float]) -> str:
    return f"{min(samples):.2f}-{max(samples):.2f}"


def _sh_whole() -> list[str]:
    """Whole processes, interpreter start-up included on both sides, alternating."""
    text = _seq(SH_TASKS, "sh>: 'true'")
    project = _project(text)
    code = LOOP.format(n=SH_TASKS)

    def plain() -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=_env())
        return time.perf_counter() - start

    engine, loop = [], []
    for _ in range(SH_ROUNDS):
        engine.append(_child_run(text, 0, project))
        loop.append(plain())
    return _sh_row(f"{SH_TASKS} sequential sh> true, whole processes", engine, loop)


def _sh_warm() -> list[str]:
    """Steady state: both loops inside one warm interpreter."""
    project = _project(_seq(SH_TASKS, "sh>: 'true'"))
    out = subprocess.run(
        [sys.executable, "-c", WARM.format(repo=str(REPO)), str(project), str(SH_TASKS),
         str(SH_ROUNDS)],
        check=True, cwd=REPO, env=_env(), capture_output=True, text=True,
    ).stdout
    pairs = [tuple(float(x) for x in line.split()) for line in out.splitlines()]
    return _sh_row(f"{SH_TASKS} sequential sh> true, warm interpreter",
                   [e for e, _ in pairs], [b for _, b in pairs])


def _sh_row(what: str, engine: list[float], loop: list[float]) -> list[str]:
    ratio = statistics.median(engine) / statistics.median(loop)
    per_task = 1000 / SH_TASKS
    return [
        what,
        f"{statistics.median(engine):.3f}s ({statistics.median(engine) * per_task:.2f} ms/task)",
        f"engine {_spread(engine)}s; loop {statistics.median(loop):.3f}s "
        f"({statistics.median(loop) * per_task:.2f} ms/task), {_spread(loop)}s",
        "≤ 1.5x loop",
        f"x{ratio:.2f}",
        "ok" if ratio <= 1.5 else "OVER",
    ]


def _one_task_again() -> tuple[float, float]:
    """A one-task run in a project that has run before (the store exists)."""
    text = SCENARIOS["one"][0]
    project = _project(text)
    _child_run(text, 0, project)
    return _median(lambda: _child_run(text, 0, project), RUNS)


def _one_task_cli() -> tuple[float, float]:
    """``digpy run`` itself (the command a user types: click, the CLI's own imports, the
    summary) of a one-task project that has run before, output to a pipe."""
    text = SCENARIOS["one"][0]
    project = _project(text)
    argv = [sys.executable, "-m", "digpy", "run", "bench", "--project", str(project), "--rerun"]

    def once() -> float:
        start = time.perf_counter()
        subprocess.run(argv, check=True, cwd=REPO, env=_env(), stdout=subprocess.DEVNULL)
        return time.perf_counter() - start

    once()
    return _median(once, RUNS)


def main(selected: list[str]) -> None:
    rows = []
    for name, (text, what, threads, budget) in SCENARIOS.items():
        if selected and name not in selected:
            continue
        runs = 3 if name in ("big10000", "loop10000") else RUNS
        median, spread = _median(lambda t=text, n=threads: _child_run(t, n), runs)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        verdict = "ok" if median <= budget else "OVER"
        rows.append([what, f"{median:.2f}s", f"±{spread:.2f}", f"≤ {budget}s", f"{rss:.0f} MB",
                     verdict])
    if not selected or "one" in selected:
        median, spread = _one_task_again()
        rows.append(["one-task run, existing project", f"{median:.2f}s", f"±{spread:.2f}",
                     "≤ 0.35s", "", "ok" if median <= 0.35 else "OVER"])
        median, spread = _one_task_cli()
        rows.append(["`digpy run` of one task, existing project", f"{median:.2f}s",
                     f"±{spread:.2f}", "≤ 0.35s", "", "ok" if median <= 0.35 else "OVER"])
    if not selected or "sh100" in selected:
        rows.append(_sh_whole())
    if not selected or "sh-warm" in selected:
        rows.append(_sh_warm())
    print_table(rows, ["scenario", "median", "spread", "budget", "peak RSS*", "verdict"])
    print("* peak RSS is the largest child so far (ru_maxrss of finished children)")


if __name__ == "__main__":
    main(sys.argv[1:])
