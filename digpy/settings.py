"""Daemon settings: built-in defaults < config file (TOML) < ``DIGPY_*`` environment <
command-line flags, frozen once loaded. ``config/server.toml`` shows every key."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from digpy.dsl.durations import parse_duration
from digpy.errors import ConfigError
from digpy.spi.notify import NotificationFailed, NotifierConfig, parse_headers

DEFAULT_PORT = 65432


def default_data_dir() -> Path:
    """platformdirs' user data dir when installed (``~/.local/share/digpy`` on Linux)."""
    try:
        from platformdirs import user_data_dir
    except ImportError:  # the daemon still works without it
        return Path.home() / ".local" / "share" / "digpy"
    return Path(user_data_dir("digpy", appauthor=False))


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    database: str = ""  # SQLAlchemy URL; empty: SQLite <data_dir>/digpy.db
    data_dir: str = ""  # empty: default_data_dir()
    bind: str = "127.0.0.1"
    port: int = DEFAULT_PORT  # 0: a free port, logged at start
    api_token: str = ""  # bearer token for the REST API; required off loopback
    disable_api: bool = False
    max_task_threads: int = 0  # 0: the worker pool's default
    disable_scheduler: bool = False
    disable_executor: bool = False
    log_format: str = "auto"  # auto (text on a terminal, else json) | text | json
    retention_days: int = 30  # digpy gc: finished attempts older than this are deleted
    scheduler_interval: float = 1.0  # seconds between schedule ticks (Digdag: 1 s)
    lease_seconds: float = 60.0  # a daemon's hold on an attempt lasts this long unrenewed
    heartbeat_seconds: float = 0.0  # 0: lease_seconds / 3
    # Digdag's executor limits (spec §3.11, scheduler.limits): running attempts per site,
    # and how long one task / one attempt may run before the whole attempt is killed.
    attempt_max_run: int = 100
    task_ttl: str = "1d"  # a duration (dsl.durations): "1d", "12h", "90m", "3600"
    attempt_ttl: str = "7d"
    # System notifications (spec §8.7; digpy.spi.notify): log | http | shell. Sent by
    # notify>, SLA alerts and the attempt_ttl timeout.
    notification_type: str = "log"
    notification_http_url: str = field(default="", repr=False)  # may hold a token
    notification_http_method: str = "POST"
    # JSON object text (a TOML table is accepted too); repr=False: credentials
    notification_http_headers: str = field(default="", repr=False)
    notification_http_timeout: float = 30.0
    notification_shell_command: str = ""
    notification_shell_timeout: float = 30.0

    @property
    def heartbeat_interval(self) -> float:
        return self.heartbeat_seconds or self.lease_seconds / 3

    @property
    def task_ttl_seconds(self) -> int:
        return parse_duration(self.task_ttl)

    @property
    def attempt_ttl_seconds(self) -> int:
        return parse_duration(self.attempt_ttl)

    @property
    def notifier(self) -> NotifierConfig:
        prefix = "notification_"
        return NotifierConfig.from_values({f.name[len(prefix):]: getattr(self, f.name)
                                           for f in fields(self) if f.name.startswith(prefix)})

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir) if self.data_dir else default_data_dir()

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{self.data_path / 'digpy.db'}"

    def with_overrides(self, values: Mapping[str, Any]) -> Settings:
        """These settings with every non-None value of ``values`` (command-line flags)."""
        given = {k: v for k, v in values.items() if v is not None}
        return _checked(replace(self, **given)) if given else self


def load_settings(config_file: Path | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """:raises ConfigError: an unreadable file, an unknown key or a bad value."""
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            values.update(tomllib.loads(config_file.read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc}") from exc
    env = os.environ if environ is None else environ
    known = {f.name: f for f in fields(Settings)}
    for name in known:
        raw = env.get(f"DIGPY_{name.upper()}")
        if raw is not None:
            values[name] = raw
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"unknown settings {unknown} in {config_file or 'the environment'}; "
                          f"known: {sorted(known)}")
    return _checked(Settings(**{k: _coerce(k, known[k].type, v) for k, v in values.items()}))


def _coerce(name: str, kind: Any, value: Any) -> Any:
    if not isinstance(value, str) or kind in ("str", str):
        return value
    try:
        if kind in ("bool", bool):
            if value.lower() not in ("true", "false", "1", "0"):
                raise ValueError(value)
            return value.lower() in ("true", "1")
        if kind in ("int", int):
            return int(value)
        if kind in ("float", float):
            return float(value)
    except ValueError:
        raise ConfigError(f"setting {name}: {value!r} is not a {kind}") from None
    return value


def _checked(settings: Settings) -> Settings:
    if settings.log_format not in ("auto", "text", "json"):
        raise ConfigError(f"log_format must be auto, text or json, not "
                          f"{settings.log_format!r}")
    if not 0 <= settings.port < 65536:
        raise ConfigError(f"port {settings.port} is out of range")
    if settings.lease_seconds <= 0 or not 0 < settings.heartbeat_interval < settings.lease_seconds:
        raise ConfigError(f"lease_seconds must be > 0 and heartbeat_seconds between 0 and it "
                          f"(got {settings.lease_seconds:g} and {settings.heartbeat_seconds:g})")
    if settings.attempt_max_run < 1:
        raise ConfigError(f"attempt_max_run must be at least 1, not {settings.attempt_max_run}")
    if not isinstance(settings.notification_http_headers, str):  # a TOML table
        settings = replace(settings, notification_http_headers=json.dumps(
            dict(parse_headers(settings.notification_http_headers))))
    try:
        settings.notifier  # noqa: B018  # validates the notification_* settings
    except NotificationFailed as exc:
        raise ConfigError(str(exc)) from None
    return replace(settings, task_ttl=_ttl("task_ttl", settings.task_ttl),
                   attempt_ttl=_ttl("attempt_ttl", settings.attempt_ttl))


def _ttl(name: str, value: object) -> str:
    """The duration as text (TOML may give a number of seconds); > 0, else ConfigError."""
    try:
        seconds = parse_duration(value)  # type: ignore[arg-type]  # checked inside
    except ConfigError as exc:
        raise ConfigError(f"setting {name}: {exc}") from None
    if seconds <= 0:
        raise ConfigError(f"setting {name} must be longer than 0 seconds, not {value!r}")
    return str(value)
