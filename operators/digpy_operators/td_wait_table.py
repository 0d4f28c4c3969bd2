"""td_wait_table>: wait until a table exists and holds at least ``rows`` rows (Digdag's
TdWaitTableOperatorFactory).

The table's existence is asked of the backend's catalog (TD's table list, DuckDB's or the
database's schema); while it is missing the task checks again every ``min(interval, 30s)``.
With ``rows`` > 0 a count job follows (``select count(*) from "db"."t"``; Hive counts at most
``rows`` rows), checked again every ``interval`` until the count is reached.
"""

from __future__ import annotations

from typing import Any

from digpy.spi import OperatorContext, TaskFailed, TaskResult

from .td import options
from .td.backend import JobRequest, ResultSet
from .td.catalog import Transient, open_catalog
from .td.operator import TdOperator, open_backend
from .td.statement import TableRef
from .td.waiting import TABLE_EXISTENCE_INTERVAL, Waiter, interval


def count_query(table: TableRef, engine: str, rows: int) -> str:
    if engine == "hive":
        return f"select count(*) from (select * from {table.hive()} limit {rows}) sub"
    return f"select count(*) from {table.presto()}"


def counted(result: ResultSet) -> int:
    row = next(iter(result.rows(1)), None)
    if row is None:
        raise TaskFailed(f"Got unexpected empty result for count job: {result.job_id}")
    if len(row) != 1:
        raise TaskFailed(f"Got unexpected result row size for count job: {len(row)}")
    value: Any = row[0]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TaskFailed(f"Got unexpected value type count job: {type(value).__name__}")
    return value


class TdWaitTableOperator(TdOperator):
    type = "td_wait_table"

    def __init__(self, ctx: OperatorContext) -> None:
        super().__init__(ctx)
        self.waiter = Waiter(ctx)

    def run(self) -> TaskResult:
        table = TableRef.parse(self.params.get("_command"), "td_wait_table>")
        rows = options.integer(self.params, "rows", 0, 0, 2**62)
        every = interval(self.params)
        engine = options.engine(self.params)
        conn = self.connection()
        database = table.database or options.database(self.params, self.ctx.secrets)
        if "job" not in self.waiter.state and not self.table_exists(conn, database, table):
            raise self.waiter.again(min(every, TABLE_EXISTENCE_INTERVAL),
                                    f"Table {database}.{table.table} does not exist yet")
        if rows <= 0:
            return TaskResult.empty()
        job = JobRequest(database=database, engine=engine,
                         statement=count_query(TableRef(None, table.table), engine, rows))
        result = self.waiter.run_check(open_backend(conn, self.ctx), job)
        try:
            count = counted(result)
        finally:
            result.close()
        if count < rows:
            raise self.waiter.again(every, f"Table {database}.{table.table} has {count} rows "
                                           f"of the {rows} awaited")
        self.ctx.log.write(f"Table {database}.{table.table} has {count} rows\n")
        return TaskResult.empty()

    def table_exists(self, conn: options.Connection, database: str, table: TableRef) -> bool:
        try:
            return open_catalog(conn, self.ctx).table_exists(database, table.table)
        except Transient as exc:
            self.ctx.log.write(f"Could not check the table, will retry: {exc}\n")
            return False
