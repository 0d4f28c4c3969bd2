"""Engine benchmarks: wall time (median of several runs, each a fresh Python process, so
start-up and imports count) and peak memory, against the budgets of the engine issue.

    python3 bench/bench_engine.py            # all scenarios
    python3 bench/bench_engine.py seq1000    # one scenario

Each run builds a throwaway project, then a child process loads it and runs it with
``LocalEngine`` (the same facade ``digpy run`` uses), writing state to ``.digpy/state.db``.
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


def _sh_loop() -> tuple[float, float]:
    """100 sequential ``sh>: true`` vs a plain loop of subprocess.run, both as whole
    processes (interpreter start-up included on both sides)."""
    text = _seq(100, "sh>: 'true'")
    engine, _ = _median(lambda: _child_run(text, 0), RUNS)
    code = "import subprocess\nfor _ in range(100): subprocess.run(['/bin/sh', '-c', 'true'])\n"

    def plain() -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=_env())
        return time.perf_counter() - start

    baseline, _ = _median(plain, RUNS)
    return engine, baseline


def _one_task_again() -> tuple[float, float]:
    """A one-task run in a project that has run before (the store exists)."""
    text = SCENARIOS["one"][0]
    project = _project(text)
    _child_run(text, 0, project)
    return _median(lambda: _child_run(text, 0, project), RUNS)


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
    if not selected or "sh100" in selected:
        engine, baseline = _sh_loop()
        ratio = engine / baseline
        rows.append(["100 sequential sh> true", f"{engine:.2f}s", f"loop {baseline:.2f}s",
                     "≤ 1.5x loop", f"x{ratio:.2f}", "ok" if ratio <= 1.5 else "OVER"])
    print_table(rows, ["scenario", "median", "spread", "budget", "peak RSS*", "verdict"])
    print("* peak RSS is the largest child so far (ru_maxrss of finished children)")


if __name__ == "__main__":
    main(sys.argv[1:])
