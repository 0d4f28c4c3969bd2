"""Fuzzing the loader (reliability P1): whatever the input, it loads or raises a located
ConfigError -- never another exception, never a RecursionError or a traceback."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yaml_trees import render_tree

from digpy.dsl.loader import load_file, load_text
from digpy.dsl.source import ConfigList, ConfigMap, plain
from digpy.errors import ConfigError

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

# Characters that steer PyYAML's scanner into its less travelled corners.
YAML_BITS = st.sampled_from([
    "a", "+t", "sh>", ":", ": ", " ", "  ", "\n", "\n  ", "- ", "-", "[", "]", "{", "}", ",",
    "#", "'", '"', "!", "!!", "!include", "!!python/name:os.system", "&a", "*a", "?", "|",
    ">", "\t", "0", "1", "0.5", ".inf", "~", "%YAML 1.1", "---", "...", "<<", "@", "`",
    "\\", "\x00", "\x85", "\ufeff", "é", "${x}", "true", "yes", "10:00:00", "0x1F", "=",
])

SCALARS = st.one_of(
    st.sampled_from(["true", "yes", "0.5", "1.5", "0x1F", "010", "08", "10:00:00", "~", "",
                     "2016-01-01", ".inf", "'quoted'", '"dq"', "${a}", "echo hi", "1e3",
                     "!!str 1", "!!int x", "!!python/name:os.system", "!include 'x.yml'",
                     "!include 'sub/y.yml'", "!include '../out.yml'", "*anchor", "|\n  text"]),
    st.text(max_size=12).map(json.dumps),  # any text, as a double-quoted scalar
    st.text(alphabet="abcxyz0189 ._${}-", min_size=1, max_size=10),
)
KEYS = st.one_of(st.sampled_from(["+a", "+b", "sh>", "_export", "_retry", "1", "true",
                                  "!include ", "!include ", "<<", "[k]", "*anchor"]),
                 st.text(alphabet="+abcxyz_>", min_size=1, max_size=6))


def _tree(leaves: st.SearchStrategy[str], levels: int = 3) -> st.SearchStrategy[object]:
    # Explicit levels rather than st.recursive: as good here and several times faster.
    tree: st.SearchStrategy[object] = leaves
    for _ in range(levels):
        tree = st.one_of(leaves, st.lists(tree, max_size=3),
                         st.lists(st.tuples(KEYS, tree), max_size=3))
    return tree


def _assert_loaded_or_located(load: Callable[[], ConfigMap]) -> None:
    try:
        result = load()
    except ConfigError as err:
        assert err.location is not None, str(err)
        assert err.location.line is not None and err.location.line >= 1, str(err)
        assert err.location.col is not None and err.location.col >= 1, str(err)
        assert "\n" not in str(err), "one line per error"
        return
    assert isinstance(result, ConfigMap)
    json.dumps(plain(result))  # loadable values are plain JSON
    _assert_marked(result)


def _assert_marked(value: object) -> None:
    if isinstance(value, ConfigMap):
        assert value.mark is not None
        assert set(value.key_marks) == set(value)
        for item in value.values():
            _assert_marked(item)
    elif isinstance(value, ConfigList):
        assert value.mark is not None and len(value.marks) == len(value)
        for item in value:
            _assert_marked(item)


@pytest.fixture(scope="module")
def project() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "proj"
        (root / "sub").mkdir(parents=True)
        (root / "x.yml").write_text("k: 1\n!include : 'sub/y.yml'\n")
        (root / "sub" / "y.yml").write_text("+t:\n  sh>: echo\n")
        (Path(tmp) / "out.yml").write_text("secret: 1\n")
        yield root


@FUZZ
@given(st.lists(YAML_BITS, max_size=40).map("".join))
def test_random_yaml_fragments_load_or_fail_with_a_location(text: str) -> None:
    _assert_loaded_or_located(lambda: load_text(text, filename="fuzz.dig"))


@FUZZ
@given(st.text(max_size=200))
def test_random_text_loads_or_fails_with_a_location(text: str) -> None:
    _assert_loaded_or_located(lambda: load_text(text, filename="fuzz.dig"))


@FUZZ
@given(st.lists(st.tuples(KEYS, _tree(SCALARS)), min_size=1, max_size=6))
def test_random_documents_with_includes_load_or_fail_with_a_location(
        project: Path, tree: object) -> None:
    text = "&anchor base: 1\n" + render_tree(tree).lstrip("\n")
    path = project / "main.dig"
    path.write_text(text, encoding="utf-8")
    _assert_loaded_or_located(lambda: load_file(path, project_root=project))


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_in_a_file_load_or_fail_with_a_location(project: Path,
                                                             data: bytes) -> None:
    path = project / "bytes.dig"
    path.write_bytes(data)
    _assert_loaded_or_located(lambda: load_file(path, project_root=project))
