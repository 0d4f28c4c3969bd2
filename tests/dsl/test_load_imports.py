"""What loading a project imports: a project without mistakes needs neither ``difflib``
(did-you-mean suggestions) nor ``decimal`` (float mapping keys), so neither is imported
until an error or such a key needs it. Checked in fresh interpreters, since the test
process has imported everything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LOAD = """
import sys
from pathlib import Path
from digpy.dsl.project import load_project

project = load_project(Path(sys.argv[1]))
print(len(project.workflows), [e.suggestions for e in project.errors],
      "difflib" in sys.modules, "decimal" in sys.modules)
"""


def _load(project: Path) -> str:
    out = subprocess.run([sys.executable, "-c", LOAD, str(project)], capture_output=True,
                         text=True, check=True)
    return out.stdout.strip()


def test_loading_a_sound_project_imports_neither_difflib_nor_decimal(tmp_path: Path) -> None:
    (tmp_path / "wf.dig").write_text("+a:\n  sh>: echo hi\n  _retry: 2\n+b:\n  echo>: x\n")
    assert _load(tmp_path) == "1 [] False False"


def test_a_misspelled_directive_still_gets_its_did_you_mean(tmp_path: Path) -> None:
    (tmp_path / "wf.dig").write_text("+g:\n  _paralel: true\n  +a:\n    echo>: x\n")
    assert _load(tmp_path) == "0 [('_parallel',)] True False"


def test_a_float_mapping_key_is_still_read_as_java_writes_it(tmp_path: Path) -> None:
    (tmp_path / "wf.dig").write_text("_export:\n  1.0E10: x\n+a:\n  echo>: ${x}\n")
    out = subprocess.run([sys.executable, "-c", LOAD.replace(
        "print(", "print(list(next(iter(project.workflows.values())).tasks[0].config"
                  "['_export']), "), str(tmp_path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['1.0E10'] 1 [] False True"
