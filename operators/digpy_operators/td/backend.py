"""The contract between td> operators and the places a job can run.

A backend runs one job (``run_job``) and hands back its result. The local backends (DuckDB,
SQLAlchemy) finish inside the call; the Treasure Data backend may raise ``PollAgain`` with the
job's progress saved under ``state[key]`` and finish on a later call.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .statement import TableRef


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRequest:
    database: str
    statement: str  # the SQL exactly as submitted (header comment and clause included)
    engine: str = "presto"
    scheduled_time: int = 0  # session_unixtime; TD_SCHEDULED_TIME()
    insert_into: TableRef | None = None  # TD creates it first when missing
    create_table: TableRef | None = None
    priority: int = 0
    job_retry: int = 0
    result_url: str | None = None
    pool_name: str | None = None
    engine_version: str | None = None

    @property
    def target(self) -> TableRef | None:
        return self.insert_into or self.create_table


class ResultSet(Protocol):
    """A finished job. ``rows`` can be called more than once (each call starts over)."""

    @property
    def job_id(self) -> str: ...

    @property
    def columns(self) -> Sequence[str]: ...

    @property
    def num_records(self) -> int: ...

    def rows(self, limit: int | None = None) -> Iterator[Sequence[Any]]: ...

    def close(self) -> None: ...


class Backend(Protocol):
    name: str

    def run_job(self, job: JobRequest, state: dict[str, Any], key: str) -> ResultSet:
        """Run ``job`` (or continue it from ``state[key]``) and return its result."""

    def cleanup(self, state: dict[str, Any]) -> None:
        """The task was killed while polling: stop whatever ``state`` says is running."""


@dataclass(slots=True)
class MemoryResult:
    """A result already in memory (the SQLAlchemy backend, DDL jobs)."""

    job_id: str
    columns: Sequence[str]
    num_records: int
    data: list[Sequence[Any]]

    def rows(self, limit: int | None = None) -> Iterator[Sequence[Any]]:
        return iter(self.data if limit is None else self.data[:limit])

    def close(self) -> None:
        self.data = []
