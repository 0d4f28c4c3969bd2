"""Which server a client command asks: ``-e``, else ``DIGPY_ENDPOINT``, else the client
config file — and ``--project DIR`` always means the local state."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from client_helpers import Cli, write

from digpy.cli import main


def free_port() -> int:
    with socket.socket() as probe:  # bound then closed: nobody listens there
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def nowhere() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_digpy_endpoint_is_used_when_no_flag_is_given(
        nowhere: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DIGPY_ENDPOINT", nowhere)

    assert main(["sessions"]) == 1

    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot reach a digpy server at {nowhere}")
    assert err.count("\n") == 1


def test_project_on_the_command_line_reads_the_local_state_despite_digpy_endpoint(
        project: Path, cli: Cli, nowhere: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGPY_ENDPOINT", nowhere)
    write(project, "hello.dig", "+a:\n  echo>: hi\n")

    listed = cli("workflows", "--json")

    assert listed.code == 0, listed.err
    assert [w["name"] for w in listed.json()] == ["hello"]


def test_the_client_config_file_gives_the_endpoint(
        tmp_path: Path, nowhere: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIGPY_ENDPOINT", raising=False)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "client.toml").write_text(f'endpoint = "{nowhere}"\ntoken = "t"\n')

    assert main(["attempts"]) == 1

    assert f"cannot reach a digpy server at {nowhere}" in capsys.readouterr().err


def test_an_unknown_key_in_the_client_config_is_one_line_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIGPY_ENDPOINT", raising=False)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "client.toml").write_text('endpiont = "http://x"\n')

    assert main(["sessions"]) == 2

    err = capsys.readouterr().err
    assert "client.toml: unknown key 'endpiont'; known keys: endpoint, token" in err
    assert err.count("\n") == 1


def test_an_endpoint_that_is_not_a_url_is_a_usage_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions", "-e", "127.0.0.1:65432"]) == 2
    assert "is not an http:// or https:// URL" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["sessions", "a", "b"], ["start", "p", "wf", "--session",
                                                             "2016-01-30"]])
def test_project_and_workflow_names_on_the_local_state_point_at_e(
        project: Path, cli: Cli, args: list[str]) -> None:
    refused = cli(*args)

    assert refused.code == 2
    assert "PROJECT WORKFLOW is for a server: add -e URL" in refused.err
