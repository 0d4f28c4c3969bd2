"""td_ddl>: create, empty, drop and rename TD databases and tables on any td> backend.

The order is Digdag's TdDdlOperatorFactory: drop/empty databases, create/empty databases,
drop/empty tables, create/empty tables, then renames ("empty" is drop + create). Each step is
idempotent, and the index of the step in progress is kept in the task state, so a transient
backend error polls and resumes there instead of redoing finished steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from digpy.spi import ConfigError, Operator, PollAgain, TaskResult
from digpy.spi.workflows import list_option

from .td import options
from .td.catalog import Catalog, Transient, open_catalog
from .td.remote import poll_interval
from .td.statement import TableRef

Step = tuple[str, Callable[[Catalog], None]]


def names(params: Mapping[str, Any], key: str) -> list[str]:
    values = list_option(params, key) if params.get(key) is not None else []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"'{key}' must be a list of names, got {value!r}")
    return [v.strip() for v in values]


def tables(params: Mapping[str, Any], key: str, default_db: Callable[[], str]
           ) -> list[tuple[str, str]]:
    refs = [TableRef.parse(name, key) for name in names(params, key)]
    return [(ref.database or default_db(), ref.table) for ref in refs]


def renames(params: Mapping[str, Any], default_db: Callable[[], str]
            ) -> list[tuple[str, str, str]]:
    entries = list_option(params, "rename_tables") if params.get("rename_tables") else []
    out = []
    for entry in entries:
        if not isinstance(entry, Mapping) or not {"from", "to"} <= set(entry):
            raise ConfigError("rename_tables entries must look like {from: old, to: new}, "
                              f"got {entry!r}")
        source = TableRef.parse(entry["from"], "rename_tables.from")
        target = str(entry["to"]).strip()
        if "." in target:  # TD's API renames within one database only (Digdag's message)
            raise ConfigError("'to' option of rename_tables can't include database name")
        out.append((source.database or default_db(), source.table, target))
    return out


class TdDdlOperator(Operator):
    type = "td_ddl"

    def run(self) -> TaskResult:
        config = self.request.config
        params = options.merged_params(config)
        catalog = open_catalog(options.connection(config, self.ctx.secrets), self.ctx)
        steps, moves = self.plan(params)
        state = dict(self.request.last_state)
        try:
            if "operation" not in state:
                self.check_renames(catalog, moves)
            for index in range(int(state.get("operation", 0)), len(steps)):
                state["operation"] = index
                description, action = steps[index]
                self.ctx.log.write(f"{description}\n")
                action(catalog)
        except Transient as exc:
            state["errors"] = int(state.get("errors", 0)) + 1
            self.ctx.log.write(f"DDL operation failed, will retry: {exc}\n")
            raise PollAgain(poll_interval(state["errors"]), state) from None
        return TaskResult.empty()

    def plan(self, params: Mapping[str, Any]) -> tuple[list[Step], list[tuple[str, str, str]]]:
        def default_db() -> str:
            return options.database(params, self.ctx.secrets)

        drop_dbs, create_dbs, empty_dbs = (names(params, k) for k in (
            "drop_databases", "create_databases", "empty_databases"))
        drop_ts, create_ts, empty_ts = (tables(params, k, default_db) for k in (
            "drop_tables", "create_tables", "empty_tables"))
        moves = renames(params, default_db)
        steps: list[Step] = []
        steps += [(f"Deleting TD database {d}", _drop_db(d)) for d in drop_dbs + empty_dbs]
        steps += [(f"Creating TD database {d}", _create_db(d)) for d in create_dbs + empty_dbs]
        steps += [(f"Deleting TD table {d}.{t}", _drop_table(d, t)) for d, t in drop_ts + empty_ts]
        steps += [(f"Creating TD table {d}.{t}", _create_table(d, t))
                  for d, t in create_ts + empty_ts]
        steps += [(f"Renaming TD table {d}.{a} -> {b}", _rename(d, a, b)) for d, a, b in moves]
        return steps, moves

    def check_renames(self, catalog: Catalog, moves: list[tuple[str, str, str]]) -> None:
        """Every table to rename must exist before anything changes (Digdag's check), so a
        rename that finds nothing later can only mean it already happened."""
        for database, old, _ in moves:
            if not catalog.table_exists(database, old):
                raise ConfigError(f"Renaming table {database}.{old} doesn't exist")


def _drop_db(database: str) -> Callable[[Catalog], None]:
    return lambda catalog: catalog.drop_database(database)


def _create_db(database: str) -> Callable[[Catalog], None]:
    return lambda catalog: catalog.create_database(database)


def _drop_table(database: str, table: str) -> Callable[[Catalog], None]:
    return lambda catalog: catalog.drop_table(database, table)


def _create_table(database: str, table: str) -> Callable[[Catalog], None]:
    return lambda catalog: catalog.create_table(database, table)


def _rename(database: str, old: str, new: str) -> Callable[[Catalog], None]:
    return lambda catalog: catalog.rename_table(database, old, new)
