"""Config tree -> immutable ``Workflow``: task names, parents, upstream edges and Digdag's
compile-time validation (``WorkflowFile`` for the top level, ``WorkflowCompiler`` below it).

The same code compiles trees generated at run time (``^sub``, ``^error``, ``^check``,
``^sla``) through ``compile_subtasks``; those configs may be plain dicts without marks.
Nothing here evaluates ``${...}``: values stay raw until a task runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from digpy.dsl.configmaps import copy_entry, empty_like, key_text, only, without
from digpy.dsl.directives import as_bool, parse_parallel, parse_retry, show
from digpy.dsl.durations import parse_duration
from digpy.dsl.edges import TaskNode, link_children
from digpy.dsl.model import Schedule, Sla, Workflow, WorkflowTask
from digpy.dsl.names import validate_name
from digpy.dsl.source import ConfigMap, key_location, map_location, value_location
from digpy.dsl.suggest import did_you_mean
from digpy.dsl.timezones import parse_timezone
from digpy.errors import ConfigError, Location

__all__ = ["compile_subtasks", "compile_workflow", "parse_parallel", "parse_retry"]

# `_timeout` is a digpy extension (Digdag has none): on the root it bounds the whole attempt.
TOP_LEVEL_KEYS = ("timezone", "_export", "schedule", "sla", "_error", "_check", "_retry",
                  "_parallel", "_timeout")
# Keys a group may carry besides +children. timezone/schedule/sla on a nested group are
# accepted and ignored, as in Digdag.
GROUP_KEYS = ("_parallel", "_background", "_after", "_error", "_check", "_retry", "_export",
              "_secrets", "_timeout", "timezone", "schedule", "sla")
_GROUP_KEY_SET = frozenset(GROUP_KEYS)
_OPERATOR_NAME = re.compile(r"[a-z][a-z0-9_]*")
# Operator options on a group are almost always a misplaced key, so say what a group is
# (unless a did-you-mean already says what was meant).
_GROUP_KEY_REMEDY = ("; a group (a task without an operator) may contain only +subtasks and "
                     + ", ".join(GROUP_KEYS))


def compile_workflow(name: str, config: Mapping[str, Any], *,
                     source: str | None = None) -> Workflow:
    """Compile one workflow file's mapping. Raises ConfigError at the offending key."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"Workflow '{name}' must be a mapping of +tasks and directives,"
                          f" not {show(config)}", location=_file_location(source))
    _check_top_level_keys(name, config)
    timezone = _timezone(config)
    _optional_mapping(config, "_export")
    validate_name(name, kind="workflow", location=map_location(config) or _file_location(source))
    root_config = without(config, "timezone")  # stored on the workflow, not in params
    tasks = _compile_tree(root_config, name="+" + name, parent_full_name="",
                          location=map_location(config))
    schedule, sla = _schedule_and_sla(config, timezone)
    return Workflow(name=name, timezone=timezone, tasks=tasks, schedule=schedule, sla=sla,
                    source=source, config=config)


