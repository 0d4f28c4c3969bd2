"""System notifications (spec §8.7): what ``notify>``, SLA alerts (``^sla^alert``) and the
daemon's attempt_ttl timeout send, and the three senders.

It lives in the spi because both sides need it: the ``notify>`` operator may import only
``digpy.spi``, and the daemon (scheduler.limits) sends "Workflow execution timeout" with the
same sender. The sender is configured once per process: the daemon calls ``install`` with
its settings (config file + ``DIGPY_NOTIFICATION_*``); elsewhere (``digpy run``) the
``DIGPY_NOTIFICATION_*`` environment is read.

* ``log`` (default): a WARNING on the ``digpy.notify`` logger, so nothing is lost unset.
* ``http``: POST (``notification_http_method``) the JSON to ``notification_http_url`` with
  ``notification_http_headers``; any status but 2xx fails. Only the URL's scheme and host
  are ever shown: webhook URLs carry their token in the path, headers carry credentials.
* ``shell``: ``/bin/sh -c notification_shell_command`` with the JSON on stdin, output
  discarded, as Digdag's ShellNotificationSender (no extra environment, like Digdag).

A failed send raises ``NotificationFailed`` with a one-line message.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digpy.errors import DigpyError

log = logging.getLogger("digpy.notify")

TYPES = ("log", "http", "shell")
DEFAULT_TIMEOUT = 30.0  # seconds, Digdag's notification.shell.timeout / http timeout
ENV_PREFIX = "DIGPY_NOTIFICATION_"


class NotificationFailed(DigpyError):
    """The notifier could not deliver (bad status, timeout, non-zero exit)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifierConfig:
    type: str = "log"
    # repr=False: a webhook URL or a header may be a credential; never print them.
    http_url: str = field(default="", repr=False)
    http_method: str = "POST"
    http_headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    http_timeout: float = DEFAULT_TIMEOUT
    shell_command: str = ""
    shell_timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise NotificationFailed(f"notification_type must be log, http or shell, "
                                     f"not {self.type!r}")
        if self.type == "http" and not self.http_url:
            raise NotificationFailed("notification_type is http but notification_http_url "
                                     "is not set")
        if self.type == "shell" and not self.shell_command:
            raise NotificationFailed("notification_type is shell but "
                                     "notification_shell_command is not set")

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> NotifierConfig:
        """From settings-style keys without the ``notification_`` prefix (``type``,
        ``http_url`` ...); empty values keep the defaults."""
        given = {k: v for k, v in values.items() if v not in (None, "")}
        if "http_headers" in given:
            given["http_headers"] = parse_headers(given["http_headers"])
        for key in ("http_timeout", "shell_timeout"):
            if key in given:
                given[key] = _seconds(key, given[key])
        return cls(**given)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> NotifierConfig:
        return cls.from_values({k[len(ENV_PREFIX):].lower(): v for k, v in environ.items()
                                if k.startswith(ENV_PREFIX)
                                and k[len(ENV_PREFIX):].lower() in _FIELDS})


_FIELDS = frozenset(NotifierConfig.__dataclass_fields__)


def parse_headers(value: object) -> tuple[tuple[str, str], ...]:
    """A mapping (TOML table) or its JSON text (``DIGPY_NOTIFICATION_HTTP_HEADERS``)."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError:
            raise NotificationFailed("notification_http_headers must be a JSON object such as "
                                     '{"Authorization": "Bearer ..."}') from None
    if not isinstance(value, Mapping):
        raise NotificationFailed("notification_http_headers must be a table of name = value")
    return tuple((str(k), str(v)) for k, v in value.items())


def _seconds(name: str, value: object) -> float:
    try:
        seconds = float(value)  # type: ignore[arg-type]  # checked by the except
    except (TypeError, ValueError):
        raise NotificationFailed(f"notification_{name} must be seconds, not {value!r}") from None
    if seconds <= 0:
        raise NotificationFailed(f"notification_{name} must be more than 0, not {value!r}")
    return seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    """Digdag's ``io.digdag.spi.Notification``; ``to_json`` gives its JSON field names."""

    timestamp: datetime
    message: str
    site_id: int = 0
    project_id: int | None = None
    project_name: str | None = None
    workflow_name: str | None = None
    revision: str | None = None
    attempt_id: int | None = None
    session_id: int | None = None
    task_name: str | None = None
    timezone: str = "UTC"
    session_uuid: str | None = None
    session_time: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        session_time = None
        if self.session_time is not None:  # an OffsetDateTime in the workflow zone
            session_time = self.session_time.astimezone(_zone(self.timezone)).isoformat()
        return {
            "timestamp": self.timestamp.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "message": self.message, "siteId": self.site_id, "projectId": self.project_id,
            "projectName": self.project_name, "workflowName": self.workflow_name,
            "revision": self.revision, "attemptId": self.attempt_id,
            "sessionId": self.session_id, "taskName": self.task_name,
            "timeZone": self.timezone, "sessionUuid": self.session_uuid,
            "sessionTime": session_time,
        }

    def describe(self) -> str:
        """One line for logs: the message and where it comes from."""
        where = [f"{k} {v}" for k, v in (("project", self.project_name),
                                         ("workflow", self.workflow_name),
                                         ("attempt", self.attempt_id),
                                         ("task", self.task_name)) if v is not None]
        return f"{self.message} ({', '.join(where)})" if where else self.message


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


