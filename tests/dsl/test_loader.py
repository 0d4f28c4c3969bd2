"""The strict loader: Digdag's YAML dialect, !include rules, limits and error locations."""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from digpy.dsl import yaml_dialect
from digpy.dsl.loader import load_file, load_params_file, load_text
from digpy.dsl.source import ConfigList, ConfigMap, Mark, plain
from digpy.dsl.yaml_dialect import MAX_FILE_BYTES
from digpy.errors import ConfigError

CASES = Path(__file__).parent / "loader_cases"


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    expected: object = None
    error: str | None = None
    line: int | None = None
    col: int | None = None


def _parse_cases(path: Path) -> list[Case]:
    cases: list[Case] = []
    for block in re.split(r"^=== ", path.read_text(encoding="utf-8"), flags=re.M)[1:]:
        name, rest = block.split("\n", 1)
        parts = re.split(r"^--- (yaml|json|error.*)\n", rest, flags=re.M)
        sections = dict(zip(parts[1::2], parts[2::2], strict=True))
        text = sections.pop("yaml")
        (kind, body), = sections.items()
        body = "\n".join(ln for ln in body.splitlines() if not ln.startswith("#")).strip()
        if kind == "json":
            cases.append(Case(name.strip(), text, expected=json.loads(body)))
            continue
        where = kind.split()[1].split(":")
        col = int(where[1]) if len(where) > 1 else None
        cases.append(Case(name.strip(), text, error=body, line=int(where[0]), col=col))
    return cases


ALL_CASES = [c for p in sorted(CASES.glob("*.cases")) for c in _parse_cases(p)]


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.name)
def test_loader_case_gives_the_expected_value_or_error(case: Case) -> None:
    if case.error is None:
        loaded = load_text(case.text, filename="case.dig")
        assert json.dumps(plain(loaded)) == json.dumps(case.expected)
        return
    with pytest.raises(ConfigError) as info:
        load_text(case.text, filename="case.dig")
    err = info.value
    assert case.error in str(err)
    assert err.location is not None and err.location.file == "case.dig"
    assert err.location.line == case.line
    if case.col is not None:
        assert err.location.col == case.col


def test_the_case_files_hold_enough_cases_to_mean_something() -> None:
    assert len(ALL_CASES) >= 50
    assert len({c.name for c in ALL_CASES}) == len(ALL_CASES)


# --- marks -------------------------------------------------------------------------------


def test_every_mapping_and_list_carries_marks_for_keys_values_and_items() -> None:
    loaded = load_text("+a:\n  sh>: echo hi\n  _env: {X: 1}\nlist:\n  - one\n  - [two]\n",
                       filename="w.dig")
    task = loaded["+a"]
    assert isinstance(task, ConfigMap) and isinstance(loaded["list"], ConfigList)
    assert loaded.mark == Mark("w.dig", 1, 1)
    assert loaded.key_marks["+a"] == Mark("w.dig", 1, 1)
    assert task.key_marks["sh>"] == Mark("w.dig", 2, 3)
    assert task.value_marks["sh>"] == Mark("w.dig", 2, 8)
    assert task["_env"].mark == Mark("w.dig", 3, 9)
    assert loaded["list"].marks == [Mark("w.dig", 5, 5), Mark("w.dig", 6, 5)]
    assert loaded["list"][1].mark == Mark("w.dig", 6, 5)


def test_an_alias_gives_an_independent_copy() -> None:
    loaded = load_text("a: &x {k: [1]}\nb: *x\n")
    loaded["a"]["k"].append(2)
    assert loaded["b"] == {"k": [1]}


# --- !include ----------------------------------------------------------------------------


def _project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _load(root: Path, name: str = "main.dig") -> ConfigMap:
    return load_file(root / name, project_root=root)


def _error(root: Path, name: str = "main.dig") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        _load(root, name)
    return info.value


def test_an_include_key_merges_the_file_at_its_position(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "main.dig": "+first:\n  echo>: 1\n!include : 'tasks.dig'\n+last:\n  echo>: 3\n",
        "tasks.dig": "+middle:\n  echo>: 2\n",
    })
    assert list(_load(root)) == ["+first", "+middle", "+last"]


