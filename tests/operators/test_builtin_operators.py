"""The built-in operator table the local resolver uses without scanning installed
distributions must say exactly what the ``digpy.operators`` entry points say."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import distribution

import pytest

from digpy.agent.workspace import BUILTIN_OPERATORS, registry_resolver
from digpy.errors import ConfigError


def test_the_builtin_table_equals_the_distributions_entry_points() -> None:
    declared = {
        ep.name: ep.value
        for ep in distribution("digpy").entry_points
        if ep.group == "digpy.operators"
    }
    assert declared == BUILTIN_OPERATORS


@pytest.mark.parametrize("name", sorted(BUILTIN_OPERATORS))
def test_every_builtin_resolves_to_an_operator_of_its_own_type(name: str) -> None:
    assert registry_resolver()(f"{name}>").type == name


def test_an_unknown_operator_is_still_a_config_error_with_suggestions() -> None:
    with pytest.raises(ConfigError, match="Unknown operator 'sj>'"):
        registry_resolver()("sj>")


def test_resolving_a_builtin_does_not_import_importlib_metadata() -> None:
    code = (
        "import sys\n"
        "from digpy.agent.workspace import registry_resolver\n"
        "registry_resolver()('sh>')\n"
        "print('importlib.metadata' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert out.strip() == "False"
