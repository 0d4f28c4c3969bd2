"""Where client commands send requests: the server endpoint and its API token.

Endpoint: ``-e URL``, else ``DIGPY_ENDPOINT``, else ``endpoint`` in the client config file —
unless ``--project DIR`` is on the command line, which always means the local state (so a
configured endpoint never hides the project the user just named). Token: ``DIGPY_API_TOKEN``,
else ``token`` in the client config file. The file is ``$DIGPY_CONFIG_HOME/client.toml``,
else ``$XDG_CONFIG_HOME/digpy/client.toml``, else ``~/.config/digpy/client.toml``, the same
folder as local secrets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import click

ENDPOINT_ENV = "DIGPY_ENDPOINT"
TOKEN_ENV = "DIGPY_API_TOKEN"
KEYS = ("endpoint", "token")


@dataclass(frozen=True, slots=True)
class ClientFile:
    endpoint: str | None
    token: str | None


def config_path() -> Path:
    if home := os.environ.get("DIGPY_CONFIG_HOME"):
        return Path(home) / "client.toml"
    if xdg := os.environ.get("XDG_CONFIG_HOME"):
        return Path(xdg) / "digpy" / "client.toml"
    return Path.home() / ".config" / "digpy" / "client.toml"


def read_client_file(path: Path | None = None) -> ClientFile:
    """The config file's values (both None when there is no file).

    :raises ConfigError: the file is not TOML, or has a key this client does not know."""
    import tomllib

    from digpy.errors import ConfigError

    path = path or config_path()
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ClientFile(None, None)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the client config ({exc})") from None
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r}; known keys: "
                          + ", ".join(KEYS))
    bad = [k for k in KEYS if k in values and not isinstance(values[k], str)]
    if bad:
        raise ConfigError(f"{path}: {bad[0]} must be a string")
    return ClientFile(values.get("endpoint") or None, values.get("token") or None)


def configured_endpoint() -> str | None:
    return os.environ.get(ENDPOINT_ENV) or read_client_file().endpoint


def configured_token() -> str | None:
    return os.environ.get(TOKEN_ENV) or read_client_file().token


def resolve_endpoint(ctx: click.Context, param: click.Parameter, value: str | None
                     ) -> str | None:
    """Click callback of ``-e``: the flag, else the configured endpoint unless ``--project``
    was given. Click processes options given on the command line before defaulted ones, so
    ``--project``'s source is known here whenever the user typed it."""
    if value:
        return value
    source = ctx.get_parameter_source("project_dir")
    if source is click.core.ParameterSource.COMMANDLINE:
        return None
    return configured_endpoint()

