"""LocalSecretStore: AES-GCM at rest, a 0600 key file, names listable, values not."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from digpy.secrets.crypto import SecretError
from digpy.secrets.local import LocalSecretStore


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_value_set_can_be_read_back(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets")
    store.set("pg.password", "p@ss wörd\nline2")
    assert store.get("pg.password") == "p@ss wörd\nline2"
    assert LocalSecretStore(tmp_path / "secrets").get("pg.password") == "p@ss wörd\nline2"


def test_the_key_file_and_the_secrets_file_are_private(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets")
    store.set("a", "1")
    assert _mode(tmp_path / "secrets" / "key") == 0o600
    assert _mode(tmp_path / "secrets" / "secrets.json") == 0o600
    assert _mode(tmp_path / "secrets") & 0o077 == 0


def test_values_are_never_on_disk_in_plaintext(tmp_path: Path) -> None:
    canary = "dp-canary-plaintext-check"
    store = LocalSecretStore(tmp_path / "secrets")
    store.set("canary", canary)
    for path in (tmp_path / "secrets").iterdir():
        data = path.read_bytes()
        assert canary.encode() not in data
        assert base64.b64encode(canary.encode()) not in data


def test_list_gives_sorted_names_only(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets")
    store.set("td.apikey", "v1")
    store.set("aws.s3.secret", "v2")
    assert store.list() == ["aws.s3.secret", "td.apikey"]


def test_delete_removes_a_secret_and_says_whether_it_existed(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets")
    store.set("k", "v")
    assert store.delete("k") is True
    assert store.get("k") is None
    assert store.delete("k") is False


def test_reading_an_empty_store_creates_nothing(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets")
    assert store.get("anything") is None
    assert store.list() == []
    assert not (tmp_path / "secrets").exists()


def test_setting_a_secret_again_replaces_it(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets")
    store.set("k", "old")
    store.set("k", "new")
    assert store.get("k") == "new"
    assert store.list() == ["k"]


def test_a_tampered_record_does_not_decrypt(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets")
    store.set("k", "value")
    path = tmp_path / "secrets" / "secrets.json"
    document = json.loads(path.read_text())
    record = bytearray(base64.b64decode(document["secrets"]["k"]))
    record[-1] ^= 1
    document["secrets"]["k"] = base64.b64encode(bytes(record)).decode()
    path.write_text(json.dumps(document))
    with pytest.raises(SecretError, match="cannot be decrypted"):
        store.get("k")


def test_a_record_copied_under_another_name_does_not_decrypt(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets")
    store.set("low", "value")
    path = tmp_path / "secrets" / "secrets.json"
    document = json.loads(path.read_text())
    document["secrets"]["high"] = document["secrets"]["low"]
    path.write_text(json.dumps(document))
    with pytest.raises(SecretError, match="'high'"):
        store.get("high")


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets")
    store.set("k", "v")
    (tmp_path / "secrets" / "key").chmod(0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        store.get("k")


@pytest.mark.parametrize("bad", ["", "a..b", ".a", "a/b", "../x", "a b", "x" * 256])
def test_invalid_names_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(SecretError, match="Invalid secret key"):
        LocalSecretStore(tmp_path / "secrets").set(bad, "v")


def test_values_larger_than_16_kib_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="too large"):
        LocalSecretStore(tmp_path / "secrets").set("big", "x" * (16 * 1024 + 1))


def test_default_location_prefers_digpy_config_home_then_xdg_then_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGPY_CONFIG_HOME", str(tmp_path / "dp"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert LocalSecretStore.default().directory == tmp_path / "dp" / "secrets"
    monkeypatch.delenv("DIGPY_CONFIG_HOME")
    assert LocalSecretStore.default().directory == tmp_path / "xdg" / "digpy" / "secrets"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert LocalSecretStore.default().directory == tmp_path / "home" / ".config/digpy/secrets"
