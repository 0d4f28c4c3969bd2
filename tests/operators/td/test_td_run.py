"""td_run>: a saved query is queries/<name>.sql on local/sql, and the saved-query API on
Treasure Data (the API double); outputs are td>'s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from digpy_operators.td_run import TdRunOperator
from td_api_double import TdApiServer
from td_api_family_double import TdFamilyDouble
from td_testing import context

from digpy.spi import ConfigError, PollAgain, TaskResult


@pytest.fixture
def saved(project: Path, td: Any) -> Path:
    folder = project / "queries"
    folder.mkdir()
    (folder / "daily_count.sql").write_text(
        "SELECT '${session_date}' AS day, TD_SCHEDULED_TIME() AS t, 3 AS n\n")
    return folder


def run_saved(run_op: Any, name: Any, **options: Any) -> Any:
    config = {"td": {"database": "db"}, "_command": name, "session_date": "2016-01-30",
              **options}
    return run_op(TdRunOperator, config)


def test_a_saved_query_is_the_rendered_sql_file_under_queries(saved: Path,
                                                              run_op: Any) -> None:
    ran = run_saved(run_op, "daily_count", store_last_results=True)
    assert ran.td["last_results"] == {"day": "2016-01-30", "t": 1454112000, "n": 3}
    assert ran.td["last_job"]["num_records"] == 1
    assert ran.td["last_job_id"] == ran.td["last_job"]["id"]
    assert ran.result.reset_store_params == ("td.last_results",)


def test_session_time_sets_the_scheduled_time(saved: Path, run_op: Any) -> None:
    ran = run_saved(run_op, "daily_count", store_last_results=True,
                    session_time="2016-02-01T00:00:00+00:00")
    assert ran.td["last_results"]["t"] == 1454284800


def test_a_numeric_id_names_the_file_too(saved: Path, run_op: Any) -> None:
    (saved / "42.sql").write_text("SELECT 42 AS answer")
    ran = run_saved(run_op, 42, store_last_results=True)
    assert ran.td["last_results"] == {"answer": 42}


def test_download_file_and_preview_work_as_in_td(saved: Path, run_op: Any,
                                                 project: Path) -> None:
    ran = run_saved(run_op, "daily_count", download_file="out.csv", preview=True)
    assert (project / "out.csv").read_text().splitlines()[0] == "day,t,n"
    assert "preview of job id" in ran.log


def test_a_missing_saved_query_suggests_the_names_there_are(saved: Path, run_op: Any) -> None:
    with pytest.raises(ConfigError) as err:
        run_saved(run_op, "daily_cnt")
    assert "no saved query 'daily_cnt'" in str(err.value)
    assert "queries/daily_cnt.sql" in str(err.value)
    assert err.value.suggestions == ("daily_count",)


def test_a_saved_query_needs_a_name(run_op: Any) -> None:
    with pytest.raises(ConfigError, match="needs a saved query name or id"):
        run_saved(run_op, None)


# ---- Treasure Data (the API double) -------------------------------------------------------


@pytest.fixture
def double() -> Iterator[TdFamilyDouble]:
    fake = TdFamilyDouble()
    with TdApiServer(fake) as server:
        fake.endpoint = server.endpoint  # type: ignore[attr-defined]
        yield fake


def drive(project: Path, config: dict[str, Any]) -> tuple[TaskResult, list[float]]:
    state: dict[str, Any] = {}
    intervals: list[float] = []
    for _ in range(20):
        ctx = context(project, config, operator="td_run",
                      secrets={"td.apikey": "test-apikey"}, last_state=state)
        try:
            return TdRunOperator(ctx).run(), intervals
        except PollAgain as again:
            state = again.state
            intervals.append(again.interval)
    raise AssertionError("td_run> kept polling")


def remote(double: TdFamilyDouble, name: str, **options: Any) -> dict[str, Any]:
    return {"td": {"backend": "treasuredata", "endpoint": double.endpoint},  # type: ignore
            "_command": name, **options}


def test_on_treasure_data_the_saved_query_is_started_once_and_polled(
        double: TdFamilyDouble, project: Path) -> None:
    double.saved_queries["daily_count"] = "SELECT count(1) AS cnt FROM www_access"
    double.results["www_access"] = (["cnt"], [[7]])
    result, intervals = drive(project, remote(double, "daily_count", store_last_results=True))
    (job,) = double.jobs.values()
    assert intervals == [0, 1, 2]  # save the domain key; queued; running
    assert job.params["scheduled_time"] == "1454112000" and job.params["domain_key"]
    assert result.store_params["td"] == {"last_job_id": job.job_id, "last_results": {"cnt": 7},
                                         "last_job": {"id": job.job_id, "num_records": 1}}


def test_an_unknown_saved_query_on_treasure_data_is_named(double: TdFamilyDouble,
                                                          project: Path) -> None:
    with pytest.raises(ConfigError, match="no saved query named 'nope'"):
        drive(project, remote(double, "nope"))
