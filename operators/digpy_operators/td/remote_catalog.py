"""The Treasure Data side of the td> family beyond plain queries: databases and tables through
the REST API (td_ddl>, td_wait_table>) and saved queries (td_run>).

Like Digdag, creating what exists (409) and deleting what is missing (404) are no-ops.
td-client's sleeping retries stay off (see remote.py); 5xx and network errors become
``Transient`` so the operator polls instead of blocking a worker.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import tdclient.api
import tdclient.errors
from tdclient.util import create_url

from digpy.spi import ConfigError, TaskFailed, TaskLog

from .backend import JobRequest
from .catalog import Transient
from .options import Connection
from .remote import RemoteBackend, endpoint_url

T = TypeVar("T")


def _call(action: Callable[[], T], *, missing_ok: bool = False, exists_ok: bool = False
          ) -> T | None:
    """Run one API call, sorting its errors: tolerated, transient, or the task's failure."""
    try:
        return action()
    except tdclient.errors.NotFoundError:
        if missing_ok:
            return None
        raise
    except tdclient.errors.AlreadyExistsError:
        if exists_ok:
            return None
        raise
    except tdclient.errors.AuthError:
        raise TaskFailed("Treasure Data rejected the API key (401): check the 'td.apikey' "
                         "secret") from None
    except (tdclient.errors.APIError, OSError) as exc:
        if isinstance(exc, OSError) or re.match(r"5\d\d: ", str(exc)) or str(exc).startswith(
                "Retrying stopped"):
            raise Transient(str(exc)) from None
        raise TaskFailed(f"Treasure Data API error: {exc}") from None


class RemoteCatalog:
    name = "treasuredata"

    def __init__(self, conn: Connection) -> None:
        self.api = tdclient.api.API(apikey=conn.apikey, endpoint=endpoint_url(conn),
                                    max_cumul_retry_delay=-1, retry_post_requests=False)

    def database_exists(self, database: str) -> bool:
        return database in (_call(self.api.list_databases) or {})

    def create_database(self, database: str) -> None:
        _call(lambda: self.api.create_database(database), exists_ok=True)

    def drop_database(self, database: str) -> None:
        _call(lambda: self.api.delete_database(database), missing_ok=True)

    def table_exists(self, database: str, table: str) -> bool:
        tables = _call(lambda: self.api.list_tables(database), missing_ok=True)
        return table in (tables or {})

    def create_table(self, database: str, table: str) -> None:
        try:
            _call(lambda: self.api.create_log_table(database, table), exists_ok=True)
        except tdclient.errors.NotFoundError:
            raise TaskFailed(f"Database '{database}' does not exist on Treasure Data; create "
                             "it first (td_ddl>: create_databases: [...])") from None

    def drop_table(self, database: str, table: str) -> None:
        _call(lambda: self.api.delete_table(database, table), missing_ok=True)

    def rename_table(self, database: str, old: str, new: str) -> None:
        # td-client has no rename; Digdag's client posts to this endpoint with overwrite.
        def rename() -> None:
            path = create_url("/v3/table/rename/{db}/{old}/{new}", db=database,
                                           old=old, new=new)
            with self.api.post(path, {"overwrite": "true"}) as res:
                body = res.read()
                if res.status != 200:
                    self.api.raise_error("Rename table failed", res, body)

        _call(rename, missing_ok=True)


class SavedQueryBackend(RemoteBackend):
    """Runs a saved query instead of ``job.statement``; polling, the domain key that makes
    the start happen once, failures and cleanup are RemoteBackend's."""

    def __init__(self, conn: Connection, clock: object, log: TaskLog, name: str) -> None:
        super().__init__(conn, clock, log)
        self.saved_query = name

    def _submit(self, job: JobRequest, domain_key: str) -> str:
        path = create_url("/v3/schedule/run/{name}/{time}",
                                       name=self.saved_query, time=job.scheduled_time)
        with self.api.post(path, {"num": 1, "domain_key": domain_key}) as res:
            body = res.read()
            if res.status == 409:  # started before a restart: continue with that job
                return self._job_by_domain_key(domain_key)
            if res.status == 404:
                raise ConfigError(f"td_run>: there is no saved query named "
                                  f"'{self.saved_query}' on Treasure Data")
            if res.status != 200:
                self.api.raise_error("Run saved query failed", res, body)
        jobs: list[dict[str, Any]] = self.api.checked_json(body, ["jobs"])["jobs"]
        job_id = str(jobs[0]["job_id"])
        self.log.write(f"Started a saved query name={self.saved_query} with "
                       f"time={job.scheduled_time}, job id={job_id}\n")
        return job_id
