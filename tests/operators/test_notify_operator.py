"""notify>: sends Digdag's notification JSON through the configured notifier (log, http,
shell); the sender tries three times, ``_retry`` is ignored as in Digdag, and a failed
send fails the task with one line."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from digpy_operators.notify import NotifyOperator
from server.test_notifications_receiver import http_env, webhook

from digpy.agent.workspace import registry_resolver
from digpy.cli import main
from digpy.clock import FakeClock
from digpy.errors import ConfigError, TaskFailed
from digpy.spi.notify import NotificationFailed, NotifierConfig
from digpy.spi.testing import RecordingLog, make_context

NOW = datetime(2016, 1, 30, 0, 5, tzinfo=UTC)


def run_notify(tmp_path: Path, message: object = "the report is late") -> RecordingLog:
    ctx = make_context(tmp_path, operator="notify", config={"_command": message},
                       task_name="+wf+alert", clock=FakeClock(NOW))
    NotifyOperator(ctx).run()
    assert isinstance(ctx.log, RecordingLog)
    return ctx.log


@pytest.fixture(autouse=True)
def no_notifier_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TYPE", "HTTP_URL", "HTTP_HEADERS", "SHELL_COMMAND", "SHELL_TIMEOUT"):
        monkeypatch.delenv(f"DIGPY_NOTIFICATION_{name}", raising=False)


def test_the_http_notifier_receives_digdags_notification_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook() as receiver:
        for name, value in http_env(receiver.url).items():
            monkeypatch.setenv(name, value)
        log = run_notify(tmp_path)
        (got,) = receiver.wait()

    assert (got.method, got.path) == ("POST", "/hooks/T0KEN-in-path")
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-Team-Token"] == "sekret-123"
    assert got.body == {
        "timestamp": "2016-01-30T00:05:00Z", "message": "the report is late", "siteId": 0,
        "projectId": 1, "projectName": "test", "workflowName": "test", "revision": None,
        "attemptId": 1, "sessionId": 1, "taskName": "+wf+alert", "timeZone": "UTC",
        "sessionUuid": "00000000-0000-0000-0000-000000000001",
        "sessionTime": "2016-01-30T00:00:00+00:00",
    }
    assert "T0KEN" not in log.text and "sekret" not in log.text  # only scheme://host shown


def test_the_shell_notifier_gets_the_json_on_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "notification.json"
    monkeypatch.setenv("DIGPY_NOTIFICATION_TYPE", "shell")
    monkeypatch.setenv("DIGPY_NOTIFICATION_SHELL_COMMAND", f"cat > {out}")

    run_notify(tmp_path, "disk almost full")

    sent = json.loads(out.read_text())
    assert (sent["message"], sent["taskName"], sent["attemptId"]) == (
        "disk almost full", "+wf+alert", 1)


def test_the_default_log_notifier_writes_the_message_to_the_task_log_and_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="digpy.notify"):
        log = run_notify(tmp_path, "nothing configured")

    assert "Notification: nothing configured" in log.lines
    (record,) = [r for r in caplog.records if r.name == "digpy.notify"]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == ("Notification: nothing configured (project test, "
                                   "workflow test, attempt 1, task +wf+alert)")


@pytest.mark.parametrize(("environ", "error"), [
    ({"DIGPY_NOTIFICATION_TYPE": "shell", "DIGPY_NOTIFICATION_SHELL_COMMAND": "exit 3"},
     "notification shell command failed with exit code 3: exit 3"),
    ({"DIGPY_NOTIFICATION_TYPE": "shell", "DIGPY_NOTIFICATION_SHELL_COMMAND": "sleep 30",
      "DIGPY_NOTIFICATION_SHELL_TIMEOUT": "0.2"},
     "notification shell command timed out after 0.2s: sleep 30"),
    ({"DIGPY_NOTIFICATION_TYPE": "http", "DIGPY_NOTIFICATION_HTTP_URL": "http://127.0.0.1:9/x"},
     "notification POST to http://127.0.0.1:9 failed: [Errno 111] Connection refused"),
    ({"DIGPY_NOTIFICATION_TYPE": "mail"}, "notification_type must be log, http or shell"),
])
def test_a_failing_notifier_fails_the_task_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], error: str
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(TaskFailed) as failed:
        run_notify(tmp_path)

    assert str(failed.value).startswith(error)
    assert "\n" not in str(failed.value)


def test_an_http_error_status_names_the_status_but_not_the_urls_secret_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook(503, 503, 503) as receiver:
        for name, value in http_env(receiver.url).items():
            monkeypatch.setenv(name, value)
        with pytest.raises(TaskFailed) as failed:
            run_notify(tmp_path)

    port = receiver.url.split(":")[2].split("/")[0]
    assert str(failed.value) == (f"notification POST to http://127.0.0.1:{port} failed: "
                                 "HTTP 503 Service Unavailable")


@pytest.mark.parametrize("message", [None, "", {"a": 1}])
def test_notify_without_a_message_string_is_a_config_error(tmp_path: Path,
                                                           message: object) -> None:
    with pytest.raises(ConfigError, match=r"notify> (needs a message|message must be)"):
        run_notify(tmp_path, message)


def test_the_notifier_config_never_shows_its_url_or_headers() -> None:
    config = NotifierConfig.from_values({"type": "http", "http_url": "https://h/T0KEN",
                                         "http_headers": '{"Authorization": "Bearer x"}'})
    assert "T0KEN" not in repr(config) and "Bearer" not in repr(config)
    with pytest.raises(NotificationFailed, match="notification_http_url is not set"):
        NotifierConfig.from_values({"type": "http"})


# -- digpy run / digpy check -------------------------------------------------------------------

def project(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "wf.dig").write_text(text)
    return root


def test_the_sender_tries_again_after_a_failed_post_within_one_task_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DIGPY_CONFIG_HOME", str(tmp_path / "config"))
    root = project(tmp_path, "+alert:\n  notify>: deploy done for ${session_date}\n")
    with webhook(500) as receiver:
        for name, value in http_env(receiver.url).items():
            monkeypatch.setenv(name, value)
        code = main(["run", "wf", "--project", str(root), "--session", "2024-05-01"])

    assert code == 0
    assert [r.body["message"] for r in receiver.received] == ["deploy done for 2024-05-01"] * 2
    assert [r.body["taskName"] for r in receiver.received] == ["+wf+alert"] * 2
    assert "HTTP 500 Internal Server Error; trying again in 1s" in capsys.readouterr().out


def test_notify_ignores_retry_like_digdag_so_a_dead_webhook_gets_three_posts_not_nine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DIGPY_CONFIG_HOME", str(tmp_path / "config"))
    root = project(tmp_path, "+alert:\n  notify>: hello\n  _retry: 2\n")
    with webhook(*[500] * 9) as receiver:
        for name, value in http_env(receiver.url).items():
            monkeypatch.setenv(name, value)
        code = main(["run", "wf", "--project", str(root)])

    assert code == 1
    assert len(receiver.received) == 3
    assert "HTTP 500" in capsys.readouterr().out


def test_digpy_run_reports_a_notifier_that_keeps_failing_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DIGPY_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("DIGPY_NOTIFICATION_TYPE", "shell")
    monkeypatch.setenv("DIGPY_NOTIFICATION_SHELL_COMMAND", "exit 7")
    root = project(tmp_path, "+alert:\n  notify>: hello\n")

    code = main(["run", "wf", "--project", str(root)])

    out = capsys.readouterr()
    assert code == 1
    assert "+wf+alert: notification shell command failed with exit code 7: exit 7" in out.out
    assert "Traceback" not in out.out + out.err


def test_digpy_check_accepts_notify_and_runs_resolve_it_as_a_builtin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path, "+alert:\n  notify>: hello\n")

    assert main(["check", "--project", str(root)]) == 0
    assert "notify> hello" in capsys.readouterr().out
    assert registry_resolver()("notify") is NotifyOperator
