"""Fixtures for the client command tests: a tmp_path project and the CLI in process."""

from __future__ import annotations

from pathlib import Path

import pytest
from client_helpers import Cli, Outcome

from digpy.cli import main


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGPY_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    return root


@pytest.fixture
def cli(project: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``cli("sessions", "--json")`` runs ``digpy sessions --json --project <project>``."""

    def run(*args: str, project_dir: Path | None = None) -> Outcome:
        capsys.readouterr()
        code = main([*args, "--project", str(project_dir or project)])
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run
