"""Load ``.dig`` files (and ``-P`` params files) strictly, with Digdag's YAML dialect.

Loading is pure: it reads the file and the files it ``!include``s, nothing else, and never
evaluates ``${...}``. Every mistake is a ``ConfigError`` at ``file:line:col``. Includes are
resolved relative to the including file and must stay inside the project folder once
symlinks are resolved (Digdag confines them lexically; real paths also catch symlinks).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from digpy.dsl.source import ConfigMap
from digpy.dsl.suggest import did_you_mean
from digpy.dsl.yaml_build import Budget, TreeBuilder, size_with_includes
from digpy.dsl.yaml_compose import compose
from digpy.dsl.yaml_dialect import (
    INCLUDE_TAG,
    MAX_FILE_BYTES,
    MAX_NODES,
    SEQ_TAG,
    Composed,
    node_location,
    scalar_value,
    unknown_tag,
)
from digpy.errors import ConfigError, Location

__all__ = ["MAX_INCLUDE_NESTING", "load_file", "load_params_file", "load_text"]

MAX_INCLUDE_NESTING = 32


def load_file(path: Path, *, project_root: Path) -> ConfigMap:
    """Load one ``.dig`` file; its ``!include``s must stay inside ``project_root``."""
    display = str(path)
    real = os.path.realpath(path)
    composed = compose(read_text(Path(real), display), display)
    return _Load(project_root.resolve()).document(_File(real, display, path.parent, composed))


def load_text(
    text: str,
    *,
    filename: str = "<string>",
    base_dir: Path | None = None,
    project_root: Path | None = None,
) -> ConfigMap:
    """Load YAML text; ``!include`` works when ``base_dir`` is given (confined to
    ``project_root``, which defaults to ``base_dir``)."""
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise ConfigError(_too_big(), location=Location(filename, 1, 1))
    root = project_root if project_root is not None else base_dir
    load = _Load(root.resolve() if root is not None else None)
    return load.document(_File(None, filename, base_dir, compose(text, filename)))


def load_params_file(path: Path) -> dict[str, Any]:
    """A ``-P file.yml`` params file: a mapping; ``!include`` stays inside its folder."""
    return load_file(path, project_root=path.parent)


class _File(NamedTuple):  # a NamedTuple: a tenth of a frozen dataclass's import cost
    real: str | None  # None for text that came from no file
    display: str  # how locations name the file
    base_dir: Path | None  # where its includes are relative to; None: includes refused
    composed: Composed


class _Load:
    """One load: the files read so far (each parsed once) and the includes now open.

    It runs two passes: first it sizes the whole tree, includes and alias copies expanded,
    so that an include bomb fails before anything is built; then it builds."""

    def __init__(self, project_root: Path | None) -> None:
        self.project_root = project_root
        self.files: dict[str, Composed] = {}
        self.sizes: dict[str, int] = {}
        self.chain: list[_File] = []
        self.budget = Budget()

    def document(self, top: _File) -> ConfigMap:
        with self._opened(top, None):
            total = self._size(top)
            if total > MAX_NODES and top.composed.root is not None:
                raise _too_many(node_location(top.composed.root))
            return self._build(top, 1, None)

    def _size(self, file: _File) -> int:
        if file.real in self.sizes:
            return self.sizes[file.real]
        composed = file.composed
        if not composed.aliases and not composed.includes:
            # Nothing expands: the size is the composer's node count, no second walk needed.
            size = composed.nodes
        else:
            size = 0 if composed.root is None else size_with_includes(
                composed.root, lambda node: self._include_size(file, node))
        if file.real is not None:
            self.sizes[file.real] = size
        return size

    def _include_size(self, parent: _File, node: ScalarNode) -> int:
        if parent.base_dir is None:
            return 1  # the build pass says why this include can't be used
        child = self._open(parent, node)
        with self._opened(child, node_location(node)):
            size = self._size(child)
        if size > MAX_NODES:
            raise _too_many(node_location(node))
        return size

    def _build(self, file: _File, depth: int, where: Location | None) -> ConfigMap:
        root = file.composed.root
        if not isinstance(root, MappingNode):
            raise _not_a_mapping(root, file.display, where)
        include = None if file.base_dir is None else partial(self._include, file)
        return TreeBuilder(include, self.budget).mapping(root, depth)

    def _include(self, parent: _File, node: ScalarNode, depth: int) -> ConfigMap:
        child = self._open(parent, node)
        where = node_location(node)
        with self._opened(child, where):
            return self._build(child, depth, where)

    def _open(self, parent: _File, node: ScalarNode) -> _File:
        """The file an ``!include`` names, checked and parsed (once per real path)."""
        assert parent.base_dir is not None  # TreeBuilder refuses includes without one
        where = node_location(node)
        written = str(node.value)
        lexical = Path(os.path.normpath(os.path.join(parent.base_dir, written)))
        real = _confined_file(self.project_root, lexical, written, where)
        display = _include_display(parent.display, written)
        composed = self.files.get(real)
        if composed is None:
            composed = compose(read_text(Path(real), display, where), display)
            self.files[real] = composed
        return _File(real, display, lexical.parent, composed)

    @contextmanager
    def _opened(self, file: _File, where: Location | None) -> Iterator[None]:
        reals = [f.real for f in self.chain]
        if where is not None and file.real in reals:
            cycle = [f.display for f in self.chain[reals.index(file.real):]] + [file.display]
            raise ConfigError("include cycle: " + " -> ".join(cycle), location=where)
        if where is not None and len(self.chain) > MAX_INCLUDE_NESTING:
            raise ConfigError(f"includes nested more than {MAX_INCLUDE_NESTING} files deep",
                              location=where)
        self.chain.append(file)
        try:
            yield
        finally:
            self.chain.pop()


def _too_many(where: Location) -> ConfigError:
    return ConfigError(f"too many values: more than {MAX_NODES:,}, counting !include files "
                       "and alias copies", location=where)


def _not_a_mapping(root: Node | None, display: str, where: Location | None) -> ConfigError:
    # A bad tag (`!include: x`, `!!python/...`) says so rather than "not a mapping".
    if isinstance(root, ScalarNode) and root.tag != INCLUDE_TAG:
        scalar_value(root)
    if isinstance(root, SequenceNode) and root.tag not in (SEQ_TAG, INCLUDE_TAG):
        raise unknown_tag(root)
    got = "nothing" if root is None or (root.tag.endswith(":null")) else _kind(root)
    if where is not None:
        return ConfigError(f"included file {display!r} must contain a mapping, got {got}",
                           location=where)
    location = node_location(root) if root is not None else Location(display, 1, 1)
    return ConfigError(f"the top level must be a mapping (key: value), got {got}",
                       location=location)


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a tagged mapping"
    if isinstance(node, ScalarNode):
        return "an !include" if node.tag == INCLUDE_TAG else f"the value {node.value!r}"
    return "a list"


def _confined_file(root: Path | None, lexical: Path, written: str, where: Location) -> str:
    """The real path of an include target, or a ConfigError saying why it can't be used."""
    if not written.strip():
        raise ConfigError("!include needs a file path", location=where)
    try:
        return _existing_inside(root, lexical, written, where)
    except (OSError, ValueError) as exc:  # a NUL byte, a name too long for the system...
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(f"!include {written!r} can't be used as a path: {reason}",
                          location=where) from None


