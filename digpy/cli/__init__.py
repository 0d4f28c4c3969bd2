"""The ``digpy`` command. Subcommands are imported only when invoked, so ``digpy --help``
stays fast (no SQLAlchemy, no engine at start-up).

Exit codes (documented in docs/cli.md): 0 success; 1 a task or a check failed;
2 a usage error or a definition error (bad .dig, bad option, unknown attempt).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from digpy import __version__

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

# name -> "module:attribute"; each module holds one click command.
COMMANDS: dict[str, str] = {
    "check": "digpy.cli.check:check",
    "eval": "digpy.cli.eval:eval_command",
    "run": "digpy.cli.run:run",
    "retry": "digpy.cli.retry:retry",
    "secrets": "digpy.cli.secrets:secrets",
    "server": "digpy.cli.server:server",
    "scheduler": "digpy.cli.scheduler:scheduler",
    "push": "digpy.cli.push:push",
    "gc": "digpy.cli.gc:gc",
    # client commands (digpy/cli/client/, docs/client.md)
    "attempt": "digpy.cli.client.listings:attempt",
    "attempts": "digpy.cli.client.listings:attempts",
    "backfill": "digpy.cli.client.backfill:backfill",
    "delete": "digpy.cli.client.actions:delete",
    "disable": "digpy.cli.client.schedule_commands:disable",
    "download": "digpy.cli.client.remote_projects:download",
    "enable": "digpy.cli.client.schedule_commands:enable",
    "kill": "digpy.cli.client.actions:kill",
    "log": "digpy.cli.client.logs:log",
    "report": "digpy.cli.client.report:report",
    "reschedule": "digpy.cli.client.schedule_commands:reschedule",
    "schedules": "digpy.cli.client.listings:schedules",
    "session": "digpy.cli.client.listings:session",
    "sessions": "digpy.cli.client.listings:sessions",
    "start": "digpy.cli.client.actions:start",
    "tasks": "digpy.cli.client.listings:tasks",
    "timeline": "digpy.cli.client.timeline:timeline",
    "workflows": "digpy.cli.client.listings:workflows",
}

# One-line help per command, so `digpy --help` lists commands without importing them (each
# command module pulls in its own dependencies; importing all of them costs ~80 ms).
# A command missing here is imported to ask for its help.
SHORT_HELP: dict[str, str] = {
    "check": "Validate workflows and print their task trees, params, schedules and SLAs.",
    "eval": "Render a ${...} template as a task would see it.",
    "run": "Run a workflow locally; state is kept in the project's .digpy/.",
    "retry": "Start a new attempt of a finished attempt's session.",
    "secrets": "Manage secrets: local ones (--local) or a server project's (-e URL).",
    "server": "Run the scheduler and executor daemon (and its REST API).",
    "scheduler": "Run a project's schedules, reloading it when its files change.",
    "push": "Push a project: store a revision and update its schedules.",
    "gc": "Delete old sessions, attempts, tasks and logs.",
    "attempt": "Show one attempt: session, status, params, times and error.",
    "attempts": "List attempts, retried ones included, newest first.",
    "backfill": "Run a schedule's past slots one after another.",
    "delete": "Delete the local state, or a pushed project on a server.",
    "disable": "Pause schedules on a digpy server.",
    "download": "Download a pushed project's files from a digpy server.",
    "enable": "Resume schedules on a digpy server.",
    "kill": "Kill a running attempt.",
    "log": "Show (or follow) the task logs of an attempt.",
    "report": "Summarize an attempt and compare it with the last success.",
    "reschedule": "Move a schedule's next run on a digpy server.",
    "schedules": "List schedules with their next session and run times.",
    "session": "Show one session and its last attempt.",
    "sessions": "List sessions with their last attempt, newest first.",
    "start": "Start a new session of a workflow (run here, or on a server).",
    "tasks": "List an attempt's tasks: state, times, retries, error, stored params.",
    "timeline": "Draw an attempt's tasks as a Gantt chart.",
    "workflows": "List the project's workflows.",
}

HELP = """digpy runs Digdag-style .dig workflows locally or on a schedule.

\b
Examples:
  digpy check examples/hello          validate a project and print its task trees
  digpy run hello --project examples/hello
  digpy eval '${moment(session_time).format("YYYYMMDD")}' --session 2016-01-30
"""


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None  # a command not built yet
            raise
        command: click.Command = getattr(module, attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            short = SHORT_HELP.get(name)
            if short is None:
                command = self.get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                short = command.get_short_help_str(limit=formatter.width)
            rows.append((name, short))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digpy")
def cli() -> None:
    pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return the exit code (tests call this in-process)."""
    from digpy.errors import ConfigError, ConfigErrors, DigpyError

    try:
        rv = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE if exc.exit_code == 2 else exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except (ConfigError, ConfigErrors) as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_USAGE
    except DigpyError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_FAILED
    except Exception as exc:
        message = environment_error(exc)
        if message is None:
            raise  # a bug: keep the traceback
        click.echo(f"error: {message}", err=True)
        return EXIT_FAILED
    return int(rv or 0)


def environment_error(exc: BaseException) -> str | None:
    """A one-line message for failures the user's machine causes (disk full, permissions,
    an unwritable state file), or None for anything else. SQLite rolls back the failed
    transaction, so the stored state stays as it was before the failed write."""
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where} (check free disk space and permissions)"
    if type(exc).__module__ == "sqlite3" and type(exc).__name__ == "OperationalError":
        return (f"the state database could not be written ({exc}); check free disk space and"
                " permissions, then run again — nothing was half-written")
    return None


def entry() -> None:
    sys.exit(main())
