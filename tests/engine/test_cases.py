"""Data-driven engine cases: each entry of tests/engine/cases/*.yaml is a ``.dig`` text, how
to run it, and what must happen (the order tasks ran in, final states, errors, stored
values, the params an operator saw). ``then`` lists follow-up runs or retries of the same
project, each with its own expectations.

Expectation keys: ``status``; ``trace`` (exact order of test-operator runs) or
``trace_set`` (any order); ``states`` and ``errors`` (newest row per task name; errors
match by substring); ``stores`` (merged store params, subset); ``configs`` (params an
operator saw, subset); ``retry_counts``; ``rows`` (how many rows per name); ``started``
(seconds from the session time to when a task was claimed, on the FakeClock)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from digpy.engine.results import RunResult
from digpy.model.states import ALLOWED

from .harness import START, Harness, KillOnStart, compile_text

CASES = Path(__file__).parent / "cases"


def _load() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            params.append(pytest.param(case, id=f"{path.stem}: {case['name']}"))
    return params


@pytest.mark.parametrize("case", _load())
def test_engine_case(case: Mapping[str, Any], tmp_path: Path, template_db: Path) -> None:
    listeners = [KillOnStart(case["kill_on_start"])] if "kill_on_start" in case else []
    harness = Harness(
        project=tmp_path,
        template_db=template_db,
        listeners=listeners,
        task_limit=case.get("task_limit", 1000),
        max_task_threads=case.get("threads", 1),
    )
    workflow = compile_text(case["dig"])
    with harness.engine() as engine:
        result = engine.run(workflow, **_run_options(case.get("run", {}), case))
        _check(case["expect"], result, harness)
        for step in case.get("then", []):
            harness.trace.entries.clear()
            if step["action"] == "retry":
                result = engine.retry(result.attempt_id, **step.get("options", {}))
            else:
                again = compile_text(step["dig"]) if "dig" in step else workflow
                result = engine.run(again, **_run_options(step.get("options", {}), case))
            _check(step["expect"], result, harness)
    taken = harness.edges.seen
    assert all(after in ALLOWED[before] for before, after in taken), taken


def _run_options(options: Mapping[str, Any], case: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(options)
    if "params" in case and "params" not in out:
        out["params"] = case["params"]
    if "session_time" in case and "session_time" not in out:
        out["session_time"] = case["session_time"]
    return out


def _check(expect: Mapping[str, Any], result: RunResult, harness: Harness) -> None:
    newest = {t.full_name: t for t in result.tasks}
    if "status" in expect:
        assert result.status.value == expect["status"], _describe(result)
    if "trace" in expect:
        assert harness.trace.entries == expect["trace"], _describe(result)
    if "trace_set" in expect:
        assert sorted(harness.trace.entries) == sorted(expect["trace_set"])
    for name, state in expect.get("states", {}).items():
        assert newest[name].state == state, f"{name}: {_describe(result)}"
    for name, text in expect.get("errors", {}).items():
        message = (newest[name].error or {}).get("message", "")
        assert text in message, f"{name}: {message!r}"
    for name, offset in expect.get("started", {}).items():
        started = newest[name].started_at
        assert started is not None and (started - START).total_seconds() == offset, name
    for name, count in expect.get("retry_counts", {}).items():
        assert newest[name].retry_count == count
    if "rows" in expect:
        counts = Counter(t.full_name for t in result.tasks)
        assert {n: counts[n] for n in expect["rows"]} == expect["rows"]
    if "absent" in expect:
        assert not set(expect["absent"]) & set(newest)
    _subset(result.store_params, expect.get("stores", {}), "stores")
    for name, wanted in expect.get("configs", {}).items():
        _subset(harness.trace.configs[name], wanted, name)
    for name, keys in expect.get("missing_params", {}).items():
        for dotted in keys:  # "a.b" is b inside a
            *path, last = dotted.split(".")
            scope: Any = harness.trace.configs[name]
            for part in path:
                scope = scope.get(part, {}) if isinstance(scope, Mapping) else {}
            assert last not in scope, f"{name}: {dotted} should not be set"


def _subset(actual: Mapping[str, Any], wanted: Mapping[str, Any], where: str) -> None:
    for key, value in wanted.items():
        assert key in actual, f"{where}: {key} missing from {dict(actual)}"
        if isinstance(value, Mapping) and isinstance(actual[key], Mapping):
            _subset(actual[key], value, f"{where}.{key}")
        else:
            assert actual[key] == value, f"{where}.{key}: {actual[key]!r} != {value!r}"


def _describe(result: RunResult) -> str:
    rows = [f"{t.full_name}={t.state}{' ' + str(t.error) if t.error else ''}" for t in result.tasks]
    return f"{result.status.value}: " + ", ".join(rows)
