"""Control-flow patterns end to end, as data: every entry of ``flow_cases/*.yaml`` is a small
project run through ``LocalEngine`` with the REAL operators (loop>, for_each>, for_range>,
if>, call>, py>, sh>, echo>, fail>, http>) from the entry-point registry.

A case is a mapping:

``name``
    A sentence; it is the test id (unique over all files).
``files``
    Path -> text, written under the project directory: the ``.dig`` files, callees, Python
    task modules and scripts (``*.sh`` files are made executable). Every project also gets
    ``flowtrace.py``, whose ``trace(line)`` appends a line to ``<project>/trace.txt`` (the
    file ``sh>: echo ... >> trace.txt`` writes at the project root, created empty before
    the run), so py> tasks can trace.
``workflow``
    The workflow to run (``main`` by default: ``main.dig``).
``params``, ``session_time``, ``task_limit``, ``threads`` (4)
    Passed to the engine. ``clock: real`` uses the system clock; the default is a
    ``FakeClock`` at the session time (``2016-01-30T00:00:00Z`` unless given), so retry
    intervals cost nothing while subprocesses still run for real.
``webhook: true``
    Starts an HTTP server on 127.0.0.1 that records every request body (answers 200) and
    passes its URL as the param ``webhook``.
``xfail``
    The reason the case fails today (a bug in the engine or an operator); strict.
``expect``
    ``status`` (the attempt's: success / error); ``trace``: the lines of ``trace.txt`` in
    order, where a nested list is a run of lines in any order (the parallel parts);
    ``tasks``: every task name of the attempt, exactly, in creation order (first row per
    name); ``states``: name -> state of the newest row; ``rows``: name -> how many rows
    (retries keep the old rows); ``absent``: names that must never have been created;
    ``stores``: the attempt's merged store params, exactly; ``error``: substrings of the
    attempt's error message; ``errors``: name -> substring of that task's error message;
    ``started``: name -> seconds from the session time to when the newest row started (on
    the FakeClock, which moves only while the engine waits); ``posted``: one entry per
    webhook request, in order: a substring (or a list of them) that its body contains.
"""

from __future__ import annotations

import stat
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from digpy.agent.local import LocalEngine
from digpy.clock import Clock, FakeClock, SystemClock
from digpy.dsl.compiler import compile_workflow
from digpy.dsl.loader import load_file
from digpy.engine.results import RunResult

CASES = Path(__file__).resolve().parent / "flow_cases"
START = datetime(2016, 1, 30, tzinfo=UTC)
TRACE = "trace.txt"
KNOWN_KEYS = {"name", "files", "workflow", "params", "session_time", "task_limit", "threads",
              "clock", "webhook", "xfail", "expect"}
KNOWN_EXPECT = {"status", "trace", "tasks", "states", "rows", "absent", "stores", "error",
                "errors", "posted", "started"}
FLOWTRACE = '''"""Test helper: append a line to the project's trace.txt."""
from pathlib import Path


def trace(line):
    with open(Path(__file__).resolve().parent / "trace.txt", "a", encoding="utf-8") as out:
        out.write(str(line) + "\\n")
'''


