"""OperatorRegistry: entry points, one class per type, helpful errors."""

from __future__ import annotations

from typing import ClassVar

import pytest

from digpy.agent.registry import OperatorRegistry
from digpy.errors import ConfigError
from digpy.spi import Operator, TaskResult


class Hello(Operator):
    type: ClassVar[str] = "hello"

    def run(self) -> TaskResult:
        return TaskResult.empty()


def test_entry_points_bring_in_the_four_built_ins() -> None:
    registry = OperatorRegistry.from_entry_points()
    assert {"echo", "fail", "sh", "wait"} <= set(registry.names())
    assert registry.get("sh>").__module__ == "digpy_operators.sh"
    assert registry.get("echo").__name__ == "EchoOperator"


def test_registering_the_same_type_twice_is_an_error() -> None:
    registry = OperatorRegistry()
    registry.register(Hello)

    class Other(Hello):
        pass

    with pytest.raises(ValueError, match=r"'hello' is already registered by .*Hello"):
        registry.register(Other)


def test_an_unknown_operator_names_it_and_suggests_a_close_one() -> None:
    registry = OperatorRegistry.from_entry_points()
    with pytest.raises(ConfigError) as caught:
        registry.get("sj>")
    assert str(caught.value) == "Unknown operator 'sj>' (did you mean 'sh>'?)"
    assert caught.value.suggestions == ("sh>",)


def test_an_unknown_operator_with_nothing_close_has_no_suggestion() -> None:
    with pytest.raises(ConfigError) as caught:
        OperatorRegistry().get("zzz")
    assert str(caught.value) == "Unknown operator 'zzz>'"


def test_only_concrete_operator_subclasses_can_be_registered() -> None:
    registry = OperatorRegistry()

    class NotAnOperator:
        type = "nope"

    class Abstract(Operator):
        type: ClassVar[str] = "abstract"

    class Nameless(Hello):
        type: ClassVar[str] = "bad name"

    with pytest.raises(TypeError, match=r"not a subclass of digpy\.spi\.Operator"):
        registry.register(NotAnOperator)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="is abstract"):
        registry.register(Abstract)  # type: ignore[type-abstract]
    with pytest.raises(TypeError, match="type must be a name"):
        registry.register(Nameless)
    assert registry.names() == []


def test_names_are_sorted_and_membership_accepts_the_arrow() -> None:
    registry = OperatorRegistry()
    registry.register(Hello)
    assert registry.names() == ["hello"]
    assert "hello>" in registry and "bye" not in registry
