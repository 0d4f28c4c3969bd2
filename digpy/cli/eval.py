"""`digpy eval TEMPLATE [-p K=V]... [--timezone TZ] [--session TIME]`: render one string the
way a task would see it, or `digpy eval --jsonl FILE` to render many (one JSON object per
line in, one per line out)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import IO, Any

import click

from digpy.cli.params import parse_params
from digpy.clock import SystemClock
from digpy.dsl.builtins import session_variables
from digpy.dsl.sessiontime import parse_session_time
from digpy.dsl.template import render
from digpy.dsl.timezones import parse_timezone
from digpy.errors import ConfigError, DigpyError, ExpressionError


def _default_session(timezone: str, now: datetime) -> datetime:
    local = now.astimezone(parse_timezone(timezone))
    return parse_session_time(local.strftime("%Y-%m-%d"), timezone)


def _scope(items: Sequence[str], timezone: str, session: str | None,
           now: datetime) -> dict[str, Any]:
    params = parse_params(items)
    when = parse_session_time(session, timezone) if session else _default_session(timezone, now)
    builtins: dict[str, Any] = {"timezone": timezone, **session_variables(when, timezone)}
    for key in sorted(set(params) & set(builtins)):
        click.echo(f"warning: -p {key} is ignored: built-in variables cannot be overridden",
                   err=True)
    return {**params, **builtins}


def _render_line(line: str, number: int, now: datetime) -> dict[str, Any]:
    try:
        case = json.loads(line)
        template, params = case["template"], case.get("params", {})
        timezone = case.get("timezone", "UTC")
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"line {number}: expected a JSON object with 'template' "
                          f"(and optional 'params', 'timezone'): {exc}") from None
    try:
        return {"rendered": render(template, params, timezone=timezone, now=now)}
    except ExpressionError as exc:
        return {"error": exc.js_class, "message": str(exc)}
    except DigpyError as exc:
        return {"error": type(exc).__name__, "message": str(exc)}


def _run_jsonl(source: IO[str], now: datetime) -> int:
    for number, line in enumerate(source, start=1):
        if line.strip():
            click.echo(json.dumps(_render_line(line, number, now), ensure_ascii=False))
    return 0


@click.command(
    "eval",
    epilog="""\b
Examples:
  digpy eval '${session_date_compact}' --session 2016-01-30
  digpy eval '${moment(session_time).add(1,"days").format("YYYYMMDD")}' --timezone Asia/Tokyo
  digpy eval 'rows: ${td.last_results.cnt}' -p td.last_results.cnt=3
  digpy eval --jsonl cases.jsonl      one {"rendered": ...} or {"error": ...} line per input""",
)
@click.argument("template", required=False)
@click.option("-p", "--param", "items", multiple=True, metavar="KEY=VALUE",
              help="A param (a string; dotted keys nest). Repeatable.")
@click.option("--timezone", "-t", default="UTC", show_default=True,
              help="Workflow time zone: IANA name or +09:00.")
@click.option("--session", "session", metavar="TIME", default=None,
              help="Session time: yyyy-MM-dd or 'yyyy-MM-dd HH:mm:ss' (default: today 00:00).")
@click.option("--jsonl", "jsonl", type=click.File("r", encoding="utf-8"), default=None,
              metavar="FILE",
              help="Render each line of FILE ('-' for stdin): template, params, timezone.")
def eval_command(template: str | None, items: tuple[str, ...], timezone: str,
                 session: str | None, jsonl: IO[str] | None) -> int:
    """Render a ${...} template with Digdag's rules and print the result.

    Built-in session variables (session_time, session_date, ...) and timezone are in
    scope. A failing expression prints the JavaScript error on stderr and exits 1."""
    now = SystemClock().now()
    if jsonl is not None:
        if template is not None or items or session:
            raise click.UsageError("--jsonl takes no TEMPLATE, -p or --session")
        return _run_jsonl(jsonl, now)
    if template is None:
        raise click.UsageError("missing TEMPLATE (or --jsonl FILE)")
    parse_timezone(timezone)
    click.echo(render(template, _scope(items, timezone, session, now), timezone=timezone,
                      now=now))
    return 0
