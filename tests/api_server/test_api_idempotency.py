"""Idempotent starts (reliability C6): ``PUT /api/attempts`` with one idempotency key starts
one attempt however many requests race, and every request answers 200 with it; the client
sends one key per user action and retries once when the answer is lost. Real HTTP against a
live daemon; the lost answer comes from a real proxy that drops the first reply."""

from __future__ import annotations

import json
import re
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from api_helpers import write_project
from live_server import LiveServer

from digpy.cli import main

RACERS = 50


def put_attempt(server: LiveServer, body: dict[str, Any], key: str | None) -> tuple[int, Any]:
    request = urllib.request.Request(server.url + "/api/attempts", method="PUT",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    if key is not None:
        request.add_header("Idempotency-Key", key)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def race(server: LiveServer, body: dict[str, Any], key: str | None) -> list[tuple[int, Any]]:
    gate = threading.Barrier(RACERS)

    def one(_: int) -> tuple[int, Any]:
        gate.wait()
        return put_attempt(server, body, key)

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(one, range(RACERS)))


@pytest.fixture(scope="module")
def workflow_id(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    root = write_project(tmp_path_factory.mktemp("idem"), {"hello.dig": "+hi:\n  echo>: hi\n"})
    project = server.push("idem", root)
    return str(server.get(f"/api/projects/{project['id']}/workflows/hello")["id"])


def attempts_of_session(server: LiveServer, attempt: dict[str, Any]) -> list[Any]:
    return list(server.get(f"/api/attempts/{attempt['id']}/retries")["attempts"])


def test_fifty_concurrent_starts_with_one_key_make_one_attempt_and_all_answer_it(
        server: LiveServer, workflow_id: str) -> None:
    body = {"workflowId": workflow_id, "sessionTime": "2024-01-01T00:00:00+00:00"}
    answers = race(server, body, "start-key-1")
    assert {status for status, _ in answers} == {200}, answers[:3]
    ids = {reply["id"] for _, reply in answers}
    assert len(ids) == 1
    assert len(attempts_of_session(server, answers[0][1])) == 1


def test_fifty_concurrent_retries_with_one_request_id_make_one_new_attempt(
        server: LiveServer, workflow_id: str) -> None:
    body = {"workflowId": workflow_id, "sessionTime": "2024-01-02T00:00:00+00:00"}
    status, first = put_attempt(server, body, None)
    assert status == 200
    server.wait_done(first["id"])
    retry = {**body, "retryAttemptName": "again", "requestId": "retry-key-1"}
    answers = race(server, retry, None)
    assert {status for status, _ in answers} == {200}, answers[:3]
    assert len({reply["id"] for _, reply in answers}) == 1
    assert len(attempts_of_session(server, first)) == 2


def test_without_a_key_a_repeated_start_is_still_409(
        server: LiveServer, workflow_id: str) -> None:
    body = {"workflowId": workflow_id, "sessionTime": "2024-01-03T00:00:00+00:00"}
    assert put_attempt(server, body, None)[0] == 200
    status, reply = put_attempt(server, body, None)
    assert status == 409 and "already has an attempt" in reply["message"]


def test_a_key_reused_for_another_session_is_409_naming_the_first_attempt(
        server: LiveServer, workflow_id: str) -> None:
    first = {"workflowId": workflow_id, "sessionTime": "2024-01-04T00:00:00+00:00"}
    status, created = put_attempt(server, first, "reused-key")
    assert status == 200
    other = {**first, "sessionTime": "2024-01-05T00:00:00+00:00"}
    status, reply = put_attempt(server, other, "reused-key")
    assert status == 409 and reply["id"] == created["id"]
    assert "another workflow or session" in reply["message"]


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_an_empty_or_overlong_key_is_400(server: LiveServer, workflow_id: str,
                                         key: str) -> None:
    body = {"workflowId": workflow_id, "sessionTime": "2024-01-06T00:00:00+00:00",
            "requestId": key}
    status, reply = put_attempt(server, body, None)
    assert status == 400 and "idempotency key" in reply["message"]


class LosingProxy:
    """Forwards HTTP requests to the server, but swallows the first ``PUT`` answer and
    closes the client's connection: the start happened, the client never heard."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("http://").rstrip("/").split(":")
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.lost = 0
        self.puts: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with client:
                request = _read_request(client)
                with socket.create_connection(self.target) as upstream:
                    upstream.sendall(request)
                    reply = _read_all(upstream)
                if request.startswith(b"PUT "):
                    self.puts.append(request)
                    if not self.lost:
                        self.lost += 1
                        continue  # closes the client's connection without an answer
                client.sendall(reply)

    def close(self) -> None:
        self.listener.close()


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    found = re.search(rb"(?i)content-length:\s*(\d+)", head)
    length = int(found.group(1)) if found else 0
    while len(body) < length:
        body += conn.recv(65536)
    # One request per connection: the upstream answers and closes.
    head = re.sub(rb"(?i)\r\nconnection:[^\r]*", b"", head) + b"\r\nConnection: close"
    return head + b"\r\n\r\n" + body


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture
def losing_proxy(server: LiveServer) -> Iterator[LosingProxy]:
    proxy = LosingProxy(server.url)
    yield proxy
    proxy.close()


def test_digpy_start_retries_a_lost_answer_with_the_same_key_and_starts_one_attempt(
        server: LiveServer, workflow_id: str, losing_proxy: LosingProxy,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIGPY_API_TOKEN", raising=False)
    code = main(["start", "idem", "hello", "--session", "2024-02-01", "-e", losing_proxy.url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert losing_proxy.lost == 1 and len(losing_proxy.puts) == 2
    keys = {json.loads(put.partition(b"\r\n\r\n")[2])["requestId"] for put in losing_proxy.puts}
    assert len(keys) == 1  # one key for the user's one action
    found = re.search(r"^  attempt id: (\d+)$", out, re.MULTILINE)
    assert found, out
    attempt = server.get(f"/api/attempts/{found.group(1)}")
    assert len(attempts_of_session(server, attempt)) == 1
