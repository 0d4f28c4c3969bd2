"""``digpy secrets``: set, delete and list secrets — local ones (``--local``, what ``digpy
run`` reads) or a project's on a digpy server (``-e URL --project NAME``, what its tasks
read). Values are never printed and never come back from the server.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Protocol

import click

from digpy.cli.client.backend import endpoint_option
from digpy.secrets.crypto import SecretError
from digpy.secrets.local import LocalSecretStore, is_valid_key

HELP = """Manage secrets used by ${secret:...}, _env and operators.

\b
Examples:
  digpy secrets --local --list
  digpy secrets --local --set pg.password          # value typed, not echoed
  echo -n "$TOKEN" | digpy secrets --local --set http.authorization
  digpy secrets --local --set td.apikey=1/abcdef   # value ends up in shell history!
  digpy secrets --local --delete pg.password
  digpy secrets -e http://127.0.0.1:65432 --project etl --list
  digpy secrets -e URL --project etl --set pg.password      # a server project's secret

\b
Exit codes: 0 done, 1 a secret to delete does not exist, the store is damaged or the
server is unreachable, 2 usage error, bad key, unknown project or no --local/-e given.
"""


class SecretStore(Protocol):
    def set(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> bool: ...

    def list(self) -> list[str]: ...


@click.command("secrets", help=HELP)
@click.option("--local", "local", is_flag=True,
              help="Use the local secret store (what `digpy run` reads).")
@click.option("--project", "project", default=None, metavar="NAME",
              help="With -e: the server project whose secrets to manage.")
@endpoint_option
@click.option(
    "--set", "sets", multiple=True, metavar="KEY[=VALUE]",
    help="Set a secret; without =VALUE the value is read from stdin.",
)
@click.option("--delete", "deletes", multiple=True, metavar="KEY", help="Delete a secret.")
@click.option("--list", "list_", is_flag=True, help="List secret names (never values).")
@click.option("--json", "as_json", is_flag=True, help="With --list: print a JSON array.")
def secrets(
    local: bool, project: str | None, endpoint: str | None, sets: Sequence[str],
    deletes: Sequence[str], list_: bool, as_json: bool
) -> int:
    store = _store(local, project, endpoint)
    pairs = _parse_sets(sets)
    _check_keys([key for key, _ in pairs] + list(deletes))
    try:
        for key, value in pairs:
            value = value if value is not None else _read_value(key)
            if not value:
                raise click.UsageError(f"The value of secret '{key}' is empty")
            store.set(key, value)
            click.echo(f"Secret '{key}' set")
        missing = [key for key in deletes if not _delete(store, key)]
        if list_ or not (sets or deletes):
            _print_names(store.list(), as_json)
    except SecretError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    return 1 if missing else 0


def _store(local: bool, project: str | None, endpoint: str | None) -> SecretStore:
    """``--local`` wins over a configured endpoint; a server needs ``--project``."""
    if local:
        return LocalSecretStore.default()
    if not endpoint:
        raise click.UsageError("say which secrets: --local (what `digpy run` reads), or "
                               "-e URL --project NAME (a server project's)")
    if not project:
        raise click.UsageError("a server's secrets belong to a project: add --project NAME")
    from digpy.cli.client.backend import open_server
    from digpy.cli.client.remote_projects import ServerSecrets

    return ServerSecrets(open_server(endpoint, "secrets"), project)


def _parse_sets(sets: Sequence[str]) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    for item in sets:
        key, eq, value = item.partition("=")
        pairs.append((key.strip(), value if eq else None))
    if sum(1 for _, value in pairs if value is None) > 1:
        raise click.UsageError("Only one --set KEY can read its value from stdin")
    return pairs


def _check_keys(keys: Sequence[str]) -> None:
    bad = [key for key in keys if not is_valid_key(key)]
    if bad:
        raise click.UsageError(
            f"Invalid secret key {bad[0]!r}: use letters, digits, '_' and '-', "
            "in dot-separated parts such as 'td.apikey'"
        )


def _read_value(key: str) -> str:
    """The value from a hidden prompt on a terminal, else all of stdin (one trailing
    newline dropped, as `echo` adds one)."""
    if sys.stdin.isatty():
        return str(click.prompt(f"Value of secret '{key}'", hide_input=True, err=True))
    text = sys.stdin.read()
    if text.endswith("\r\n"):
        return text[:-2]
    return text.removesuffix("\n")


def _delete(store: SecretStore, key: str) -> bool:
    if store.delete(key):
        click.echo(f"Secret '{key}' deleted")
        return True
    click.echo(f"Secret '{key}' does not exist", err=True)
    return False


def _print_names(names: list[str], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(names))
    else:
        for name in names:
            click.echo(name)
