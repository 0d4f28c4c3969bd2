"""``mail>: body.txt`` sends an email over SMTP (Digdag ``MailOperatorFactory``; spec §4
mail> row; docs/operators.md).

- The body is a template file (relative to the workdir, confined to the project) rendered
  with the task's params, or inline ``mail>: {data: "..."}`` (already evaluated, so not
  rendered twice). ``subject``, ``from``, ``to``, ``cc``, ``bcc``, ``html`` and
  ``attach_files`` are params; options come from the params merged with the ``mail:`` map.
- SMTP settings, as Digdag's user SMTP config: ``host``/``port``/``username``/``tls``/``ssl``
  from the ``mail.*`` secrets first, then the params; the password only from the
  ``mail.password`` secret (a ``password`` param is ignored with a warning, as in Digdag).
- ``tls`` (default true) uses STARTTLS when the server offers it. Unlike JavaMail, which
  then falls back to plain text, a login is refused on a server without STARTTLS so the
  password never crosses the network in the clear; ``tls: false`` allows it.
- ``debug`` writes each SMTP step to the task log (never the AUTH exchange).
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, ClassVar

from digpy.spi import ConfigError, Operator, OperatorContext, TaskFailed, TaskResult

DEFAULT_TIMEOUT = 60.0  # seconds, Digdag's connect timeout


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    tls: bool
    ssl: bool
    debug: bool
    username: str | None
    password: str | None
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True, slots=True)
class Attachment:
    path: Path
    content_type: str
    filename: str


class MailOperator(Operator):
    type: ClassVar[str] = "mail"
    retryable: ClassVar[bool] = True

    def run(self) -> TaskResult:
        params = merged_params(self.request.config, "mail")
        body = self._body(params.get("_command"))
        sender = _address(params.get("from"), "from")
        to = _addresses(params.get("to"), "to", required=True)
        cc, bcc = _addresses(params.get("cc"), "cc"), _addresses(params.get("bcc"), "bcc")
        attachments = [self._attachment(a) for a in _list(params.get("attach_files"),
                                                          "attach_files")]
        message = self._message(params, body, sender, to, cc, attachments)
        config = self._smtp_config(params)
        refused = send(config, message, sender, [*to, *cc, *bcc], self.ctx)
        if refused:
            self.ctx.log.write(f"The SMTP server refused some recipients: {sorted(refused)}\n")
        self.ctx.log.write(f"Sent mail to {len(to) + len(cc) + len(bcc) - len(refused)} "
                           f"recipient(s) via {config.host}:{config.port}\n")
        return TaskResult.empty()

    def _body(self, command: Any) -> str:
        if isinstance(command, Mapping):
            data = command.get("data")
            if not isinstance(data, str):
                raise ConfigError("mail>: {data: ...} must hold the body text")
            return data
        if isinstance(command, str) and command.strip():
            path = project_file(self.ctx, command.strip(), "mail body file")
            return self.ctx.render(_read_text(path, command.strip()))
        raise ConfigError("mail> needs a body: 'mail>: body.txt' (a template file) or "
                          "'mail>: {data: \"text\"}'")

    def _attachment(self, entry: Any) -> Attachment:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("path"), str):
            raise ConfigError("mail> attach_files entries must be maps with a 'path', "
                              f"e.g. {{path: report.csv, content_type: text/csv}}, not {entry!r}")
        name = entry["path"]
        path = project_file(self.ctx, name, "attach_files path")
        if not path.is_file():
            raise ConfigError(f"mail> attachment '{name}' does not exist "
                              f"(looked in {self.ctx.workdir})")
        content_type = str(entry.get("content_type") or "application/octet-stream")
        if content_type.count("/") != 1 or not all(content_type.split("/")):
            raise ConfigError(f"mail> attachment content_type must look like text/csv, "
                              f"not {content_type!r}")
        return Attachment(path, content_type, str(entry.get("filename") or path.name))

    def _message(self, params: Mapping[str, Any], body: str, sender: str, to: list[str],
                 cc: list[str], attachments: list[Attachment]) -> EmailMessage:
        subject = params.get("subject")
        if subject is None or isinstance(subject, Mapping | list):
            raise ConfigError("mail> needs a 'subject' (a string)")
        message = EmailMessage()
        try:
            message["Subject"] = str(subject)
            message["From"] = sender
            message["To"] = ", ".join(to)
            if cc:
                message["Cc"] = ", ".join(cc)  # bcc: recipients only, never a header
        except ValueError as exc:  # a line break in a header value: header injection
            raise ConfigError(f"mail> invalid header value: {exc}") from None
        message["Date"] = format_datetime(self.ctx.clock.now())
        message["Message-ID"] = f"<{uuid.uuid4()}@digpy>"
        html = _bool(params, "html", False)
        message.set_content(body, subtype="html" if html else "plain", charset="utf-8")
        for a in attachments:
            maintype, subtype = a.content_type.split("/")
            message.add_attachment(a.path.read_bytes(), maintype=maintype, subtype=subtype,
                                   filename=a.filename)
        return message

    def _smtp_config(self, params: Mapping[str, Any]) -> SmtpConfig:
        secrets = self.ctx.secrets
        host = secrets.get("mail.host") or params.get("host")
        if not isinstance(host, str) or not host:
            raise ConfigError("mail> needs an SMTP server: set 'host' and 'port' (or the "
                              "mail.host and mail.port secrets)")
        if params.get("password") is not None:
            self.ctx.log.write("mail>: the 'password' option is ignored; store the password "
                               "as the mail.password secret\n")
        return SmtpConfig(
            host=host,
            port=_port(secrets.get("mail.port") or params.get("port")),
            tls=_bool({"tls": secrets.get("mail.tls") or params.get("tls", True)}, "tls", True),
            ssl=_bool({"ssl": secrets.get("mail.ssl") or params.get("ssl", False)}, "ssl", False),
            debug=_bool(params, "debug", False),
            username=secrets.get("mail.username") or _optional_str(params, "username"),
            password=secrets.get("mail.password"),
        )


def send(config: SmtpConfig, message: EmailMessage, sender: str, recipients: list[str],
         ctx: OperatorContext) -> dict[str, Any]:
    """Deliver ``message``; returns the recipients the server refused (if not all)."""
    def debug(text: str) -> None:
        if config.debug:
            ctx.log.write(f"mail> {text}\n")

    where = f"{config.host}:{config.port}"
    try:
        smtp: smtplib.SMTP
        if config.ssl:
            smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with smtp:
            debug(f"connected to {where}{' over SSL' if config.ssl else ''}")
            _secure_and_login(smtp, config, where, debug)
            debug(f"sending from {sender} to {len(recipients)} recipient(s)")
            refused = smtp.send_message(message, from_addr=sender, to_addrs=recipients)
            return dict(refused)
    except smtplib.SMTPException as exc:
        raise TaskFailed(f"Failed to send mail via {where}: {exc}") from None
    except OSError as exc:  # refused, unreachable, timed out, TLS failure
        raise TaskFailed(f"Failed to send mail via {where}: {exc or type(exc).__name__}"
                         ) from None


def _secure_and_login(smtp: smtplib.SMTP, config: SmtpConfig, where: str,
                      debug: Callable[[str], None]) -> None:
    smtp.ehlo()
    if config.tls and not config.ssl:
        if smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
            debug("STARTTLS done")
        elif config.username is not None:
            raise TaskFailed(f"The SMTP server {where} does not offer STARTTLS, so the "
                             "password would be sent unencrypted; use ssl: true, or tls: false "
                             "to send it anyway")
        else:
            debug("the server does not offer STARTTLS; sending without encryption")
    if config.username is not None:
        debug(f"logging in as {config.username}")
        smtp.login(config.username, config.password or "")


def merged_params(config: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    nested = config.get(namespace)
    merged = dict(nested) if isinstance(nested, Mapping) else {}
    merged.update(config)
    return merged


def project_file(ctx: OperatorContext, name: str, option: str) -> Path:
    """``name`` relative to the workdir, resolved (symlinks too) and inside the project."""
    try:
        path = (ctx.workdir / name).resolve()
    except (ValueError, OSError) as exc:  # a NUL byte, a symlink loop
        raise ConfigError(f"mail> {option} {name!r} is not a usable path: {exc}") from None
    root = ctx.project_path.resolve()
    if not path.is_relative_to(root) or path == root:
        raise ConfigError(f"mail> {option} {name!r} is outside the project directory {root}")
    return path


def _read_text(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"mail> body file '{name}' does not exist") from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise ConfigError(f"mail> cannot read body file '{name}': {exc}") from None


def _list(value: Any, option: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"mail> option '{option}' must be a list")
    return value


def _addresses(value: Any, option: str, *, required: bool = False) -> list[str]:
    values = [value] if isinstance(value, str) else _list(value, option)
    if required and not values:
        raise ConfigError(f"mail> needs '{option}': an address or a list of addresses")
    return [_address(v, option) for v in values]


def _address(value: Any, option: str) -> str:
    if value is None and option == "from":
        raise ConfigError("mail> needs 'from': the sender's address")
    text = value.strip() if isinstance(value, str) else ""
    _, address = parseaddr(text)
    if not text or "@" not in address or any(c in text for c in "\r\n"):
        raise ConfigError(f"mail> invalid address in '{option}': {value!r}")
    return text


def _port(value: Any) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"mail> needs a numeric SMTP 'port' (or the mail.port secret), "
                          f"not {value!r}") from None
    if not 0 < port < 65536:
        raise ConfigError(f"mail> SMTP port {port} is out of range")
    return port


def _bool(params: Mapping[str, Any], name: str, default: bool) -> bool:
    value = params.get(name, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(f"mail> option '{name}' must be true or false, not {value!r}")


def _optional_str(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ConfigError(f"mail> option '{name}' must be a string, not {value!r}")
