"""SecretAccess: _secrets remapping as Digdag does it, and every value read is masked."""

from __future__ import annotations

from typing import Any

import pytest

from digpy.errors import ConfigError, TaskFailed
from digpy.secrets.access import SecretAccess, remount
from digpy.secrets.crypto import SecretError
from digpy.secrets.masking import Masker


@pytest.mark.parametrize(
    ("key", "remap", "expected"),
    [
        ("td.apikey", {"td": {"apikey": "prod.key"}}, "prod.key"),
        ("td.apikey", {"td": "other"}, "other.apikey"),
        ("td.apikey", {"td": "team.td"}, "team.td.apikey"),
        ("td.apikey", {"pg": "other"}, "td.apikey"),
        ("td", {"td": {"apikey": "x"}}, "td"),
        ("td.apikey", {"td": True}, "td.apikey"),
        ("td.apikey", {}, "td.apikey"),
    ],
)
def test_secrets_remapping_follows_the_dotted_key(
    key: str, remap: dict[str, Any], expected: str
) -> None:
    assert remount(key, remap) == expected


def test_an_illegal_remapping_value_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Illegal value in _secrets"):
        remount("td.apikey", {"td": 3})


def test_reading_a_secret_registers_its_value_for_masking() -> None:
    masker = Masker()
    access = SecretAccess({"prod.key": "k-123"}, {"td": {"apikey": "prod.key"}}, masker)

    assert access.get("td.apikey") == "k-123"
    assert masker.mask("apikey k-123") == "apikey ***"


def test_a_missing_secret_is_none_and_masks_nothing() -> None:
    masker = Masker()
    assert SecretAccess({}, None, masker).get("absent") is None
    assert len(masker) == 0


@pytest.mark.parametrize("bad", ["", "a..b", "a.*"])
def test_an_illegal_key_fails_the_task(bad: str) -> None:
    with pytest.raises(TaskFailed, match="Illegal secret key"):
        SecretAccess({}, None, Masker()).get(bad)


def test_a_store_that_cannot_decrypt_fails_the_task_naming_the_key() -> None:
    class BrokenStore:
        def get(self, key: str) -> str | None:
            raise SecretError(f"Secret '{key}' cannot be decrypted (damaged or moved)")

    with pytest.raises(TaskFailed, match="Secret 'k' cannot be decrypted"):
        SecretAccess(BrokenStore(), None, Masker()).get("k")


def test_secrets_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match="_secrets must be a mapping"):
        SecretAccess({}, ["td"], Masker())  # type: ignore[arg-type]
