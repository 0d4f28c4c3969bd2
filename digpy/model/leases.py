"""Leases on running attempts (issue #6 §3): which daemon drives an attempt, until when,
and under which fencing token. Times come from the database clock, so daemons whose own
clocks disagree still agree on who holds what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Lease:
    """One daemon's hold on one running attempt. ``epoch`` is the fencing token: it grows by
    one on every claim, so a write checked against an old epoch is a stale owner's."""

    attempt_id: int
    daemon_id: str
    epoch: int
    expires_at: datetime
    taken_from: str | None = None  # the previous holder whose lease had expired, if any


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonRow:
    """A registered daemon and its last heartbeat (observability, not ownership: leases
    decide who drives what)."""

    id: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
