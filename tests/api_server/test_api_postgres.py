"""The same API on PostgreSQL: upload, start → success, secrets, listings and /metrics
(the paging, soft delete and histogram queries run on both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import write_project
from live_server import live_server

from tests.pg_schema import private_schema

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    with private_schema("digpy_api") as url:
        yield url


def test_the_api_runs_an_attempt_with_a_secret_on_postgresql(
        tmp_path: Path, pg_schema_url: str) -> None:
    out = tmp_path / "seen.txt"
    project_dir = write_project(tmp_path / "pg", {
        "pg.dig": f"+a:\n  sh>: echo ${{secret:k}} > {out}\n+b:\n  echo>: done\n"})
    with live_server(tmp_path / "data", "--database", pg_schema_url) as server:
        project = server.push("pg", project_dir)
        server.request("PUT", f"/api/projects/{project['id']}/secrets/k", {"value": "v-pg"})
        attempt = server.start(project["id"], "pg", "2024-05-01T00:00:00+00:00").json()
        assert server.wait_done(attempt["id"])["status"] == "success"
        assert [a["id"] for a in server.get("/api/attempts", include_retried="true")[
            "attempts"]] == [attempt["id"]]
        assert server.get("/api/sessions")["sessions"][0]["lastAttempt"]["id"] == attempt["id"]
        metrics = server.request("GET", "/metrics").text
        assert 'digpy_attempts{status="success"} 1' in metrics
        assert "digpy_task_duration_seconds_count 2" in metrics
        assert 'database="postgresql"' in metrics
        assert server.request("DELETE", f"/api/projects/{project['id']}").status == 200
        assert server.get("/api/projects") == {"projects": []}
    assert out.read_text().strip() == "v-pg"
