"""Project discovery: every ``*.dig`` file in the project folder is one workflow named after
the file (Digdag ``ProjectArchiveLoader``). Files in subfolders are not workflows of their
own; ``call>`` runs them through ``load_workflow``.

``load_project`` never stops at the first broken workflow: each one's ConfigError is
collected so ``digpy check`` can list them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from digpy.dsl.compiler import compile_workflow
from digpy.dsl.model import Workflow
from digpy.dsl.names import validate_name
from digpy.dsl.suggest import did_you_mean
from digpy.errors import ConfigError, ConfigErrors, Location

__all__ = ["Project", "load_project", "load_workflow", "validate_name"]

WORKFLOW_SUFFIX = ".dig"


@dataclass(frozen=True)
class Project:
    name: str  # the folder's name
    path: Path  # absolute
    workflows: Mapping[str, Workflow]  # by name, in file-name order
    errors: tuple[ConfigError, ...]


def load_project(path: Path, *, only: str | None = None) -> Project:
    """Load and compile the workflows of the project at ``path`` (one, with ``only``).

    Broken workflows are left out of ``workflows`` and their errors listed in ``errors``.
    Raises ConfigError only when the folder is missing or ``only`` names no workflow."""
    root = Path(path)
    if not root.is_dir():
        raise ConfigError(f"Project folder {root} does not exist", location=Location(str(root)))
    files = workflow_files(root)
    if only is not None:
        files = [_only_file(root, only, files)]
    workflows: dict[str, Workflow] = {}
    errors: list[ConfigError] = []
    for file in files:
        try:
            workflow = load_workflow(file, project_root=root)
        except ConfigErrors as many:
            errors.extend(many.errors)
        except ConfigError as error:
            errors.append(error)
        else:
            workflows[workflow.name] = workflow
    return Project(name=root.resolve().name, path=root.resolve(), workflows=workflows,
                   errors=tuple(errors))


def workflow_files(root: Path) -> list[Path]:
    """The project's workflow files: ``*.dig`` directly in ``root``, hidden files skipped."""
    return sorted(
        (entry for entry in root.iterdir()
         if entry.name.endswith(WORKFLOW_SUFFIX) and not entry.name.startswith(".")
         and entry.is_file()),
        key=lambda entry: entry.name)


def load_workflow(path: Path, *, project_root: Path) -> Workflow:
    """Load and compile one workflow file, which may sit in a subfolder of the project.

    Its name is its path from the project root without ``.dig`` (``sub/child``), as Digdag
    names it. The config is returned as written: a caller that runs the file from a
    subfolder (``call>``) sets ``_workdir`` itself."""
    from digpy.dsl.loader import load_file

    name = _resource_name(Path(path), Path(project_root))
    where = Location(str(path))
    validate_name(name, kind="workflow", location=where)
    config = load_file(Path(path), project_root=Path(project_root))
    return compile_workflow(name, config, source=name + WORKFLOW_SUFFIX)


def _resource_name(path: Path, root: Path) -> str:
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        raise ConfigError(f"Workflow file {path} is outside the project folder {root}",
                          location=Location(str(path))) from None
    return relative.as_posix().removesuffix(WORKFLOW_SUFFIX)


def _only_file(root: Path, only: str, files: list[Path]) -> Path:
    name = only.removesuffix(WORKFLOW_SUFFIX)
    file = root / (name + WORKFLOW_SUFFIX)
    if file.is_file():
        return file
    known = [f.name.removesuffix(WORKFLOW_SUFFIX) for f in files]
    listed = ", ".join(known) if known else "none"
    raise ConfigError(f"Workflow '{name}' does not exist in project {root}"
                      f" (workflows: {listed})", suggestions=did_you_mean(name, known))
