"""`digpy secrets --local`: in process, against a store under a temporary config home."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from digpy.cli import main
from digpy.secrets.local import LocalSecretStore

CANARY = "dp-canary-cli-0f3a9"


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DIGPY_CONFIG_HOME", str(tmp_path))
    return tmp_path


def test_set_list_and_delete_a_secret(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["secrets", "--local", "--set", f"pg.password={CANARY}"]) == 0
    assert main(["secrets", "--local", "--list"]) == 0
    assert main(["secrets", "--local", "--delete", "pg.password"]) == 0

    out = capsys.readouterr()
    assert out.out.splitlines() == ["Secret 'pg.password' set", "pg.password",
                                    "Secret 'pg.password' deleted"]
    assert CANARY not in out.out + out.err
    assert LocalSecretStore.default().list() == []


def test_the_value_is_stored_encrypted_where_the_store_reads_it(config_home: Path) -> None:
    main(["secrets", "--local", "--set", f"td.apikey={CANARY}"])
    assert LocalSecretStore.default().get("td.apikey") == CANARY
    for path in (config_home / "secrets").iterdir():
        assert CANARY.encode() not in path.read_bytes()


def test_a_set_without_a_value_reads_it_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{CANARY}\n"))
    assert main(["secrets", "--local", "--set", "http.authorization"]) == 0
    assert LocalSecretStore.default().get("http.authorization") == CANARY
    out = capsys.readouterr()
    assert CANARY not in out.out + out.err


def test_list_prints_names_only_even_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    main(["secrets", "--local", "--set", f"b={CANARY}", "--set", f"a={CANARY}x"])
    capsys.readouterr()
    assert main(["secrets", "--local", "--list", "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == ["a", "b"]
    assert CANARY not in out


def test_local_alone_lists_names_like_digdag(capsys: pytest.CaptureFixture[str]) -> None:
    main(["secrets", "--local", "--set", "k=v"])
    capsys.readouterr()
    assert main(["secrets", "--local"]) == 0
    assert capsys.readouterr().out == "k\n"


def test_without_local_or_a_server_it_says_so_and_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DIGPY_ENDPOINT", raising=False)
    assert main(["secrets", "--set", f"k={CANARY}"]) == 2
    err = capsys.readouterr().err
    assert "say which secrets: --local" in err and "-e URL --project NAME" in err
    assert CANARY not in err


def test_an_invalid_key_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["secrets", "--local", "--set", f"../evil={CANARY}"]) == 2
    err = capsys.readouterr().err
    assert "Invalid secret key '../evil'" in err
    assert CANARY not in err


def test_an_empty_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["secrets", "--local", "--set", "k"]) == 2
    assert LocalSecretStore.default().list() == []


def test_deleting_a_missing_secret_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["secrets", "--local", "--delete", "nope"]) == 1
    assert "Secret 'nope' does not exist" in capsys.readouterr().err


def test_a_damaged_store_is_reported_without_values(
    config_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["secrets", "--local", "--set", f"k={CANARY}"])
    (config_home / "secrets" / "key").chmod(0o644)
    assert main(["secrets", "--local", "--set", "k2=v"]) == 1
    err = capsys.readouterr().err
    assert "chmod 600" in err and CANARY not in err
