"""Databases and tables of a td> backend, for td_ddl> and td_wait_table>.

Every change is idempotent as in Digdag's TDOperator ("ensure ..."): creating what exists and
dropping what is missing are no-ops. A table created here is empty with one ``time bigint``
column, the column every TD log table has.

``local`` and ``sql`` live here; the Treasure Data API is in ``remote_catalog.py``. A catalog
raises ``Transient`` for an error worth trying again later (the caller polls).
"""

from __future__ import annotations

from typing import Protocol

import sqlalchemy as sa

from digpy.spi import OperatorContext, TaskFailed

from .local import CATALOG, LocalDatabase, open_database, quote
from .options import Connection


class Transient(Exception):
    """The backend could not be reached or answered 5xx: the same step may succeed later."""


class Catalog(Protocol):
    name: str

    def database_exists(self, database: str) -> bool: ...

    def create_database(self, database: str) -> None: ...

    def drop_database(self, database: str) -> None: ...

    def table_exists(self, database: str, table: str) -> bool: ...

    def create_table(self, database: str, table: str) -> None: ...

    def drop_table(self, database: str, table: str) -> None: ...

    def rename_table(self, database: str, old: str, new: str) -> None:
        """Rename ``old`` to ``new``, replacing ``new`` if it exists (TD's overwrite=true);
        a missing ``old`` is a no-op (the caller checked it existed before starting)."""


def open_catalog(conn: Connection, ctx: OperatorContext) -> Catalog:
    if conn.backend == "sql":
        return SqlCatalog(sqlbackend_engine(str(conn.url)))
    if conn.backend == "treasuredata":
        from .remote_catalog import RemoteCatalog

        return RemoteCatalog(conn)
    return LocalCatalog(open_database(ctx.project_path / ".digpy" / "td.duckdb"))


def sqlbackend_engine(url: str) -> sa.Engine:
    from .sqlbackend import engine_for

    return engine_for(url)


def missing_database(database: str, backend: str) -> TaskFailed:
    return TaskFailed(f"Database '{database}' does not exist on the {backend} backend; create "
                      "it first (td_ddl>: create_databases: [...])")


class LocalCatalog:
    """TD databases are schemas of the DuckDB file; DDL needs no transaction of its own."""

    name = "local"

    def __init__(self, db: LocalDatabase) -> None:
        self.db = db

    def _run(self, sql: str) -> None:
        cur = self.db.cursor()
        try:
            cur.execute(sql)
        finally:
            cur.close()

    def database_exists(self, database: str) -> bool:
        return database in self.db.databases()

    def create_database(self, database: str) -> None:
        self._run(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{quote(database)}")

    def drop_database(self, database: str) -> None:
        self._run(f"DROP SCHEMA IF EXISTS {CATALOG}.{quote(database)} CASCADE")

    def table_exists(self, database: str, table: str) -> bool:
        return table in self.db.tables(database)

    def _name(self, database: str, table: str) -> str:
        return f"{CATALOG}.{quote(database)}.{quote(table)}"

    def create_table(self, database: str, table: str) -> None:
        if not self.database_exists(database):
            raise missing_database(database, self.name)
        self._run(f"CREATE TABLE IF NOT EXISTS {self._name(database, table)} (time BIGINT)")

    def drop_table(self, database: str, table: str) -> None:
        self._run(f"DROP TABLE IF EXISTS {self._name(database, table)}")

    def rename_table(self, database: str, old: str, new: str) -> None:
        if not self.table_exists(database, old):
            return
        cur = self.db.cursor()
        try:
            cur.execute("BEGIN")
            cur.execute(f"DROP TABLE IF EXISTS {self._name(database, new)}")
            cur.execute(f"ALTER TABLE {self._name(database, old)} RENAME TO {quote(new)}")
            cur.execute("COMMIT")
        finally:
            cur.close()


class SqlCatalog:
    """TD databases are schemas of the database at ``td.url``."""

    name = "sql"

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.q = engine.dialect.identifier_preparer.quote_identifier

    def _run(self, *statements: str) -> None:
        try:
            with self.engine.begin() as conn:
                for sql in statements:
                    conn.exec_driver_sql(sql)
        except sa.exc.OperationalError as exc:
            raise Transient(str(exc.orig)) from None
        except sa.exc.DBAPIError as exc:
            raise TaskFailed(f"td.url: {str(exc.orig).strip()}") from None

    def _inspect(self) -> sa.Inspector:
        try:
            return sa.inspect(self.engine)
        except sa.exc.OperationalError as exc:
            raise Transient(str(exc.orig)) from None

    def database_exists(self, database: str) -> bool:
        return database in self._inspect().get_schema_names()

    def create_database(self, database: str) -> None:
        self._run(f"CREATE SCHEMA IF NOT EXISTS {self.q(database)}")

    def drop_database(self, database: str) -> None:
        self._run(f"DROP SCHEMA IF EXISTS {self.q(database)} CASCADE")

    def table_exists(self, database: str, table: str) -> bool:
        inspector = self._inspect()
        return database in inspector.get_schema_names() and inspector.has_table(
            table, schema=database)

    def _name(self, database: str, table: str) -> str:
        return f"{self.q(database)}.{self.q(table)}"

    def create_table(self, database: str, table: str) -> None:
        if not self.database_exists(database):
            raise missing_database(database, self.name)
        self._run(f"CREATE TABLE IF NOT EXISTS {self._name(database, table)} (time BIGINT)")

    def drop_table(self, database: str, table: str) -> None:
        self._run(f"DROP TABLE IF EXISTS {self._name(database, table)}")

    def rename_table(self, database: str, old: str, new: str) -> None:
        if not self.table_exists(database, old):
            return
        self._run(f"DROP TABLE IF EXISTS {self._name(database, new)}",
                  f"ALTER TABLE {self._name(database, old)} RENAME TO {self.q(new)}")
