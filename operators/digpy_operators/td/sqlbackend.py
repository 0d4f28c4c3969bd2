"""The ``sql`` backend: td> jobs on any database SQLAlchemy reaches (``td.url``).

A TD database is a schema (PostgreSQL: ``search_path``; tested for real on PostgreSQL). The
query is translated from Presto/Hive to the database's dialect by SQLGlot; TD functions work
where their arguments are constants (they become plain comparisons and numbers), others are
refused with a clear message. The whole job is one transaction. Result rows are fetched into
memory: fine for what td> results are used for (a few rows to store, a CSV to download).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlglot import exp

from digpy.spi import ConfigError, TaskFailed

from . import translate
from .backend import JobRequest, MemoryResult
from .tdfuncs import Rewriter
from .translate import Statement

# SQLAlchemy dialect name -> SQLGlot dialect name, where they differ.
_DIALECTS = {"postgresql": "postgres", "mssql": "tsql"}
_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def engine_for(url: str) -> Engine:
    """One pooled Engine per URL for the life of the process."""
    with _ENGINES_LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            try:
                engine = sa.create_engine(url, pool_pre_ping=True)
            except (sa.exc.ArgumentError, ImportError) as exc:
                raise ConfigError(f"td.url is not a usable SQLAlchemy URL: {exc}") from None
            _ENGINES[url] = engine
        return engine


class SqlBackend:
    name = "sql"

    def __init__(self, url: str) -> None:
        self.engine = engine_for(url)
        self.dialect = _DIALECTS.get(self.engine.dialect.name, self.engine.dialect.name)

    def run_job(self, job: JobRequest, state: dict[str, Any], key: str) -> MemoryResult:
        statements = translate.parse(job.statement, engine=job.engine,
                                     rewriter=Rewriter(job.scheduled_time, duckdb=False))
        try:
            with self.engine.begin() as conn:
                return SqlJob(conn, self.dialect, job).run(statements)
        except sa.exc.OperationalError as exc:
            if getattr(exc, "statement", None) is None:  # could not connect at all
                raise TaskFailed(f"cannot connect to td.url: {exc.orig}") from None
            raise

    def cleanup(self, state: dict[str, Any]) -> None:
        """Jobs finish inside run_job; there is nothing left to kill."""


class SqlJob:
    def __init__(self, conn: Connection, dialect: str, job: JobRequest) -> None:
        self.conn, self.dialect, self.job = conn, dialect, job
        self.inspector = sa.inspect(conn)

    def run(self, statements: list[Statement]) -> MemoryResult:
        self._use_database()
        job_id = str(uuid.uuid4().int >> 65)  # numeric like TD's ids, unique enough
        count, columns, data = 0, (), []  # type: tuple[int, Sequence[str], list[Any]]
        for statement in statements:
            count, columns, data = self._execute(statement, self._prepare(statement.tree))
        return MemoryResult(job_id, columns, count, data)

    def _schemas(self) -> list[str]:
        return list(self.inspector.get_schema_names())

    def _use_database(self) -> None:
        name, target = self.job.database, self.job.target
        existing = self._schemas()
        if name not in existing and target is None:
            raise TaskFailed(f"Database '{name}' does not exist at td.url (a schema); existing: "
                             f"{', '.join(existing)}. It is created by the first td> with "
                             "create_table or insert_into into it.")
        needed = {name, target.database or name} if target else {name}
        for missing in sorted(needed - set(existing)):
            self.conn.execute(sa.schema.CreateSchema(missing, if_not_exists=True))
        if self.dialect == "postgres":
            quoted = self.conn.dialect.identifier_preparer.quote_identifier(name)
            self.conn.exec_driver_sql(f"SET LOCAL search_path TO {quoted}")

    def _prepare(self, tree: exp.Expression) -> exp.Expression:
        target = translate.insert_target(tree)
        if target is None or not isinstance(tree, exp.Insert):
            return tree
        schema = target.db or self.job.database
        if tree.args.get("overwrite"):
            self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {target.sql(self.dialect)}")
            return translate.insert_as_create(tree)
        if not self.inspector.has_table(target.name, schema=schema):
            return translate.insert_as_create(tree)
        return _by_name(tree)

    def _execute(self, statement: Statement, tree: exp.Expression
                 ) -> tuple[int, Sequence[str], list[Any]]:
        try:
            cursor = self.conn.exec_driver_sql(statement.sql(self.dialect, tree))
        except sa.exc.DBAPIError as exc:
            message = str(exc.orig).strip() if exc.orig is not None else str(exc)
            raise translate.backend_error(self.job.statement, statement, message) from None
        if cursor.returns_rows and statement.is_query:
            data = [tuple(row) for row in cursor.fetchall()]
            return len(data), list(cursor.keys()), data
        return max(cursor.rowcount, 0), (), []


def _by_name(tree: exp.Insert) -> exp.Expression:
    """TD matches inserted columns by name: name them when the query's output names are known."""
    query = tree.expression
    names = query.named_selects if isinstance(query, exp.Query) else []
    if not names or "*" in names or isinstance(tree.this, exp.Schema):
        return tree
    out = tree.copy()
    out.set("this", exp.Schema(this=tree.this.copy(),
                               expressions=[exp.to_identifier(n) for n in names]))
    return out
