"""http>: real requests to http.server instances on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from digpy_operators.http import MAX_RETRIES, HttpOperator

from digpy.agent.logs import TaskLogWriter
from digpy.errors import ConfigError, PollAgain, TaskFailed
from digpy.secrets import Masker, SecretAccess
from digpy.spi import TaskResult
from digpy.spi.operator import OperatorContext
from digpy.spi.testing import RecordingLog, make_context


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Server:
    """Records every request; answers from a per-path script (the last reply repeats)."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.script: dict[str, list[Reply]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                server.seen.append(Seen(self.command, parts.path,
                                        urllib.parse.parse_qs(parts.query, True),
                                        dict(self.headers.items()), self.rfile.read(length)))
                replies = server.script.get(parts.path) or [Reply()]
                reply = replies.pop(0) if len(replies) > 1 else replies[0]
                time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle
            do_OPTIONS = do_TRACE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


@pytest.fixture
def other_server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def _ctx(tmp_path: Path, uri: str, **kw: Any) -> OperatorContext:
    config = {"_command": uri, **kw.pop("params", {})}
    return make_context(tmp_path, operator="http", config=config, **kw)


def _run(tmp_path: Path, uri: str, **kw: Any) -> TaskResult:
    return HttpOperator(_ctx(tmp_path, uri, **kw)).run()


def _log(ctx: OperatorContext) -> str:
    assert isinstance(ctx.log, RecordingLog)
    return ctx.log.text


# -- requests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
def test_each_method_is_sent_as_given(tmp_path: Path, server: Server, method: str) -> None:
    result = _run(tmp_path, server.url("/m"), params={"method": method.lower()})
    assert [s.method for s in server.seen] == [method]
    assert result.store_params == {"http": {"last_status": 200}}


def test_get_is_the_default_and_the_status_is_stored_with_reset_keys(
    tmp_path: Path, server: Server
) -> None:
    ctx = _ctx(tmp_path, server.url("/x"))
    result = HttpOperator(ctx).run()
    assert server.seen[0].method == "GET"
    assert result.store_params == {"http": {"last_status": 200}}
    assert result.reset_store_params == ("http.last_status", "http.last_content")
    assert _log(ctx).splitlines() == [f"Sending HTTP request: GET {server.url('/x')}",
                                      "Received HTTP response: 200 OK"]


def test_a_json_object_is_sent_as_json_by_default(tmp_path: Path, server: Server) -> None:
    _run(tmp_path, server.url(), params={"method": "POST", "content": {"a": [1, "ü"]}})
    assert server.seen[0].headers["Content-Type"] == "application/json"
    assert json.loads(server.seen[0].body) == {"a": [1, "ü"]}


def test_a_map_with_content_format_form_is_form_encoded(tmp_path: Path, server: Server) -> None:
    _run(tmp_path, server.url(), params={
        "method": "POST", "content": {"q": "a b&c", "n": 1, "ok": True}, "content_format": "form"})
    assert server.seen[0].headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert urllib.parse.parse_qs(server.seen[0].body.decode()) == {
        "q": ["a b&c"], "n": ["1"], "ok": ["true"]}


def test_a_scalar_is_sent_as_text_and_content_type_overrides(tmp_path: Path,
                                                             server: Server) -> None:
    _run(tmp_path, server.url(), params={"method": "POST", "content": "hello ü"})
    _run(tmp_path, server.url(), params={"method": "PUT", "content": "<a/>",
                                         "content_type": "application/xml"})
    assert server.seen[0].headers["Content-Type"].startswith("text/plain")
    assert server.seen[0].body == "hello ü".encode()
    assert server.seen[1].headers["Content-Type"] == "application/xml"


def test_a_scalar_with_content_format_json_is_json_text(tmp_path: Path, server: Server) -> None:
    _run(tmp_path, server.url(), params={"method": "POST", "content": "x",
                                         "content_format": "json"})
    assert server.seen[0].body == b'"x"'


