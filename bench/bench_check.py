"""`digpy check` on a 1,000-task workflow (budget 0.5 s) and `digpy --help` (budget 0.15 s).

Run: python3 bench/bench_check.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import median_seconds, print_table, run_command


def write_big_workflow(folder: Path, groups: int = 50, per_group: int = 19) -> int:
    lines = ["timezone: UTC", "_export:", "  greeting: hi", ""]
    for g in range(groups):
        lines.append(f"+group{g}:")
        if g % 2:
            lines += ["  _parallel: true"]
        for t in range(per_group):
            lines += [f"  +task{t}:", f"    echo>: ${{greeting}} {g}-{t}"]
    (folder / "big.dig").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 1 + groups * (per_group + 1)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="digpy-bench-"))
    try:
        tasks = write_big_workflow(folder)
        # The script next to the interpreter: a version-manager shim (pyenv) would add ~80 ms.
        beside = Path(sys.executable).parent / "digpy"
        digpy = str(beside) if beside.exists() else (shutil.which("digpy") or "digpy")

        def in_process() -> None:
            from digpy.dsl.project import load_project

            load_project(folder)

        in_process()  # warm imports once; the subprocess row includes start-up
        rows = []
        for label, fn, budget in (
            (f"load+compile {tasks} tasks (in-process)", in_process, "-"),
            (f"digpy check, {tasks} tasks (subprocess)",
             lambda: run_command([digpy, "check", str(folder)]), "0.50"),
            ("digpy --help (subprocess)", lambda: run_command([digpy, "--help"]), "0.15"),
        ):
            med, spread = median_seconds(fn, runs=7)
            rows.append((label, f"{med:.3f}", f"{spread:.3f}", budget))
        print_table(rows, ("benchmark", "median s", "spread s", "budget s"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