def test_an_include_value_becomes_the_included_mapping(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "main.dig": "_export: !include 'vars.yml'\n",
        "vars.yml": "db: prod\nlimit: 10\n",
    })
    assert plain(_load(root)) == {"_export": {"db": "prod", "limit": 10}}


def test_an_include_in_a_list_item_becomes_the_included_mapping(tmp_path: Path) -> None:
    root = _project(tmp_path, {"main.dig": "items:\n  - !include 'a.yml'\n", "a.yml": "k: v\n"})
    assert plain(_load(root)) == {"items": [{"k": "v"}]}


def test_an_include_deep_merges_mappings_and_replaces_other_values(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "main.dig": "_export:\n  td: {database: a, table: t}\n  n: 1\n  l: [1]\n"
                    "!include : 'more.yml'\n",
        "more.yml": "_export:\n  td: {database: b, apikey: k}\n  n: 2\n  l: [2]\n",
    })
    assert plain(_load(root)) == {
        "_export": {"td": {"database": "b", "table": "t", "apikey": "k"}, "n": 2, "l": [2]}}


def test_a_key_written_after_an_include_replaces_the_included_value(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "main.dig": "!include : 'base.yml'\n_export: {b: 2}\n",
        "base.yml": "_export: {a: 1}\n",
    })
    assert plain(_load(root)) == {"_export": {"b": 2}}


def test_several_include_keys_in_one_mapping_are_not_duplicates(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "main.dig": "!include : 'a.yml'\n!include : 'b.yml'\n",
        "a.yml": "x: 1\n", "b.yml": "y: 2\n",
    })
    assert plain(_load(root)) == {"x": 1, "y": 2}


def test_includes_nest_relative_to_the_including_file(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "main.dig": "!include : 'sub/a.yml'\n",
        "sub/a.yml": "a: 1\n!include : 'deeper/b.yml'\n",
        "sub/deeper/b.yml": "b: 2\n",
    })
    assert plain(_load(root)) == {"a": 1, "b": 2}


def test_included_keys_keep_their_marks_in_the_included_file(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "main.dig": "+a:\n  echo>: 1\n!include : 'sub/tasks.yml'\n",
        "sub/tasks.yml": "\n+b:\n  echo>: 2\n",
    })
    loaded = _load(root)
    main = str(root / "main.dig")
    included = os.path.normpath(os.path.join(os.path.dirname(main), "sub/tasks.yml"))
    assert loaded.key_marks["+a"] == Mark(main, 1, 1)
    assert loaded.key_marks["+b"] == Mark(included, 2, 1)
    assert loaded["+b"].key_marks["echo>"] == Mark(included, 3, 3)


def test_an_error_inside_an_included_file_points_into_that_file(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "main.dig": "!include : 'sub/tasks.yml'\n",
        "sub/tasks.yml": "a: 1\na: 2\n",
    })
    err = _error(root)
    assert err.location is not None
    assert err.location.file.endswith(os.path.join("sub", "tasks.yml"))
    assert err.location.line == 2


def test_an_include_cycle_is_an_error_naming_the_chain(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "main.dig": "!include : 'a.yml'\n",
        "a.yml": "!include : 'b.yml'\n",
        "b.yml": "!include : 'a.yml'\n",
    })
    err = _error(root)
    assert "include cycle" in err.message
    assert re.search(r"a\.yml -> .*b\.yml -> .*a\.yml", err.message)


def test_a_file_including_itself_is_a_cycle(tmp_path: Path) -> None:
    root = _project(tmp_path, {"main.dig": "!include : 'main.dig'\n"})
    assert "include cycle" in _error(root).message


def test_including_the_same_file_twice_side_by_side_is_fine(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "main.dig": "a: !include 'x.yml'\nb: !include 'x.yml'\n", "x.yml": "k: 1\n"})
    assert plain(_load(root)) == {"a": {"k": 1}, "b": {"k": 1}}


def test_dot_dot_climbing_out_of_the_project_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "secret.yml").write_text("password: x\n")
    root = _project(tmp_path / "proj", {"main.dig": "a: 1\n!include : '../secret.yml'\n"})
    err = _error(root)
    assert "climbs out of the project folder" in err.message
    assert err.location is not None and err.location.line == 2


