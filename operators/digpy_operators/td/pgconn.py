"""pg>'s connection and its exactly-once transaction (Digdag's PgConnectionConfig and
PgPersistentTransactionHelper), on SQLAlchemy + psycopg.

Options come from the ``pg`` secrets first (``pg.host``, ``pg.port``, ``pg.user``,
``pg.database``, ``pg.ssl``, ``pg.schema``, ``pg.password``), then from the params; with
``password_override: name`` the password is the secret ``pg.<name>``.

Strict transactions: a status table (``__digdag_status`` by default, in the connection's
schema or ``status_table_schema``) holds one row per query id. The statement runs in the same
transaction that marks its row completed, so a retry after a crash between COMMIT and saving
the task's state finds the row completed and skips the statement instead of running it twice.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from digpy.spi import ConfigError, SecretProvider, TaskFailed

CLEANUP_SECONDS = 24 * 3600  # completed status rows older than this are deleted
_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


class LockConflict(Exception):
    """Another run of the same query holds its status row: try again later."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PgConfig:
    host: str
    port: int
    database: str
    user: str
    password: str | None
    ssl: bool
    schema: str

    def url(self) -> sa.URL:
        query = {"application_name": "digpy", "connect_timeout": "30",
                 "sslmode": "require" if self.ssl else "prefer"}
        return sa.URL.create("postgresql+psycopg", username=self.user, password=self.password,
                             host=self.host, port=self.port, database=self.database,
                             query=query)


def _required(params: Mapping[str, Any], secrets: SecretProvider, key: str) -> str:
    value = secrets.get(f"pg.{key}") or params.get(key)
    if value is None or not str(value).strip():
        raise ConfigError(f"pg> needs '{key}' (a param, or the secret pg.{key})")
    return str(value).strip()


def _password(params: Mapping[str, Any], secrets: SecretProvider) -> str | None:
    override = params.get("password_override")
    if override is None:
        return secrets.get("pg.password")
    value = secrets.get(f"pg.{override}")
    if value is None:
        raise ConfigError(f"pg> password_override: the secret 'pg.{override}' is missing")
    return value


def flag(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigError(f"'{key}' must be true or false, got {value!r}")


def configure(params: Mapping[str, Any], secrets: SecretProvider) -> PgConfig:
    port = secrets.get("pg.port") or params.get("port", 5432)
    try:
        port_number = int(port)
    except (TypeError, ValueError):
        raise ConfigError(f"pg> 'port' must be a number, got {port!r}") from None
    return PgConfig(host=_required(params, secrets, "host"), port=port_number,
                    database=_required(params, secrets, "database"),
                    user=_required(params, secrets, "user"), password=_password(params, secrets),
                    ssl=flag(secrets.get("pg.ssl") or params.get("ssl", False), "ssl"),
                    schema=str(secrets.get("pg.schema") or params.get("schema") or "public"))


def engine_for(config: PgConfig) -> Engine:
    """One pooled Engine per connection URL for the life of the process."""
    key = config.url().render_as_string(hide_password=False)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = sa.create_engine(config.url(), pool_pre_ping=True)
            _ENGINES[key] = engine
        return engine


def quote(conn: Connection, *parts: str) -> str:
    return ".".join(conn.dialect.identifier_preparer.quote_identifier(p) for p in parts)


def use_schema(conn: Connection, schema: str) -> None:
    conn.exec_driver_sql(f"SET LOCAL search_path TO {quote(conn, schema)}")


def database_error(what: str, exc: sa.exc.DBAPIError) -> TaskFailed:
    """Digdag's "<what> [<database message>]"; connection failures say so."""
    message = str(exc.orig).strip() if exc.orig is not None else str(exc)
    if isinstance(exc, sa.exc.OperationalError) and getattr(exc, "statement", None) is None:
        return TaskFailed(f"pg>: cannot connect to PostgreSQL: {message}")
    return TaskFailed(f"{what} [{message}]")


def sqlstate(exc: sa.exc.DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


@dataclass(frozen=True, slots=True)
class StatusTable:
    schema: str
    name: str

    def ref(self, conn: Connection) -> str:
        return quote(conn, self.schema, self.name)

    def prepare(self, conn: Connection, query_id: str) -> None:
        """Create the table if needed and insert the query's row (committed on its own)."""
        with conn.begin():
            conn.exec_driver_sql(
                f"CREATE TABLE IF NOT EXISTS {self.ref(conn)} (query_id text NOT NULL UNIQUE, "
                "created_at timestamptz NOT NULL, completed_at timestamptz)")
            conn.execute(sa.text(f"INSERT INTO {self.ref(conn)} (query_id, created_at) VALUES "
                                 "(:q, CURRENT_TIMESTAMP) ON CONFLICT (query_id) DO NOTHING"),
                         {"q": query_id})

    def lock_completed(self, conn: Connection, query_id: str) -> bool:
        """Lock the query's row (in the caller's transaction); True when already completed."""
        try:
            row = conn.execute(sa.text(f"SELECT completed_at FROM {self.ref(conn)} WHERE "
                                       "query_id = :q FOR UPDATE NOWAIT"), {"q": query_id}).first()
        except sa.exc.DBAPIError as exc:
            if sqlstate(exc) == "55P03":  # lock_not_available
                raise LockConflict(str(exc.orig)) from None
            raise
        return row is not None and row[0] is not None

    def complete(self, conn: Connection, query_id: str) -> None:
        conn.execute(sa.text(f"UPDATE {self.ref(conn)} SET completed_at = CURRENT_TIMESTAMP "
                             "WHERE query_id = :q"), {"q": query_id})

    def cleanup(self, conn: Connection) -> None:
        with conn.begin():
            conn.exec_driver_sql(f"DELETE FROM {self.ref(conn)} WHERE completed_at < now() - "
                                 f"interval '{CLEANUP_SECONDS} second'")


def run_once(engine: Engine, schema: str, status: StatusTable, query_id: str,
             statement: str) -> bool:
    """Run ``statement`` unless the status table says it completed; False when skipped."""
    with engine.connect() as conn:
        status.prepare(conn, query_id)
        with conn.begin() as tx:
            use_schema(conn, schema)
            if status.lock_completed(conn, query_id):
                tx.rollback()
                return False
            conn.exec_driver_sql(statement)
            status.complete(conn, query_id)
        try:
            status.cleanup(conn)
        except sa.exc.DBAPIError:
            pass  # Digdag ignores a failed cleanup too: old rows only cost space
    return True


def run_without_transaction(engine: Engine, schema: str, statement: str) -> None:
    """strict_transaction: false — autocommit: nothing wraps the statements."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"SET search_path TO {quote(conn, schema)}")
        conn.exec_driver_sql(statement)
