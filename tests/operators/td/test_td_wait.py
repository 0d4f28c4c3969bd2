"""td_wait>: a query checked every `interval` until its first value is truthy. The operator
never sleeps: each PollAgain is fed back as the next run's state, time moves on a FakeClock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from digpy_operators.td_wait import TdWaitOperator, truthy
from td_api_double import TdApiServer
from td_api_family_double import TdFamilyDouble
from td_testing import SESSION

from digpy.clock import FakeClock
from digpy.spi import ConfigError, PollAgain, TaskFailed, TaskResult
from digpy.spi.testing import RecordingLog, make_context


class Poller:
    """Runs an operator again and again with the last PollAgain's state, advancing the clock
    by each interval, as the engine would."""

    def __init__(self, project: Path, cls: Any, config: dict[str, Any],
                 secrets: dict[str, str] | None = None) -> None:
        self.project, self.cls, self.config = project, cls, config
        self.secrets = secrets or {}
        self.clock = FakeClock(SESSION)
        self.log = RecordingLog()
        self.state: dict[str, Any] = {}
        self.intervals: list[float] = []

    def step(self) -> TaskResult | None:
        ctx = make_context(self.project, operator=self.cls.type, config=self.config,
                           last_state=self.state, session_time=SESSION, clock=self.clock,
                           log=self.log, secrets=self.secrets)
        try:
            return self.cls(ctx).run()
        except PollAgain as again:
            self.intervals.append(again.interval)
            self.state = again.state
            self.clock.advance(again.interval)
            return None

    def until_done(self, limit: int = 30) -> TaskResult:
        for _ in range(limit):
            result = self.step()
            if result is not None:
                return result
        raise AssertionError(f"{self.cls.type}> kept polling")


@pytest.mark.parametrize("value, expected", [
    (None, False), (False, False), (0, False), (True, True), (2, True), (-1, True),
    (0.0, True), ("0", True), ("", True)])
def test_truthy_is_digdags_rule_not_pythons(value: Any, expected: bool) -> None:
    assert truthy(value) is expected


def wait_config(query: str, **options: Any) -> dict[str, Any]:
    return {"td": {"database": "db"}, "_command": {"data": query}, **options}


def test_a_true_condition_finishes_at_once(td: Any, project: Path) -> None:
    poller = Poller(project, TdWaitOperator, wait_config("SELECT count(*) > 0 FROM "
                                                         "(VALUES (1)) t(x)"))
    assert poller.until_done() == TaskResult.empty()
    assert poller.intervals == []


def test_a_false_condition_polls_every_interval_until_it_becomes_true(
        td: Any, project: Path) -> None:
    td({"query": "SELECT 0 AS ready", "create_table": "flag"})
    poller = Poller(project, TdWaitOperator, wait_config("SELECT ready FROM flag",
                                                         interval="1m"))
    assert poller.step() is None and poller.step() is None
    assert poller.intervals == [60, 60]
    assert poller.state["checks"] == 2
    td({"query": "SELECT 1 AS ready", "create_table": "flag"})
    poller.until_done()
    assert "is not met (check 2, waiting for 1m)" in poller.log.text
    assert "is met after 2m" in poller.log.text


def test_an_empty_result_is_not_done_yet(td: Any, project: Path) -> None:
    poller = Poller(project, TdWaitOperator, wait_config("SELECT 1 WHERE false"))
    assert poller.step() is None and poller.intervals == [30]


def test_a_query_without_columns_fails(td: Any, project: Path) -> None:
    poller = Poller(project, TdWaitOperator, wait_config("CREATE TABLE x AS SELECT 1 AS a"))
    with pytest.raises(TaskFailed, match="got an empty row in the result"):
        poller.step()


def test_the_interval_follows_digdags_bounds(td: Any, project: Path) -> None:
    with pytest.raises(ConfigError, match="at least 30s and no greater than 2d"):
        Poller(project, TdWaitOperator, wait_config("SELECT 1", interval="10s")).step()


def test_a_missing_query_file_suggests_nearby_files(td: Any, project: Path) -> None:
    (project / "queries").mkdir()
    (project / "queries" / "ready.sql").write_text("SELECT 1")
    config = {"td": {"database": "db"}, "_command": "queries/redy.sql"}
    with pytest.raises(ConfigError) as err:
        Poller(project, TdWaitOperator, config).step()
    assert err.value.suggestions == ("queries/ready.sql",)


def test_a_query_file_is_rendered(td: Any, project: Path) -> None:
    (project / "check.sql").write_text("SELECT '${session_date}' = '2016-01-30'")
    config = {"td": {"database": "db"}, "_command": "check.sql", "session_date": "2016-01-30"}
    Poller(project, TdWaitOperator, config).until_done()


# ---- Treasure Data (the API double) -------------------------------------------------------


@pytest.fixture
def double() -> Iterator[TdFamilyDouble]:
    fake = TdFamilyDouble()
    with TdApiServer(fake) as server:
        fake.endpoint = server.endpoint  # type: ignore[attr-defined]
        yield fake


def test_on_treasure_data_each_check_is_one_job_submitted_once_and_polled(
        double: TdFamilyDouble, project: Path) -> None:
    double.results["www_access"] = (["ready"], [[0]])
    config = {"td": {"backend": "treasuredata", "endpoint": double.endpoint,  # type: ignore
                     "database": "sample_db"},
              "_command": {"data": "SELECT count(1) > 100 FROM www_access"}}
    poller = Poller(project, TdWaitOperator, config, {"td.apikey": "test-apikey"})
    for _ in range(4):
        poller.step()
    # domain key, queued, running, not met -> interval; the next check starts a new job
    assert poller.intervals == [0, 1, 2, 30]
    assert "job" not in poller.state and len(double.jobs) == 1
    double.results["www_access"] = (["ready"], [[1]])
    poller.until_done()
    assert len(double.jobs) == 2
    assert len({j.params["domain_key"] for j in double.jobs.values()}) == 2
