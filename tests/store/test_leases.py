"""The lease contract (``LeaseRepo`` in digpy/store/base.py) on SQLite and PostgreSQL.

A lease of 0 seconds has expired by the next statement (the database clock moves on), which
makes expiry deterministic without sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from digpy.model.states import AttemptStatus
from digpy.store.base import LeaseLost, Store
from digpy.store.sql.engine import SqlStore
from digpy.store.sql.lite import LiteStore

from .test_contract import NOW, SESSION_TIME, _attempt

LONG = 60.0
EXPIRED = 0.0


@pytest.fixture
def sql(store: Store) -> Iterator[SqlStore]:
    if isinstance(store, LiteStore):
        pytest.skip("digpy run's stdlib store has no daemons, hence no leases")
    assert isinstance(store, SqlStore)
    yield store


def _attempts(store: SqlStore, n: int) -> list[int]:
    from datetime import timedelta

    with store.write() as tx:
        return [_attempt(tx, session_time=SESSION_TIME + timedelta(days=i)).id for i in range(n)]


def test_a_free_running_attempt_is_claimed_by_one_daemon_only(sql: SqlStore) -> None:
    [attempt] = _attempts(sql, 1)
    with sql.write() as tx:
        [lease] = tx.leases.claim_attempts("a", limit=5, lease_seconds=LONG)
    with sql.write() as tx:
        assert tx.leases.claim_attempts("b", limit=5, lease_seconds=LONG) == []
    assert (lease.attempt_id, lease.daemon_id, lease.epoch, lease.taken_from) == (
        attempt, "a", 1, None)


def test_an_expired_lease_is_taken_over_with_the_next_epoch(sql: SqlStore) -> None:
    _attempts(sql, 1)
    with sql.write() as tx:
        [first] = tx.leases.claim_attempts("a", limit=1, lease_seconds=EXPIRED)
    with sql.write() as tx:
        [second] = tx.leases.claim_attempts("b", limit=1, lease_seconds=LONG)
    assert (second.daemon_id, second.epoch, second.taken_from) == ("b", first.epoch + 1, "a")


def test_the_fence_admits_the_holder_and_refuses_a_stale_owner(sql: SqlStore) -> None:
    _attempts(sql, 1)
    with sql.write() as tx:
        [stale] = tx.leases.claim_attempts("a", limit=1, lease_seconds=EXPIRED)
        tx.leases.check_lease(stale)  # still the holder: no one claimed it yet
    with sql.write() as tx:
        [current] = tx.leases.claim_attempts("b", limit=1, lease_seconds=LONG)
    with sql.write() as tx:
        tx.leases.check_lease(current)
        with pytest.raises(LeaseLost) as lost:
            tx.leases.check_lease(stale)
    assert lost.value.holder == "b"


def test_a_stale_owner_that_reclaims_still_cannot_use_its_old_token(sql: SqlStore) -> None:
    _attempts(sql, 1)
    with sql.write() as tx:
        [old] = tx.leases.claim_attempts("a", limit=1, lease_seconds=EXPIRED)
    with sql.write() as tx:
        [new] = tx.leases.claim_attempts("a", limit=1, lease_seconds=LONG)
    with sql.write() as tx, pytest.raises(LeaseLost):
        tx.leases.check_lease(old)
    assert new.epoch == old.epoch + 1


def test_a_heartbeat_extends_own_leases_and_omits_those_taken_over(sql: SqlStore) -> None:
    kept, taken = _attempts(sql, 2)
    with sql.write() as tx:
        tx.leases.claim_attempts("a", limit=2, lease_seconds=EXPIRED)
    with sql.write() as tx:
        tx.leases.claim_attempts("b", limit=1, lease_seconds=LONG, attempt_id=taken)
    with sql.write() as tx:
        held = tx.leases.heartbeat("a", lease_seconds=LONG)
    with sql.write() as tx:
        assert tx.leases.claim_attempts("c", limit=2, lease_seconds=LONG) == []
    assert [(h.attempt_id, h.daemon_id) for h in held] == [(kept, "a")]
    assert held[0].expires_at > NOW


def test_claims_take_the_oldest_attempts_up_to_the_limit(sql: SqlStore) -> None:
    ids = _attempts(sql, 3)
    with sql.write() as tx:
        first = tx.leases.claim_attempts("a", limit=2, lease_seconds=LONG)
        second = tx.leases.claim_attempts("b", limit=2, lease_seconds=LONG)
    assert [lease.attempt_id for lease in first] == ids[:2]
    assert [lease.attempt_id for lease in second] == ids[2:]


def test_finished_attempts_are_never_claimed(sql: SqlStore) -> None:
    [attempt] = _attempts(sql, 1)
    with sql.write() as tx:
        tx.attempts.finish_attempt(attempt, AttemptStatus.SUCCESS, now=NOW)
        assert tx.leases.claim_attempts("a", limit=1, lease_seconds=LONG) == []


def test_a_clean_stop_frees_leases_for_others_at_once(sql: SqlStore) -> None:
    _attempts(sql, 2)
    with sql.write() as tx:
        tx.leases.register_daemon("a", host="h", pid=1)
        tx.leases.claim_attempts("a", limit=2, lease_seconds=LONG)
    with sql.write() as tx:
        assert tx.leases.release_leases("a") == 2
        assert tx.leases.list_daemons() == []
    with sql.write() as tx:
        assert len(tx.leases.claim_attempts("b", limit=2, lease_seconds=LONG)) == 2


def test_breaking_all_leases_frees_every_attempt(sql: SqlStore) -> None:
    _attempts(sql, 2)
    with sql.write() as tx:
        tx.leases.claim_attempts("a", limit=1, lease_seconds=LONG)
        tx.leases.claim_attempts("b", limit=1, lease_seconds=LONG)
    with sql.write() as tx:
        assert tx.leases.break_all_leases() == 2
        assert tx.leases.list_leases() == []


def test_registered_daemons_are_listed_with_their_heartbeat(sql: SqlStore) -> None:
    with sql.write() as tx:
        row = tx.leases.register_daemon("host:1:x", host="host", pid=1)
    with sql.write() as tx:
        tx.leases.heartbeat("host:1:x", lease_seconds=LONG)
    with sql.read() as tx:
        [listed] = tx.leases.list_daemons()
    assert (listed.id, listed.host, listed.pid) == ("host:1:x", "host", 1)
    assert listed.heartbeat_at >= row.started_at


@pytest.mark.postgres
def test_on_postgresql_a_claim_skips_attempts_another_claim_is_locking(sql: SqlStore) -> None:
    if sql.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite serializes whole transactions)")
    ids = _attempts(sql, 2)
    with sql.write() as first:
        [a] = first.leases.claim_attempts("a", limit=1, lease_seconds=EXPIRED)
        with sql.write() as second:  # another connection while the first is uncommitted
            [b] = second.leases.claim_attempts("b", limit=2, lease_seconds=LONG)
    assert (a.attempt_id, b.attempt_id) == (ids[0], ids[1])