def _existing_inside(root: Path | None, lexical: Path, written: str, where: Location) -> str:
    real = Path(os.path.realpath(lexical))
    if root is not None and not real.is_relative_to(root):
        raise ConfigError(_escape_reason(written), location=where)
    if real.is_dir():
        raise ConfigError(f"!include {written!r} is a folder, not a file", location=where)
    if not real.is_file():
        raise ConfigError(f"!include {written!r}: file not found", location=where,
                          suggestions=_sibling_suggestions(root, lexical, written))
    return str(real)


def _escape_reason(written: str) -> str:
    if os.path.isabs(written):
        return f"!include {written!r} is outside the project folder"
    if ".." in Path(written).parts:
        return f"!include {written!r} climbs out of the project folder with '..'"
    return f"!include {written!r} is a symlink that leads outside the project folder"


def _sibling_suggestions(root: Path | None, lexical: Path, written: str) -> list[str]:
    folder = Path(os.path.realpath(lexical.parent))
    if not folder.is_dir() or (root is not None and not folder.is_relative_to(root)):
        return []
    try:
        names = [p.name for _, p in zip(range(10_000), folder.iterdir(), strict=False)
                 if p.is_file()]
    except OSError:
        return []
    prefix = os.path.dirname(written)
    return [os.path.join(prefix, name) for name in did_you_mean(lexical.name, names)]


def _include_display(parent_display: str, written: str) -> str:
    if os.path.isabs(written) or parent_display.startswith("<"):
        return os.path.normpath(written)
    return os.path.normpath(os.path.join(os.path.dirname(parent_display), written))


def read_text(path: Path, display: str, where: Location | None = None) -> str:
    """A file's text as UTF-8, within the size limit; errors point at ``where`` (the
    ``!include``) when given, else at the file."""
    at = where or Location(display)
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size > MAX_FILE_BYTES:
                raise ConfigError(_too_big(display), location=at)
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{display}: file not found", location=at) from None
    except OSError as exc:
        raise ConfigError(f"can't read {display}: {exc.strerror or exc}", location=at) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(_too_big(display), location=at)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                          location=_byte_location(display, data, exc.start)) from None


def _too_big(display: str = "the text") -> str:
    return f"{display} is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MB limit for a file"


def _byte_location(display: str, data: bytes, offset: int) -> Location:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return Location(display, data.count(b"\n", 0, offset) + 1, column)
