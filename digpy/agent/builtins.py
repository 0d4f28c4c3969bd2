"""Built-in operator names and where their classes live (no imports: ``digpy check``
reads the names without loading the agent)."""

from __future__ import annotations

# The operators this distribution registers under the ``digpy.operators`` entry points
# (pyproject.toml; a test keeps the two equal). Resolving these names needs no scan of the
# installed distributions: importlib.metadata and the scan cost more start-up time than a
# one-task run may take. A plugin can never replace a built-in: the registry refuses a
# second class for a name, so the scan below is for the other names only.
BUILTIN_OPERATORS: dict[str, str] = {
    "echo": "digpy_operators.echo:EchoOperator",
    "fail": "digpy_operators.fail:FailOperator",
    "sh": "digpy_operators.sh:ShOperator",
    "wait": "digpy_operators.wait:WaitOperator",
    "td": "digpy_operators.td:TdOperator",
    "loop": "digpy_operators.loop:LoopOperator",
    "for_each": "digpy_operators.for_each:ForEachOperator",
    "for_range": "digpy_operators.for_range:ForRangeOperator",
    "if": "digpy_operators.if_:IfOperator",
    "call": "digpy_operators.call:CallOperator",
    "require": "digpy_operators.require:RequireOperator",
    "td_run": "digpy_operators.td_run:TdRunOperator",
    "td_ddl": "digpy_operators.td_ddl:TdDdlOperator",
    "td_wait": "digpy_operators.td_wait:TdWaitOperator",
    "td_wait_table": "digpy_operators.td_wait_table:TdWaitTableOperator",
    "td_for_each": "digpy_operators.td_for_each:TdForEachOperator",
    "pg": "digpy_operators.pg:PgOperator",
    "py": "digpy_operators.py:PyOperator",
    "http": "digpy_operators.http:HttpOperator",
    "mail": "digpy_operators.mail:MailOperator",
    "notify": "digpy_operators.notify:NotifyOperator",
}
