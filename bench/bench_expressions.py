"""`${...}` rendering speed: the closure compiler digpy uses against the Jinja2-sandbox
backend, on the same templates (each compiled once and cached).

Targets: >= 50,000 renders/s of ${session_date_compact}; >= 10,000 renders/s of
${moment(session_time).add(1,'days').format('YYYYMMDD')}. Prints the median of 5 runs.

Run: python3 bench/bench_expressions.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import median_seconds, print_table

from digpy.dsl import template
from digpy.dsl.builtins import session_variables
from digpy.dsl.expr import compile_expression
from digpy.dsl.expr.jinja_backend import compile_jinja
from digpy.dsl.sessiontime import parse_session_time

PARAMS = {
    "timezone": "UTC", "n": 5, "name": "Alice", "tables": ["a", "b", "c"],
    "td": {"last_results": {"cnt": 0, "status": "done"}},
    **session_variables(parse_session_time("2016-01-30", "UTC"), "UTC"),
}
TEMPLATES = {
    "${session_date_compact}": "${session_date_compact}",
    "moment add+format": "${moment(session_time).add(1,'days').format('YYYYMMDD')}",
    "ternary on td result": "${td.last_results.cnt == 0 ? 'empty' : 'rows: ' + "
                            "td.last_results.cnt}",
    "SQL line, 2 exprs": "SELECT * FROM ${tables[0]} WHERE d = '${session_date}' -- ${name}",
    "map with a function": "${tables.map(function(t){ return t.toUpperCase() }).join(',')}",
}
CONFIG = {f"k{i}": (f"${{session_date}}_{i}" if i % 3 == 0 else
                    f"${{k{i - 1}}}-${{n * {i}}}" if i % 3 == 1 else
                    {"nested": "${timezone}", "n": i}) for i in range(30)}


@contextmanager
def backend(name: str) -> Iterator[None]:
    """Swap the expression compiler template.py uses (and drop its caches)."""
    original = template.compile_expression
    template.compile_expression = compile_jinja if name == "jinja" else compile_expression
    template._scan.cache_clear()
    try:
        yield
    finally:
        template.compile_expression = original
        template._scan.cache_clear()


def rate(fn: Callable[[], object], count: int) -> float:
    fn()  # compile and warm caches outside the timing

    def batch() -> None:
        for _ in range(count):
            fn()

    seconds, _ = median_seconds(batch, runs=5)
    return count / seconds


def cold_compile_ms(name: str) -> float:
    compile_fn = compile_jinja if name == "jinja" else compile_expression
    sources = [f"moment(session_time).add({i}, 'days').format('YYYYMMDD') + x{i}"
               for i in range(200)]
    start = time.perf_counter()
    for source in sources:
        compile_fn.__wrapped__(source)  # type: ignore[attr-defined]
    return (time.perf_counter() - start) / len(sources) * 1000


def main() -> None:
    rows = []
    results: dict[str, dict[str, float]] = {}
    for name in ("direct", "jinja"):
        with backend(name):
            results[name] = {label: rate(lambda t=text: template.render(t, PARAMS), 20_000)
                             for label, text in TEMPLATES.items()}
            results[name]["evaluate_config, 30 keys"] = rate(
                lambda: template.evaluate_config(CONFIG, PARAMS), 300)
            results[name]["cold compile (ms each)"] = cold_compile_ms(name)
    for label in results["direct"]:
        direct, jinja = results["direct"][label], results["jinja"][label]
        if label.startswith("cold"):
            rows.append([label, f"{direct:.3f}", f"{jinja:.3f}", f"{jinja / direct:.1f}x"])
        else:
            rows.append([label, f"{direct:,.0f}/s", f"{jinja:,.0f}/s", f"{direct / jinja:.1f}x"])
    print_table(rows, ["template", "direct (closures)", "jinja2 sandbox", "direct advantage"])


if __name__ == "__main__":
    main()
