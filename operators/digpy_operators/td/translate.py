"""Presto/Trino (or Hive) SQL as TD runs it → statements another database can run.

The submitted text is split on ``;`` with SQLGlot's tokenizer (so ``';'`` inside strings and
comments is safe), each statement is parsed with positions kept, TD functions are rewritten
(``tdfuncs``) and the tree is handed to a backend, which generates its own dialect. Errors
name the line of the submitted SQL (header comment included, as in the job log) and show it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError

from digpy.spi import TaskFailed

from .tdfuncs import Rewriter
from .tdtime import TdTimeError

READ_DIALECTS = {"presto": "trino", "hive": "hive"}


@dataclass(frozen=True, slots=True)
class Statement:
    tree: exp.Expression
    line: int  # 1-based line of the submitted SQL where the statement starts
    text: str

    def sql(self, dialect: str, tree: exp.Expression | None = None) -> str:
        """The statement in ``dialect``; comments dropped (the header stays in the job log)."""
        return (tree or self.tree).sql(dialect=dialect, comments=False)

    @property
    def is_query(self) -> bool:
        """A statement whose rows are the job's result (SELECT, UNION, VALUES ...)."""
        return isinstance(self.tree, exp.Query | exp.Values)


class SqlError(TaskFailed):
    """The SQL cannot run; the message says where and quotes the line."""


def quote_line(sql: str, line: int) -> str:
    lines = sql.splitlines()
    text = lines[line - 1].rstrip() if 0 < line <= len(lines) else ""
    return f"\n  {line} | {text}" if text else ""


def split(sql: str, engine: str) -> list[tuple[str, int, int]]:
    """(statement text, line where the text begins, line of its first token) for each
    non-empty ``;``-separated statement."""
    dialect = Dialect.get_or_raise(READ_DIALECTS[engine])
    try:
        tokens = dialect.tokenize(sql)
    except TokenError as exc:
        raise SqlError(f"SQL syntax error: {exc}") from exc
    pieces: list[tuple[str, int, int]] = []
    begin, first = 0, None
    for token in [*tokens, None]:
        if token is not None and token.token_type.name != "SEMICOLON":
            first = first or token
            continue
        end = token.start if token is not None else len(sql)
        if first is not None:
            pieces.append((sql[begin:end], sql.count("\n", 0, begin) + 1, first.line))
        begin, first = (token.end + 1 if token is not None else len(sql)), None
    return pieces


def parse(sql: str, *, engine: str, rewriter: Rewriter) -> list[Statement]:
    """Parse and rewrite every statement of ``sql``; SqlError on the first one that fails."""
    statements = []
    for text, offset_line, first_line in split(sql, engine):
        tree = _parse_one(sql, text, offset_line, engine)
        try:
            tree = _rewrite(tree, rewriter)
        except TdTimeError as exc:
            raise SqlError(f"{exc} (statement at line {first_line}){quote_line(sql, first_line)}"
                           ) from exc
        statements.append(Statement(tree=tree, line=first_line, text=text))
    if not statements:
        raise SqlError("the query is empty (it holds no SQL statement)")
    return statements


def _rewrite(tree: exp.Expression, rewriter: Rewriter) -> exp.Expression:
    """Apply ``rewriter`` to every call, innermost first, so a TD function whose argument is
    another TD function (TD_TIME_ADD inside TD_TIME_RANGE) sees a constant."""
    for node in reversed(list(tree.find_all(exp.Anonymous))):
        replacement = rewriter(node)
        if replacement is not node:
            if node is tree:
                return replacement
            node.replace(replacement)
    return tree


def _parse_one(sql: str, text: str, offset_line: int, engine: str) -> exp.Expression:
    try:
        tree = sqlglot.parse_one(text, read=READ_DIALECTS[engine])
    except ParseError as exc:
        detail = exc.errors[0] if exc.errors else {}
        line = offset_line + int(detail.get("line") or 1) - 1
        message = _readable(str(detail.get("description") or exc).split("\n")[0])
        raise SqlError(f"SQL syntax error at line {line}: {message}{quote_line(sql, line)}"
                       ) from exc
    if not isinstance(tree, exp.Expression):
        raise SqlError(f"cannot parse the statement at line {offset_line}")
    return tree


_TOKEN_REPR = re.compile(r"<Token token_type: TokenType\.(\w+), text: (.*?), line: .*?>")


def _readable(message: str) -> str:
    """SQLGlot prints tokens as reprs; say 'the end of the statement' or quote the text."""
    return _TOKEN_REPR.sub(
        lambda m: "the end of the statement" if m.group(1) == "SENTINEL" else repr(m.group(2)),
        message)


def insert_target(tree: exp.Expression) -> exp.Table | None:
    if isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Table):
        return tree.this
    return None


def insert_as_create(tree: exp.Insert) -> exp.Create:
    """``INSERT [OVERWRITE] INTO t q`` as ``CREATE [OR REPLACE] TABLE t AS q``: how the local
    backends "ensure the table exists" (TD creates an empty table first; a SQL database needs
    the columns, which only the query knows)."""
    return exp.Create(this=tree.this.copy(), kind="TABLE", expression=tree.expression.copy(),
                      replace=bool(tree.args.get("overwrite")))


def backend_error(sql: str, statement: Statement, message: str) -> SqlError:
    first = message.strip().splitlines()[0] if message.strip() else message
    rest = "\n".join(message.strip().splitlines()[1:])
    detail = f"\n{rest}" if rest else ""
    return SqlError(f"{first} (statement at line {statement.line}){quote_line(sql, statement.line)}"
                    f"{detail}")
