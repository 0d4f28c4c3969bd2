"""What a ``digpy run`` of a workflow without secrets imports: not ``cryptography`` (the
secret store loads it when a task first reads a secret), while a task that reads one still
gets it. Checked in fresh interpreters, since the test process has imported everything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUN = """
import sys
from pathlib import Path
from digpy.api_python import open_engine
from digpy.dsl.project import load_project
from digpy.secrets.masking import Masker

project = Path(sys.argv[1])
workflow = next(iter(load_project(project).workflows.values()))
with open_engine(project, masker=Masker()) as engine:
    result = engine.run(workflow)
print(result.success, "cryptography" in sys.modules)
"""


def _run(project: Path, env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-c", RUN, str(project)], capture_output=True,
                         text=True, env=env, check=True)
    return out.stdout.strip()


def test_a_run_without_secrets_never_imports_cryptography(tmp_path: Path) -> None:
    (tmp_path / "wf.dig").write_text("+a:\n  sh>: echo hi\n+b:\n  echo>: there\n")
    assert _run(tmp_path, {"PATH": "/usr/bin:/bin", "DIGPY_CONFIG_HOME": str(tmp_path / "c")}
                ) == "True False"


def test_a_task_reading_a_secret_still_gets_it_from_the_local_store(tmp_path: Path) -> None:
    home = tmp_path / "config"
    env = {"PATH": "/usr/bin:/bin", "DIGPY_CONFIG_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "digpy", "secrets", "--local", "--set", "db.pw=s3cret"],
                   env=env, check=True, capture_output=True)
    project = tmp_path / "p"
    project.mkdir()
    (project / "wf.dig").write_text(
        "+a:\n  sh>: test \"$PW\" = s3cret\n  _env:\n    PW: ${secret:db.pw}\n"
    )
    assert _run(project, env) == "True True"
