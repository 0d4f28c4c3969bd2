from __future__ import annotations

from .harness import Harness, compile_text


def test_two_sequential_tasks_run_in_order(harness: Harness) -> None:
    wf = compile_text("+a: {trace>: a}\n+b: {trace>: b, store: {x: 1}}\n+c: {trace>: '${x}'}\n")
    with harness.engine() as engine:
        result = engine.run(wf)
    assert harness.trace.entries == ["a", "b", "1"]
    assert result.success, result
