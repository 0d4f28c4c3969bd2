"""`digpy check [PROJECT_DIR | FILE.dig]`: load and compile every workflow, show what
would run, and list every error. Exit 0 when all are valid, 1 otherwise."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from digpy.cli.checkview import describe_error, describe_workflow, scalar

_DIRECTIVES_SHOWN = ("_parallel", "_background", "_after", "_retry", "_timeout", "_disable")


@click.command(
    epilog="""\b
Examples:
  digpy check                       every workflow in the current folder
  digpy check examples/etl          one project
  digpy check examples/etl/etl.dig  one workflow
  digpy check . --json              machine-readable""",
)
@click.argument("target", required=False, default=".", type=click.Path(path_type=Path))
@click.option("--project", "project_dir", type=click.Path(path_type=Path), default=None,
              help="Project folder (when TARGET is a workflow name).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--now", "now_text", default=None, metavar="TIME",
              help="Compute the next schedule runs from TIME (ISO 8601) instead of now.")
def check(target: Path, project_dir: Path | None, as_json: bool, now_text: str | None) -> int:
    """Validate workflows and print their task trees, params, schedules and SLAs."""
    from digpy.dsl.project import load_project

    root, only = _resolve_target(target, project_dir)
    project = load_project(root, only=only)
    now = _parse_now(now_text)
    report: dict[str, Any] = {
        "project": project.name,
        "path": str(project.path),
        "workflows": [describe_workflow(w, now) for w in project.workflows.values()],
        "errors": [describe_error(e) for e in project.errors],
        "warnings": _warnings(project),
    }
    report["valid"] = not report["errors"]
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _print_text(report)
    return 0 if report["valid"] else 1


def _warnings(project: Any) -> list[dict[str, Any]]:
    from digpy.cli.checkdeferred import deferred_trees
    from digpy.cli.checkview import known_operators, operator_warnings

    # sla: tasks and _do bodies may name operators the main tree does not.
    used = {t.operator for wf in project.workflows.values()
            for t in wf.tasks + deferred_trees(wf).tasks if t.operator}
    known = known_operators(used)
    return [w for wf in project.workflows.values() for w in operator_warnings(wf, known)]


def _resolve_target(target: Path, project_dir: Path | None) -> tuple[Path, str | None]:
    if project_dir is not None:
        name = None if str(target) == "." else target.name.removesuffix(".dig")
        return project_dir, name
    if target.suffix == ".dig" or target.is_file():
        return target.parent, target.name.removesuffix(".dig")
    if not target.exists():
        raise click.BadParameter(f"{target} does not exist", param_hint="TARGET")
    return target, None


def _parse_now(text: str | None) -> datetime:
    if text is None:
        from digpy.clock import SystemClock

        return SystemClock().now()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not ISO 8601 (e.g. 2026-01-01T00:00:00+00:00)",
                                 param_hint="--now") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _print_text(report: dict[str, Any]) -> None:
    click.echo(f"Project {report['project']} ({report['path']})")
    for wf in report["workflows"]:
        click.echo("")
        _print_workflow(wf)
    for warning in report["warnings"]:
        click.secho(warning["text"], fg="yellow", err=True)
    if report["errors"]:
        click.echo("")
        for err in report["errors"]:
            click.secho(f"error: {err['text']}", fg="red", err=True)
        click.echo(f"{len(report['errors'])} error(s).", err=True)
    else:
        click.echo(f"\n{len(report['workflows'])} workflow(s) valid.")


def _print_workflow(wf: dict[str, Any]) -> None:
    click.secho(f"Workflow {wf['name']}", bold=True, nl=False)
    click.echo(f"  ({wf['file']}, timezone {wf['timezone']}, {wf['task_count']} tasks)")
    for task in wf["tasks"]:
        click.echo("  " + _task_line(task))
    if wf["export"]:
        click.echo("  Exports: " + ", ".join(f"{k}={scalar(v)}" for k, v in wf["export"].items()))
    _print_schedule(wf["schedule"])
    _print_sla(wf["sla"])


def _task_line(task: dict[str, Any]) -> str:
    line = "  " * task["depth"] + task["name"]
    if task["operator"]:
        command = task["command"]
        shown = "" if command is None else " " + _short(scalar(command))
        line += f"  {task['operator']}>{shown}"
    extras = [f"{k}: {_short(scalar(task['directives'][k]))}"
              for k in _DIRECTIVES_SHOWN if k in task["directives"]]
    extras += [k for k in ("_error", "_check") if k in task["directives"]]
    return line + (f"  [{'; '.join(extras)}]" if extras else "")


def _print_schedule(schedule: dict[str, Any] | None) -> None:
    if schedule is None:
        return
    options = "".join(f", {k}: {v}" for k, v in schedule["options"].items())
    click.echo(f"  Schedule: {schedule['type']}>: {schedule['value']}{options}")
    from digpy.dsl.schedule import suggest_schedule_option

    for key in schedule["unknown_keys"]:
        close = suggest_schedule_option(key)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        click.secho(f"    warning: unknown schedule option {key!r} (ignored{hint})", fg="yellow")
    if schedule["ended"]:
        click.echo("    the schedule has ended: no more sessions")
        return
    click.echo(f"    first session: {schedule['first_session_time']}"
               f"  (runs at {schedule['first_run_time']})")
    if schedule["next_run_times"]:
        click.echo("    next runs: " + ", ".join(schedule["next_run_times"]))


def _print_sla(sla: dict[str, Any] | None) -> None:
    if sla is None:
        return
    when = f"time {sla['time']}" if sla["time"] else f"duration {sla['duration']}s"
    flags = [f for f in ("alert", "fail") if sla[f]]
    tasks = ", ".join(sla["tasks"])
    click.echo(f"  SLA: {when}" + (f" ({', '.join(flags)})" if flags else "")
               + (f", tasks {tasks}" if tasks else ""))


def _short(text: str, limit: int = 60) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
