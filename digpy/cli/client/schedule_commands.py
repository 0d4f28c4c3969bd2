"""``reschedule``, ``enable`` and ``disable``: they change a digpy server's schedules, so
they need ``-e URL`` (or ``DIGPY_ENDPOINT``, or the client config); on the local state they
say so and exit 2 (``digpy run`` stores no schedules).
"""

from __future__ import annotations

import click

from digpy.cli.client.backend import endpoint_option, open_server
from digpy.cli.client.output import Column, emit_listing, fmt_time

TARGET = "SCHEDULE_ID | PROJECT [WORKFLOW]"

RESCHEDULE_EPILOG = """\b
Examples:
  digpy reschedule 4 --skip 2 -e http://127.0.0.1:65432      skip the next two slots
  digpy reschedule etl daily --skip-to "2016-02-01" -e URL
  digpy reschedule 4 --skip-to now --run-at "2016-02-01 09:30:00" -e URL

\b
Times are in the workflow's time zone. Moving a schedule backwards is refused.
\b
Exit codes: 0 moved, 1 server unreachable or failed, 2 usage error, unknown schedule,
bad time, no server given."""


@click.command(epilog=RESCHEDULE_EPILOG)
@click.argument("target", nargs=-1, metavar=TARGET)
@click.option("-s", "--skip", type=click.IntRange(min=1), default=None,
              help="Skip this many slots after the next one from now.")
@click.option("-t", "--skip-to", "skip_to", default=None, metavar="TIME|now",
              help="Move to the first slot at or after TIME.")
@click.option("-a", "--run-at", "run_at", default=None, metavar="TIME",
              help="Run the next slot at this time instead.")
@click.option("-d", "--dry-run", "dry_run", is_flag=True, help="Show the move; change nothing.")
@endpoint_option
def reschedule(target: tuple[str, ...], skip: int | None, skip_to: str | None,
               run_at: str | None, dry_run: bool, endpoint: str | None) -> int:
    """Move a schedule's next run forward (needs a digpy server)."""
    from digpy.cli.client.remote_schedules import reschedule_on_server
    from digpy.clock import SystemClock

    backend = open_server(endpoint, "reschedule")
    if (skip is None) == (skip_to is None):
        raise click.UsageError("give --skip N or --skip-to TIME (one of them)")
    return reschedule_on_server(backend, target, skip=skip, skip_to=skip_to, run_at=run_at,
                                dry_run=dry_run, now=SystemClock().now())


def _switch_epilog(command: str) -> str:
    return f"""\b
Examples:
  digpy {command} 4 -e http://127.0.0.1:65432        one schedule, by id
  digpy {command} etl -e URL                        every schedule of project etl
  digpy {command} etl daily -e URL

\b
Exit codes: 0 done, 1 server unreachable or failed, 2 usage error, unknown schedule or
project, no server given."""


@click.command(epilog=_switch_epilog("enable") + "\n\nA schedule resumes from its stored "
               "next slot, so it catches up the slots missed while disabled, unless "
               "--skip-missed.")
@click.argument("target", nargs=-1, metavar=TARGET)
@click.option("--skip-missed", is_flag=True,
              help="Do not run the slots missed while disabled.")
@endpoint_option
def enable(target: tuple[str, ...], skip_missed: bool, endpoint: str | None) -> int:
    """Resume schedules (needs a digpy server)."""
    return _switch(target, endpoint, enable=True, skip_missed=skip_missed)


@click.command(epilog=_switch_epilog("disable"))
@click.argument("target", nargs=-1, metavar=TARGET)
@endpoint_option
def disable(target: tuple[str, ...], endpoint: str | None) -> int:
    """Pause schedules: they do not fire until enabled (needs a digpy server)."""
    return _switch(target, endpoint, enable=False)


def _switch(target: tuple[str, ...], endpoint: str | None, *, enable: bool,
            skip_missed: bool = False) -> int:
    from digpy.cli.client.remote_schedules import switch_on_server

    backend = open_server(endpoint, "enable" if enable else "disable")
    changed = switch_on_server(backend, target, enable=enable, skip_missed=skip_missed)
    emit_listing(changed, [Column("Id", lambda s: s.id), Column("Project", lambda s: s.project),
                           Column("Workflow", lambda s: s.workflow),
                           Column("State", lambda s: "disabled" if s.disabled else "enabled"),
                           Column("Next session time",
                                  lambda s: fmt_time(s.next_session_time) or "ended"),
                           Column("Next run time", lambda s: fmt_time(s.next_run_time))],
                 None, empty="no schedule changed")
    return 0
