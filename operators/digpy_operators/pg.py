"""pg>: run SQL from a template file on PostgreSQL (Digdag's PgOperatorFactory and
AbstractJdbcJobOperator).

Two modes, as in Digdag:

* read-only — with ``download_file`` or ``store_last_results`` (``first``: the first row as
  an object, ``all``: every row as an array): the query runs in a READ ONLY transaction;
* otherwise the statement (with ``create_table`` / ``insert_into`` applied) runs exactly
  once: a query id is saved in the task state first, and with ``strict_transaction`` (the
  default) a status table records its completion in the statement's own transaction. Another
  run holding the same query's row makes the task poll (1 s doubling to 20 min).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from digpy.spi import ConfigError, Operator, PollAgain, TaskFailed, TaskResult

from .td import pgconn, results, source
from .td.statement import TableRef

MAX_ROWS, MAX_COLUMNS, MAX_VALUE_SIZE = 8192, 64, 256  # Digdag's config.jdbc.* defaults
STORE_OPTIONS = ("false", "first", "all")
MAX_LOCK_POLL = 1200


def merged_params(config: Mapping[str, Any]) -> dict[str, Any]:
    namespace = config.get("pg")
    base = dict(namespace) if isinstance(namespace, Mapping) else {}
    base.update(config)
    return base


def store_option(params: Mapping[str, Any]) -> str:
    value = params.get("store_last_results", False)
    text = str(value).strip().lower() if not isinstance(value, bool) else str(value).lower()
    text = "first" if text == "true" else text
    if text not in STORE_OPTIONS:
        raise ConfigError(f"store_last_results must be false, first or all, got {value!r}")
    return text


def target(params: Mapping[str, Any], key: str) -> TableRef | None:
    return TableRef.parse(params[key], key) if params.get(key) is not None else None


def check_options(insert_into: Any, create_table: Any, download: Any, store: str) -> None:
    # Digdag's messages, word for word.
    modified = insert_into is not None or create_table is not None
    if insert_into is not None and create_table is not None:
        raise ConfigError("Can't use both of insert_into and create_table")
    if download and modified:
        raise ConfigError("Can't use download_file with insert_into or create_table")
    if store != "false" and modified:
        raise ConfigError("Can't use store_last_results with insert_into or create_table")
    if download and store != "false":
        raise ConfigError("Can't use both download_file and store_last_results at once")


def build_statement(query: str, insert_into: TableRef | None,
                    create_table: TableRef | None) -> str:
    if insert_into is not None:
        return f"INSERT INTO {_pg_name(insert_into)}\n{query}"
    if create_table is not None:
        name = _pg_name(create_table)
        return f"DROP TABLE IF EXISTS {name}; CREATE TABLE {name} AS \n{query}"
    return query


def _pg_name(ref: TableRef) -> str:
    return ".".join('"' + p.replace('"', '""') + '"' for p in (ref.database, ref.table) if p)


def row_map(columns: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in zip(columns, row, strict=False):
        if isinstance(value, str) and len(value) > MAX_VALUE_SIZE:
            raise TaskFailed(f"The size of result value exceeded the limit: {len(value)} > "
                             f"{MAX_VALUE_SIZE}")
        try:
            out[name] = results.json_value(value)
        except results.NotJson as exc:
            raise TaskFailed(f"store_last_results: column '{name}' holds {exc}, which cannot "
                             "be stored as a parameter; cast it to text in the query") from None
    return out


def last_results(option: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    if len(columns) > MAX_COLUMNS:
        raise TaskFailed(f"The number of result columns exceeded the limit: {len(columns)} > "
                         f"{MAX_COLUMNS}")
    if option == "first":
        return row_map(columns, rows[0]) if rows else {}
    if len(rows) > MAX_ROWS:
        raise TaskFailed(f"The number of result rows exceeded the limit: {len(rows)} > "
                         f"{MAX_ROWS}")
    return [row_map(columns, row) for row in rows]


class PgOperator(Operator):
    type = "pg"

    def run(self) -> TaskResult:
        params = merged_params(self.request.config)
        insert_into, create_table = target(params, "insert_into"), target(params, "create_table")
        download, store = params.get("download_file"), store_option(params)
        check_options(insert_into, create_table, download, store)
        config = pgconn.configure(params, self.ctx.secrets)
        query = source.load_query(self.ctx, params, "pg")
        engine = pgconn.engine_for(config)
        if download or store != "false":
            return self.read_only(engine, config.schema, query, download, store)
        statement = build_statement(query, insert_into, create_table)
        self.execute(engine, config.schema, statement, params)
        return TaskResult.empty()

    def read_only(self, engine: sa.Engine, schema: str, query: str, download: Any,
                  store: str) -> TaskResult:
        columns, rows = self.fetch(engine, schema, query, bool(download))
        if download:
            path = source.resolve_in_project(self.ctx, str(download), "download_file")
            results.write_csv(path, columns, iter(rows))
            self.ctx.log.write(f"Wrote {len(rows)} rows to {download}\n")
            return TaskResult.empty()
        return TaskResult(store_params={"pg": {"last_results": last_results(store, columns,
                                                                            rows)}})

    def fetch(self, engine: sa.Engine, schema: str, query: str, download: bool
              ) -> tuple[list[str], list[Sequence[Any]]]:
        try:
            with engine.connect() as conn, conn.begin():
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                pgconn.use_schema(conn, schema)
                cursor = conn.exec_driver_sql(query)
                if not cursor.returns_rows:
                    return [], []
                return list(cursor.keys()), [tuple(r) for r in cursor.fetchall()]
        except sa.exc.DBAPIError as exc:
            if pgconn.sqlstate(exc) == "25006":  # read_only_sql_transaction
                what = "download_file" if download else "store_last_results"
                raise ConfigError(f"Query must be read-only if {what} is set") from None
            raise pgconn.database_error("Failed to execute given SELECT statement", exc) from None

    def execute(self, engine: sa.Engine, schema: str, statement: str,
                params: Mapping[str, Any]) -> None:
        state = dict(self.request.last_state)
        if "query_id" not in state:  # saved before anything runs: a retry reuses it
            state["query_id"] = str(uuid.uuid4())
            raise PollAgain(0, state)
        strict = pgconn.flag(params.get("strict_transaction", True), "strict_transaction")
        try:
            if not strict:
                pgconn.run_without_transaction(engine, schema, statement)
            elif not pgconn.run_once(engine, schema, self.status_table(params, schema),
                                     str(state["query_id"]), statement):
                self.ctx.log.write("Query is already completed according to the status table; "
                                   "skipping it\n")
        except pgconn.LockConflict:
            wait = int(state.get("poll_interval", 1))
            state["poll_interval"] = min(wait * 2, MAX_LOCK_POLL)
            raise PollAgain(wait, state) from None
        except sa.exc.DBAPIError as exc:
            raise pgconn.database_error("Failed to execute the statement", exc) from None

    def status_table(self, params: Mapping[str, Any], schema: str) -> pgconn.StatusTable:
        return pgconn.StatusTable(str(params.get("status_table_schema") or schema),
                                  str(params.get("status_table") or "__digdag_status"))