def test_dot_dot_that_stays_inside_the_project_is_allowed(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "sub/main.dig": "!include : '../common.yml'\n", "common.yml": "a: 1\n"})
    assert plain(_load(root, "sub/main.dig")) == {"a": 1}


def test_an_absolute_path_outside_the_project_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "outside.yml").write_text("a: 1\n")
    root = _project(tmp_path / "proj", {
        "main.dig": f"!include : '{tmp_path / 'outside.yml'}'\n"})
    assert "is outside the project folder" in _error(root).message


def test_a_symlink_leading_out_of_the_project_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "outside.yml").write_text("a: 1\n")
    root = _project(tmp_path / "proj", {"main.dig": "!include : 'link.yml'\n"})
    (root / "link.yml").symlink_to(tmp_path / "outside.yml")
    assert "symlink that leads outside" in _error(root).message


def test_a_symlinked_folder_leading_out_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "a.yml").write_text("a: 1\n")
    root = _project(tmp_path / "proj", {"main.dig": "!include : 'dir/a.yml'\n"})
    (root / "dir").symlink_to(tmp_path / "elsewhere")
    assert "outside the project" in _error(root).message


def test_a_missing_include_suggests_sibling_file_names(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "main.dig": "a: 1\n!include : 'sub/comon.yml'\n", "sub/common.yml": "a: 1\n"})
    err = _error(root)
    assert "file not found" in err.message
    assert err.suggestions == ("sub/common.yml",)
    assert err.location is not None and (err.location.line, err.location.col) == (2, 12)


def test_an_include_path_the_system_cannot_use_is_a_config_error(tmp_path: Path) -> None:
    root = _project(tmp_path, {"main.dig": '!include : "a\\0b.yml"\n'})
    assert "can't be used as a path" in _error(root).message


def test_an_included_file_must_be_a_mapping(tmp_path: Path) -> None:
    root = _project(tmp_path, {"main.dig": "a: !include 'list.yml'\n", "list.yml": "- 1\n"})
    err = _error(root)
    assert "must contain a mapping, got a list" in err.message
    assert err.location is not None and err.location.line == 1


def test_an_include_of_a_folder_is_an_error(tmp_path: Path) -> None:
    root = _project(tmp_path, {"main.dig": "!include : 'sub'\n", "sub/x.yml": "a: 1\n"})
    assert "is a folder" in _error(root).message


def test_an_include_with_a_mapping_instead_of_a_path_is_an_error(tmp_path: Path) -> None:
    root = _project(tmp_path, {"main.dig": "!include : {a: b}\n"})
    assert "!include takes a file path" in _error(root).message


def test_load_text_can_include_relative_to_a_base_dir(tmp_path: Path) -> None:
    _project(tmp_path, {"vars.yml": "a: 1\n"})
    loaded = load_text("!include : 'vars.yml'\nb: 2\n", base_dir=tmp_path)
    assert plain(loaded) == {"a": 1, "b": 2}


def test_a_params_file_loads_as_a_mapping_with_includes(tmp_path: Path) -> None:
    root = _project(tmp_path, {"p/params.yml": "!include : 'more.yml'\nx: 1\n",
                               "p/more.yml": "y: 0.5\n"})
    assert plain(load_params_file(root / "p" / "params.yml")) == {"y": "0.5", "x": 1}


def test_a_params_file_cannot_include_from_outside_its_folder(tmp_path: Path) -> None:
    root = _project(tmp_path, {"p/params.yml": "!include : '../x.yml'\n", "x.yml": "a: 1\n"})
    with pytest.raises(ConfigError, match="climbs out"):
        load_params_file(root / "p" / "params.yml")


# --- files, encodings and limits ---------------------------------------------------------


def test_a_missing_workflow_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_file(tmp_path / "nope.dig", project_root=tmp_path)


def test_a_file_that_is_not_utf8_gives_a_clear_error_with_position(tmp_path: Path) -> None:
    (tmp_path / "main.dig").write_bytes("a: ü\nb: café\n".encode() + b"c: caf\xe9\n")
    err = _error(tmp_path)
    assert "not valid UTF-8 (byte 0xe9)" in err.message
    assert err.location is not None and (err.location.line, err.location.col) == (3, 7)


