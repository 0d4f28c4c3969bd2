"""Task code written the way Digdag users write it: ``import digdag`` and plain functions."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import digdag


def greet(name: str, greeting: str = "Hello") -> None:
    print(f"{greeting}, {name}!")


def keyword_only(*, table: str, limit: int = 10) -> None:
    print(f"{table}/{limit}")


def everything(**params: Any) -> None:
    digdag.env.store({"seen": {"name": params["name"], "has_session": "session_date" in params}})


class Workflow:
    def __init__(self, prefix: str = "<") -> None:
        self.prefix = prefix

    def step(self, value: str) -> None:
        print(f"{self.prefix}{value}>")


class Job:
    def __init__(self, target: str) -> None:
        self.target = target

    def run(self) -> None:
        print(f"job runs for {self.target}")


def store_and_export() -> None:
    digdag.env.store({"a": {"x": 1}})
    digdag.env.store({"a": {"y": 2}}, b=3)
    digdag.env.export({"e": {"one": 1}})
    digdag.env.export(e={"two": 2})


def read_params() -> None:
    print(f"params say {digdag.env.params['word']}")


def fan_out() -> None:
    digdag.env.add_subtask(greet, name="one")
    digdag.env.add_subtask(Workflow.step, value="v")
    digdag.env.add_subtask({"sh>": "echo hi", "_env": {"A": "1"}})
    digdag.env.add_subtask(**{"echo>": "by keyword"})


def add_a_lambda() -> None:
    digdag.env.add_subtask(lambda: None)


def store_something_odd() -> None:
    digdag.env.store({"when": object()})


def explode(table: str) -> None:
    print("about to fail")
    raise ValueError(f"the table {table} is empty")


def leak_the_token() -> None:
    raise RuntimeError(f"bad token {os.environ['TOKEN']}")


def show_env() -> None:
    print(f"token={os.environ['TOKEN']} plain={os.environ['PLAIN']}")


def show_interpreter() -> None:
    print(f"interpreter={sys.executable}")
    print(f"wrapped={os.environ.get('WRAPPED', 'no')}")


def show_cwd_and_path() -> None:
    print(f"cwd={os.getcwd()}")


def exit_early() -> None:
    sys.exit(3)


def sleep_forever() -> None:
    with open("py.pid", "w") as f:
        f.write(str(os.getpid()))
    print("sleeping", flush=True)
    time.sleep(60)
