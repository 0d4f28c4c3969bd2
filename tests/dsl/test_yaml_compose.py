"""libyaml reads every workflow as PyYAML's pure-Python parser does (``yaml_compose``).

``compose`` parses with libyaml where it can and falls back to the reference parser;
these tests hold its outcome to the reference's: the same node trees (tags, values, the
marks errors point at, alias uses, value counts), the same built values and the same
errors -- for every workflow text the project has, for fuzzed text, and for the inputs
the two parsers are known to read differently."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml_trees import render_tree

from digpy.dsl.source import ConfigList, ConfigMap
from digpy.dsl.yaml_build import Budget, TreeBuilder
from digpy.dsl.yaml_compose import HAVE_LIBYAML, compose, compose_reference
from digpy.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
needs_libyaml = pytest.mark.skipif(not HAVE_LIBYAML, reason="PyYAML was built without libyaml")


def _outcome(compose_fn: Any, text: str) -> object:
    """Everything downstream code can see of one parse: the tree or the error."""
    try:
        composed = compose_fn(text, "case.dig")
    except ConfigError as err:
        return ("error", str(err), err.suggestions)
    aliases = [(mark.line, mark.column) for mark, _ in composed.aliases]
    return (_shape(composed.root, {}), aliases, composed.nodes, composed.includes,
            _built(composed.root))


def _shape(node: Node | None, seen: dict[int, int]) -> object:
    if node is None:
        return None
    if id(node) in seen:  # an alias: the same node object again
        return ("same node as", seen[id(node)])
    seen[id(node)] = len(seen)
    mark = node.start_mark
    head = (type(node).__name__, node.tag, mark.name, mark.line, mark.column)
    if isinstance(node, ScalarNode):
        # Plain style is None to PyYAML and "" to libyaml; only '"' is ever looked at.
        return (*head, node.value, node.style or None)
    if isinstance(node, SequenceNode):
        return (*head, [_shape(item, seen) for item in node.value])
    return (*head, [(_shape(k, seen), _shape(v, seen)) for k, v in node.value])


def _built(root: Node | None) -> object:
    """The ConfigMap the loader builds, with its types and marks (includes refused)."""
    if not isinstance(root, MappingNode):
        return None
    try:
        return _with_marks(TreeBuilder(None, Budget()).mapping(root, 1))
    except ConfigError as err:
        return ("error", str(err))


def _with_marks(value: object) -> object:
    if isinstance(value, ConfigMap):
        return ("map", value.mark, [(k, value.key_marks.get(k), value.value_marks.get(k),
                                     _with_marks(v)) for k, v in value.items()])
    if isinstance(value, ConfigList):
        return ("list", value.mark, list(value.marks), [_with_marks(v) for v in value])
    return (type(value).__name__, json.dumps(value))


def _assert_same_as_reference(text: str) -> None:
    assert _outcome(compose, text) == _outcome(compose_reference, text), repr(text)


# -- every workflow text in the project -----------------------------------------------------

def _corpus() -> Iterator[Any]:
    """(source, texts): .dig files, the compiler's and the loader's data-driven cases, and
    every multi-line string with a ':' in the test suite (inline workflows and then some)."""
    for path in sorted([*REPO.glob("examples/**/*.dig"), *REPO.glob("tests/**/*.dig")]):
        yield _param(path, [path.read_text(encoding="utf-8")])
    for path in sorted(REPO.glob("tests/dsl/cases/*.yaml")):
        cases = yaml.safe_load(path.read_text(encoding="utf-8"))
        yield _param(path, [case["dig"] for case in cases if "dig" in case])
    for path in sorted(REPO.glob("tests/dsl/loader_cases/*.cases")):
        blocks = re.split(r"^=== ", path.read_text(encoding="utf-8"), flags=re.M)[1:]
        yield _param(path, [re.split(r"^--- (?:yaml|json|error.*)\n", block, flags=re.M)[1]
                            for block in blocks])
    for path in sorted(REPO.glob("tests/**/*.py")):
        texts = [node.value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(node, ast.Constant) and isinstance(node.value, str)
                 and ":" in node.value and "\n" in node.value]
        if texts:
            yield _param(path, texts)


def _param(path: Path, texts: list[str]) -> Any:
    return pytest.param(texts, id=str(path.relative_to(REPO)))


@pytest.mark.parametrize("texts", _corpus())
def test_every_workflow_text_in_the_project_parses_as_with_the_reference_parser(
        texts: list[str]) -> None:
    for text in texts:
        _assert_same_as_reference(text)


# -- inputs the two parsers read differently ------------------------------------------------

DIFFERENT = Path(__file__).parent / "yaml_differences.txt"


def _differences() -> Iterator[Any]:
    """``# what it shows`` comment lines, each followed by one JSON-encoded YAML text: the
    known differences first, then corners where the two happen to agree."""
    lines = DIFFERENT.read_text(encoding="utf-8").splitlines()
    for comment, text in zip(lines[::2], lines[1::2], strict=True):
        yield pytest.param(json.loads(text), id=comment.removeprefix("# "))


@pytest.mark.parametrize("text", _differences())
def test_input_libyaml_reads_differently_gets_the_reference_reading(text: str) -> None:
    _assert_same_as_reference(text)


@needs_libyaml
def test_an_ordinary_workflow_is_parsed_by_libyaml() -> None:
    text = "".join(f"+t{i}:\n  sh>: echo ${{task_name}} 'a b' \"c\"\n  _retry: 3\n"
                   for i in range(20))
    composed = compose(text, "wf.dig")
    assert isinstance(composed.root, MappingNode)
    assert type(composed.root.start_mark) is yaml._yaml.Mark  # libyaml made this node
    _assert_same_as_reference(text)


def test_a_tab_sends_the_text_to_the_reference_parser() -> None:
    composed = compose("a: 'b\tc'\n", "wf.dig")
    assert isinstance(composed.root, MappingNode)
    assert type(composed.root.start_mark) is yaml.error.Mark


# -- fuzzing --------------------------------------------------------------------------------

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BITS = st.sampled_from([
    "a", "+t", "sh>", ":", ": ", " ", "  ", "\n", "\n  ", "\n    ", "- ", "-", "[", "]", "{",
    "}", ",", "#", " #c", "'", '"', "''", "!", "! ", "!!str ", "!include", "!include ", "&a ",
    "*a", "?", "? ", "|", "|-", ">", ">+", "\t", "0", "0.5", ".inf", "~", "%YAML 1.1\n",
    "---", "...", "<<", "@", "`", "\\", '"\\u00e9"', '"\\ud83d\\ude00"', '"a\\tb"', "\x85",
    "\u2028", "\ufeff", "é", "😀", "\u00a0", "${x}", "${a ? b : c}", "true", "yes", "10:00",
    "0x1F", "\r\n", "\r", "x:y", "http://h/p?q#f", "a,b",
])
SCALARS = st.one_of(
    st.sampled_from(["a", "b c", "${x}", "echo ${x} > f", "'q'", '"d\\"q"', "1", "1_000",
                     "0.5", "~", "", "true", "10:00:00", "*a", "&a v", "!include 'f.dig'",
                     "!!str 1", "|\n  text\n  more\n", ">-\n  folded\n\n  on\n", "x:y",
                     "[a, b]", "{a: b, c: [d]}", "[]", "{}", "http://h/p?q=1", "é 😀"]),
    st.text(max_size=8).map(json.dumps),
)
KEYS = st.sampled_from(["+a", "+b", "sh>", "_export", "_retry", "1", "true", "<<", "'q k'",
                        "? k", "!include ", "${k}", "k"])


TREES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(st.tuples(KEYS, inner), min_size=1, max_size=3)),
    max_leaves=12)


@FUZZ
@given(st.lists(BITS, max_size=16).map("".join))
def test_any_text_parses_as_with_the_reference_parser(text: str) -> None:
    _assert_same_as_reference(text)


@FUZZ
@given(st.lists(st.tuples(KEYS, TREES), min_size=1, max_size=4))
def test_any_workflow_shaped_text_parses_as_with_the_reference_parser(
        pairs: list[tuple[str, object]]) -> None:
    _assert_same_as_reference(render_tree(pairs).lstrip("\n") + "\n")
