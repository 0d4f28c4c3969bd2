"""Server notifications (spec §8.7, §5.6, §3.11): an SLA with ``alert: true`` sends "SLA
violation" from its ``^sla^alert`` task, and an attempt over ``attempt_ttl`` sends "Workflow
execution timeout" from the daemon, both through the configured notifier; the daemon
sends on a thread of its own so a slow webhook never holds its loop."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from engine.harness import Harness, compile_text  # tests/engine (tests/ is on sys.path)
from live_server import live_server

from digpy.engine.results import RunResult
from digpy.model.states import AttemptStatus
from digpy.spi.notify import Notification, NotifierConfig, send_in_background
from digpy.store.sql.engine import create_sql_engine, migrate, sqlite_url
from server.test_notifications_receiver import http_env, webhook

SESSION = "2024-05-01T00:00:00+00:00"


@pytest.fixture
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("notify-template") / "state.db"
    engine = create_sql_engine(sqlite_url(path))
    migrate(engine)
    engine.dispose()
    return path


def run_local(tmp_path: Path, template_db: Path, text: str) -> RunResult:
    harness = Harness(project=tmp_path, template_db=template_db)
    with harness.engine() as engine:
        return engine.run(compile_text(text))


def test_an_sla_alert_posts_sla_violation_from_the_sla_alert_task(
    tmp_path: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook() as receiver:
        for name, value in http_env(receiver.url).items():
            monkeypatch.setenv(name, value)
        result = run_local(tmp_path, template_db, "sla:\n  duration: 00:01:00\n"
                                                  "+slow: {trace>: slow, advance: 120}\n")
        (got,) = receiver.wait()

    assert result.status is AttemptStatus.SUCCESS  # alert alone does not fail the attempt
    assert result.task("+wf^sla^alert").state == "success"
    assert (got.body["message"], got.body["taskName"], got.body["workflowName"]) == (
        "SLA violation", "+wf^sla^alert", "wf")
    assert got.body["attemptId"] == result.attempt_id


def test_a_failing_sla_alert_fails_the_attempt_with_one_line(
    tmp_path: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGPY_NOTIFICATION_TYPE", "shell")
    monkeypatch.setenv("DIGPY_NOTIFICATION_SHELL_COMMAND", "exit 4")

    result = run_local(tmp_path, template_db, "sla:\n  duration: 00:01:00\n"
                                              "+slow: {trace>: slow, advance: 120}\n")

    assert result.status is AttemptStatus.ERROR
    assert [(t.full_name, t.error["message"]) for t in result.failed_tasks] == [  # type: ignore[index]
        ("+wf^sla^alert", "notification shell command failed with exit code 4: exit 4")]


def test_the_daemon_sends_a_slow_notification_without_waiting_for_it() -> None:
    with webhook() as receiver:
        receiver.hold.clear()  # the webhook answers only when told to
        config = NotifierConfig.from_values({"type": "http", "http_url": receiver.url})
        notification = Notification(timestamp=datetime(2024, 5, 1, tzinfo=UTC),
                                    message="Workflow execution timeout", attempt_id=9)

        thread = send_in_background(notification, config)

        assert thread.is_alive()  # the caller got control back while the POST hangs
        receiver.hold.set()
        thread.join(60)
        assert [r.body["attemptId"] for r in receiver.wait()] == [9]


def test_a_daemon_sends_the_sla_alert_and_the_attempt_ttl_timeout_to_its_webhook(
    tmp_path: Path,
) -> None:
    root = tmp_path / "late"
    root.mkdir()
    (root / "late.dig").write_text("sla:\n  duration: 00:00:01\n+nap:\n  sh>: sleep 60\n")
    with webhook() as receiver:
        config = tmp_path / "server.toml"  # the notifier from the config file, as documented
        config.write_text(f'notification_type = "http"\nnotification_http_url = '
                          f'"{receiver.url}"\n[notification_http_headers]\n'
                          f'X-Team-Token = "sekret-123"\n')
        with live_server(tmp_path / "data", "--config", str(config),
                         env={"DIGPY_ATTEMPT_TTL": "4s"}) as server:
            project = server.push("late", root)
            attempt = server.start(project["id"], "late", SESSION).json()
            done = server.wait_done(attempt["id"], timeout=60)
            received = receiver.wait(2)
            log = server.log

    assert done["status"] == "killed"
    by_message = {r.body["message"]: r for r in received}
    assert sorted(by_message) == ["SLA violation", "Workflow execution timeout"]
    timeout = by_message["Workflow execution timeout"].body
    assert (timeout["attemptId"], timeout["projectName"], timeout["taskName"]) == (
        int(attempt["id"]), "late", None)
    assert timeout["sessionTime"] == SESSION
    assert by_message["SLA violation"].body["taskName"] == "+late^sla^alert"
    assert all(r.headers["X-Team-Token"] == "sekret-123" for r in received)
    assert "sekret-123" not in log and "T0KEN" not in log
