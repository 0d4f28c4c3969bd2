"""``td>``: run a Presto (or Hive) query as a TD job on the chosen backend.

The flow is Digdag's BaseTdJobOperator: build the statement, run the job (the Treasure Data
backend polls through PollAgain with its progress in the task state), then download_file,
preview and store_last_results, and store ``td.last_job_id`` / ``td.last_job.*``.
"""

from __future__ import annotations

from typing import Any

from digpy.spi import ConfigError, Operator, OperatorContext, TaskResult

from . import options, results, source, statement
from .backend import Backend, JobRequest, ResultSet
from .options import Connection, QueryOptions


def open_backend(conn: Connection, ctx: OperatorContext) -> Backend:
    """The backend for ``conn``; optional libraries are imported only when chosen."""
    if conn.backend == "sql":
        from .sqlbackend import SqlBackend

        return SqlBackend(str(conn.url))
    if conn.backend == "treasuredata":
        from .remote import RemoteBackend

        return RemoteBackend(conn, ctx.clock, ctx.log)
    from .local import LocalBackend

    return LocalBackend(ctx.project_path / ".digpy" / "td.duckdb")


def refuse_unsupported(conn: Connection, opts: QueryOptions) -> None:
    """Options that only mean something on Treasure Data itself."""
    if conn.backend == "treasuredata":
        return
    for key, value in (("result_url", opts.result_url),
                       ("result_connection", opts.result_connection)):
        if value is not None:
            raise ConfigError(f"'{key}' is not supported by the {conn.backend} backend: the "
                              "result export runs inside Treasure Data (use td.backend: "
                              "treasuredata, or download_file)")


def job_outputs(result: ResultSet) -> dict[str, Any]:
    return {"last_job_id": result.job_id,
            "last_job": {"id": result.job_id, "num_records": result.num_records}}


class TdOperator(Operator):
    type = "td"

    def __init__(self, ctx: OperatorContext) -> None:
        super().__init__(ctx)
        self.params = options.merged_params(self.request.config)
        self.state: dict[str, Any] = {k: v for k, v in self.request.last_state.items()}

    def connection(self) -> Connection:
        return options.connection(self.request.config, self.ctx.secrets)

    def run(self) -> TaskResult:
        opts = options.query_options(self.params)
        conn = self.connection()
        refuse_unsupported(conn, opts)
        backend = open_backend(conn, self.ctx)
        job = self.build_job(opts)
        result = backend.run_job(job, self.state, "job")
        try:
            return self.finish(backend, job, opts, result)
        finally:
            result.close()

    def build_job(self, opts: QueryOptions) -> JobRequest:
        query = source.load_query(self.ctx, self.params)
        body = statement.with_clause(query, engine=opts.engine, insert_into=opts.insert_into,
                                     create_table=opts.create_table)
        return JobRequest(
            database=options.database(self.params, self.ctx.secrets),
            statement=statement.header(self.request) + body,
            engine=opts.engine,
            scheduled_time=int(self.request.session_time.timestamp()),
            insert_into=opts.insert_into, create_table=opts.create_table,
            priority=opts.priority, job_retry=opts.job_retry, result_url=opts.result_url,
            pool_name=opts.pool_name, engine_version=opts.engine_version)

    def finish(self, backend: Backend, job: JobRequest, opts: QueryOptions,
               result: ResultSet) -> TaskResult:
        self.ctx.log.write(f"Started {job.engine} job id={result.job_id} on the {backend.name} "
                           f"backend:\n{job.statement.rstrip()}\n"
                           f"Job {result.job_id} finished: {result.num_records} records\n")
        if opts.download_file:
            path = source.resolve_in_project(self.ctx, opts.download_file, "download_file")
            results.write_csv(path, result.columns, iter(result.rows()))
        if opts.preview:
            self.preview(backend, job, opts, result)
        td: dict[str, Any] = job_outputs(result)
        if opts.store_last_results:
            td["last_results"] = results.last_results(result.columns, result.rows(1))
        return TaskResult(store_params={"td": td},
                          reset_store_params=("td.last_results",) if opts.store_last_results
                          else ())

    def preview(self, backend: Backend, job: JobRequest, opts: QueryOptions,
                result: ResultSet) -> None:
        """20 rows to the log: of the result, or of the written table (Digdag runs a second
        job for that). A failing preview is logged and ignored, as in Digdag."""
        target = opts.target
        if target is None:
            text = results.preview_text(f"job id {result.job_id}", result.columns,
                                        result.rows(results.PREVIEW_ROWS))
            self.ctx.log.write(text)
            return
        preview_job = JobRequest(
            database=job.database, engine="presto", scheduled_time=job.scheduled_time,
            statement=f"-- preview results of job id {result.job_id}\n"
                      f"SELECT * FROM {target.presto()} LIMIT {results.PREVIEW_ROWS}")
        shown = backend.run_job(preview_job, self.state, "preview_job")
        try:
            self.ctx.log.write(results.preview_text(f"table {target}", shown.columns,
                                                    shown.rows(results.PREVIEW_ROWS)))
        finally:
            shown.close()

    def cleanup(self) -> None:
        try:
            conn = self.connection()
        except ConfigError:
            return
        open_backend(conn, self.ctx).cleanup(dict(self.request.last_state))