def test_a_file_over_the_size_limit_is_rejected_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "main.dig"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    started = time.perf_counter()
    err = _error(tmp_path)
    assert "larger than the 2 MB limit" in err.message
    assert time.perf_counter() - started < 1


def test_text_over_the_size_limit_is_rejected() -> None:
    with pytest.raises(ConfigError, match="limit"):
        load_text("a: " + "x" * MAX_FILE_BYTES + "\n")


def test_an_alias_bomb_is_rejected_within_a_second_with_a_line() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [{','.join(['*' + prev] * 9)}]")
    text = "\n".join(lines) + "\n"
    assert len(text) < 1024
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="alias bomb") as info:
        load_text(text, filename="bomb.dig")
    assert time.perf_counter() - started < 1
    assert info.value.location is not None and info.value.location.line > 1


def test_many_copies_of_a_mid_sized_anchor_add_up_to_the_alias_limit() -> None:
    text = f"base: &b [{', '.join(['1'] * 1000)}]\n" + "".join(
        f"c{i}: *b\n" for i in range(200))
    with pytest.raises(ConfigError, match="alias bomb") as info:
        load_text(text)
    assert info.value.location is not None and info.value.location.line == 101


def test_a_few_legitimate_anchors_still_load() -> None:
    text = "base: &b {sh>: echo, _retry: 2}\n" + "".join(
        f"+t{i}: *b\n" for i in range(200))
    assert len(load_text(text)) == 201


@pytest.mark.parametrize("opener,closer", [("[", "]"), ("{a: ", "}")])
def test_ten_thousand_levels_of_nesting_give_a_clean_error(opener: str, closer: str) -> None:
    text = "a: " + opener * 10_000 + closer * 10_000 + "\n"
    with pytest.raises(ConfigError, match="nested more than 100 levels deep") as info:
        load_text(text)
    assert info.value.location is not None and info.value.location.line == 1


def test_deep_block_nesting_gives_a_clean_error() -> None:
    text = "".join(" " * i + f"k{i}:\n" for i in range(500)) + " " * 500 + "v: 1\n"
    with pytest.raises(ConfigError, match="nested more than"):
        load_text(text)


def test_nesting_across_includes_counts_towards_the_depth_limit(tmp_path: Path) -> None:
    deep = "".join(" " * i + f"k{i}:\n" for i in range(60)) + " " * 60 + "v: 1\n"
    root = _project(tmp_path, {"main.dig": deep.replace("v: 1", "x: !include 'deep.yml'"),
                               "deep.yml": deep})
    with pytest.raises(ConfigError, match="nested more than"):
        _load(root)


def test_a_file_with_too_many_values_stops_while_parsing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_dialect, "MAX_NODES", 1000)
    text = "items:\n" + "".join(f"  - {i}\n" for i in range(2000))
    with pytest.raises(ConfigError, match="too many values: the limit is 1,000") as info:
        load_text(text)
    # the mapping, its key and the list are values too, so item 998 (line 999) is the 1,001st
    assert info.value.location is not None and info.value.location.line == 999


def test_an_include_bomb_is_stopped_by_the_value_budget(tmp_path: Path) -> None:
    fan = "".join(f"k{i}: !include 'level{{n}}.yml'\n" for i in range(40))
    files = {"main.dig": fan.format(n=1)}
    for n in range(1, 5):
        files[f"level{n}.yml"] = fan.format(n=n + 1)
    files["level5.yml"] = "".join(f"v{i}: {i}\n" for i in range(40))
    root = _project(tmp_path, files)
    with pytest.raises(ConfigError, match="too many values"):
        _load(root)


def test_a_python_tag_is_rejected_without_running_anything(tmp_path: Path) -> None:
    marker = tmp_path / "marker-file"
    text = f'a: !!python/object/apply:os.system ["touch {marker}"]\n'
    root = _project(tmp_path, {"main.dig": text})
    with pytest.raises(ConfigError, match="is not allowed"):
        _load(root)
    with pytest.raises(ConfigError, match="is not allowed"):
        load_text(f'!!python/object/apply:os.system ["touch {marker}"]\n')
    assert not marker.exists()