def compile_subtasks(config: Mapping[str, Any], *, name: str,
                     parent_full_name: str) -> tuple[WorkflowTask, ...]:
    """Compile a tree generated at run time. Index 0 is the generated task itself (full name
    ``parent_full_name + name``) with ``parent_index`` None: the engine links it."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"The tasks generated as {parent_full_name}{name} must be a mapping,"
                          f" not {show(config)}")
    return _compile_tree(config, name=name, parent_full_name=parent_full_name,
                         location=map_location(config))


def _compile_tree(config: Mapping[str, Any], *, name: str, parent_full_name: str,
                  location: Location | None) -> tuple[WorkflowTask, ...]:
    builder = _Builder()
    try:
        builder.collect(None, parent_full_name, name, config, location)
    except RecursionError:
        raise ConfigError("Tasks are nested too deeply to compile", location=location) from None
    return tuple(node.freeze() for node in builder.nodes)


class _Builder:
    """Walks one tree depth-first, numbering tasks in declaration (pre-)order."""

    def __init__(self) -> None:
        self.nodes: list[TaskNode] = []

    def collect(self, parent: int | None, parent_full_name: str, name: str,
                config: Mapping[str, Any], location: Location | None) -> TaskNode:
        full_name = parent_full_name + name
        children, own = _split(config)
        disable = own.get("_disable")
        if as_bool(disable, key="_disable", default=False,
                   location=value_location(config, "_disable")):
            # Nothing inside a disabled task is compiled or validated: it succeeds at once.
            return self._add(parent, name, full_name, only(config, "_disable", True), location)
        if "_type" in own or any(key.endswith(">") for key in own):
            return self._operator_task(parent, name, full_name, own, children, location)
        return self._group(parent, name, full_name, own, children, location)

    def _operator_task(self, parent: int | None, name: str, full_name: str,
                       own: Mapping[str, Any], children: list[_Child],
                       location: Location | None) -> TaskNode:
        if children:
            raise ConfigError(
                f"A task can't have subtasks: {full_name} runs an operator and also defines"
                f" {children[0].name} (move the operator into a +task of its own)",
                location=children[0].location)
        config, operator = _normalise_operator(full_name, own)
        _check_timeout(own)
        _validate_error_tasks(full_name, own)
        return self._add(parent, name, full_name, config, location, operator=operator)

    def _group(self, parent: int | None, name: str, full_name: str, own: Mapping[str, Any],
               children: list[_Child], location: Location | None) -> TaskNode:
        node = self._add(parent, name, full_name, own, location, operator=None)
        for child in children:
            validate_name(child.name, kind="task", location=child.location)
        _check_group_keys(full_name, own, has_children=bool(children))
        nodes = [self.collect(node.index, full_name, child.name, child.config, child.location)
                 for child in children]
        link_children(own, nodes)
        _validate_error_tasks(full_name, own)
        return node

    def _add(self, parent: int | None, name: str, full_name: str, config: Mapping[str, Any],
             location: Location | None, *, operator: str | None = None) -> TaskNode:
        node = TaskNode(index=len(self.nodes), name=name, full_name=full_name,
                        parent_index=parent, is_group=operator is None, operator=operator,
                        config=config, location=location)
        self.nodes.append(node)
        return node


class _Child:
    __slots__ = ("config", "location", "name")

    def __init__(self, name: str, config: Mapping[str, Any], location: Location | None):
        self.name, self.config, self.location = name, config, location


def _split(config: Mapping[str, Any]) -> tuple[list[_Child], Mapping[str, Any]]:
    """``+children`` (each a mapping; null is an empty group) and the task's own keys."""
    children: list[_Child] = []
    own = empty_like(config)
    for key, value in config.items():
        text = key_text(key)
        if not text.startswith("+"):
            copy_entry(config, key, own, text, value)
            continue
        if value is None:
            value = empty_like(config)
            if isinstance(value, ConfigMap) and isinstance(config, ConfigMap):
                value.mark = config.value_marks.get(key) or config.key_marks.get(key)
        elif not isinstance(value, Mapping):
            raise ConfigError(f"Task {text} must be a mapping of an operator or +subtasks,"
                              f" not {show(value)}", location=value_location(config, key))
        children.append(_Child(text, value, key_location(config, key)))
    return children, own


