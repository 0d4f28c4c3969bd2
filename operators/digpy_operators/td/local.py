"""The ``local`` backend: TD databases as schemas of one DuckDB file, ``.digpy/td.duckdb``.

One DuckDB instance per file is kept open for the life of the process (opening a file costs
~30 ms, over the budget of a trivial query); each job uses its own cursor, so parallel tasks
don't serialise on a lock. The price: while a digpy process uses the local backend it holds
DuckDB's lock on the file, so another process (a second ``digpy run``, the duckdb CLI) cannot
open it for writing at the same time.

A job's statements that write run in one transaction (so a failing create_table leaves the old
table in place, unlike TD); a final SELECT is then materialised into an in-memory table so its
rows can be counted (``num_records``) and read more than once.
"""

from __future__ import annotations

import atexit
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import exp

from digpy.spi import TaskFailed

from . import duckfuncs, translate
from .backend import JobRequest
from .tdfuncs import Rewriter
from .translate import Statement

CATALOG = "digpy_td"  # the file's alias: a TD database named like the file can't shadow it
HIDDEN_PREFIX = "_digpy"  # digpy's own schemas, never listed as TD databases
_MAX_OPEN = 8
_FETCH = 10_000


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class LocalDatabase:
    """One DuckDB file. Thread-safe: every job and every result reader has its own cursor."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.con = duckdb.connect(":memory:")
        self.con.execute(f"ATTACH {_string(str(path))} AS {CATALOG}")
        duckfuncs.register(self.con)
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{HIDDEN_PREFIX}")
        self.con.execute(f"CREATE SEQUENCE IF NOT EXISTS {CATALOG}.{HIDDEN_PREFIX}.job_ids")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.con.cursor()

    def databases(self, cur: duckdb.DuckDBPyConnection | None = None) -> list[str]:
        rows = (cur or self.cursor()).execute(
            "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = ? "
            "ORDER BY 1", [CATALOG]).fetchall()
        return [r[0] for r in rows if not r[0].startswith(HIDDEN_PREFIX)]

    def tables(self, database: str, cur: duckdb.DuckDBPyConnection | None = None) -> list[str]:
        rows = (cur or self.cursor()).execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
            "AND table_schema = ? ORDER BY 1", [CATALOG, database]).fetchall()
        return [r[0] for r in rows]

    def next_job_id(self, cur: duckdb.DuckDBPyConnection) -> str:
        row = cur.execute(f"SELECT nextval('{CATALOG}.{HIDDEN_PREFIX}.job_ids')").fetchone()
        return str(row[0] if row else 0)

    def close(self) -> None:
        self.con.close()


_OPEN: OrderedDict[Path, LocalDatabase] = OrderedDict()
_OPEN_LOCK = threading.Lock()


def open_database(path: Path) -> LocalDatabase:
    """The process's LocalDatabase for ``path`` (the least recently used beyond 8 is closed)."""
    key = path.resolve()
    with _OPEN_LOCK:
        db = _OPEN.get(key)
        if db is None:
            try:
                db = LocalDatabase(key)
            except duckdb.IOException as exc:
                raise TaskFailed(f"cannot open the local TD store {key}: {exc} (is another "
                                 "process using it?)") from None
            _OPEN[key] = db
            while len(_OPEN) > _MAX_OPEN:
                _OPEN.popitem(last=False)[1].close()
        _OPEN.move_to_end(key)
        return db


@atexit.register
def close_all() -> None:
    with _OPEN_LOCK:
        while _OPEN:
            _OPEN.popitem()[1].close()


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(slots=True)
class LocalResult:
    db: LocalDatabase
    job_id: str
    columns: Sequence[str]
    num_records: int
    table: str | None  # memory.main.<table> holding the rows; None when the job has no rows
    _closed: bool = field(default=False)

    def rows(self, limit: int | None = None) -> Iterator[Sequence[Any]]:
        if self.table is None or self._closed:
            return iter(())
        cur = self.db.cursor()
        sql = f"SELECT * FROM memory.main.{quote(self.table)}"
        cur.execute(sql + (f" LIMIT {int(limit)}" if limit is not None else ""))
        return _stream(cur)

    def close(self) -> None:
        if self.table is not None and not self._closed:
            self.db.cursor().execute(f"DROP TABLE IF EXISTS memory.main.{quote(self.table)}")
        self._closed = True


def _stream(cur: duckdb.DuckDBPyConnection) -> Iterator[Sequence[Any]]:
    while True:
        chunk = cur.fetchmany(_FETCH)
        if not chunk:
            cur.close()
            return
        yield from chunk


