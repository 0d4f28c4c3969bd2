"""`digpy --help` lists every command, and does it without importing the commands."""

from __future__ import annotations

import subprocess
import sys

from digpy.cli import COMMANDS, SHORT_HELP, main


def test_help_lists_every_command(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"  {name} " in out


def test_help_imports_no_command_module_that_has_a_short_help() -> None:
    probe = (
        "import sys; from digpy.cli import main, SHORT_HELP, COMMANDS; main(['--help']);"
        "mods = {COMMANDS[n].split(':')[0] for n in SHORT_HELP};"
        "print(sorted(m for m in mods if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    assert out == "[]"


def test_every_short_help_names_a_known_command() -> None:
    assert set(SHORT_HELP) <= set(COMMANDS)


def test_every_command_has_a_short_help_so_help_imports_none_of_them() -> None:
    assert sorted(set(COMMANDS) - set(SHORT_HELP)) == []
