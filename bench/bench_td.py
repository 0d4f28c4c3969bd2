"""td> on the local backend: create_table with a GROUP BY over 1,000,000 rows (budget 2 s) and
the overhead of a trivial query (budget 20 ms), medians of several runs in one process.

Run: python3 bench/bench_td.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "operators"), str(ROOT / "bench")]

from _table import median_seconds, print_table  # noqa: E402
from digpy_operators.td import TdOperator  # noqa: E402

from digpy.spi.testing import make_context  # noqa: E402

ROWS = 1_000_000
GROUP_BY = """
SELECT TD_TIME_FORMAT(time, 'yyyy-MM-dd', 'JST') AS day, item,
       count(1) AS n, sum(qty) AS qty, approx_distinct(user_id) AS users
FROM events
WHERE TD_TIME_RANGE(time, '2016-01-01', '2016-03-01', 'JST')
GROUP BY 1, 2
"""
SEED = f"""
SELECT 1451606400 + (i * 5) AS time, 'item' || CAST(i % 50 AS varchar) AS item,
       i % 7 AS qty, i % 10007 AS user_id
FROM UNNEST(sequence(1, {ROWS})) AS t(i)
"""


def td(project: Path, **config: Any) -> dict[str, Any]:
    ctx = make_context(project, operator="td", config={"td": {"database": "bench"}, **config})
    return dict(TdOperator(ctx).run().store_params)


def main() -> None:
    project = Path(tempfile.mkdtemp(prefix="digpy-bench-td-"))
    try:
        seed = td(project, query=SEED, create_table="events")
        assert seed["td"]["last_job"]["num_records"] == ROWS
        td(project, query="SELECT 1")  # warm imports and the open DuckDB file
        rows = []
        for label, fn, runs, budget in (
            (f"td> create_table, GROUP BY over {ROWS:,} rows",
             lambda: td(project, query=GROUP_BY, create_table="daily"), 5, "2.000"),
            ("td> trivial query (SELECT 1), overhead",
             lambda: td(project, query="SELECT 1 AS one"), 30, "0.020"),
            ("td> trivial query with store_last_results",
             lambda: td(project, query="SELECT 1 AS one", store_last_results=True), 30, "-"),
        ):
            med, spread = median_seconds(fn, runs=runs)
            rows.append((label, f"{med:.4f}", f"{spread:.4f}", budget))
        print_table(rows, ("benchmark", "median s", "spread s", "budget s"))
    finally:
        shutil.rmtree(project, ignore_errors=True)


if __name__ == "__main__":
    main()