def _normalise_operator(full_name: str, own: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    """``foo>: x`` becomes ``_type: foo`` + ``_command: x`` (no ``_command`` when x is null).
    An explicit ``_type`` wins and leaves any ``foo>`` key as an ordinary key, as Digdag does."""
    operator_keys = [key for key in own if key.endswith(">")]
    if len(operator_keys) > 1:
        raise ConfigError(
            f"A task can't have more than one operator: {full_name} has"
            f" {', '.join(operator_keys)} (split them into separate +tasks)",
            location=key_location(own, operator_keys[1]))
    if "_type" in own:
        kind = own["_type"]
        if not isinstance(kind, str) or not kind.strip():
            raise ConfigError(f"_type must be an operator name such as sh, not {show(kind)}",
                              location=value_location(own, "_type"))
        return own, kind
    key = operator_keys[0]
    if key == ">":
        raise ConfigError("An operator key needs a name before '>', e.g. sh>: ...",
                          location=key_location(own, key))
    out = empty_like(own)
    for name, value in own.items():
        if name == key:
            copy_entry(own, key, out, "_type", key[:-1])
            if value is not None:
                copy_entry(own, key, out, "_command", value)
        elif name != "_command":
            copy_entry(own, name, out, name, value)
    return out, key[:-1]


def _check_group_keys(full_name: str, own: Mapping[str, Any], *, has_children: bool) -> None:
    _check_timeout(own)
    invalid = [key for key in own if key not in _GROUP_KEY_SET]
    if not invalid:
        return
    hints = {key: _group_key_hints(key, has_children) for key in invalid}
    if len(invalid) == 1:
        (key,) = invalid
        listed, suggestions = repr(key), hints[key]
    else:
        listed = ", ".join(repr(k) + (f" (did you mean {hints[k]}?)" if hints[k] else "")
                           for k in invalid)
        suggestions = []
    remedy = "" if any(hints.values()) else _GROUP_KEY_REMEDY
    raise ConfigError(f"Task {full_name} contains invalid keys: {listed}{remedy}",
                      location=key_location(own, invalid[0]), suggestions=suggestions)


def _check_timeout(own: Mapping[str, Any]) -> None:
    """A literal `_timeout` must be a duration; one from `${...}` is checked when it runs."""
    value = own.get("_timeout")
    if value is None or (isinstance(value, str) and "$" in value):
        return
    parse_duration(value, location=value_location(own, "_timeout"))


def _group_key_hints(key: str, has_children: bool) -> list[str]:
    hints = did_you_mean(key, GROUP_KEYS)
    # `+a: {sh: echo hi}` is a group with a stray key to Digdag; the user meant `sh>`.
    if not has_children and _OPERATOR_NAME.fullmatch(key):
        hints.insert(0, key + ">")
    return hints


def _validate_error_tasks(full_name: str, own: Mapping[str, Any]) -> None:
    """``_error`` runs when nothing else can report a broken definition, so it is compiled
    now (as Digdag does); ``_check`` and ``_do`` fail their task at run time instead."""
    value = own.get("_error")
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise ConfigError("_error must be a task: an operator (e.g. echo>: ...) or +subtasks,"
                          f" not {show(value)}", location=value_location(own, "_error"))
    if value:
        _compile_tree(value, name="^error", parent_full_name=full_name,
                      location=map_location(value) or key_location(own, "_error"))


def _check_top_level_keys(name: str, config: Mapping[str, Any]) -> None:
    _check_timeout(config)
    unknown = [key_text(k) for k in config
               if not (isinstance(k, str) and (k.startswith("+") or k in TOP_LEVEL_KEYS))]
    if not unknown:
        return
    remedy = ""
    if any(key.endswith(">") for key in unknown):
        remedy = "; an operator must be inside a +task"
    raise ConfigError(
        f"Workflow '{name}' includes unknown keys: {', '.join(map(repr, unknown))}{remedy}",
        location=key_location(config, unknown[0]),
        suggestions=did_you_mean(unknown[0], TOP_LEVEL_KEYS))


def _timezone(config: Mapping[str, Any]) -> str:
    value = config.get("timezone")
    if value is None:
        return "UTC"
    where = value_location(config, "timezone")
    if not isinstance(value, str):
        raise ConfigError(f"timezone must be a zone name such as Asia/Tokyo or an offset such"
                          f" as +09:00, not {show(value)}", location=where)
    parse_timezone(value, location=where)
    return value.strip()


def _schedule_and_sla(config: Mapping[str, Any],
                      timezone: str) -> tuple[Schedule | None, Sla | None]:
    schedule_config = _optional_mapping(config, "schedule")
    sla_config = _optional_mapping(config, "sla")
    if schedule_config is None and sla_config is None:
        return None, None
    # Imported here: the schedule module pulls in cron math most compiles never need.
    from digpy.dsl.schedule import parse_schedule, parse_sla

    schedule = None
    if schedule_config is not None:
        schedule = parse_schedule(schedule_config, timezone=timezone)
    sla = parse_sla(sla_config) if sla_config is not None else None
    return schedule, sla


def _optional_mapping(config: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = config.get(key)
    if value is None or isinstance(value, Mapping):
        return value
    raise ConfigError(f"{key} must be a mapping, not {show(value)}",
                      location=value_location(config, key))


def _file_location(source: str | None) -> Location | None:
    return Location(source) if source else None
