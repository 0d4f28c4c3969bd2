"""Attempt leases for the daemon's executor (issue #6 §3, reliability R3/R5/C3).

The unit of ownership is the **attempt**: the daemon holding an attempt's lease runs its
whole state machine (claims its READY tasks, records outcomes), as a Temporal shard owner
runs its workflows' tasks. Claiming single tasks across daemons would need every
propagation pass to be safe against a concurrent one on the same graph; one owner per
attempt keeps the in-memory graph authoritative.

* A daemon registers (id ``host:pid:random``), claims running attempts whose lease is free
  or expired (``FOR UPDATE SKIP LOCKED``), and renews its leases every heartbeat.
* Tasks the previous owner left RUNNING go back to READY when a daemon takes an attempt over
  (at-least-once; retry counts and ``retry_at`` are kept).
* Every write transaction of an attempt first checks the lease's owner and epoch (the
  fence): a daemon that was paused past its lease, and whose attempt another daemon took,
  has its late writes rolled back, logs it and drops the attempt.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Sequence
from datetime import datetime

from digpy.engine.executor import AttemptExecutor
from digpy.engine.outcomes import Outcome
from digpy.engine.params import AttemptScope
from digpy.model.leases import Lease
from digpy.model.records import Attempt, Task
from digpy.store.base import LeaseLost, Store, Tx

log = logging.getLogger(__name__)


def new_daemon_id() -> str:
    """``host:pid:random``: readable in ``daemons``, unique even when a pid is reused."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class LeasedExecutor(AttemptExecutor):
    """An executor whose writes are fenced by its daemon's lease on the attempt. Once the
    fence refuses (or a heartbeat finds the lease gone) it is ``lost``: it reports itself
    done to the driver and records nothing more; the new owner re-runs what was running."""

    def __init__(self, store: Store, attempt: Attempt, scope: AttemptScope, *,
                 lease: Lease) -> None:
        self.lease = lease
        self.lost = False
        super().__init__(store, attempt, scope, fence=self._check)

    @property
    def done(self) -> bool:
        return self.lost or self.attempt.done

    def tick(self, now: datetime) -> bool:
        try:
            return super().tick(now)
        except LeaseLost as exc:
            self.lose(exc.holder, "its next step")
            return False

    def claim(self, tasks: Sequence[tuple[Task, str | None]], now: datetime) -> list[Task]:
        try:
            return super().claim(tasks, now)
        except LeaseLost as exc:
            self.lose(exc.holder, "claiming tasks")
            return []

    def finish(self, results: Sequence[tuple[Task, Outcome]], now: datetime) -> None:
        names = ", ".join(task.full_name for task, _ in results)
        if self.lost:
            log.warning("attempt %d: stale report of %s rejected (lease lost)",
                        self.lease.attempt_id, names)
            return
        try:
            super().finish(results, now)
        except LeaseLost as exc:
            self.lose(exc.holder, f"the report of {names}")

    def recover_running(self, now: datetime) -> int:
        try:
            return super().recover_running(now)
        except LeaseLost as exc:
            self.lose(exc.holder, "recovering running tasks")
            return 0

    def lose(self, holder: str | None, what: str) -> None:
        if not self.lost:
            log.warning("attempt %d: lease epoch %d lost (now held by %s); %s rejected, "
                        "dropping the attempt", self.lease.attempt_id, self.lease.epoch,
                        holder or "another daemon", what)
        self.lost = True

    def _check(self, tx: Tx) -> None:
        tx.leases.check_lease(self.lease)
