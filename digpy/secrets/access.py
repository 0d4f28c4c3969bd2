"""What an operator's ``ctx.secrets`` is: a store seen through the task's ``_secrets``
remapping, feeding every value it hands out to the log masker.

``_secrets`` (spec §1.4, Digdag ``DefaultSecretProvider``) is walked segment by segment
along the dotted key. A string leaf renames the rest of the key: with
``{td: {apikey: prod.key}}`` a read of ``td.apikey`` returns the secret ``prod.key``, and
with ``{td: other}`` a read of ``td.apikey`` returns ``other.apikey``. A ``true`` leaf is a
legacy grant and changes nothing; any other leaf is a config error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from digpy.errors import ConfigError, TaskFailed
from digpy.secrets.crypto import SecretError
from digpy.secrets.masking import Masker


class SecretStore(Protocol):
    def get(self, key: str) -> str | None: ...


class SecretAccess:
    """Implements the spi ``SecretProvider``."""

    def __init__(
        self, store: SecretStore, remap: Mapping[str, Any] | None, masker: Masker
    ) -> None:
        if remap is not None and not isinstance(remap, Mapping):
            raise ConfigError(f"_secrets must be a mapping, not {type(remap).__name__}")
        self._store = store
        self._remap: Mapping[str, Any] = remap or {}
        self._masker = masker

    def get(self, key: str) -> str | None:
        _check_key(key)
        target = remount(key, self._remap)
        try:
            value = self._store.get(target)
        except SecretError as exc:
            # The store's message names the key and the file, never a value.
            raise TaskFailed(str(exc)) from None
        if value is not None:
            self._masker.add(value)
        return value


def remount(key: str, remap: Mapping[str, Any]) -> str:
    """The secret name ``key`` is read from after ``_secrets`` remapping."""
    segments = key.split(".")
    scope: Mapping[str, Any] = remap
    for i, segment in enumerate(segments):
        node = scope.get(segment)
        if node is None:
            return key  # outside every remapping
        if isinstance(node, Mapping):
            if i + 1 >= len(segments):
                return key  # the key ends above a leaf
            scope = node
        elif isinstance(node, str):
            return ".".join([*node.split("."), *segments[i + 1 :]])
        elif node is True:
            return key  # deprecated grant: every project secret is readable anyway
        else:
            raise ConfigError(f"Illegal value in _secrets: {node!r} at '{segment}'")
    return key


def _check_key(key: str) -> None:
    if not key or "*" in key or any(not part for part in key.split(".")):
        raise TaskFailed(f"Illegal secret key: '{key}'")
