"""td_wait>: check a query every ``interval`` until the first column of its first row is
truthy (Digdag's TdWaitOperatorFactory).

Truthy is Digdag's rule: anything but NULL, false and integer 0 (so ``0.0`` and ``'0'`` are
truthy). A query with no rows is not done yet (Digdag keeps waiting); a result without
columns — the last statement is not a query — can never say "done" and fails the task.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from digpy.spi import OperatorContext, TaskFailed, TaskResult

from .td import options, source, statement
from .td.backend import JobRequest
from .td.operator import TdOperator, open_backend
from .td.waiting import Waiter, interval


def truthy(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    return True  # Digdag: every other msgpack type counts as true, floats included


def condition(columns: Sequence[str], first_row: Sequence[Any] | None) -> bool:
    if not columns:
        raise TaskFailed("td_wait>: got an empty row in the result of the query: its last "
                         "statement must be a SELECT whose first column says whether to stop "
                         "waiting (e.g. SELECT count(*) > 0 FROM ...)")
    return first_row is not None and len(first_row) > 0 and truthy(first_row[0])


class TdWaitOperator(TdOperator):
    type = "td_wait"

    def __init__(self, ctx: OperatorContext) -> None:
        super().__init__(ctx)
        self.waiter = Waiter(ctx)

    def run(self) -> TaskResult:
        every = interval(self.params)
        engine = options.engine(self.params)
        conn = self.connection()
        job = JobRequest(
            database=options.database(self.params, self.ctx.secrets), engine=engine,
            statement=statement.header(self.request)
            + source.load_query(self.ctx, self.params, "td_wait"),
            scheduled_time=int(self.request.session_time.timestamp()),
            priority=options.integer(self.params, "priority", 0, -2, 2),
            job_retry=options.integer(self.params, "job_retry", 0, 0, 1000))
        result = self.waiter.run_check(open_backend(conn, self.ctx), job)
        try:
            done = condition(result.columns, next(iter(result.rows(1)), None))
        finally:
            result.close()
        if not done:
            raise self.waiter.again(every, f"The condition of job {result.job_id} is not met")
        self.ctx.log.write(f"The condition of job {result.job_id} is met after "
                           f"{self.waiter.waited()}\n")
        return TaskResult.empty()
