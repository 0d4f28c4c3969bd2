"""The ``treasuredata`` backend: the real TD REST API through td-client, without blocking.

A job is submitted exactly once even if the process dies between submitting and saving:

1. first call: make a domain key, save it (``PollAgain(0, state)``) — nothing submitted yet;
2. next call: submit with that key. If TD answers 409 (the key was used: we did submit before
   dying), look the job up by its domain key instead of submitting again;
3. poll the status with PollAgain, 1 s doubling to 30 s, the job id saved in the state;
4. success → the result; error/killed → the task fails with the job's output.

td-client's own retries sleep (up to 10 minutes); they are turned off, and transient API
errors become a PollAgain that tries the same step again later.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any

import tdclient.api
import tdclient.errors

from digpy.spi import PollAgain, TaskFailed, TaskLog

from .backend import JobRequest
from .options import Connection
from .statement import TableRef

MIN_POLL, MAX_POLL = 1.0, 30.0
RUNNING = ("queued", "booting", "running")
JOB_KEYS = ("job", "preview_job")


def poll_interval(polls: int) -> float:
    """Seconds before status check number ``polls`` (0-based): 1, 2, 4 ... capped at 30."""
    return min(MIN_POLL * 2 ** min(polls, 16), MAX_POLL)


def _transient(exc: Exception) -> bool:
    text = str(exc)
    return isinstance(exc, OSError) or text.startswith("Retrying stopped") or bool(
        re.match(r"5\d\d: ", text))


def endpoint_url(conn: Connection) -> str:
    if "://" in conn.endpoint:
        return conn.endpoint
    return f"{'https' if conn.use_ssl else 'http'}://{conn.endpoint}"


class RemoteResult:
    """A finished TD job; rows are streamed from the API each time they are asked for."""

    def __init__(self, api: tdclient.api.API, job_id: str) -> None:
        self.api, self.job_id = api, job_id
        info = api.show_job(job_id)
        schema = info.get("hive_result_schema") or []
        self.columns: Sequence[str] = [str(c[0]) for c in schema]
        self.num_records = int(info.get("num_records") or 0)

    def rows(self, limit: int | None = None) -> Iterator[Sequence[Any]]:
        stream: Iterator[Any] = self.api.job_result_format_each(self.job_id, "msgpack")
        try:
            yield from (stream if limit is None else islice(stream, limit))
        except tdclient.errors.NotFoundError:
            return  # INSERT and CREATE jobs have no result (Digdag does the same)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # stops the HTTP response when only the first rows were wanted

    def close(self) -> None:
        """Nothing is held open between calls."""


class RemoteBackend:
    name = "treasuredata"

    def __init__(self, conn: Connection, clock: object, log: TaskLog) -> None:
        self.log = log
        # max_cumul_retry_delay=-1: td-client never sleeps; PollAgain retries instead.
        self.api = tdclient.api.API(apikey=conn.apikey, endpoint=endpoint_url(conn),
                                    max_cumul_retry_delay=-1, retry_post_requests=False)

    def run_job(self, job: JobRequest, state: dict[str, Any], key: str) -> RemoteResult:
        progress: dict[str, Any] = dict(state.get(key) or {})
        try:
            return self._advance(job, state, key, progress)
        except tdclient.errors.AuthError:
            raise TaskFailed("Treasure Data rejected the API key (401): check the "
                             "'td.apikey' secret") from None
        except tdclient.errors.ForbiddenError as exc:
            raise TaskFailed(f"Treasure Data refused the request (403): {exc}") from None
        except tdclient.errors.NotFoundError as exc:
            raise TaskFailed(f"Treasure Data: not found: {exc}") from None
        except (tdclient.errors.APIError, OSError) as exc:
            if not _transient(exc):
                raise TaskFailed(f"Treasure Data API error: {exc}") from None
            # 5xx or the network: try the same step again later (a resubmit is safe: 409).
            self.log.write(f"Treasure Data API error, will retry: {exc}\n")
            progress["errors"] = int(progress.get("errors", 0)) + 1
            state[key] = progress
            raise PollAgain(poll_interval(progress["errors"]), state) from None

    def _advance(self, job: JobRequest, state: dict[str, Any], key: str,
                 progress: dict[str, Any]) -> RemoteResult:
        if progress.get("done"):
            return RemoteResult(self.api, str(progress["job_id"]))
        if "job_id" not in progress:
            if "domain_key" not in progress:
                state[key] = {"domain_key": str(uuid.uuid4())}
                raise PollAgain(0, state)
            progress["job_id"] = self._submit(job, str(progress["domain_key"]))
            progress["polls"] = 0
        job_id = str(progress["job_id"])
        status = self.api.job_status(job_id)
        if status in RUNNING:
            interval = poll_interval(int(progress.get("polls", 0)))
            progress["polls"] = int(progress.get("polls", 0)) + 1
            state[key] = progress
            raise PollAgain(interval, state)
        if status != "success":
            raise self._failure(job_id, status)
        state[key] = {**progress, "done": True}
        return RemoteResult(self.api, job_id)

    def _submit(self, job: JobRequest, domain_key: str) -> str:
        self._ensure_table(job)
        params: dict[str, Any] = {
            "type": job.engine, "db": job.database, "result_url": job.result_url,
            "priority": job.priority, "retry_limit": job.job_retry,
            "domain_key": domain_key, "scheduled_time": job.scheduled_time}
        if job.pool_name:
            params["pool_name"] = job.pool_name
        if job.engine_version:
            params["engine_version"] = job.engine_version
        try:
            job_id = self.api.query(job.statement, **params)
        except tdclient.errors.AlreadyExistsError:
            job_id = self._job_by_domain_key(domain_key)
            self.log.write(f"A job with domain key {domain_key} exists already (submitted "
                           f"before a restart): continuing with job id={job_id}\n")
            return job_id
        self.log.write(f"Started {job.engine} job id={job_id}:\n{job.statement.rstrip()}\n")
        return str(job_id)

    def _ensure_table(self, job: JobRequest) -> None:
        """Digdag creates the insert_into table (and Hive's create_table) before the job."""
        target: TableRef | None = job.insert_into
        if target is None and job.engine == "hive":
            target = job.create_table
        if target is None:
            return
        try:
            self.api.create_log_table(target.database or job.database, target.table)
        except tdclient.errors.AlreadyExistsError:
            pass

    def _job_by_domain_key(self, domain_key: str) -> str:
        with self.api.get(f"/v3/job/status_by_domain_key/{domain_key}") as res:
            body = res.read()
            if res.status != 200:
                self.api.raise_error("Get job status by domain key failed", res, body)
            return str(self.api.checked_json(body, ["job_id"])["job_id"])

    def _failure(self, job_id: str, status: str) -> TaskFailed:
        info = self.api.show_job(job_id)
        debug = info.get("debug") or {}
        if isinstance(debug, str):
            debug = json.loads(debug or "{}")
        output = "\n".join(str(debug.get(k) or "").strip() for k in ("cmdout", "stderr"))
        return TaskFailed(f"TD job {job_id} {status}:\n{output.strip()}",
                          error={"message": f"TD job {job_id} {status}", "job_id": job_id,
                                 "status": status, "output": output.strip()})

    def cleanup(self, state: dict[str, Any]) -> None:
        """Kill the jobs this task started and has not seen finish."""
        for key in JOB_KEYS:
            progress = state.get(key) or {}
            if "job_id" in progress and not progress.get("done"):
                try:
                    self.api.kill(str(progress["job_id"]))
                    self.log.write(f"Killed TD job id={progress['job_id']}\n")
                except (tdclient.errors.APIError, OSError) as exc:
                    self.log.write(f"Could not kill TD job id={progress['job_id']}: {exc}\n")
