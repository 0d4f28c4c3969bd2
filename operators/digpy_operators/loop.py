"""loop>: run ``_do`` N times, as ``+loop-0`` ... ``+loop-<N-1>``, each exporting ``i``.

Control flow is data: the operator only builds the subtask config and the engine compiles
it as ``^sub`` (Digdag ``LoopOperatorFactory``). ``_parallel`` (true or ``{limit: N}``) is
carried over to the generated group.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from digpy.spi import ConfigError, Operator, TaskResult
from digpy.spi.workflows import (
    check_generated_count,
    generated_tasks,
    int_option,
    subtask_template,
    with_export,
)


class LoopOperator(Operator):
    type = "loop"
    retryable = False  # Digdag's loop> ignores an operator-level _retry

    def run(self) -> TaskResult:
        config = self.request.config
        template = subtask_template(config, "_do")
        count = loop_count(config)
        tasks = {f"+loop-{i}": with_export(template, {"i": i}) for i in range(count)}
        return TaskResult(subtask_config=generated_tasks(tasks, config))


def loop_count(config: Mapping[str, Any]) -> int:
    """N from ``count:`` or ``loop>: N``. ``count`` wins when both are present, as in Digdag
    (beware: an exported ``count`` variable therefore overrides ``loop>: N``)."""
    if config.get("count") is not None:
        count = int_option(config, "count")
    elif config.get("_command") is not None:
        count = int_option(config, "_command")
    else:
        raise ConfigError("loop> needs a count: write `loop>: N` or `count: N`")
    if count < 0:
        raise ConfigError(f"loop> count must be 0 or more, not {count}")
    check_generated_count(count, "loop")
    return count
