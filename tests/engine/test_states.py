"""The state table: Digdag's stable codes, the named groups, and the edges the engine may
take (every case in test_cases.py also checks the edges it actually took)."""

from __future__ import annotations

import pytest

from digpy.model.states import (
    ALLOWED,
    DONE,
    FAILED,
    PROGRESSING,
    IllegalTransition,
    TaskFlags,
    TaskState,
    check_edge,
)

S = TaskState


def test_state_codes_are_digdags_and_never_change() -> None:
    assert {s.name: int(s) for s in TaskState} == {
        "BLOCKED": 0,
        "READY": 1,
        "RETRY_WAITING": 2,
        "GROUP_RETRY_WAITING": 3,
        "PLANNED": 4,
        "RUNNING": 5,
        "SUCCESS": 6,
        "GROUP_ERROR": 7,
        "ERROR": 8,
        "CANCELED": 9,
    }


def test_flags_are_independent_bits() -> None:
    values = [int(f) for f in TaskFlags if f is not TaskFlags.NONE]
    assert all(v & (v - 1) == 0 for v in values)
    assert len(set(values)) == len(values)


def test_the_groups_partition_the_states_as_the_spec_says() -> None:
    assert {S.SUCCESS, S.GROUP_ERROR, S.ERROR, S.CANCELED} == DONE
    assert FAILED < DONE
    assert not PROGRESSING & DONE
    assert PROGRESSING | DONE | {S.BLOCKED} == set(TaskState)


def test_done_states_have_no_way_out() -> None:
    assert all(not ALLOWED[s] for s in DONE)


def test_every_state_has_an_entry_in_the_table() -> None:
    assert set(ALLOWED) == set(TaskState)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (S.BLOCKED, S.RUNNING),  # never dispatched without READY
        (S.SUCCESS, S.READY),  # done is final
        (S.ERROR, S.RETRY_WAITING),  # retries are decided before ERROR
        (S.RETRY_WAITING, S.RUNNING),
        (S.PLANNED, S.READY),
    ],
)
def test_an_edge_outside_the_table_is_refused(before: TaskState, after: TaskState) -> None:
    with pytest.raises(IllegalTransition, match=f"{before.label} -> {after.label}"):
        check_edge(before, after)


def test_the_spec_transitions_are_all_allowed() -> None:
    # spec §3.3, row by row
    spec = [
        (S.BLOCKED, S.READY), (S.BLOCKED, S.PLANNED), (S.BLOCKED, S.CANCELED),
        (S.READY, S.RUNNING), (S.READY, S.PLANNED),
        (S.RUNNING, S.SUCCESS), (S.RUNNING, S.PLANNED), (S.RUNNING, S.RETRY_WAITING),
        (S.RUNNING, S.ERROR), (S.RUNNING, S.CANCELED),
        (S.RETRY_WAITING, S.READY), (S.GROUP_RETRY_WAITING, S.READY),
        (S.PLANNED, S.CANCELED), (S.PLANNED, S.ERROR), (S.PLANNED, S.GROUP_ERROR),
        (S.PLANNED, S.GROUP_RETRY_WAITING), (S.PLANNED, S.SUCCESS),
    ]
    for before, after in spec:
        check_edge(before, after)