class LocalBackend:
    name = "local"

    def __init__(self, path: Path) -> None:
        self.path = path

    def database(self) -> LocalDatabase:
        return open_database(self.path)

    def run_job(self, job: JobRequest, state: dict[str, Any], key: str) -> LocalResult:
        statements = translate.parse(job.statement, engine=job.engine,
                                     rewriter=Rewriter(job.scheduled_time, duckdb=True))
        return LocalJob(self.database(), job, statements).run()

    def cleanup(self, state: dict[str, Any]) -> None:
        """Local jobs finish inside run_job; there is nothing left to kill."""


class LocalJob:
    def __init__(self, db: LocalDatabase, job: JobRequest, statements: list[Statement]) -> None:
        self.db, self.job, self.statements = db, job, statements
        self.cur = db.cursor()

    def run(self) -> LocalResult:
        try:
            job_id = self.db.next_job_id(self.cur)
            self._use_database()
            *writes, last = self.statements
            final_is_query = last.is_query
            if not final_is_query:
                writes.append(last)
            count = self._run_writes(writes)
            if final_is_query:
                return self._materialise(job_id, last)
            return LocalResult(self.db, job_id, (), count, None)
        finally:
            self.cur.close()

    def _use_database(self) -> None:
        """USE the job's database; a job that writes a table creates the databases it needs.
        (USE is tried first: listing the schemas on every job would cost more than the job.)"""
        name, target = self.job.database, self.job.target
        if target is not None and target.database and target.database != name:
            self._create_schema(target.database)
        try:
            self.cur.execute(f"USE {CATALOG}.{quote(name)}")
        except duckdb.CatalogException:
            if target is None:
                raise _unknown_database(name, self.db.databases(self.cur), self.db.path) from None
            self._create_schema(name)
            self.cur.execute(f"USE {CATALOG}.{quote(name)}")

    def _create_schema(self, name: str) -> None:
        self.cur.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{quote(name)}")

    def _run_writes(self, writes: list[Statement]) -> int:
        """Run the statements in one transaction; the count of the last one (rows written)."""
        if not writes:
            return 0
        count = 0
        self.cur.execute("BEGIN")
        for statement in writes:
            count = self._execute(statement, self._prepare(statement.tree))
        self.cur.execute("COMMIT")
        return count

    def _prepare(self, tree: exp.Expression) -> exp.Expression:
        target = translate.insert_target(tree)
        if target is None or not isinstance(tree, exp.Insert):
            return tree
        database = target.db or self.job.database
        self._create_schema(database)
        if tree.args.get("overwrite") or target.name not in self.db.tables(database, self.cur):
            return translate.insert_as_create(tree)
        # TD matches inserted columns to the table's by name, not by position.
        by_name = tree.copy()
        by_name.set("by_name", True)
        return by_name

    def _execute(self, statement: Statement, tree: exp.Expression) -> int:
        try:
            cursor = self.cur.execute(statement.sql("duckdb", tree))
            row = cursor.fetchone() if cursor.description else None
        except duckdb.Error as exc:
            self._rollback()
            raise translate.backend_error(self.job.statement, statement, str(exc)) from None
        return int(row[0]) if row and isinstance(row[0], int) else 0

    def _rollback(self) -> None:
        try:
            self.cur.execute("ROLLBACK")
        except duckdb.Error:
            pass  # no transaction was open

    def _materialise(self, job_id: str, statement: Statement) -> LocalResult:
        table = f"td_result_{job_id}"
        sql = statement.sql("duckdb")
        try:
            name = f"memory.main.{quote(table)}"
            row = self.cur.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}").fetchone()
            # (DuckDB answers CREATE TABLE AS with the row count: num_records for free)
            described = self.cur.execute(f"SELECT * FROM {name} LIMIT 0")
            columns = [d[0] for d in described.description or ()]
        except duckdb.Error as exc:
            raise translate.backend_error(self.job.statement, statement, str(exc)) from None
        return LocalResult(self.db, job_id, columns, int(row[0]) if row else 0, table)


def _unknown_database(name: str, existing: list[str], path: Path) -> TaskFailed:
    import difflib

    close = difflib.get_close_matches(name, existing, n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    known = ", ".join(existing) if existing else "none yet"
    return TaskFailed(
        f"Database '{name}' does not exist in the local TD store {path}{hint}. Existing "
        f"databases: {known}. A database is created by the first td> with create_table or "
        "insert_into into it, or by td_ddl> create_databases.")
