"""Where a td> query comes from: ``td>: file.sql`` (a template), ``td>: {data: SQL}`` or
``query: SQL`` (inline; already evaluated with the task's params, so not rendered again)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from digpy.spi import ConfigError, OperatorContext


def load_query(ctx: OperatorContext, params: Mapping[str, Any], operator: str = "td") -> str:
    command = params.get("_command")
    if isinstance(command, Mapping):
        data = command.get("data")
        if not isinstance(data, str):
            raise ConfigError(f"{operator}>: {{data: ...}} must hold the SQL text")
        return data
    if isinstance(command, str) and command.strip():
        return ctx.render(read_project_file(ctx, command.strip()))
    query = params.get("query")
    if isinstance(query, str) and query.strip():
        return query
    raise ConfigError(f"{operator}> needs a query: '{operator}>: queries/x.sql', "
                      f"'{operator}>: {{data: SELECT ...}}' or 'query: SELECT ...'")


def resolve_in_project(ctx: OperatorContext, name: str, option: str) -> Path:
    """``name`` relative to the workdir; it must stay inside the project (Digdag's rule)."""
    path = (ctx.workdir / name).resolve()
    root = ctx.project_path.resolve()
    if path != root and root not in path.parents:
        raise ConfigError(f"{option} '{name}' is outside of the project directory {root}; "
                          "file names must not be outside of project path")
    return path


def read_project_file(ctx: OperatorContext, name: str) -> str:
    path = resolve_in_project(ctx, name, "query file")
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"query file '{name}' does not exist (looked in {ctx.workdir})",
                          suggestions=_nearby_sql_files(ctx, name)) from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read query file '{name}': {exc}") from None


def _nearby_sql_files(ctx: OperatorContext, name: str) -> list[str]:
    root = ctx.project_path.resolve()
    candidates = []
    for path in root.rglob("*.sql"):
        if ".digpy" in path.relative_to(root).parts:
            continue
        try:
            candidates.append(str(path.relative_to(ctx.workdir.resolve())))
        except ValueError:
            candidates.append(str(path.relative_to(root)))
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
    if close:
        return close
    by_file = {Path(c).name: c for c in candidates}
    return [by_file[m] for m in difflib.get_close_matches(Path(name).name, list(by_file), n=3)]
