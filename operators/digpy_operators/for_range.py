"""for_range>: split the integer range [from, to) into slices and run ``_do`` for each.

``for_range>: {from: 0, to: 10, step: 3}`` (or ``slices: 4``, step = ceil((to-from)/slices))
generates ``+range-from=0&to=3``, ``+range-from=3&to=6``, ``+range-from=6&to=9`` and
``+range-from=9&to=10`` (the last slice is clipped to ``to``), each exporting
``range: {from, to, index}`` (Digdag ``ForRangeOperatorFactory``; its docs' names are
right here, unlike for_each>'s).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from digpy.spi import ConfigError, Operator, TaskResult
from digpy.spi.workflows import (
    check_generated_count,
    generated_tasks,
    int_option,
    mapping_option,
    subtask_template,
    with_export,
)


class ForRangeOperator(Operator):
    type = "for_range"
    retryable = False  # Digdag's for_range> ignores an operator-level _retry

    def run(self) -> TaskResult:
        config = self.request.config
        template = subtask_template(config, "_do")
        start, stop, step = range_options(mapping_option(config, "_command"))
        check_generated_count(max(0, -(-(stop - start) // step)), "for_range")
        tasks = {}
        for index, low in enumerate(range(start, stop, step)):
            high = min(low + step, stop)
            export = {"range": {"from": low, "to": high, "index": index}}
            tasks[f"+range-from={low}&to={high}"] = with_export(template, export)
        return TaskResult(subtask_config=generated_tasks(tasks, config))


def range_options(options: Mapping[str, Any]) -> tuple[int, int, int]:
    """(from, to, step) from ``{from, to, step}`` or ``{from, to, slices}``."""
    start = int_option(options, "from", what="for_range> from")
    stop = int_option(options, "to", what="for_range> to")
    has_step = options.get("step") is not None
    has_slices = options.get("slices") is not None
    if has_step and has_slices:
        raise ConfigError("Setting both step and slices options to for_range is invalid")
    if not has_step and not has_slices:
        raise ConfigError("step or slices option is required for for_range")
    if has_step:
        step = int_option(options, "step", what="for_range> step")
        if step <= 0:
            raise ConfigError(f"step option must be same or greater than 1 but got {step}")
        return start, stop, step
    slices = int_option(options, "slices", what="for_range> slices")
    if slices <= 0:
        raise ConfigError(f"slices option must be same or greater than 1 but got {slices}")
    # ceil((to - from) / slices); an empty or reversed range generates nothing either way.
    return start, stop, max(1, -(-(stop - start) // slices))
