"""mail>: real SMTP sessions with an aiosmtpd server on 127.0.0.1 (no TLS: ``tls: false``
unless a test is about STARTTLS)."""

from __future__ import annotations

import email
import email.policy
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from digpy_operators.mail import MailOperator

from digpy.agent.logs import TaskLogWriter
from digpy.errors import ConfigError, TaskFailed
from digpy.secrets import Masker, SecretAccess
from digpy.spi.operator import OperatorContext
from digpy.spi.testing import RecordingLog, make_context

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp")


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: tuple[str, str] | None


class SmtpServer:
    """An aiosmtpd server that keeps every message and the credentials it was given."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.logins: list[tuple[str, str]] = []
        with socket.socket() as probe:  # a free port for the controller
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = aiosmtpd_controller.Controller(
            self, hostname="127.0.0.1", port=self.port, auth_require_tls=False,
            authenticator=self._authenticate)
        self.controller.start()

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> Any:
        login = (auth_data.login.decode(), auth_data.password.decode())
        self.logins.append(login)
        return aiosmtpd_smtp.AuthResult(success=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = self.logins[-1] if session.authenticated else None
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message,
                                      login))
        return "250 OK"

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    path.mkdir()
    (path / "body.txt").write_text("Hello ${name},\nthe report for ${session_date} is ready.\n")
    return path


def _params(smtp: SmtpServer, **extra: Any) -> dict[str, Any]:
    return {"_command": "body.txt", "subject": "Daily report", "from": "digpy@example.com",
            "to": "ann@example.com", "host": "127.0.0.1", "port": smtp.port, "tls": False,
            "name": "Ann", "session_date": "2016-01-30", **extra}


def _ctx(project: Path, params: dict[str, Any], **kw: Any) -> OperatorContext:
    return make_context(project, operator="mail", config=params, **kw)


def _send(project: Path, params: dict[str, Any], **kw: Any) -> OperatorContext:
    ctx = _ctx(project, params, **kw)
    MailOperator(ctx).run()
    return ctx


def _content(part: Any) -> str:
    """A text part's content without SMTP's CRLF line ends."""
    return str(part.get_content()).replace("\r\n", "\n")


def _log(ctx: OperatorContext) -> str:
    assert isinstance(ctx.log, RecordingLog)
    return ctx.log.text


# -- recipients and headers --------------------------------------------------------------------


def test_to_cc_and_bcc_all_receive_but_bcc_is_not_a_header(project: Path,
                                                          smtp: SmtpServer) -> None:
    _send(project, _params(smtp, to=["ann@example.com", "Bob <bob@example.com>"],
                           cc="carl@example.com", bcc=["dora@example.com"]))
    [got] = smtp.received
    assert got.mail_from == "digpy@example.com"
    assert got.rcpt_tos == ["ann@example.com", "bob@example.com", "carl@example.com",
                            "dora@example.com"]
    assert got.message["To"] == "ann@example.com, Bob <bob@example.com>"
    assert got.message["Cc"] == "carl@example.com"
    assert got.message["Bcc"] is None
    assert "dora" not in got.message.as_string()
    assert got.message["From"] == "digpy@example.com"


def test_the_subject_is_sent_as_given_and_the_date_comes_from_the_task_clock(
    project: Path, smtp: SmtpServer
) -> None:
    _send(project, _params(smtp, subject="Rapport für 2016-01-30 ✓"))
    [got] = smtp.received
    assert got.message["Subject"] == "Rapport für 2016-01-30 ✓"
    assert got.message["Date"] == "Sat, 30 Jan 2016 00:00:00 +0000"
    assert got.message["Message-ID"].endswith("@digpy>")


def test_the_body_file_is_a_template_rendered_with_the_params(project: Path,
                                                             smtp: SmtpServer) -> None:
    ctx = _send(project, _params(smtp))
    [got] = smtp.received
    assert got.message.get_content_type() == "text/plain"
    assert _content(got.message) == "Hello Ann,\nthe report for 2016-01-30 is ready.\n"
    assert "Sent mail to 1 recipient(s) via 127.0.0.1:" in _log(ctx)


def test_the_body_file_is_found_relative_to_the_workdir(project: Path,
                                                       smtp: SmtpServer) -> None:
    (project / "mails").mkdir()
    (project / "mails" / "b.txt").write_text("from the workdir")
    _send(project, _params(smtp, _command="b.txt"), workdir="mails")
    assert _content(smtp.received[0].message) == "from the workdir\n"


def test_an_inline_data_body_is_used_as_is(project: Path, smtp: SmtpServer) -> None:
    _send(project, _params(smtp, _command={"data": "literal ${name} stays"}))
    assert _content(smtp.received[0].message) == "literal ${name} stays\n"


def test_html_true_sends_an_html_body(project: Path, smtp: SmtpServer) -> None:
    (project / "body.html").write_text("<p>Hi <b>${name}</b></p>")
    _send(project, _params(smtp, _command="body.html", html=True))
    [got] = smtp.received
    assert got.message.get_content_type() == "text/html"
    assert _content(got.message) == "<p>Hi <b>Ann</b></p>\n"


def test_attachments_carry_their_content_type_and_file_name(project: Path,
                                                           smtp: SmtpServer) -> None:
    (project / "out").mkdir()
    (project / "out" / "rows.csv").write_text("a,b\n1,2\n")
    (project / "logo.bin").write_bytes(bytes(range(256)))
    _send(project, _params(smtp, html=True, attach_files=[
        {"path": "out/rows.csv", "content_type": "text/csv", "filename": "report.csv"},
        {"path": "logo.bin"},
    ]))
    [got] = smtp.received
    assert got.message.get_content_type() == "multipart/mixed"
    body, *files = list(got.message.iter_parts())
    assert body.get_content_type() == "text/html"
    assert [(f.get_filename(), f.get_content_type()) for f in files] == [
        ("report.csv", "text/csv"), ("logo.bin", "application/octet-stream")]
    assert _content(files[0]) == "a,b\n1,2\n"
    assert files[1].get_content() == bytes(range(256))


def test_options_come_from_the_mail_map_and_a_top_level_key_beats_it(
    project: Path, smtp: SmtpServer
) -> None:
    params = _params(smtp, subject="top level wins")
    for key in ("host", "port", "from", "tls"):
        params.pop(key)
    params["mail"] = {"host": "127.0.0.1", "port": smtp.port, "from": "ops@example.com",
                      "tls": False, "subject": "from the map"}
    _send(project, params)
    [got] = smtp.received
    assert (got.mail_from, got.message["Subject"]) == ("ops@example.com", "top level wins")


# -- SMTP settings and secrets -----------------------------------------------------------------


def test_secrets_supply_the_server_and_login_and_the_password_stays_out_of_the_log(
    project: Path, smtp: SmtpServer
) -> None:
    # Given a canary password and a real SecretAccess, masker and log file, debug on
    canary = f"dp-canary-{uuid.uuid4()}"
    masker = Masker()
    secrets = SecretAccess({"mail.host": "127.0.0.1", "mail.port": str(smtp.port),
                            "mail.password": canary}, None, masker)
    params = _params(smtp, host="192.0.2.1", port=1, username="mailer", debug=True)
    log_path = project.parent / "logs" / "task.log"

    # When the mail is sent
    with TaskLogWriter(log_path, masker) as log:
        MailOperator(_ctx(project, params, secrets=secrets, log=log)).run()

    # Then the secrets won over the params, the server got the login, and the log has
    # the steps but not the password
    [got] = smtp.received
    assert got.login == ("mailer", canary)
    text = log_path.read_text(encoding="utf-8")
    assert "logging in as mailer" in text
    assert canary not in text


def test_a_password_param_is_ignored_with_a_warning(project: Path, smtp: SmtpServer) -> None:
    ctx = _send(project, _params(smtp, username="u", password="in-the-dig-file"))
    assert smtp.received[0].login == ("u", "")
    assert "the 'password' option is ignored" in _log(ctx)


def test_a_login_without_starttls_on_offer_is_refused_unless_tls_is_false(
    project: Path, smtp: SmtpServer
) -> None:
    with pytest.raises(TaskFailed, match="does not offer STARTTLS"):
        _send(project, _params(smtp, tls=True), secrets={"mail.username": "u",
                                                          "mail.password": "p"})
    assert smtp.received == []
    _send(project, _params(smtp, tls=False), secrets={"mail.username": "u",
                                                       "mail.password": "p"})
    assert smtp.received[0].login == ("u", "p")


def test_without_a_login_tls_true_still_sends_to_a_server_without_starttls(
    project: Path, smtp: SmtpServer
) -> None:
    ctx = _send(project, _params(smtp, tls=True, debug=True))
    assert len(smtp.received) == 1
    assert "does not offer STARTTLS; sending without encryption" in _log(ctx)


def test_an_unreachable_server_fails_naming_it(project: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    params = {"_command": "body.txt", "subject": "s", "from": "a@example.com",
              "to": "b@example.com", "host": "127.0.0.1", "port": port, "tls": False}
    with pytest.raises(TaskFailed, match=rf"Failed to send mail via 127.0.0.1:{port}: "):
        _send(project, params)


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../outside.txt", "/etc/hostname", "sub/../../outside.txt",
                                  "link.txt", "bad\0name"])
def test_a_body_path_outside_the_project_is_a_config_error(project: Path, smtp: SmtpServer,
                                                          name: str) -> None:
    (project.parent / "outside.txt").write_text("secret")
    (project / "link.txt").symlink_to(project.parent / "outside.txt")
    with pytest.raises(ConfigError, match=r"outside the project|not a usable path"):
        _send(project, _params(smtp, _command=name))
    assert smtp.received == []


@pytest.mark.parametrize("name", ["../outside.txt", "/etc/hostname", "link.txt"])
def test_an_attachment_outside_the_project_is_a_config_error(project: Path, smtp: SmtpServer,
                                                            name: str) -> None:
    (project.parent / "outside.txt").write_text("secret")
    (project / "link.txt").symlink_to(project.parent / "outside.txt")
    with pytest.raises(ConfigError, match="outside the project"):
        _send(project, _params(smtp, attach_files=[{"path": name}]))
    assert smtp.received == []


@pytest.mark.parametrize(("change", "message"), [
    ({"to": None}, "needs 'to'"),
    ({"to": []}, "needs 'to'"),
    ({"from": None}, "needs 'from'"),
    ({"subject": None}, "needs a 'subject'"),
    ({"host": None}, "needs an SMTP server"),
    ({"port": None}, "numeric SMTP 'port'"),
    ({"to": "not-an-address"}, "invalid address in 'to'"),
    ({"cc": ["ok@example.com", "a@b\r\nBcc: x@y"]}, "invalid address in 'cc'"),
    ({"subject": "hi\r\nBcc: evil@example.com"}, "invalid header value"),
    ({"_command": None}, "needs a body"),
    ({"_command": "missing.txt"}, "does not exist"),
    ({"attach_files": [{"path": "missing.csv"}]}, "does not exist"),
    ({"attach_files": [{"path": "body.txt", "content_type": "csv"}]}, "content_type"),
    ({"html": "maybe"}, "option 'html'"),
])
def test_bad_options_are_config_errors_and_nothing_is_sent(
    project: Path, smtp: SmtpServer, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _send(project, _params(smtp, **change))
    assert smtp.received == []
