"""${secret:KEY} in operator text."""

from __future__ import annotations

import pytest

from digpy.errors import TaskFailed
from digpy.spi.secret_template import render_secrets, secret_keys
from digpy.spi.testing import DictSecrets


def test_each_secret_reference_is_replaced_by_its_value() -> None:
    secrets = DictSecrets({"pg.password": "pw", "token": "tk"})
    text = "psql -p ${secret:pg.password} && curl -H ${secret: token }"
    assert render_secrets(text, secrets) == "psql -p pw && curl -H tk"


def test_values_are_inserted_literally_even_with_dollars_and_backslashes() -> None:
    secrets = DictSecrets({"k": "$b\\1$a${x}"})
    assert render_secrets("[${secret:k}]", secrets) == "[$b\\1$a${x}]"


def test_other_dollar_braces_are_left_alone() -> None:
    secrets = DictSecrets({})
    assert render_secrets("echo ${HOME} ${secret:} $$", secrets) == "echo ${HOME} ${secret:} $$"
    assert secrets.read == []


def test_a_missing_secret_fails_the_task_naming_the_key() -> None:
    secrets = DictSecrets({"present": "s3cr3t-value"})
    with pytest.raises(TaskFailed) as caught:
        render_secrets("${secret:present} ${secret:absent.key}", secrets)
    assert str(caught.value) == "Secret not found for key: 'absent.key'"
    assert "s3cr3t-value" not in str(caught.value)


def test_secret_keys_lists_the_references_without_reading_them() -> None:
    assert secret_keys("a ${secret:x} b ${secret: y.z }") == ["x", "y.z"]
