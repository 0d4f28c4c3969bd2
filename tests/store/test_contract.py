"""The store contract (digpy/store/base.py), run against every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from digpy.errors import Conflict, NotFound
from digpy.model.records import (
    Attempt,
    NewAttempt,
    NewTask,
    NewWorkflowDefinition,
    ResumingTask,
    TaskOutput,
)
from digpy.model.states import AttemptStatus, TaskFlags, TaskState, Trigger
from digpy.store.base import Store, Tx

NOW = datetime(2016, 1, 30, 9, 0, tzinfo=UTC)
SESSION_TIME = datetime(2016, 1, 30, tzinfo=UTC)
S = TaskState


def _definition(name: str = "wf") -> NewWorkflowDefinition:
    return NewWorkflowDefinition(name=name, timezone="UTC", definition={"tasks": []}, hash="d1")


def _attempt(tx: Tx, *, name: str = "", session_time: datetime = SESSION_TIME) -> Attempt:
    project = tx.projects.put_project("default", "/p", now=NOW)
    revision = tx.projects.put_revision(
        project.id, name="r1", hash="h1", workflows=[_definition()], default_params={}, now=NOW
    )
    definition = tx.projects.list_definitions(revision.id)[0]
    session = tx.sessions.put_session(project.id, "wf", session_time, uuid="u-1", now=NOW)
    return tx.attempts.insert_attempt(
        NewAttempt(
            session_id=session.id,
            name=name,
            params={"k": "v"},
            trigger=Trigger.RUN,
            who="tester",
            workflow_definition_id=definition.id,
            revision_name=revision.name,
            timezone="UTC",
            created_at=NOW,
        )
    )


def _tree(tx: Tx, attempt_id: int) -> list[int]:
    """root (planned) with children a -> b, returns their ids."""
    rows = tx.tasks.insert_tasks(
        attempt_id,
        [
            NewTask(full_name="+wf", is_group=True, operator=None, config={}, state=S.PLANNED),
            NewTask(full_name="+wf+a", is_group=False, operator="echo", config={}, parent_ref=0),
            NewTask(
                full_name="+wf+b",
                is_group=False,
                operator="echo",
                config={"echo>": "x"},
                parent_ref=0,
                upstream_refs=(1,),
            ),
        ],
    )
    return [t.id for t in rows]


# -- projects and revisions ------------------------------------------------------------


def test_putting_a_project_twice_returns_the_same_row_with_the_new_path(store: Store) -> None:
    with store.write() as tx:
        first = tx.projects.put_project("default", "/old", now=NOW)
        second = tx.projects.put_project("default", "/new", now=NOW)
    assert second.id == first.id
    assert second.path == "/new"


def test_a_revision_with_known_contents_is_returned_unchanged(store: Store) -> None:
    with store.write() as tx:
        project = tx.projects.put_project("default", "/p", now=NOW)
        args = {"hash": "h1", "workflows": [_definition()], "default_params": {"a": 1}}
        first = tx.projects.put_revision(project.id, name="r1", now=NOW, **args)
        again = tx.projects.put_revision(project.id, name="r2", now=NOW, **args)
        assert again == first
        assert tx.projects.latest_revision(project.id) == first
        assert [d.name for d in tx.projects.list_definitions(first.id)] == ["wf"]


def test_a_revision_name_taken_by_other_contents_is_a_conflict(store: Store) -> None:
    with store.write() as tx:
        project = tx.projects.put_project("default", "/p", now=NOW)
        tx.projects.put_revision(
            project.id, name="r1", hash="h1", workflows=[], default_params={}, now=NOW
        )
        with pytest.raises(Conflict):
            tx.projects.put_revision(
                project.id, name="r1", hash="h2", workflows=[], default_params={}, now=NOW
            )


def test_unknown_ids_raise_not_found(store: Store) -> None:
    with store.read() as tx:
        with pytest.raises(NotFound):
            tx.projects.get_project(99)
        with pytest.raises(NotFound):
            tx.projects.get_definition(99)
        with pytest.raises(NotFound):
            tx.attempts.get_attempt(99)
        with pytest.raises(NotFound):
            tx.tasks.get_task(99)
        with pytest.raises(NotFound):
            tx.sessions.get_session(99)


# -- sessions and attempts ---------------------------------------------------------------


def test_a_session_is_unique_per_project_workflow_and_time(store: Store) -> None:
    with store.write() as tx:
        project = tx.projects.put_project("default", "/p", now=NOW)
        first = tx.sessions.put_session(project.id, "wf", SESSION_TIME, uuid="u-1", now=NOW)
        again = tx.sessions.put_session(project.id, "wf", SESSION_TIME, uuid="u-2", now=NOW)
        other = tx.sessions.put_session(
            project.id, "wf", SESSION_TIME + timedelta(days=1), uuid="u-3", now=NOW
        )
    assert again == first
    assert again.uuid == "u-1"
    assert other.id != first.id
    assert first.session_time == SESSION_TIME


def test_sessions_are_listed_newest_session_time_first(store: Store) -> None:
    with store.write() as tx:
        project = tx.projects.put_project("default", "/p", now=NOW)
        times = [SESSION_TIME + timedelta(days=d) for d in (1, 0, 2)]
        for i, when in enumerate(times):
            tx.sessions.put_session(project.id, "wf", when, uuid=f"u-{i}", now=NOW)
        tx.sessions.put_session(project.id, "other", SESSION_TIME, uuid="o", now=NOW)
        listed = tx.sessions.list_sessions(project.id, "wf", limit=2)
        every = tx.sessions.list_sessions(project.id)
    assert [s.session_time for s in listed] == [times[2], times[0]]
    assert len(every) == 4


def test_attempts_are_numbered_and_the_newest_is_the_sessions_last(store: Store) -> None:
    with store.write() as tx:
        first = _attempt(tx)
        second = _attempt(tx, name="retry-1")
        session = tx.sessions.get_session(first.session_id)
        assert [a.index for a in tx.attempts.list_attempts(first.session_id)] == [1, 2]
    assert session.last_attempt_id == second.id
    assert first.status is AttemptStatus.RUNNING
    assert (first.workflow_name, first.session_time) == ("wf", SESSION_TIME)
    assert first.params == {"k": "v"}


def test_a_second_attempt_with_the_same_name_is_a_conflict(store: Store) -> None:
    with store.write() as tx:
        _attempt(tx)
        with pytest.raises(Conflict):
            _attempt(tx)


def test_finishing_an_attempt_happens_once(store: Store) -> None:
    with store.write() as tx:
        attempt = _attempt(tx)
        assert tx.attempts.finish_attempt(
            attempt.id, AttemptStatus.ERROR, now=NOW, error={"message": "boom"}
        )
        assert not tx.attempts.finish_attempt(attempt.id, AttemptStatus.SUCCESS, now=NOW)
        done = tx.attempts.get_attempt(attempt.id)
        assert tx.attempts.list_running_attempts() == []
    assert (done.status, done.finished_at, done.error) == (
        AttemptStatus.ERROR,
        NOW,
        {"message": "boom"},
    )


def test_kill_flags_every_unfinished_task_and_only_works_once(store: Store) -> None:
    with store.write() as tx:
        attempt = _attempt(tx)
        _root, a, _b = _tree(tx, attempt.id)
        tx.tasks.transition(a, S.BLOCKED, S.READY)
        tx.tasks.transition(a, S.READY, S.RUNNING)
        tx.tasks.transition(a, S.RUNNING, S.SUCCESS)
        assert tx.attempts.request_cancel(attempt.id)
        assert not tx.attempts.request_cancel(attempt.id)
        flags = {t.full_name: t.flags for t in tx.tasks.list_tasks(attempt.id)}
        assert tx.attempts.get_attempt(attempt.id).cancel_requested
    assert flags == {
        "+wf": TaskFlags.CANCEL_REQUESTED,
        "+wf+a": TaskFlags.NONE,
        "+wf+b": TaskFlags.CANCEL_REQUESTED,
    }


def test_a_finished_attempt_cannot_be_killed(store: Store) -> None:
    with store.write() as tx:
        attempt = _attempt(tx)
        tx.attempts.finish_attempt(attempt.id, AttemptStatus.SUCCESS, now=NOW)
        assert not tx.attempts.request_cancel(attempt.id)


def test_resuming_tasks_come_back_in_insertion_order(store: Store) -> None:
    items = [
        ResumingTask(
            full_name=f"+wf+l^sub+loop-{i}",
            parent_full_name="+wf+l^sub",
            upstream_full_names=(),
            is_group=False,
            operator="echo",
            config={"echo>": i},
            output=TaskOutput(store_params={"i": i}, reset_keys=("x",)),
        )
        for i in (1, 0)
    ]
    with store.write() as tx:
        attempt = _attempt(tx)
        tx.attempts.put_resuming_tasks(attempt.id, items)
        assert tx.attempts.list_resuming_tasks(attempt.id) == items


# -- tasks ------------------------------------------------------------------------------


def test_inserted_tasks_link_parents_and_upstreams_within_the_batch(store: Store) -> None:
    with store.write() as tx:
        attempt = _attempt(tx)
        root, a, b = _tree(tx, attempt.id)
        listed = tx.tasks.list_tasks(attempt.id)
        assert tx.tasks.count_tasks(attempt.id) == 3
    assert [t.id for t in listed] == [root, a, b]
    assert root < a < b
    assert [(t.parent_id, t.upstream_ids) for t in listed] == [(None, ()), (root, ()), (root, (a,))]
    assert listed[2].config == {"echo>": "x"}


def test_a_later_batch_can_point_at_stored_tasks(store: Store) -> None:
    with store.write() as tx:
        attempt = _attempt(tx)
        root, _a, b = _tree(tx, attempt.id)
        (c,) = tx.tasks.insert_tasks(
            attempt.id,
            [
                NewTask(
                    full_name="+wf^error",
                    is_group=False,
                    operator="echo",
                    config={},
                    parent_id=root,
                    upstream_ids=(b,),
                    output=TaskOutput(store_params={"s": 1}, report={"r": 1}),
                    state=S.SUCCESS,
                )
            ],
        )
        assert tx.tasks.get_task(c.id) == c
    assert c.id > b
    assert (c.parent_id, c.upstream_ids) == (root, (b,))
    assert (c.store_params, c.state) == ({"s": 1}, S.SUCCESS)


def test_a_transition_is_a_compare_and_set(store: Store) -> None:
    with store.write() as tx:
        attempt = _attempt(tx)
        _, a, _ = _tree(tx, attempt.id)
        assert tx.tasks.transition(a, S.BLOCKED, S.READY)
        assert not tx.tasks.transition(a, S.BLOCKED, S.READY)
        assert tx.tasks.get_task(a).state is S.READY


def test_a_transition_writes_its_fields(store: Store) -> None:
    later = NOW + timedelta(seconds=30)
    with store.write() as tx:
        attempt = _attempt(tx)
        _, a, _ = _tree(tx, attempt.id)
        tx.tasks.transition(a, S.BLOCKED, S.READY)
        tx.tasks.transition(a, S.READY, S.RUNNING, started_at=NOW, log_path="/l/a.log")
        tx.tasks.transition(
            a,
            S.RUNNING,
            S.RETRY_WAITING,
            retry_at=later,
            retry_count=2,
            state_params={"job": 7},
            error={"message": "boom"},
            store_params={"x": {"y": 1}},
            export_params={"e": 1},
            reset_keys=("td.last_results",),
            subtask_config={"+s": {"echo>": 1}},
            report={"n": 1},
        )
        task = tx.tasks.get_task(a)
    assert (task.retry_at, task.retry_count, task.state_params) == (later, 2, {"job": 7})
    assert (task.error, task.store_params, task.export_params) == (
        {"message": "boom"},
        {"x": {"y": 1}},
        {"e": 1},
    )
    assert (task.reset_keys, task.subtask_config, task.report) == (
        ("td.last_results",),
        {"+s": {"echo>": 1}},
        {"n": 1},
    )
    assert (task.started_at, task.log_path) == (NOW, "/l/a.log")


def test_unknown_transition_fields_are_rejected(store: Store) -> None:
    with store.write() as tx:
        attempt = _attempt(tx)
        _, a, _ = _tree(tx, attempt.id)
        with pytest.raises(ValueError, match="nope"):
            tx.tasks.transition(a, S.BLOCKED, S.READY, nope=1)


def test_flag_changes_keep_flags_set_by_others(store: Store) -> None:
    with store.write() as tx:
        attempt = _attempt(tx)
        root, _, _ = _tree(tx, attempt.id)
        tx.attempts.request_cancel(attempt.id)
        assert tx.tasks.update_flags(root, S.PLANNED, add=TaskFlags.DELAYED_GROUP_ERROR)
        assert not tx.tasks.update_flags(root, S.READY, add=TaskFlags.DELAYED_ERROR)
        tx.tasks.transition(
            root, S.PLANNED, S.GROUP_ERROR, remove_flags=TaskFlags.DELAYED_GROUP_ERROR
        )
        assert tx.tasks.get_task(root).flags == TaskFlags.CANCEL_REQUESTED


def test_latest_successes_take_the_newest_earlier_attempt(store: Store) -> None:
    with store.write() as tx:
        first = _attempt(tx)
        _, a1, _b1 = _tree(tx, first.id)
        tx.tasks.transition(a1, S.BLOCKED, S.SUCCESS, store_params={"run": 1})
        second = _attempt(tx, name="2")
        _, a2, b2 = _tree(tx, second.id)
        tx.tasks.transition(a2, S.BLOCKED, S.SUCCESS, store_params={"run": 2})
        tx.tasks.transition(b2, S.BLOCKED, S.ERROR)
        third = _attempt(tx, name="3")
        seen = tx.tasks.latest_successes(first.session_id, before_attempt_id=third.id)
        only_first = tx.tasks.latest_successes(first.session_id, before_attempt_id=second.id)
    assert [(t.full_name, t.store_params) for t in seen] == [("+wf+a", {"run": 2})]
    assert [t.id for t in only_first] == [a1]


# -- transactions -------------------------------------------------------------------------


def test_a_failed_transaction_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(RuntimeError), store.write() as tx:
        tx.projects.put_project("default", "/p", now=NOW)
        raise RuntimeError("boom")
    with store.read() as tx:
        assert tx.projects.find_project("default") is None


def test_committed_writes_are_visible_to_later_reads(store: Store) -> None:
    with store.write() as tx:
        attempt = _attempt(tx)
    with store.read() as tx:
        assert tx.attempts.get_attempt(attempt.id) == attempt
        assert tx.attempts.find_attempt(attempt.session_id, "") == attempt
        assert tx.attempts.find_attempt(attempt.session_id, "x") is None
