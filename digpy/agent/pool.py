"""Worker threads and the loop that drives attempts to completion.

The ``Driver`` owns every store call (one thread), so SQLite sees a single writer: it ticks
the executors, claims READY tasks up to the free threads, hands each operator run to the
``WorkerPool`` and records outcomes as they come back. Recording an outcome, propagating
and claiming what became ready is one ``AttemptExecutor.advance`` (one commit per task of a
sequential workflow), and the claimed tasks start at once. Time comes from the injected
Clock: with nothing running, it sleeps until the next retry or timeout (a FakeClock just
advances).
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from digpy.agent.runner import Job, TaskRunner
from digpy.agent.watchdog import Watchdog
from digpy.clock import Clock
from digpy.engine.executor import AttemptExecutor
from digpy.engine.outcomes import Canceled, Outcome
from digpy.engine.resume import LocalSelection
from digpy.model.records import Task
from digpy.model.states import TaskFlags

log = logging.getLogger(__name__)

DEFAULT_THREADS = 32  # what max_task_threads=0 ("no limit") means in practice
BUSY_POLL_SECONDS = 0.05  # how often deadlines are checked while operators run
IDLE_STEP_SECONDS = 1.0  # longest single sleep, so external kills are noticed
KILL_CHECK_SECONDS = 1.0
KILL_CHECK_STEPS = 20  # ...or every this many rounds (a FakeClock may not move while waiting)


class WorkerPool:
    """Runs jobs on up to ``size`` threads and queues (job, outcome) when each ends."""

    def __init__(self, runner: TaskRunner, size: int) -> None:
        self.size = size if size > 0 else DEFAULT_THREADS
        self._runner = runner
        self._threads = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="digpy-task")
        self._done: queue.SimpleQueue[tuple[Job, Outcome]] = queue.SimpleQueue()
        self.running: dict[int, Job] = {}

    @property
    def free(self) -> int:
        return self.size - len(self.running)

    def submit(self, job: Job) -> None:
        self.running[job.task.id] = job
        self._threads.submit(self._work, job)

    def _work(self, job: Job) -> None:
        self._done.put((job, self._runner.run(job)))

    def collect(self, timeout: float | None) -> list[tuple[Job, Outcome]]:
        """Finished jobs: waits up to ``timeout`` for the first, then takes what is there."""
        finished = []
        try:
            finished.append(self._done.get(timeout=timeout) if timeout else self._done.get_nowait())
        except queue.Empty:
            return []
        while True:
            try:
                finished.append(self._done.get_nowait())
            except queue.Empty:
                break
        for job, _ in finished:
            self.running.pop(job.task.id, None)
        return finished

    def cancel_all(self, reason: str, executor: AttemptExecutor | None = None) -> None:
        for job in self.running.values():
            if executor is None or job.executor is executor:
                job.cancel.set(reason)

    def shutdown(self) -> None:
        self._threads.shutdown(wait=True)


@dataclass(slots=True)
class Driven:
    executor: AttemptExecutor
    selection: LocalSelection = field(default_factory=LocalSelection)
    # Outcomes not yet known to be recorded: kept until an ``advance`` returns, so a store
    # error never drops one (replaying a recorded one is a no-op: the task is no longer
    # RUNNING). ``suspect``: the last advance raised, maybe after its commit.
    pending: list[tuple[Task, Outcome]] = field(default_factory=list)
    suspect: bool = False


class Driver:
    """Drives attempts until each is done. ``interrupt()`` (Ctrl-C) kills them all.

    With ``inline``, a task that is the only one to run (one attempt, nothing running,
    nothing waiting on a timer) runs on the driver's thread, watched by a ``Watchdog``
    for its ``_timeout`` and for kills from other processes; ``close()`` stops it.
    """

    def __init__(
        self,
        runner: TaskRunner,
        pool: WorkerPool,
        clock: Clock,
        executor_for: Callable[[int], AttemptExecutor] | None = None,
        *,
        inline: bool = False,
    ) -> None:
        self.runner = runner
        self.pool = pool
        self.clock = clock
        self.attempts: list[Driven] = []
        self._executor_for = executor_for
        self._adopted: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._last_kill_check = clock.monotonic()
        self._steps_since_kill_check = 0
        self._watchdog = Watchdog(clock) if inline else None

    def add(self, executor: AttemptExecutor, selection: LocalSelection | None = None) -> None:
        self.attempts.append(Driven(executor, selection or LocalSelection()))

    def adopt(self, attempt_id: int) -> None:
        """Drive another attempt too (thread-safe: ``require>`` calls it from a worker)."""
        self._adopted.put(attempt_id)

    @property
    def done(self) -> bool:
        return (
            all(d.executor.done for d in self.attempts)
            and not self.pool.running
            and self._adopted.empty()
        )

    def run(self) -> None:
        while not self.done:
            self.step()

    def run_interruptibly(self) -> None:
        """Ctrl-C kills the attempts, stops running operators and waits for them, so each
        attempt ends ``killed`` and can be retried; a second Ctrl-C stops waiting."""
        try:
            self.run()
        except KeyboardInterrupt:
            for driven in self.attempts:
                driven.executor.reload()  # the interrupt may have landed between two updates
            self.interrupt("interrupted (Ctrl-C)")
            self.run()

    def step(self) -> None:
        """One round: tick, dispatch, check deadlines, then wait for something to happen."""
        self._take_adopted()
        now = self.clock.now()
        dispatched = 0
        for driven in self.attempts:
            dispatched += self._advance(driven, (), now)
        self._check_deadlines(now)
        self._check_external_kills()
        if self.done:
            return
        if self.pool.running:
            self._record(self.pool.collect(self._busy_wait(now)))
        elif not dispatched and not self._ready():
            self._idle(now)

    def interrupt(self, reason: str = "interrupted") -> None:
        """Kill every attempt and stop their running operators. Tasks claimed but never
        handed to a thread (the interrupt came in between) end canceled at once."""
        now = self.clock.now()
        for driven in self.attempts:
            executor = driven.executor
            if executor.done:
                continue
            executor.kill()
            orphans = [t for t in executor.running if t.id not in self.pool.running]
            if orphans:
                executor.finish([(t, Canceled()) for t in orphans], now)
        self.pool.cancel_all(reason)

    def kill(self, executor: AttemptExecutor, reason: str = "killed") -> bool:
        ok = executor.kill()
        self.pool.cancel_all(reason, executor)
        return ok

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.close()

    # -- internals ----------------------------------------------------------------------------

    def _take_adopted(self) -> None:
        while not self._adopted.empty():
            attempt_id = self._adopted.get_nowait()
            if self._executor_for is None:
                raise RuntimeError("this driver cannot adopt attempts")
            if all(d.executor.attempt.id != attempt_id for d in self.attempts):
                self.add(self._executor_for(attempt_id))

    def _advance(self, driven: Driven, results: Sequence[tuple[Task, Outcome]],
                 now: datetime) -> int:
        """Record ``results``, propagate, claim READY tasks up to the free threads and start
        them; outcomes known without running (replayed, skipped, a template error) go round
        again. How many tasks were claimed."""
        driven.pending.extend(results)
        if driven.suspect:
            driven.pending.extend(self._launch(driven, self._recover(driven, now), now))
        total = 0
        while True:
            claimed = self._advance_once(driven, now)
            total += len(claimed)
            if not claimed:
                return total
            driven.pending.extend(self._launch(driven, claimed, now))
            if not driven.pending:
                return total

    def _advance_once(self, driven: Driven, now: datetime) -> list[Task]:
        try:
            claimed = driven.executor.advance(driven.pending, now, claim=self.pool.free,
                                              log_path=self._log_path)
        except BaseException:
            driven.suspect = True
            raise
        driven.pending.clear()
        return claimed

    def _recover(self, driven: Driven, now: datetime) -> list[Task]:
        """After an advance that raised: rebuild the graph from the store (the executor's
        own reload may have failed too), and return the tasks stored RUNNING that no thread
        runs and no pending outcome reports: a claim that committed although it reported
        an error. They are this driver's to run (once: they were never handed over)."""
        executor = driven.executor
        executor.reload()
        driven.suspect = False
        reported = {task.id for task, _ in driven.pending}
        return [t for t in executor.running
                if t.id not in self.pool.running and t.id not in reported]

    def _launch(self, driven: Driven, claimed: Sequence[Task], now: datetime
                ) -> list[tuple[Task, Outcome]]:
        """Hand each claimed task to a thread; the outcomes already known instead."""
        executor = driven.executor
        immediate: list[tuple[Task, Outcome]] = []
        for task in claimed:
            decided = driven.selection.decide(task)
            prepared = decided if decided is not None else self.runner.prepare(executor, task, now)
            if isinstance(prepared, Job) and len(claimed) == 1 and self._alone(executor):
                immediate.append((task, self._run_inline(prepared)))
            elif isinstance(prepared, Job):
                self.pool.submit(prepared)
                if executor.graph[task.id].flags & TaskFlags.CANCEL_REQUESTED:
                    prepared.cancel.set("killed")  # the kill came between claim and submit
            else:
                immediate.append((task, prepared))
        return immediate

    def _alone(self, executor: AttemptExecutor) -> bool:
        """Whether a claimed task may run on this thread: nothing else could start or fall
        due before it ends (threads would run such work alongside)."""
        return (
            self._watchdog is not None
            and not self.pool.running
            and len(self.attempts) == 1
            and self._adopted.empty()
            and not executor.graph.ready
            and executor.next_wakeup() is None
        )

    def _run_inline(self, job: Job) -> Outcome:
        """Run ``job`` here. It counts as running meanwhile, so ``kill()`` from another
        thread reaches it; Ctrl-C propagates (``interrupt`` then cancels the task)."""
        assert self._watchdog is not None
        if job.executor.graph[job.task.id].flags & TaskFlags.CANCEL_REQUESTED:
            job.cancel.set("killed")
        self.pool.running[job.task.id] = job
        self._watchdog.watch(job)
        try:
            outcome = self.runner.run(job)
        finally:
            self._watchdog.unwatch()
            self.pool.running.pop(job.task.id, None)
        if job.cancel.is_set() and not job.timed_out:
            # Possibly the watchdog saw a kill from another process: the graph must know
            # before this outcome is recorded, or the next task would be claimed.
            self._check_external_kills(force=True)
        return outcome

    def _log_path(self, task: Task) -> str | None:
        path = self.runner.logs.path(task)
        return str(path) if path is not None else None

    def _ready(self) -> bool:
        return any(d.executor.graph.ready and not d.executor.done for d in self.attempts)

    def _record(self, finished: Sequence[tuple[Job, Outcome]]) -> None:
        now = self.clock.now()
        by_executor: dict[int, list[tuple[Task, Outcome]]] = {}
        owners: dict[int, AttemptExecutor] = {}
        for job, outcome in finished:
            owners[id(job.executor)] = job.executor
            by_executor.setdefault(id(job.executor), []).append((job.task, outcome))
        advancing = []
        for driven in list(self.attempts):
            results = by_executor.pop(id(driven.executor), None)
            if results:  # kept before any store call: a failure below loses none of them
                driven.pending.extend(results)
                advancing.append(driven)
        for driven in advancing:
            self._advance(driven, (), now)
        for key, results in by_executor.items():
            # An attempt its owner dropped meanwhile (a daemon lost its lease): just report.
            owners[key].finish(results, now)

    def _check_deadlines(self, now: datetime) -> None:
        for job in self.pool.running.values():
            if job.deadline is not None and job.deadline <= now and not job.cancel.is_set():
                job.timed_out = True
                job.cancel.set(job.timeout_reason)

    def _check_external_kills(self, *, force: bool = False) -> None:
        mono = self.clock.monotonic()
        self._steps_since_kill_check += 1
        if (
            not force
            and mono - self._last_kill_check < KILL_CHECK_SECONDS
            and self._steps_since_kill_check < KILL_CHECK_STEPS
        ):
            return
        self._last_kill_check = mono
        self._steps_since_kill_check = 0
        for driven in self.attempts:
            ex = driven.executor
            if not ex.done and ex.check_external_kill():
                self.pool.cancel_all("killed", ex)

    def _next_wakeup(self) -> datetime | None:
        times = [d.executor.next_wakeup() for d in self.attempts if not d.executor.done]
        times += [j.deadline for j in self.pool.running.values() if j.deadline is not None]
        known = [t for t in times if t is not None]
        return min(known) if known else None

    def _busy_wait(self, now: datetime) -> float:
        wakeup = self._next_wakeup()
        if wakeup is None:
            return BUSY_POLL_SECONDS * 4
        return max(0.001, min(BUSY_POLL_SECONDS, (wakeup - now).total_seconds()))

    def _idle(self, now: datetime) -> None:
        wakeup = self._next_wakeup()
        if wakeup is None:
            stuck = [d.executor.attempt.id for d in self.attempts if not d.executor.done]
            raise RuntimeError(f"attempts {stuck} cannot progress: nothing runs or waits")
        self.clock.sleep(min(IDLE_STEP_SECONDS, max(0.0, (wakeup - now).total_seconds())))