@pytest.mark.parametrize(("content", "fmt", "message"), [
    ([1, 2], "form", "Invalid content format for arrays: 'form'"),
    ({"a": 1}, "text", "Invalid content format for objects: 'text'"),
    ("s", "form", "Invalid content format for strings: 'form'"),
    ({"a": {"b": 1}}, "form", "Invalid form content field value"),
])
def test_a_content_that_does_not_fit_its_format_is_a_config_error(
    tmp_path: Path, server: Server, content: Any, fmt: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _run(tmp_path, server.url(), params={"method": "POST", "content": content,
                                             "content_format": fmt})
    assert server.seen == []


def test_query_as_a_map_or_a_string_joins_the_uris_own_query(tmp_path: Path,
                                                             server: Server) -> None:
    _run(tmp_path, server.url("/q?a=1"), params={"query": {"b": "x y", "n": 2}})
    _run(tmp_path, server.url("/q"), params={"query": "c=3&d=%26"})
    assert server.seen[0].query == {"a": ["1"], "b": ["x y"], "n": ["2"]}
    assert server.seen[1].query == {"c": ["3"], "d": ["&"]}


def test_headers_are_sent_in_order_and_options_come_from_the_http_map(
    tmp_path: Path, server: Server
) -> None:
    _run(tmp_path, server.url(), params={"http": {"headers": [{"X-One": "1"}, {"X-Two": 2}],
                                                  "method": "POST"}})
    assert server.seen[0].method == "POST"
    assert server.seen[0].headers["X-One"] == "1"
    assert server.seen[0].headers["X-Two"] == "2"


def test_a_header_of_the_task_beats_a_default_but_not_the_authorization_secret(
    tmp_path: Path, server: Server
) -> None:
    _run(tmp_path, server.url(), params={
        "method": "POST", "content": {"a": 1},
        "headers": [{"Content-Type": "application/vnd.api+json"}, {"User-Agent": "mine"},
                    {"Authorization": "Bearer from-the-dig-file"}]},
        secrets={"http.authorization": "Bearer from-secrets"})
    headers = server.seen[0].headers
    assert headers["Content-Type"] == "application/vnd.api+json"
    assert headers["User-Agent"] == "mine"
    assert headers["Authorization"] == "Bearer from-secrets"


@pytest.mark.parametrize("headers", [{"X": "1"}, [{"A": "1", "B": "2"}], ["X: 1"],
                                     [{"X": "a\r\nInjected: yes"}]])
def test_malformed_headers_are_config_errors(tmp_path: Path, server: Server,
                                             headers: Any) -> None:
    with pytest.raises(ConfigError, match="header"):
        _run(tmp_path, server.url(), params={"headers": headers})


@pytest.mark.parametrize("uri", ["file:///etc/passwd", "ftp://127.0.0.1/x", "127.0.0.1/x",
                                 "http://", "http://127.0.0.1:notaport/"])
def test_only_http_and_https_uris_with_a_host_are_accepted(tmp_path: Path, uri: str) -> None:
    with pytest.raises(ConfigError, match="http> "):
        _run(tmp_path, uri)


# -- secrets -----------------------------------------------------------------------------------


def test_basic_auth_comes_from_the_user_and_password_secrets(tmp_path: Path,
                                                             server: Server) -> None:
    _run(tmp_path, server.url(), secrets={"http.user": "ann", "http.password": "pw:1"})
    sent = server.seen[0].headers["Authorization"]
    assert sent == "Basic " + base64.b64encode(b"ann:pw:1").decode()


def test_the_authorization_secret_beats_basic_auth(tmp_path: Path, server: Server) -> None:
    _run(tmp_path, server.url(), secrets={"http.authorization": "Bearer t0k",
                                          "http.user": "ann"})
    assert server.seen[0].headers["Authorization"] == "Bearer t0k"


def test_a_canary_secret_used_as_auth_and_in_the_uri_never_reaches_the_log(
    tmp_path: Path, server: Server
) -> None:
    # Given a canary secret used three ways, a real SecretAccess, masker and log file
    canary = f"dp-canary-{uuid.uuid4()}"
    masker = Masker()
    secrets = SecretAccess({"http.authorization": canary, "path.token": canary}, None, masker)
    log_path = tmp_path / "logs" / "task.log"
    server.script["/fail"] = [Reply(status=404)]

    # When requests succeed and fail with it in the header and in the URI
    with TaskLogWriter(log_path, masker) as log:
        HttpOperator(_ctx(tmp_path, server.url("/ok?t=${secret:path.token}"), secrets=secrets,
                          log=log)).run()
        with pytest.raises(TaskFailed) as caught:
            HttpOperator(_ctx(tmp_path, server.url("/fail?t=${secret:path.token}"),
                              secrets=secrets, log=log)).run()

    # Then the server got it, but neither the log nor the failure message shows it
    assert server.seen[0].headers["Authorization"] == canary
    assert server.seen[0].query == {"t": [canary]}
    text = log_path.read_text(encoding="utf-8")
    assert canary not in text and canary not in caught.value.message
    assert "Sending HTTP request: GET http://***" in text
    assert caught.value.message == "HTTP 4XX Client Error: GET http://***: 404 Not Found"


def test_the_http_uri_secret_replaces_the_uri_and_is_not_shown(tmp_path: Path,
                                                              server: Server) -> None:
    ctx = _ctx(tmp_path, "http://127.0.0.1:1/unused",
               secrets={"http.uri": server.url("/hidden")})
    HttpOperator(ctx).run()
    assert server.seen[0].path == "/hidden"
    assert "Sending HTTP request: GET http://***" in _log(ctx)


def test_a_redirect_to_another_origin_drops_the_authorization_header(
    tmp_path: Path, server: Server, other_server: Server
) -> None:
    server.script["/go"] = [Reply(302, b"", {"Location": other_server.url("/land")})]
    server.script["/stay"] = [Reply(302, b"", {"Location": server.url("/here")})]
    _run(tmp_path, server.url("/go"), secrets={"http.authorization": "Bearer t0k"})
    _run(tmp_path, server.url("/stay"), secrets={"http.authorization": "Bearer t0k"})
    assert other_server.seen[0].path == "/land"
    assert "Authorization" not in other_server.seen[0].headers
    assert [s.path for s in server.seen] == ["/go", "/stay", "/here"]
    assert server.seen[2].headers["Authorization"] == "Bearer t0k"


def test_with_follow_redirects_false_the_redirect_is_the_result(tmp_path: Path,
                                                               server: Server) -> None:
    server.script["/go"] = [Reply(302, b"", {"Location": server.url("/elsewhere")})]
    result = _run(tmp_path, server.url("/go"), params={"follow_redirects": False})
    assert result.store_params == {"http": {"last_status": 302}}
    assert [s.path for s in server.seen] == ["/go"]


# -- store_content -----------------------------------------------------------------------------


def test_store_content_stores_the_body_as_text(tmp_path: Path, server: Server) -> None:
    server.script["/c"] = [Reply(body="{\"v\": \"ü\"}".encode(),
                                 headers={"Content-Type": "application/json; charset=utf-8"})]
    result = _run(tmp_path, server.url("/c"), params={"store_content": True})
    assert result.store_params == {"http": {"last_status": 200, "last_content": '{"v": "ü"}'}}


def test_content_over_64_kib_is_refused_clearly(tmp_path: Path, server: Server) -> None:
    server.script["/big"] = [Reply(body=b"x" * (64 * 1024 + 1))]
    server.script["/fits"] = [Reply(body=b"x" * (64 * 1024))]
    with pytest.raises(TaskFailed, match=r"Response content too large: 65537 > 65536"):
        _run(tmp_path, server.url("/big"), params={"store_content": True})
    stored = _run(tmp_path, server.url("/fits"), params={"store_content": True}).store_params
    assert len(stored["http"]["last_content"]) == 64 * 1024


def test_a_huge_body_is_not_read_to_the_end(tmp_path: Path, server: Server) -> None:
    server.script["/huge"] = [Reply(body=b"x" * (1024 * 1024))]
    with pytest.raises(TaskFailed, match="more than 65536 characters"):
        _run(tmp_path, server.url("/huge"), params={"store_content": True})


# -- errors and retry --------------------------------------------------------------------------


def test_a_503_on_get_asks_to_poll_again_with_the_retry_count_saved(tmp_path: Path,
                                                                   server: Server) -> None:
    # Given a server that fails once, then recovers
    server.script["/flaky"] = [Reply(503), Reply(200)]

    # When the task runs, it neither sleeps nor fails: it asks to be run again in 1 s
    with pytest.raises(PollAgain) as first:
        _run(tmp_path, server.url("/flaky"))
    assert (first.value.interval, first.value.state) == (1.0, {"retry": 1})

    # And run again with that state, it succeeds
    result = _run(tmp_path, server.url("/flaky"), last_state=first.value.state)
    assert result.store_params == {"http": {"last_status": 200}}
    assert len(server.seen) == 2


def test_the_wait_between_retries_doubles_up_to_30_seconds(tmp_path: Path,
                                                          server: Server) -> None:
    server.script["/down"] = [Reply(503)]
    intervals = []
    for count in range(7):
        with pytest.raises(PollAgain) as again:
            _run(tmp_path, server.url("/down"), last_state={"retry": count})
        intervals.append(again.value.interval)
        assert again.value.state == {"retry": count + 1}
    assert intervals == [1, 2, 4, 8, 16, 30, 30]


def test_retries_are_bounded_and_the_failure_names_the_status(tmp_path: Path,
                                                             server: Server) -> None:
    server.script["/down"] = [Reply(503)]
    with pytest.raises(TaskFailed) as caught:
        _run(tmp_path, server.url("/down"), last_state={"retry": MAX_RETRIES})
    assert caught.value.message == (
        f"HTTP 5XX Server Error: GET {server.url('/down')}: 503 Service Unavailable "
        f"(gave up after {MAX_RETRIES + 1} attempts)")


def test_a_404_fails_at_once_without_retry(tmp_path: Path, server: Server) -> None:
    server.script["/missing"] = [Reply(404)]
    with pytest.raises(TaskFailed) as caught:
        _run(tmp_path, server.url("/missing"))
    assert caught.value.message == (
        f"HTTP 4XX Client Error: GET {server.url('/missing')}: 404 Not Found")
    assert len(server.seen) == 1


@pytest.mark.parametrize("status", [408, 429])
def test_408_and_429_are_retried(tmp_path: Path, server: Server, status: int) -> None:
    server.script["/busy"] = [Reply(status)]
    with pytest.raises(PollAgain):
        _run(tmp_path, server.url("/busy"))


def test_a_503_on_post_fails_at_once_unless_retry_is_set(tmp_path: Path,
                                                         server: Server) -> None:
    server.script["/down"] = [Reply(503)]
    with pytest.raises(TaskFailed, match="HTTP 5XX Server Error: POST"):
        _run(tmp_path, server.url("/down"), params={"method": "POST"})
    with pytest.raises(PollAgain):
        _run(tmp_path, server.url("/down"), params={"method": "POST", "retry": True})


def test_retry_false_or_a_number_limits_get_retries(tmp_path: Path, server: Server) -> None:
    server.script["/down"] = [Reply(503)]
    with pytest.raises(TaskFailed):
        _run(tmp_path, server.url("/down"), params={"retry": False})
    with pytest.raises(PollAgain):
        _run(tmp_path, server.url("/down"), params={"retry": 2}, last_state={"retry": 1})
    with pytest.raises(TaskFailed, match=r"gave up after 3 attempts"):
        _run(tmp_path, server.url("/down"), params={"retry": 2}, last_state={"retry": 2})


def test_a_timeout_is_a_network_error_retried_for_get_only(tmp_path: Path,
                                                           server: Server) -> None:
    server.script["/slow"] = [Reply(delay=1.0)]
    started = time.monotonic()
    with pytest.raises(PollAgain):
        _run(tmp_path, server.url("/slow"), params={"timeout": 0.2})
    with pytest.raises(TaskFailed, match=r"HTTP request failed: POST .*/slow: timed out"):
        _run(tmp_path, server.url("/slow"), params={"timeout": 0.2, "method": "POST"})
    assert time.monotonic() - started < 1.9


def test_a_refused_connection_is_a_network_error(tmp_path: Path, server: Server) -> None:
    url = server.url("/gone")
    server.close()
    with pytest.raises(TaskFailed, match=r"HTTP request failed: POST .*/gone"):
        _run(tmp_path, url, params={"method": "POST"})


@pytest.mark.parametrize(("option", "value"), [
    ("timeout", 0), ("timeout", "soon"), ("retry", "often"), ("store_content", "yes"),
    ("method", "GET /x"), ("query", [1]),
])
def test_bad_options_are_config_errors_naming_them(tmp_path: Path, server: Server,
                                                   option: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=f"option '{option}'"):
        _run(tmp_path, server.url(), params={option: value})
    assert server.seen == []


def test_a_killed_task_sends_nothing(tmp_path: Path, server: Server) -> None:
    ctx = _ctx(tmp_path, server.url())
    ctx.cancel.set("killed")  # type: ignore[attr-defined]
    with pytest.raises(TaskFailed, match="killed"):
        HttpOperator(ctx).run()
    assert server.seen == []


# -- end to end through the local engine -------------------------------------------------------

ALERT_WORKFLOW = """\
timezone: UTC

_error:
  http>: ${webhook}/alert
  method: POST
  content:
    text: "${session_date} failed: ${error.message}"

+load:
  sh>: echo loading; exit 3
"""


def test_an_error_handler_posts_an_alert_to_a_webhook_without_leaking_its_token(
    tmp_path: Path, server: Server
) -> None:
    # Given a workflow whose task fails and whose _error posts to a webhook with a token
    from datetime import UTC, datetime

    from digpy_operators.sh import ShOperator

    from digpy.agent.local import LocalEngine
    from digpy.agent.registry import OperatorRegistry
    from digpy.agent.workspace import FileLogs, local_secrets
    from digpy.clock import FakeClock
    from digpy.dsl.project import load_project

    session = datetime(2016, 1, 30, tzinfo=UTC)
    project = tmp_path / "alerting"
    project.mkdir()
    (project / "alerting.dig").write_text(ALERT_WORKFLOW)
    workflow = load_project(project).workflows["alerting"]
    registry = OperatorRegistry()
    registry.register(HttpOperator)
    registry.register(ShOperator)
    canary = f"dp-canary-{uuid.uuid4()}"
    masker = Masker()
    logs = FileLogs(project / ".digpy" / "logs", masker)

    # When it runs through the local engine
    with LocalEngine(project, operators=registry.get, clock=FakeClock(session),
                     secrets=local_secrets(masker, {"http.authorization": canary}),
                     logs=logs) as engine:
        result = engine.run(workflow, session_time=session,
                            params={"webhook": server.url("").rstrip("/")})

    # Then the attempt failed, the webhook got the error message with the token, and no
    # log holds the token
    assert not result.success
    [alert] = server.seen
    assert (alert.method, alert.path) == ("POST", "/alert")
    assert json.loads(alert.body) == {"text": "2016-01-30 failed: Command failed with code 3"}
    assert alert.headers["Authorization"] == canary
    handler = result.task("+alerting^error")
    assert handler.state == "success"
    assert handler.store_params == {"http": {"last_status": 200}}
    texts = [p.read_text() for p in (project / ".digpy" / "logs").rglob("*.log")]
    assert any("Sending HTTP request: POST" in t for t in texts)
    assert all(canary not in t for t in texts)
