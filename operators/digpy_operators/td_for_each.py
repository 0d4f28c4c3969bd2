"""td_for_each>: run ``_do`` once per row of a query, as ``+td-for-each-0`` ...
``+td-for-each-<N-1>``, each exporting the row as ``td.each.<column>``
(Digdag's TdForEachOperatorFactory). The query runs like a td> job (td>'s query options,
and ``td.last_job_id`` / ``td.last_job.*`` are stored); ``_parallel`` carries over.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from digpy.spi import TaskFailed, TaskResult
from digpy.spi.workflows import generated_tasks, subtask_template, with_export

from .td import results
from .td.backend import Backend, JobRequest, ResultSet
from .td.operator import TdOperator, job_outputs
from .td.options import QueryOptions

# Each row becomes a task, and an attempt holds at most 1000 tasks (Digdag's
# executor.task_max_run): fail early with a message rather than at that limit.
MAX_ROWS = 1000


def each_rows(columns: Sequence[str], rows: Iterator[Sequence[Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for row in rows:
        if len(out) >= MAX_ROWS:
            raise TaskFailed(f"td_for_each>: the query returned more than {MAX_ROWS} rows; each "
                             f"row becomes a task and an attempt holds at most {MAX_ROWS} tasks."
                             " Narrow the query (WHERE, GROUP BY, LIMIT) or split the loop")
        out.append(_row(columns, row))
    return out


def _row(columns: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in zip(columns, row, strict=False):
        try:
            values[name] = results.json_value(value)
        except results.NotJson as exc:
            raise TaskFailed(f"td_for_each>: column '{name}' holds {exc}, which cannot be a "
                             "parameter; cast it to varchar in the query") from None
    return values


def with_each(template: Mapping[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
    """``template`` whose ``_export.td.each`` also holds ``row``, keeping any other
    ``_export.td`` keys the template sets (Digdag merges into the nested maps)."""
    subtask = with_export(template, {})
    td = subtask["_export"].get("td")
    td = dict(td) if isinstance(td, Mapping) else {}
    each = td.get("each")
    td["each"] = {**(each if isinstance(each, Mapping) else {}), **row}
    subtask["_export"]["td"] = td
    return subtask


class TdForEachOperator(TdOperator):
    type = "td_for_each"

    def run(self) -> TaskResult:
        subtask_template(self.request.config, "_do")  # a missing _do fails before the job
        for key in ("insert_into", "create_table", "download_file"):
            self.params.pop(key, None)  # td>-only options: Digdag's td_for_each ignores them
        return super().run()

    def finish(self, backend: Backend, job: JobRequest, opts: QueryOptions,
               result: ResultSet) -> TaskResult:
        self.ctx.log.write(f"Started {job.engine} job id={result.job_id} on the {backend.name} "
                           f"backend:\n{job.statement.rstrip()}\n"
                           f"Job {result.job_id} finished: {result.num_records} records\n")
        template = subtask_template(self.request.config, "_do")
        rows = each_rows(result.columns, iter(result.rows()))
        tasks = {f"+td-for-each-{i}": with_each(template, row) for i, row in enumerate(rows)}
        return TaskResult(subtask_config=generated_tasks(tasks, self.request.config),
                          store_params={"td": job_outputs(result)})
