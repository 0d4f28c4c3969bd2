"""Who may call the API: with a token every route needs it (``/metrics`` stays open on
loopback); a non-loopback bind without a token refuses to start; a taken port exits 1;
after SIGTERM the API answers 503 while running tasks drain (reliability A1, A2, R7)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import write_project
from live_server import LiveServer, live_server, wait_for

from digpy.cli import main

TOKEN = "t0ken-for-tests"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("guarded"), token=TOKEN) as running:
        yield running


def test_with_a_token_a_request_without_it_or_with_a_wrong_one_is_401(
        guarded: LiveServer) -> None:
    for token in (None, "wrong", TOKEN + "x"):
        answer = guarded.request("GET", "/api/projects", token=token)
        assert answer.status == 401
        assert answer.json() == {"message": answer.json()["message"], "status": 401}
        assert "token" in answer.json()["message"]
    assert guarded.request("GET", "/api/projects").status == 200  # the fixture sends it


def test_every_route_answers_401_without_the_token(guarded: LiveServer) -> None:
    document = guarded.get("/api/openapi.json")
    for path, operations in document["paths"].items():
        if path == "/metrics":
            continue
        concrete = path.replace("{id}", "1").replace("{attempt_id}", "1") \
            .replace("{name}", "x").replace("{key}", "k").replace("{file}", "f")
        for method in operations:
            answer = guarded.request(method.upper(), concrete, token=None)
            assert answer.status == 401, (method, path)


def test_metrics_need_no_token_on_loopback(guarded: LiveServer) -> None:
    answer = guarded.request("GET", "/metrics", token=None)
    assert answer.status == 200 and "digpy_up 1" in answer.text


def test_binding_beyond_loopback_without_a_token_refuses_to_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DIGPY_API_TOKEN", raising=False)
    code = main(["server", "--bind", "0.0.0.0", "--data-dir", str(tmp_path / "data")])
    err = capsys.readouterr().err
    assert code == 2
    assert "without a token" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "data" / "digpy.db").exists()  # refused before opening anything


def test_a_taken_port_exits_1_with_a_one_line_message(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "digpy", "server", "--data-dir", str(tmp_path),
             "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert f"cannot serve the API on 127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_while_draining_after_sigterm_the_api_answers_503_then_the_daemon_exits_0(
        tmp_path: Path) -> None:
    started, finished = tmp_path / "started", tmp_path / "finished"
    project = write_project(tmp_path / "slow", {
        "slow.dig": f"+nap:\n  sh>: touch {started}; sleep 4; touch {finished}\n"})
    with live_server(tmp_path / "data") as server:
        pushed = server.push("slow", project)
        server.start(pushed["id"], "slow", "2024-05-01T00:00:00+00:00")
        wait_for(started.exists, 60, "the task to start")
        server.proc.send_signal(signal.SIGTERM)
        answers: list[int] = []

        def refused() -> bool:
            answers.append(server.request("GET", "/api/version").status)
            return answers[-1] == 503

        wait_for(refused, 30, "a 503 while draining")
        body = server.request("GET", "/api/projects")
        assert body.status == 503 and body.json()["message"] == "digpy server is stopping"
        assert body.headers["retry-after"] == "5"
        assert server.proc.wait(60) == 0
    assert finished.exists()  # the running task finished before the exit
