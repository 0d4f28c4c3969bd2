"""if>: run ``_do`` when the condition is true, ``_else_do`` when it is false.

The chosen branch becomes ``^sub`` unevaluated (its ``${...}`` runs in the generated
tasks); an empty or missing branch generates nothing, so the task just succeeds (Digdag
``IfOperatorFactory``). The condition is read as Digdag reads a boolean: true/false, or the
strings "true"/"false" that ``${...}`` produces; any other string is an error.
"""

from __future__ import annotations

from digpy.spi import ConfigError, Operator, TaskResult
from digpy.spi.workflows import bool_option, subtask_template


class IfOperator(Operator):
    type = "if"
    retryable = False  # Digdag's if> ignores an operator-level _retry

    def run(self) -> TaskResult:
        config = self.request.config
        then_do = subtask_template(config, "_do", required=False)
        else_do = subtask_template(config, "_else_do", required=False)
        if "_command" not in config or config["_command"] is None:
            raise ConfigError("if> needs a condition: write `if>: ${expression}`")
        condition = bool_option(config, "_command", what="The if> condition")
        if not then_do and not else_do:
            raise ConfigError("Both _do and _else_do are not specified: if> needs at least"
                              " one of them")
        branch = then_do if condition else else_do
        return TaskResult(subtask_config=dict(branch) if branch else None)
