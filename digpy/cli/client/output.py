"""One way to print every listing: a rich table on a terminal, aligned plain text in a pipe,
or ``--json`` (an array), ``--jsonl`` (an object a line), ``--tsv`` (header + rows), so
scripts never parse the human form. Single objects print as ``key: value`` lines."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("json", "jsonl", "tsv")


class Jsonable(Protocol):
    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    cell: Callable[[Any], object]
    style: Callable[[Any], str | None] | None = None  # rich style of the cell, terminal only


def output_options(func: F) -> F:
    """``--json``, ``--jsonl``, ``--tsv``: one destination ``fmt`` (None: for humans)."""
    for name, what in reversed([("json", "a JSON array"), ("jsonl", "one JSON object a line"),
                                ("tsv", "tab-separated values with a header")]):
        func = click.option(f"--{name}", "fmt", flag_value=name, default=None,
                            help=f"Print {what}.")(func)
    return func


def is_terminal() -> bool:
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def text(value: object) -> str:
    """A cell for humans: times as ``2016-01-30 00:00:00 +09:00``, None as blank."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return fmt_time(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def fmt_time(when: datetime | None) -> str:
    if when is None:
        return ""
    offset = when.strftime("%z")
    return when.strftime("%Y-%m-%d %H:%M:%S") + (f" {offset[:3]}:{offset[3:]}" if offset else "")


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def dumps(value: object, *, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent, default=str)


def emit_listing(items: Sequence[Jsonable], columns: Sequence[Column], fmt: str | None,
                 *, empty: str) -> None:
    """Print ``items`` in ``fmt``; ``empty`` is said (on stderr) when there is nothing,
    so a pipe gets no output and a human gets a reason."""
    if fmt == "json":
        click.echo(dumps([i.to_json() for i in items], indent=2))
        return
    if fmt == "jsonl":
        for item in items:
            click.echo(dumps(item.to_json()))
        return
    rows = [[text(c.cell(i)) for c in columns] for i in items]
    if fmt == "tsv":
        for row in [[c.header.lower().replace(" ", "_") for c in columns], *rows]:
            click.echo("\t".join(_tsv(cell) for cell in row))
        return
    if not items:
        click.echo(empty, err=True)
        return
    if is_terminal():
        _rich_table(items, columns, rows)
    else:
        _plain_table([c.header.upper() for c in columns], rows)


def emit_detail(item: Jsonable, lines: Sequence[tuple[str, object]], fmt: str | None) -> None:
    """One object: ``key: value`` lines for humans, its JSON otherwise."""
    if fmt == "json":
        click.echo(dumps(item.to_json(), indent=2))
    elif fmt == "jsonl":
        click.echo(dumps(item.to_json()))
    elif fmt == "tsv":
        for key, value in lines:
            click.echo(f"{key}\t{_tsv(text(value))}")
    else:
        for key, value in lines:
            click.echo(f"  {key}: {text(value)}")


def _tsv(cell: str) -> str:
    return cell.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    for row in [list(headers), *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                   .rstrip())


def _rich_table(items: Sequence[Any], columns: Sequence[Column],
                rows: Sequence[Sequence[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in columns:
        table.add_column(column.header.upper())
    for item, row in zip(items, rows, strict=True):
        styled = [f"[{c.style(item)}]{_escape(cell)}[/]" if c.style and c.style(item)
                  else _escape(cell) for c, cell in zip(columns, row, strict=True)]
        table.add_row(*styled)
    Console(highlight=False).print(table)


def _escape(cell: str) -> str:
    from rich.markup import escape

    return escape(cell)


STATUS_STYLES = {"success": "green", "error": "red", "group_error": "red", "killed": "yellow",
                 "canceled": "yellow", "running": "cyan", "retry_waiting": "yellow",
                 "pending": "bright_black"}


def status_style(value: str) -> str | None:
    return STATUS_STYLES.get(value)