_installed: NotifierConfig | None = None


def install(config: NotifierConfig | None) -> None:
    """Make ``config`` this process's notifier (the daemon, from its settings); None
    goes back to the environment."""
    global _installed
    _installed = config


def configured() -> NotifierConfig:
    """The installed notifier, else the one ``DIGPY_NOTIFICATION_*`` describes.

    :raises NotificationFailed: the environment names a bad notifier."""
    return _installed if _installed is not None else NotifierConfig.from_environ(os.environ)


SEND_TRIES = 3  # a webhook that blips once should not page nobody
RETRY_WAITS = (1.0, 2.0)  # seconds before the 2nd and 3rd try


def send(notification: Notification, config: NotifierConfig | None = None, *,
         tries: int = SEND_TRIES, sleep: Callable[[float], None] = time.sleep,
         on_retry: Callable[[str], None] | None = None) -> str:
    """Deliver ``notification``, trying up to ``tries`` times (Digdag's senders retry
    inside, and ``notify>`` ignores ``_retry``); returns where it went.

    :raises NotificationFailed: the last try's one-line reason."""
    config = configured() if config is None else config
    for attempt in range(tries):
        try:
            return _send_once(notification, config)
        except NotificationFailed as exc:
            if attempt + 1 >= tries:
                raise
            wait = RETRY_WAITS[min(attempt, len(RETRY_WAITS) - 1)]
            (on_retry or _log_retry)(f"{exc}; trying again in {wait:g}s")
            sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")


def _log_retry(message: str) -> None:
    log.warning("%s", message)


def _send_once(notification: Notification, config: NotifierConfig) -> str:
    if config.type == "http":
        return _send_http(config, notification)
    if config.type == "shell":
        return _send_shell(config, notification)
    log.warning("Notification: %s", notification.describe())
    return "the log"


def _body(notification: Notification) -> bytes:
    return json.dumps(notification.to_json(), ensure_ascii=False).encode("utf-8")


def shown_url(url: str) -> str:
    """``scheme://host[:port]``: the rest of a webhook URL is often its secret."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirected POST would be replayed as a GET without the body (and maybe with the
    # headers to another host): report the 3xx instead.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _send_http(config: NotifierConfig, notification: Notification) -> str:
    where = shown_url(config.http_url)
    headers = {"Content-Type": "application/json", **dict(config.http_headers)}
    request = urllib.request.Request(config.http_url, data=_body(notification),
                                     headers=headers, method=config.http_method.upper())
    opener = urllib.request.build_opener(_NoRedirect())
    failed = f"notification {config.http_method.upper()} to {where} failed"
    try:
        with opener.open(request, timeout=config.http_timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise NotificationFailed(f"{failed}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise NotificationFailed(f"{failed}: {reason}") from None
    if not 200 <= status < 300:
        raise NotificationFailed(f"{failed}: HTTP {status}")
    return where


def _send_shell(config: NotifierConfig, notification: Notification) -> str:
    command = config.shell_command
    # A shell command line from the daemon's own settings (never from a workflow), run as
    # Digdag runs it: /bin/sh -c, in its own process group so a timeout stops it whole.
    process = subprocess.Popen(["/bin/sh", "-c", command], stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        process.communicate(_body(notification), timeout=config.shell_timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise NotificationFailed(f"notification shell command timed out after "
                                 f"{config.shell_timeout:g}s: {command}") from None
    if process.returncode != 0:
        raise NotificationFailed(f"notification shell command failed with exit code "
                                 f"{process.returncode}: {command}")
    return "the shell command"


def send_in_background(notification: Notification,
                       config: NotifierConfig | None = None) -> threading.Thread:
    """Send on a thread of its own, so a slow webhook never holds up the caller (the
    daemon's loop); a failure is logged as one line, as there is no task to fail."""
    config = configured() if config is None else config

    def deliver() -> None:
        try:
            send(notification, config)
        except NotificationFailed as exc:
            log.warning("could not send the notification %r: %s", notification.message, exc)

    thread = threading.Thread(target=deliver, name="digpy-notify", daemon=True)
    thread.start()
    return thread
