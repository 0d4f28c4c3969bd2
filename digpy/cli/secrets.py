"""``digpy secrets``: set, delete and list local secrets. Values are never printed.

Only ``--local`` exists for now; server secrets come with ``digpy server``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import click

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
"""


@click.command("secrets", help=HELP)
@click.option("--local", "local", is_flag=True, help="Use the local secret store (required).")
@click.option(
    "--set", "sets", multiple=True, metavar="KEY[=VALUE]",
    help="Set a secret; without =VALUE the value is read from stdin.",
)
@click.option("--delete", "deletes", multiple=True, metavar="KEY", help="Delete a secret.")
@click.option("--list", "list_", is_flag=True, help="List secret names (never values).")
@click.option("--json", "as_json", is_flag=True, help="With --list: print a JSON array.")
def secrets(
    local: bool, sets: Sequence[str], deletes: Sequence[str], list_: bool, as_json: bool
) -> int:
    if not local:
        raise click.UsageError(
            "Only local secrets are supported for now: add --local "
            "(server secrets will come with `digpy server`)."
        )
    store = LocalSecretStore.default()
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


def _delete(store: LocalSecretStore, key: str) -> bool:
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
