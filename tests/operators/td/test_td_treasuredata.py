"""td> with td.backend: treasuredata, against a local DOUBLE of the TD REST API
(td_api_double.py: an HTTP server on 127.0.0.1 that follows TD's job lifecycle) — the real
service is never called. The operator never sleeps: each PollAgain is fed back as the next
run's state, the way the engine does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from digpy_operators.td import TdOperator
from td_api_double import TdApiDouble, TdApiServer
from td_testing import context

from digpy.spi import ConfigError, PollAgain, TaskFailed, TaskResult


@pytest.fixture
def double() -> Iterator[TdApiDouble]:
    fake = TdApiDouble()
    with TdApiServer(fake) as server:
        fake.endpoint = server.endpoint  # type: ignore[attr-defined]
        yield fake


def config(double: TdApiDouble, **options: Any) -> dict[str, Any]:
    td = {"backend": "treasuredata", "endpoint": double.endpoint,  # type: ignore[attr-defined]
          "database": "sample_db"}
    return {"td": td, "query": "SELECT count(1) AS cnt FROM www_access", **options}


class Drive:
    """Runs td> until it returns or fails, feeding each PollAgain's state back."""

    def __init__(self, project: Path, cfg: dict[str, Any], secrets: dict[str, str]) -> None:
        self.project, self.cfg, self.secrets = project, cfg, secrets
        self.intervals: list[float] = []
        self.state: dict[str, Any] = {}

    def step(self, state: dict[str, Any] | None = None) -> TaskResult | None:
        ctx = context(self.project, self.cfg, secrets=self.secrets,
                      last_state=self.state if state is None else state)
        try:
            return TdOperator(ctx).run()
        except PollAgain as again:
            self.intervals.append(again.interval)
            self.state = again.state
            return None

    def until_done(self, limit: int = 50) -> TaskResult:
        for _ in range(limit):
            result = self.step()
            if result is not None:
                return result
        raise AssertionError("td> kept polling")


SECRETS = {"td.apikey": "test-apikey"}


def test_a_query_is_issued_polled_and_its_outputs_stored(double: TdApiDouble,
                                                         project: Path) -> None:
    double.results["www_access"] = (["cnt"], [[42]])
    drive = Drive(project, config(double, store_last_results=True), SECRETS)
    result = drive.until_done()
    assert drive.intervals == [0, 1, 2]  # save the domain key; queued; running
    (job,) = double.jobs.values()
    assert result.store_params["td"] == {
        "last_job_id": job.job_id, "last_job": {"id": job.job_id, "num_records": 1},
        "last_results": {"cnt": 42}}
    assert result.reset_store_params == ("td.last_results",)


def test_the_job_carries_the_domain_key_session_time_and_digdags_header(
        double: TdApiDouble, project: Path) -> None:
    drive = Drive(project, config(double, priority=1, job_retry=2), SECRETS)
    drive.until_done()
    (job,) = double.jobs.values()
    assert job.type == "presto" and job.database == "sample_db"
    assert job.params["domain_key"] == drive.state["job"]["domain_key"]
    assert job.params["scheduled_time"] == "1454112000"
    assert (job.params["priority"], job.params["retry_limit"]) == ("1", "2")
    assert job.query.startswith("-- project_id: 1\n-- project_name: test\n")


def test_polling_backs_off_from_one_to_thirty_seconds(double: TdApiDouble,
                                                      project: Path) -> None:
    double.checks_queued = 8
    drive = Drive(project, config(double), SECRETS)
    drive.until_done()
    assert drive.intervals == [0, 1, 2, 4, 8, 16, 30, 30, 30, 30]


def test_a_job_is_submitted_once_even_if_the_state_after_submitting_was_lost(
        double: TdApiDouble, project: Path) -> None:
    drive = Drive(project, config(double), SECRETS)
    assert drive.step() is None  # the domain key is saved; nothing submitted yet
    with_key_only = dict(drive.state)
    assert drive.step() is None  # submitted; pretend the process died before saving this
    drive.state = with_key_only
    result = drive.until_done()
    assert len(double.jobs) == 1
    assert result.store_params["td"]["last_job_id"] == next(iter(double.jobs))


def test_a_failed_job_fails_the_task_with_the_jobs_output(double: TdApiDouble,
                                                          project: Path) -> None:
    drive = Drive(project, config(double, query="-- FAIL\nSELECT nope"), SECRETS)
    with pytest.raises(TaskFailed) as err:
        drive.until_done()
    assert "TD job 1000 error" in str(err.value)
    assert "Column 'nope' cannot be resolved" in str(err.value)


def test_cleanup_kills_the_running_job(double: TdApiDouble, project: Path) -> None:
    double.checks_queued = 5
    drive = Drive(project, config(double), SECRETS)
    drive.step()
    drive.step()
    ctx = context(project, drive.cfg, secrets=SECRETS, last_state=drive.state)
    TdOperator(ctx).cleanup()
    assert double.jobs[drive.state["job"]["job_id"]].status == "killed"


def test_insert_into_creates_the_table_through_the_api_first(double: TdApiDouble,
                                                              project: Path) -> None:
    drive = Drive(project, config(double, insert_into="daily"), SECRETS)
    result = drive.until_done()
    assert ("sample_db", "daily") in double.tables
    (job,) = double.jobs.values()
    assert 'INSERT INTO "daily"\nSELECT count(1)' in job.query
    assert "last_results" not in result.store_params["td"]


def test_a_server_error_is_retried_later_without_a_second_job(double: TdApiDouble,
                                                              project: Path) -> None:
    drive = Drive(project, config(double), SECRETS)
    drive.step()
    double.fail_next(1)
    assert drive.step() is None  # the issue call got a 500: try again later
    drive.until_done()
    assert len(double.jobs) == 1


def test_download_file_and_preview_read_the_result_from_the_api(double: TdApiDouble,
                                                                 project: Path) -> None:
    double.results["www_access"] = (["path", "n"], [["/a", 1], ["/b,c", 2]])
    Drive(project, config(double, download_file="out.csv"), SECRETS).until_done()
    assert (project / "out.csv").read_bytes() == b'path,n\r\n/a,1\r\n"/b,c",2\r\n'


def test_preview_of_a_created_table_runs_a_second_job(double: TdApiDouble,
                                                      project: Path) -> None:
    drive = Drive(project, config(double, create_table="t", preview=True), SECRETS)
    drive.until_done()
    queries = [j.query for j in double.jobs.values()]
    assert len(queries) == 2 and 'SELECT * FROM "t" LIMIT 20' in queries[1]


def test_a_missing_apikey_is_named(double: TdApiDouble, project: Path) -> None:
    with pytest.raises(ConfigError, match=r"The 'td\.apikey' secret is missing"):
        Drive(project, config(double), {}).until_done()


def test_a_rejected_apikey_fails_with_a_remedy(double: TdApiDouble, project: Path) -> None:
    with pytest.raises(TaskFailed, match="rejected the API key"):
        Drive(project, config(double), {"td.apikey": "wrong"}).until_done()
