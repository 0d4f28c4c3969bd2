"""``digpy report ATTEMPT [--format md|json]``: what one attempt did, for a ticket or a
chat thread — session, trigger and who, revision hash, params in, stored params out per
task, durations, failed tasks with their errors — compared with the previous successful
attempt of the same workflow (duration deltas, stored params that changed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from digpy.cli.client.backend import Backend, client_options, using_backend
from digpy.cli.client.output import dumps, fmt_duration
from digpy.cli.client.views import AttemptView, TaskView, iso

EVERY = 1 << 62
# Params digpy computes for every attempt (spec §2.3): not what the user passed in.
BUILT_IN_PREFIXES = ("last_session_", "next_session_", "last_executed_session_")

EPILOG = """\b
Examples:
  digpy report 7                       Markdown, to paste into a ticket
  digpy report 7 --format json | jq .compared_with.tasks

\b
Exit codes: 0 ok, 2 unknown attempt."""


@click.command(epilog=EPILOG)
@click.argument("attempt_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md",
              show_default=True, help="Markdown or JSON.")
@client_options
def report(attempt_id: int, fmt: str, project_dir: Path, endpoint: str | None) -> int:
    """Summarize an attempt and compare it with the previous success."""
    with using_backend(project_dir, endpoint) as backend:
        data = build(backend, attempt_id)
    click.echo(dumps(data, indent=2) if fmt == "json" else markdown(data))
    return 0


def build(backend: Backend, attempt_id: int) -> dict[str, Any]:
    """The report as plain data (the JSON form; markdown renders it)."""
    attempt = backend.attempt(attempt_id)
    tasks = newest_rows(backend.tasks(attempt_id))
    previous = previous_success(backend, attempt)
    before = newest_rows(backend.tasks(previous.id)) if previous else []
    return {
        "attempt": {k: v for k, v in attempt.to_json().items() if k != "params"},
        "revision": {"name": attempt.revision, "hash": backend.revision_hash(attempt)},
        "params": user_params(attempt.params),
        "duration": attempt.duration,
        "tasks": [_task(t) for t in tasks],
        "failed_tasks": [{"full_name": t.full_name, "error": t.error, "log_path": t.log_path}
                         for t in tasks if t.state == "error"],
        "compared_with": _comparison(attempt, tasks, previous, before) if previous else None,
    }


def newest_rows(tasks: Sequence[TaskView]) -> list[TaskView]:
    """The newest row per full name (a group retry leaves old rows), in creation order."""
    newest = {t.full_name: t for t in tasks}
    return sorted(newest.values(), key=lambda t: t.id)


def previous_success(backend: Backend, attempt: AttemptView) -> AttemptView | None:
    """The newest successful attempt of the same workflow created before this one."""
    # newest first; on a server only this workflow's, as every project's could be many
    for other in backend.attempts(None, limit=EVERY,
                                  workflow=(attempt.project, attempt.workflow)):
        if (other.id < attempt.id and other.workflow == attempt.workflow
                and other.status == "success"):
            return other
    return None


def user_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if not k.startswith(BUILT_IN_PREFIXES)}


def _task(t: TaskView) -> dict[str, Any]:
    return {"full_name": t.full_name, "state": t.state, "started_at": iso(t.started_at),
            "duration": t.duration, "retry_count": t.retry_count, "error": t.error,
            "store_params": dict(t.store_params)}


def _comparison(attempt: AttemptView, tasks: Sequence[TaskView], previous: AttemptView,
                before: Sequence[TaskView]) -> dict[str, Any]:
    old = {t.full_name: t for t in before}
    rows = []
    for task in tasks:
        was = old.get(task.full_name)
        rows.append({"full_name": task.full_name, "duration": task.duration,
                     "previous_duration": was.duration if was else None,
                     "delta": _delta(task.duration, was.duration if was else None)})
    return {"attempt_id": previous.id, "session_id": previous.session_id,
            "session_time": iso(previous.session_time), "duration": previous.duration,
            "duration_delta": _delta(attempt.duration, previous.duration),
            "tasks": rows, "changed_store_params": _changed(tasks, old)}


def _changed(tasks: Sequence[TaskView], old: Mapping[str, TaskView]) -> list[dict[str, Any]]:
    changes = []
    for task in tasks:
        was = old.get(task.full_name)
        before = dict(was.store_params) if was else {}
        after = dict(task.store_params)
        for key in sorted(before.keys() | after.keys()):
            if before.get(key) != after.get(key):
                changes.append({"task": task.full_name, "key": key,
                                "before": before.get(key), "after": after.get(key)})
    return changes


def _delta(now: float | None, then: float | None) -> float | None:
    return None if now is None or then is None else round(now - then, 3)


# -- markdown ---------------------------------------------------------------------------------


def markdown(data: Mapping[str, Any]) -> str:
    a = data["attempt"]
    compared = data["compared_with"]
    lines = [f"# Attempt {a['id']} of {a['workflow']}: {a['status']}", "",
             "| | |", "|---|---|",
             f"| session | {a['session_id']} ({a['session_time']}) |",
             f"| attempt | index {a['index']}{_named(a['name'])} |",
             f"| trigger | {a['trigger']}" + (f" by {a['who']}" if a["who"] else "") + " |",
             f"| revision | {data['revision']['name']} (hash {data['revision']['hash']}) |",
             f"| created | {a['created_at']} |",
             f"| finished | {a['finished_at'] or 'running'} |",
             f"| duration | {fmt_duration(data['duration'])}{_vs(compared)} |", "",
             "## Params", "", "```json", dumps(data["params"], indent=2), "```", ""]
    lines += _task_table(data["tasks"], compared)
    if data["failed_tasks"]:
        lines += ["", "## Failed tasks", ""]
        lines += [f"- `{t['full_name']}`: {t['error']}"
                  + (f" (log: `{t['log_path']}`)" if t["log_path"] else "")
                  for t in data["failed_tasks"]]
    lines += ["", *_comparison_md(compared)]
    return "\n".join(lines).rstrip() + "\n"


def _named(name: str) -> str:
    return f", name {name}" if name else ""


def _vs(compared: Mapping[str, Any] | None) -> str:
    if not compared or compared["duration_delta"] is None:
        return ""
    return f" ({_signed(compared['duration_delta'])} vs attempt {compared['attempt_id']})"


def _signed(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return ("+" if seconds >= 0 else "-") + fmt_duration(abs(seconds))


def _task_table(tasks: Sequence[Mapping[str, Any]], compared: Mapping[str, Any] | None
                ) -> list[str]:
    deltas = {r["full_name"]: r["delta"] for r in compared["tasks"]} if compared else {}
    lines = ["## Tasks", "", "| task | state | duration | change | retries | stored params |",
             "|---|---|---|---|---|---|"]
    for t in tasks:
        stored = f"`{dumps(t['store_params'])}`" if t["store_params"] else ""
        lines.append(f"| `{t['full_name']}` | {t['state']} | {fmt_duration(t['duration'])} "
                     f"| {_signed(deltas.get(t['full_name']))} | {t['retry_count'] or ''} "
                     f"| {stored} |")
    return lines


def _comparison_md(compared: Mapping[str, Any] | None) -> list[str]:
    if compared is None:
        return ["No earlier successful attempt of this workflow to compare with."]
    lines = [f"## Compared with attempt {compared['attempt_id']} (success, session "
             f"{compared['session_time']})", ""]
    changes = compared["changed_store_params"]
    if not changes:
        return [*lines, "Stored params: no change."]
    lines += ["| task | key | before | after |", "|---|---|---|---|"]
    lines += [f"| `{c['task']}` | {c['key']} | `{dumps(c['before'])}` | `{dumps(c['after'])}` |"
              for c in changes]
    return lines
