"""``digpy push DIR -e URL`` uploads a project to a live ``digpy server`` (as ``digdag push``
does); a broken project is refused before anything is sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from client_helpers import write

from digpy.cli import main
from tests.live_server import LiveServer, start_live_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_live_server(tmp_path_factory.mktemp("daemon"))
    yield live
    live.stop()


@pytest.fixture(autouse=True)
def no_client_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DIGPY_API_TOKEN", "DIGPY_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_push_with_an_endpoint_stores_a_revision_the_server_lists(
        server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    write(project, "orders.dig", "schedule:\n  daily>: 07:00:00\n+count:\n  echo>: hi\n")

    code = main(["push", str(project), "-e", server.url, "--revision", "v1"])

    out = capsys.readouterr().out
    assert code == 0, out
    assert "Pushed shop revision v1" in out
    projects = server.get("/api/projects", name="shop")["projects"]
    assert [p["revision"] for p in projects] == ["v1"]
    workflows = server.get(f"/api/projects/{projects[0]['id']}/workflows")["workflows"]
    assert [w["name"] for w in workflows] == ["orders"]


def test_push_of_a_broken_project_to_a_server_exits_2_and_sends_nothing(
        server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "broken"
    project.mkdir()
    write(project, "bad.dig", "+a:\n  echo>: hi\n+a:\n  echo>: again\n")

    code = main(["push", str(project), "-e", server.url])

    err = capsys.readouterr().err
    assert code == 2
    assert "bad.dig:3:1: duplicate key '+a'" in err
    assert server.get("/api/projects", name="broken")["projects"] == []


def test_push_to_an_endpoint_nobody_listens_on_is_one_line_and_exit_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "p"
    project.mkdir()
    write(project, "p.dig", "+a:\n  echo>: hi\n")

    code = main(["push", str(project), "-e", "http://127.0.0.1:9"])

    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "cannot reach a digpy server" in err
