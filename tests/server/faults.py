"""A store that fails on purpose (reliability R9): a real ``SqlStore`` whose transactions,
chosen by a seeded RNG, raise the errors a busy, timing-out or disconnected database raises.

Write transactions fail three ways:

* ``BUSY`` before any statement (the lock or the connection could not be had);
* ``ROLLBACK`` after the caller's statements, before the commit (nothing lands);
* ``COMMITTED`` after the commit (everything landed, but the caller is told it failed: the
  ambiguous outcome of a connection lost while the COMMIT's reply was on its way).

Read transactions fail only at the start (``BUSY``). The errors are real
``sqlalchemy.exc.OperationalError``s, so the code under test sees what a driver raises.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

import sqlalchemy as sa

from digpy.store.base import Tx
from digpy.store.sql.engine import SqlStore


class Fault(StrEnum):
    BUSY = "busy"
    ROLLBACK = "rollback"
    COMMITTED = "committed"


_MESSAGES = {
    Fault.BUSY: "could not obtain a connection: timeout (injected)",
    Fault.ROLLBACK: "server closed the connection unexpectedly (injected, rolled back)",
    Fault.COMMITTED: "server closed the connection unexpectedly (injected, after COMMIT)",
}


def _error(fault: Fault) -> sa.exc.OperationalError:
    return sa.exc.OperationalError("COMMIT", {}, Exception(_MESSAGES[fault]))


class FaultyStore(SqlStore):
    """Shares the wrapped store's engine. ``write_rate``/``read_rate`` are the fractions of
    transactions that fail; ``armed`` turns injection off (to check the results)."""

    def __init__(self, inner: SqlStore, *, seed: int, write_rate: float = 0.05,
                 read_rate: float = 0.01) -> None:
        super().__init__(inner.engine, description=f"{inner.description} (faulty)")
        self._rng = random.Random(seed)
        self._lock = threading.Lock()  # worker threads read secrets/kills concurrently
        self.write_rate = write_rate
        self.read_rate = read_rate
        self.armed = True
        self.injected: Counter[Fault] = Counter()

    @contextmanager
    def write(self) -> Iterator[Tx]:
        fault = self._draw(self.write_rate, list(Fault))
        if fault is Fault.BUSY:
            raise _error(fault)
        with super().write() as tx:
            yield tx
            if fault is Fault.ROLLBACK:
                raise _error(fault)
        if fault is Fault.COMMITTED:
            raise _error(fault)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        if self._draw(self.read_rate, [Fault.BUSY]) is Fault.BUSY:
            raise _error(Fault.BUSY)
        with super().read() as tx:
            yield tx

    def _draw(self, rate: float, faults: list[Fault]) -> Fault | None:
        with self._lock:
            if not self.armed or self._rng.random() >= rate:
                return None
            fault = self._rng.choice(faults)
            self.injected[fault] += 1
            return fault
