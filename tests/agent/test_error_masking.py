"""Secret values never reach the state database: error records are masked before they are
stored (reliability.md X1)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import ClassVar

from digpy.agent.local import LocalEngine
from digpy.dsl.compiler import compile_workflow
from digpy.dsl.loader import load_text
from digpy.errors import TaskFailed
from digpy.secrets.masking import Masker
from digpy.spi import Operator, TaskResult

CANARY = "dp-canary-7f3c2a"


class LeakyOperator(Operator):
    """Fails quoting a secret it read, as a careless operator might."""

    type: ClassVar[str] = "leaky"

    def run(self) -> TaskResult:
        raise TaskFailed(f"login refused for token {CANARY}")


class CrashingOperator(Operator):
    type: ClassVar[str] = "crashing"

    def run(self) -> TaskResult:
        raise RuntimeError(f"unexpected reply to {CANARY}")


def run_workflow(project: Path, text: str) -> None:
    masker = Masker()
    masker.add(CANARY)
    operators = {"leaky": LeakyOperator, "crashing": CrashingOperator}
    workflow = compile_workflow("wf", load_text(text, filename="wf.dig"))
    with LocalEngine(project, operators=operators.__getitem__, mask=masker.mask) as engine:
        result = engine.run(workflow)
    assert not result.success


def test_a_failure_message_quoting_a_secret_is_stored_masked(tmp_path: Path) -> None:
    run_workflow(tmp_path, "+a:\n  leaky>: x\n")
    dump = "\n".join(sqlite3.connect(tmp_path / ".digpy" / "state.db").iterdump())
    assert CANARY not in dump
    assert "login refused for token ***" in dump


def test_a_crash_traceback_quoting_a_secret_is_stored_masked(tmp_path: Path) -> None:
    run_workflow(tmp_path, "+a:\n  crashing>: x\n")
    dump = "\n".join(sqlite3.connect(tmp_path / ".digpy" / "state.db").iterdump())
    assert CANARY not in dump
    assert "unexpected reply to ***" in dump
