"""Random `.dig` trees - nested +tasks, directives with good and bad values, stray keys -
either compile into a well-formed task list or raise a ConfigError that says where. Never
anything else: a KeyError or TypeError here is a bug the user would see as a traceback."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digpy.dsl.compiler import compile_subtasks, compile_workflow
from digpy.dsl.loader import load_text
from digpy.dsl.model import WorkflowTask
from digpy.errors import ConfigError

GOOD_NAMES = ["+a", "+b", "+c", "+d", "+loop-0", "+for-0=k=0=v", "+"]
BAD_NAMES = ["+a b", "+a^b", "+a/b", "+x:"]
OPERATOR_KEYS = ["sh>", "echo>", "td>", "loop>", ">"]
GROUP_DIRECTIVES = ["_parallel", "_background", "_after", "_error", "_check", "_retry",
                    "_export", "_secrets", "_disable", "timezone", "schedule", "sla"]
OTHER_DIRECTIVES = ["_type", "_command", "_env", "_do"]
TOP_LEVEL = ["timezone", "_export", "schedule", "sla", "_error", "_check", "_retry",
             "_parallel"]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
# YAML keys need not be text: `1: x` and `true: x` load as an int and a bool key.
STRAY_KEYS = st.one_of(TEXT, st.integers(0, 3), st.booleans(), st.none())

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 5), st.floats(-2, 10, allow_nan=False),
    st.sampled_from(["true", "false", "yes", "${x}", "+a", "UTC", "Asia/Tokyo", "07:00:00",
                     "constant", "exponential", "", "0.5"]),
    TEXT)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["limit", "interval", "x", "daily>", "time", "+a"]),
                        inner, max_size=3)),
    max_leaves=3)
# Mostly valid names, so that errors deeper in the tree get their turn too.
task_names = st.sampled_from(GOOD_NAMES * 6 + BAD_NAMES)
directive_values = {
    "_parallel": st.one_of(st.booleans(), st.fixed_dictionaries({"limit": st.integers(-1, 4)}),
                           values),
    "_background": st.one_of(st.booleans(), values),
    "_after": st.one_of(st.lists(task_names, max_size=3), values),
    "_disable": st.one_of(st.booleans(), st.booleans(), values),
    "_error": st.one_of(st.fixed_dictionaries({"echo>": values}), values),
    "_export": st.one_of(st.dictionaries(st.sampled_from(["a", "_retry"]), values), values),
    "timezone": st.one_of(st.sampled_from(["UTC", "Asia/Tokyo", "+09:00"]), values),
}


def rarely(strategy: st.SearchStrategy[list[Any]]) -> st.SearchStrategy[list[Any]]:
    """``strategy`` one time in four, else an empty list (a stray key fails the whole tree)."""
    return st.one_of(st.just([]), st.just([]), st.just([]), strategy)


def directive(keys: list[str]) -> st.SearchStrategy[tuple[str, Any]]:
    return st.one_of([st.tuples(st.just(key), directive_values.get(key, values))
                      for key in keys])


def task_body(tasks: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A task: mostly an operator with options or a group of +tasks with directives."""
    operator = st.lists(st.one_of(st.tuples(st.sampled_from(OPERATOR_KEYS), values),
                                  directive(GROUP_DIRECTIVES + OTHER_DIRECTIVES)),
                        min_size=1, max_size=3)
    group = st.lists(st.one_of(st.tuples(task_names, tasks), st.tuples(task_names, tasks),
                               directive(GROUP_DIRECTIVES)), max_size=4)
    stray = rarely(st.lists(st.tuples(STRAY_KEYS, values), min_size=1, max_size=1))
    return st.tuples(st.one_of(operator, group), stray).map(lambda p: dict(p[0] + p[1]))


trees = st.recursive(st.one_of(st.none(), task_body(st.none())), task_body, max_leaves=8)


def workflows() -> st.SearchStrategy[dict[str, Any]]:
    tasks = st.lists(st.tuples(task_names, trees), max_size=4)
    directives = st.lists(directive(TOP_LEVEL), max_size=2)
    stray = rarely(st.lists(st.tuples(STRAY_KEYS, values), min_size=1, max_size=1))
    return st.tuples(directives, tasks, stray).map(lambda p: dict(p[0] + p[1] + p[2]))


def assert_well_formed(tasks: tuple[WorkflowTask, ...]) -> None:
    assert tasks[0].parent_index is None
    for i, task in enumerate(tasks[1:], start=1):
        assert task.parent_index is not None and task.parent_index < i
        assert task.full_name == tasks[task.parent_index].full_name + task.name
        assert all(tasks[up].parent_index == task.parent_index for up in task.upstream_indexes)


FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(tree=workflows())
def test_a_random_tree_compiles_or_fails_with_a_config_error_that_says_where(
        tree: dict[str, Any]) -> None:
    text = yaml.safe_dump(tree, sort_keys=False, allow_unicode=True)
    try:
        config = load_text(text, filename="fuzz.dig")
        workflow = compile_workflow("fuzz", config, source="fuzz.dig")
    except ConfigError as error:
        assert error.location is not None, str(error)
        assert error.location.file == "fuzz.dig"
    else:
        assert_well_formed(workflow.tasks)
    # The same tree generated at run time: a plain dict, so errors may lack a location.
    try:
        tasks = compile_subtasks(tree, name="^sub", parent_full_name="+wf+t")
    except ConfigError:
        return
    assert tasks[0].full_name == "+wf+t^sub"
    assert_well_formed(tasks)
