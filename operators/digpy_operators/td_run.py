"""td_run>: run a saved query by name (or id), with td>'s outputs.

On Treasure Data the saved query is started through the API (``/v3/schedule/run``) with the
session time as its scheduled time, once (a domain key), then polled like a td> job. On the
``local`` and ``sql`` backends there are no saved queries, so the project holds them: the
saved query ``name`` is the template ``queries/<name>.sql`` (relative to the workdir),
rendered with ``${...}`` and run in ``database`` like td>.
"""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Any

from digpy.spi import ConfigError, OperatorContext, TaskResult

from .td import options, source, statement
from .td.backend import Backend, JobRequest
from .td.operator import TdOperator, open_backend
from .td.options import Connection, QueryOptions

SAVED_QUERY_DIR = "queries"


def saved_query_reference(params: dict[str, Any]) -> str:
    """The name, or the id as text; Digdag accepts a string or a number."""
    value = params.get("_command")
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise ConfigError(f"td_run> needs a saved query name or id, got {value!r}")
    return str(value).strip()


def scheduled_time(params: dict[str, Any], default: datetime) -> int:
    """``session_time`` (ISO 8601, a param the user may override) as unix seconds."""
    value = params.get("session_time")
    if value is None:
        return int(default.timestamp())
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
    except ValueError:
        raise ConfigError(f"td_run> session_time must be an ISO 8601 time such as "
                          f"2016-01-30T00:00:00+00:00, got {value!r}") from None


class TdRunOperator(TdOperator):
    type = "td_run"

    def __init__(self, ctx: OperatorContext) -> None:
        super().__init__(ctx)
        self.reference = saved_query_reference(self.params)

    def run(self) -> TaskResult:
        opts = options.query_options({k: v for k, v in self.params.items()
                                      if k not in ("insert_into", "create_table")})
        conn = self.connection()
        backend = self.saved_query_backend(conn)
        job = self.build_job(opts) if conn.backend != "treasuredata" else self.remote_job(opts)
        result = backend.run_job(job, self.state, "job")
        try:
            return self.finish(backend, job, opts, result)
        finally:
            result.close()

    def saved_query_backend(self, conn: Connection) -> Backend:
        if conn.backend != "treasuredata":
            return open_backend(conn, self.ctx)
        if self.reference.isdigit():
            raise ConfigError("td_run> by saved query id is not supported on the treasuredata "
                              "backend yet; use the saved query's name")
        from .td.remote_catalog import SavedQueryBackend

        return SavedQueryBackend(conn, self.ctx.clock, self.ctx.log, self.reference)

    def remote_job(self, opts: QueryOptions) -> JobRequest:
        """What the log shows; Treasure Data runs the saved query's own SQL and database."""
        return JobRequest(database=str(self.params.get("database") or "(saved query's)"),
                          statement=f"-- saved query {self.reference}\n", engine=opts.engine,
                          scheduled_time=scheduled_time(self.params, self.request.session_time))

    def build_job(self, opts: QueryOptions) -> JobRequest:
        query = self.ctx.render(self.read_saved_query())
        return JobRequest(
            database=options.database(self.params, self.ctx.secrets),
            statement=statement.header(self.request) + query, engine=opts.engine,
            scheduled_time=scheduled_time(self.params, self.request.session_time))

    def read_saved_query(self) -> str:
        name = f"{SAVED_QUERY_DIR}/{self.reference}.sql"
        try:
            return source.read_project_file(self.ctx, name)
        except ConfigError as exc:
            if "does not exist" not in exc.message:
                raise
            raise ConfigError(
                f"td_run>: no saved query '{self.reference}': on the "
                f"{self.connection().backend} backend a saved query is the file {name} "
                f"(looked in {self.ctx.workdir})", suggestions=self.known_names()) from None

    def known_names(self) -> list[str]:
        folder = self.ctx.workdir / SAVED_QUERY_DIR
        names = sorted(p.stem for p in folder.glob("*.sql")) if folder.is_dir() else []
        return difflib.get_close_matches(self.reference, names, n=3, cutoff=0.5)