def _load() -> list[Any]:
    params: list[Any] = []
    seen: set[str] = set()
    for path in sorted(CASES.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            name = case["name"]
            assert name not in seen, f"{path.name}: duplicate case name {name!r}"
            assert not set(case) - KNOWN_KEYS, f"{name}: unknown keys {set(case) - KNOWN_KEYS}"
            unknown = set(case["expect"]) - KNOWN_EXPECT
            assert not unknown, f"{name}: unknown expectations {unknown}"
            seen.add(name)
            xfail = case.get("xfail")
            marks = [pytest.mark.xfail(reason=xfail, strict=True)] if xfail else []
            params.append(pytest.param(case, id=name, marks=marks))
    return params


class Webhook:
    """A local HTTP endpoint that records request bodies."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                bodies.append(self.rfile.read(length).decode("utf-8", "replace"))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Webhook:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with Webhook() as hook:
        yield hook


def _session_time(value: Any) -> datetime:
    if value is None:
        return START
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    assert when.tzinfo is not None, "session_time needs an offset"
    return when


def _write_project(root: Path, files: Mapping[str, str]) -> None:
    (root / "flowtrace.py").write_text(FLOWTRACE, encoding="utf-8")
    (root / TRACE).write_text("", encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if path.suffix == ".sh":
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def run_case(case: Mapping[str, Any], root: Path, hook: Webhook | None) -> RunResult:
    _write_project(root, case["files"])
    name = case.get("workflow", "main")
    workflow = compile_workflow(name, load_file(root / f"{name}.dig", project_root=root),
                                source=f"{name}.dig")
    session_time = _session_time(case.get("session_time"))
    clock: Clock = SystemClock() if case.get("clock") == "real" else FakeClock(session_time)
    params = dict(case.get("params") or {})
    if hook is not None:
        params["webhook"] = hook.url
    with LocalEngine(root, clock=clock, max_task_threads=case.get("threads", 4),
                     task_limit=case.get("task_limit", 1000), echo=lambda _line: None) as engine:
        return engine.run(workflow, session_time=session_time, params=params)


def trace_lines(root: Path) -> list[str]:
    return (root / TRACE).read_text(encoding="utf-8").splitlines()


def match_trace(actual: Sequence[str], expected: Sequence[Any]) -> bool:
    """``expected`` items are a line, or a list of lines that come next in any order."""
    position = 0
    for item in expected:
        chunk = [str(line) for line in item] if isinstance(item, list) else [str(item)]
        got = list(actual[position:position + len(chunk)])
        if sorted(got) != sorted(chunk):
            return False
        position += len(chunk)
    return position == len(actual)


def describe(result: RunResult, root: Path) -> str:
    rows = [f"  {t.full_name} = {t.state}" + (f" {dict(t.error)}" if t.error else "")
            for t in result.tasks]
    return "\n".join([f"status {result.status.value}, error {result.error}", *rows,
                      f"trace {trace_lines(root)}", f"stores {dict(result.store_params)}"])


def check(expect: Mapping[str, Any], result: RunResult, root: Path,
          hook: Webhook | None) -> None:
    why = describe(result, root)
    newest = {t.full_name: t for t in result.tasks}
    if "status" in expect:
        assert result.status.value == expect["status"], why
    if "trace" in expect:
        lines = trace_lines(root)
        assert match_trace(lines, expect["trace"]), f"trace {lines} != {expect['trace']}\n{why}"
    if "tasks" in expect:
        assert list(newest) == expect["tasks"], why
    for name, state in expect.get("states", {}).items():
        assert name in newest, f"{name} was never created\n{why}"
        assert newest[name].state == state, f"{name}\n{why}"
    if "rows" in expect:
        counts = {n: sum(t.full_name == n for t in result.tasks) for n in expect["rows"]}
        assert counts == expect["rows"], why
    for name in expect.get("absent", []):
        assert name not in newest, f"{name} should not exist\n{why}"
    if "stores" in expect:
        assert _plain(result.store_params) == expect["stores"], why
    if "error" in expect:
        message = (result.error or {}).get("message", "")
        for text in _as_list(expect["error"]):
            assert text in message, f"{text!r} not in the attempt error {message!r}\n{why}"
    for name, text in expect.get("errors", {}).items():
        message = (newest[name].error or {}).get("message", "") if name in newest else ""
        assert text in message, f"{name}: {text!r} not in {message!r}\n{why}"
    for name, seconds in expect.get("started", {}).items():
        started = newest[name].started_at if name in newest else None
        assert started is not None, f"{name} never started\n{why}"
        offset = (started - result.session_time).total_seconds()
        assert offset == seconds, f"{name} started at {offset} s, not {seconds} s\n{why}"
    if "posted" in expect:
        assert hook is not None, "posted needs webhook: true"
        assert len(hook.bodies) == len(expect["posted"]), f"posted {hook.bodies}\n{why}"
        for body, wanted in zip(hook.bodies, expect["posted"], strict=True):
            for text in _as_list(wanted):
                assert text in body, f"{text!r} not in the posted body {body!r}"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize("case", _load())
def test_control_flow_case(case: Mapping[str, Any], tmp_path: Path,
                           request: pytest.FixtureRequest) -> None:
    hook = request.getfixturevalue("webhook") if case.get("webhook") else None
    root = tmp_path / "project"
    root.mkdir()
    result = run_case(case, root, hook)
    check(case["expect"], result, root, hook)


def test_the_trace_matcher_takes_nested_lists_as_unordered_runs() -> None:
    assert match_trace(["a", "c", "b", "d"], ["a", ["b", "c"], "d"])
    assert not match_trace(["a", "b", "d", "c"], ["a", ["b", "c"], "d"])
    assert not match_trace(["a", "b", "c"], ["a", "b"])
    assert not match_trace(["a"], ["a", "b"])
