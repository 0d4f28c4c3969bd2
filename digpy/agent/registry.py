"""Which class runs ``type>``. Built-ins and plugins arrive the same way: the
``digpy.operators`` entry-point group (Digdag ``OperatorRegistry``, APScheduler plugins).
Nothing registers itself at import time; tests build a registry and ``register`` classes.
"""

from __future__ import annotations

import inspect
import re
from importlib.metadata import EntryPoint, entry_points

from digpy.dsl.suggest import did_you_mean
from digpy.errors import ConfigError
from digpy.spi import Operator

ENTRY_POINT_GROUP = "digpy.operators"
_TYPE_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class OperatorRegistry:
    def __init__(self) -> None:
        self._operators: dict[str, type[Operator]] = {}

    @classmethod
    def from_entry_points(cls) -> OperatorRegistry:
        """Every operator installed under the ``digpy.operators`` group."""
        registry = cls()
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            operator = _load(ep)
            if registry._operators.get(operator.type) is operator:
                continue  # the same distribution seen twice on sys.path
            if ep.name != operator.type:
                raise ConfigError(
                    f"Operator plugin entry point '{ep.name}' ({ep.value}) "
                    f"loads a class whose type is '{operator.type}'"
                )
            registry.register(operator)
        return registry

    def register(self, cls: type[Operator]) -> None:
        """Add ``cls`` under ``cls.type``.

        :raises TypeError: ``cls`` is not a concrete ``Operator`` subclass with a ``type``.
        :raises ValueError: another class already has that type.
        """
        if not (isinstance(cls, type) and issubclass(cls, Operator)):
            raise TypeError(f"{cls!r} is not a subclass of digpy.spi.Operator")
        if inspect.isabstract(cls):
            raise TypeError(f"{_qualname(cls)} is abstract (does it implement run()?)")
        type_name = getattr(cls, "type", None)
        if not isinstance(type_name, str) or not _TYPE_PATTERN.fullmatch(type_name):
            raise TypeError(f"{_qualname(cls)}.type must be a name such as 'sh', not {type_name!r}")
        existing = self._operators.get(type_name)
        if existing is not None:
            raise ValueError(
                f"Operator type '{type_name}' is already registered by {_qualname(existing)}"
            )
        self._operators[type_name] = cls

    def get(self, type_name: str) -> type[Operator]:
        """The class for ``type_name`` (``"sh"`` or ``"sh>"``).

        :raises ConfigError: unknown type, with did-you-mean suggestions."""
        name = type_name.removesuffix(">")
        found = self._operators.get(name)
        if found is None:
            # Compared with the arrow, as written in .dig files: "sj>" is close to "sh>"
            # while the bare two-letter names are below the similarity cutoff.
            close = did_you_mean(f"{name}>", [f"{n}>" for n in self._operators])
            raise ConfigError(f"Unknown operator '{name}>'", suggestions=close)
        return found

    def names(self) -> list[str]:
        return sorted(self._operators)

    def __contains__(self, type_name: object) -> bool:
        return isinstance(type_name, str) and type_name.removesuffix(">") in self._operators


def _load(ep: EntryPoint) -> type[Operator]:
    try:
        loaded = ep.load()
    except Exception as exc:  # a broken plugin: say which one, not just the ImportError
        raise ConfigError(
            f"Cannot load operator plugin '{ep.name}' ({ep.value}): {type(exc).__name__}: {exc}"
        ) from exc
    if not (isinstance(loaded, type) and issubclass(loaded, Operator)):
        raise TypeError(f"Entry point '{ep.name}' ({ep.value}) is not a digpy.spi.Operator")
    return loaded


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
