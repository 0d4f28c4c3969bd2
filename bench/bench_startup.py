"""Start-up of a run: what a fresh process spends before its first task, in three spans --
the imports (``digpy.dsl.project``, ``digpy.agent.local``), ``load_project`` of a 100-task
``sh>`` project (PyYAML's import included) and opening the store (``LocalEngine(...)``).

    python3 bench/bench_startup.py                    # this checkout, 15 fresh processes
    python3 bench/bench_startup.py /tmp/old-checkout  # alternate with another checkout

Each sample is a fresh interpreter (``perf_counter`` spans printed by the child); with a
second checkout the two alternate, so machine noise hits both alike. Medians.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import print_table

REPO = Path(__file__).resolve().parent.parent
RUNS = 15

CHILD = """
import sys, time
start = time.perf_counter()
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from digpy.dsl.project import load_project
from digpy.agent.local import LocalEngine
imported = time.perf_counter()
project = load_project(Path(sys.argv[2]))
loaded = time.perf_counter()
with LocalEngine(Path(sys.argv[2])):
    opened = time.perf_counter()
print(imported - start, loaded - imported, opened - loaded)
"""
SPANS = ("imports", "load_project", "store open")


def _sample(checkout: str, project: Path) -> list[float]:
    # Compiled bytecode, as an installed digpy has (PYTHONDONTWRITEBYTECODE would make every
    # start recompile from source and measure that instead).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run([sys.executable, "-c", CHILD, checkout, str(project)], check=True,
                         env=env, capture_output=True, text=True).stdout
    return [float(x) for x in out.split()]


def main(others: list[str]) -> None:
    project = Path(tempfile.mkdtemp(prefix="digpy-startup-"))
    (project / "bench.dig").write_text("".join(f"+t{i}:\n  sh>: 'true'\n" for i in range(100)))
    checkouts = [str(REPO), *others]
    samples: dict[str, list[list[float]]] = {c: [] for c in checkouts}
    for checkout in checkouts:
        _sample(checkout, project)  # warm-up: bytecode written, files cached
    for _ in range(RUNS):
        for checkout in checkouts:
            samples[checkout].append(_sample(checkout, project))
    rows = []
    for checkout, runs in samples.items():
        medians = [statistics.median(span) * 1000 for span in zip(*runs, strict=True)]
        rows.append([checkout, *(f"{m:.1f} ms" for m in medians), f"{sum(medians):.1f} ms"])
    print_table(rows, ["checkout", *SPANS, "total"])


if __name__ == "__main__":
    main(sys.argv[1:])
