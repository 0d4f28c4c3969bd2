"""The SQL text a td> job submits, built exactly as Digdag's TdOperatorFactory builds it:
the insert_into/create_table clause at ``-- DIGDAG_INSERT_LINE`` (or after the leading comment
block, or on top), then the comment header naming the project, workflow, session and task."""

from __future__ import annotations

import re
from dataclasses import dataclass

from digpy.spi import ConfigError, TaskRequest

# Digdag's two patterns, translated from Java: Java's `.` stops at any line terminator, so the
# header-block rule only applies when ONE line follows the comments (otherwise the clause goes
# on top). Kept as is: the placement is observable in the job's SQL.
_JAVA_DOT = "[^\n\r\u0085\u2028\u2029]"
_INSERT_LINE = re.compile(rf"(\A|\r?\n)--\s*DIGDAG_INSERT_LINE{_JAVA_DOT}*")
_HEADER_BLOCK = re.compile(rf"\A([\r\n\t]*(?:(?:\A|\n)--[^\n]*)+)\n?({_JAVA_DOT}*)\Z")


@dataclass(frozen=True, slots=True)
class TableRef:
    """``table`` or ``database.table`` as given to insert_into / create_table."""

    database: str | None
    table: str

    @classmethod
    def parse(cls, text: object, option: str) -> TableRef:
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"'{option}' must be a table name such as 'my_table' or "
                              f"'my_db.my_table', got {text!r}")
        database, dot, table = text.strip().partition(".")
        if dot and (not database or not table):
            raise ConfigError(f"'{option}: {text}' is not a valid table name")
        return cls(database, table) if dot else cls(None, database)

    def presto(self) -> str:
        return ".".join(f'"{p}"' for p in (self.database, self.table) if p)

    def hive(self) -> str:
        return ".".join(f"`{p}`" for p in (self.database, self.table) if p)

    def __str__(self) -> str:
        return f"{self.database}.{self.table}" if self.database else self.table


def insert_command(command: str, original: str) -> str:
    """Digdag's insertCommandStatement."""
    match = _INSERT_LINE.search(original)
    if match:
        return original[: match.start()] + match.group(1) + command + original[match.end():]
    match = _HEADER_BLOCK.match(original)
    if match:
        return f"{match.group(1)}\n{command}\n{match.group(2)}"
    return f"{command}\n{original}"


def with_clause(query: str, *, engine: str, insert_into: TableRef | None,
                create_table: TableRef | None) -> str:
    """The statement for presto or hive with the insert_into/create_table clause placed."""
    if engine == "presto":
        if insert_into is not None:
            return insert_command(f"INSERT INTO {insert_into.presto()}", query)
        if create_table is not None:
            name = create_table.presto()
            return insert_command(f"DROP TABLE IF EXISTS {name};\nCREATE TABLE {name} AS", query)
        return query
    if insert_into is not None:
        return insert_command(f"INSERT INTO TABLE {insert_into.hive()}", query)
    if create_table is not None:
        return insert_command(f"INSERT OVERWRITE TABLE {create_table.hive()}", query)
    return query


def header(request: TaskRequest) -> str:
    """Digdag's wrapStmtWithComment: shows in the job list which task submitted the job."""
    return (f"-- project_id: {request.project_id}\n"
            f"-- project_name: {request.project_name}\n"
            f"-- workflow_name: {request.workflow_name}\n"
            f"-- session_id: {request.session_id}\n"
            f"-- attempt_id: {request.attempt_id}\n"
            f"-- task_name: {request.task_name}\n")
