"""Running one claimed task: build its request (merge params, evaluate ``${...}``, resolve
the operator from ``_type``), call the operator, and turn what happened into an engine
``Outcome``. ``prepare`` runs on the driver's thread (it reads the executor's graph);
``run`` runs on a worker thread (or the driver's, see ``pool.Driver``) and raises only
``KeyboardInterrupt``.

Exceptions map to outcomes in one place (``outcome_of``): a ``TaskResult`` succeeds,
``PollAgain`` polls, ``TaskFailed`` fails with its error record, ``ConfigError`` and
``ExpressionError`` fail without operator retry (they would fail the same way again), and
anything else is a bug in the operator: it fails with the class name and the traceback.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, cast

from digpy.agent.workspace import LogFactory, SecretsFactory, workdir_of
from digpy.clock import Clock
from digpy.dsl.model import RetryPolicy
from digpy.engine.executor import AttemptExecutor
from digpy.engine.outcomes import Canceled, Failed, Outcome, Polled, Succeeded
from digpy.engine.propagate import timeout_reason
from digpy.errors import ConfigError, ExpressionError, PollAgain, TaskFailed
from digpy.model.records import Task, TaskOutput
from digpy.model.states import TaskFlags
from digpy.spi import Operator, OperatorContext, TaskRequest, TaskResult, TemplateRenderer

log = logging.getLogger(__name__)

RAW_KEYS = frozenset({"_do", "_else_do", "_error", "_check"})
OperatorResolver = Callable[[str], type[Operator]]


class Evaluator(Protocol):
    def __call__(
        self,
        config: Mapping[str, Any],
        params: Mapping[str, Any],
        *,
        timezone: str,
        now: datetime | None = None,
        raw_keys: frozenset[str] = RAW_KEYS,
    ) -> dict[str, Any]: ...


class Renderer(Protocol):
    def __call__(
        self, text: str, params: Mapping[str, Any], *, timezone: str, now: datetime | None = None
    ) -> str: ...


def default_evaluator() -> Evaluator:
    from digpy.dsl.template import evaluate_config

    return cast(Evaluator, evaluate_config)


def default_renderer() -> Renderer:
    from digpy.dsl.template import render

    return cast(Renderer, render)


class Closable(Protocol):
    def write(self, text: str) -> None: ...

    def close(self) -> None: ...


@dataclass(slots=True, kw_only=True)
class Job:
    """One operator run handed to a worker thread."""

    executor: AttemptExecutor
    task: Task
    operator: Operator
    log: Closable
    cancel: Any  # spi.process.CancelEvent
    retry: RetryPolicy | None
    deadline: datetime | None = None
    timeout_reason: str = ""
    cleanup: bool = False  # killed before it ran: call cleanup() instead of run()
    timed_out: bool = field(default=False)


@dataclass(slots=True, kw_only=True)
class TaskRunner:
    project_path: Path
    project_name: str
    resolve_operator: OperatorResolver
    secrets: SecretsFactory
    logs: LogFactory
    clock: Clock
    evaluate: Evaluator | None = None
    render: Renderer | None = None
    # Hides secret values in error records before they are stored (reliability X1): an
    # operator's message or traceback may quote a secret it read.
    mask: Callable[[str], str] | None = None

    def prepare(self, executor: AttemptExecutor, task: Task, now: datetime) -> Job | Outcome:
        """A job to run, or the outcome already known (a template or config error, an
        expired ``_timeout``, a killed task whose operator cannot even be built)."""
        killed = bool(task.flags & TaskFlags.CANCEL_REQUESTED)  # clean up, do not run
        try:
            return self._job(executor, task, now, cleanup=killed)
        except (ExpressionError, ConfigError) as exc:
            return Canceled() if killed else self._masked(Failed({"message": str(exc)}))
        except TaskFailed as exc:
            return Canceled() if killed else self._masked(Failed(exc.error))
        except Exception as exc:  # a broken operator constructor, secrets or log factory
            return Canceled() if killed else self._masked(Failed(_unexpected(exc)))

    def _masked(self, outcome: Outcome) -> Outcome:
        if self.mask is None or not isinstance(outcome, Failed):
            return outcome
        return Failed(_mask_strings(outcome.error, self.mask), retry=outcome.retry)

    def _job(self, executor: AttemptExecutor, task: Task, now: datetime, *, cleanup: bool
             ) -> Job | Outcome:
        scope = executor.scope
        params = executor.params(task)
        merged = params.merged
        if _has_dollar(merged):
            evaluate = self.evaluate or default_evaluator()
            config = evaluate(merged, params.params, timezone=scope.timezone, now=now)
        else:  # nothing to evaluate: skip the template engine (and its import time)
            config = merged
        kind = task.operator or str(config.get("_type") or "")
        operator_class = self.resolve_operator(kind)
        retry = _retry_policy(operator_class, config)
        deadline = _deadline(executor, task, config, now)
        if deadline is not None and deadline[0] <= now and not cleanup:
            return Failed({"message": deadline[1]}, retry=retry)
        request = self._request(executor, task, kind, config, params.local)
        cancel = _cancel_event()
        task_log = self.logs.open(task)
        ctx = OperatorContext(
            request=request,
            project_path=self.project_path,
            workdir=workdir_of(self.project_path, request.workdir),
            secrets=self.secrets(request),
            log=task_log,
            clock=self.clock,
            cancel=cancel,
            render=self._renderer(config, scope.timezone),
        )
        return Job(
            executor=executor,
            task=task,
            operator=operator_class(ctx),
            log=task_log,
            cancel=cancel,
            retry=retry,
            deadline=deadline[0] if deadline else None,
            timeout_reason=deadline[1] if deadline else "",
            cleanup=cleanup,
        )

    def _request(self, executor: AttemptExecutor, task: Task, kind: str,
                 config: Mapping[str, Any], local: Mapping[str, Any]) -> TaskRequest:
        scope = executor.scope
        return TaskRequest(
            project_id=scope.project_id,
            project_name=scope.project_name,
            project_path=self.project_path,
            workflow_name=scope.workflow_name,
            session_id=scope.session_id,
            session_uuid=scope.session_uuid,
            session_time=scope.session_time,
            attempt_id=scope.attempt_id,
            task_id=task.id,
            task_name=task.full_name,
            timezone=scope.timezone,
            operator=kind,
            config=config,
            local_config={k: config[k] for k in local if k in config},
            last_state=task.state_params,
            retry_count=task.retry_count,
            workdir=str(config.get("_workdir") or ""),
        )

    def _renderer(self, config: Mapping[str, Any], timezone: str) -> TemplateRenderer:
        def render_text(text: str) -> str:
            # Looked up on use: most operators never render, and the import is not free.
            render = self.render or default_renderer()
            return render(text, config, timezone=timezone, now=self.clock.now())

        return render_text

    def run(self, job: Job) -> Outcome:
        """Run (or clean up) the operator; never raises."""
        outcome = self._masked(self._run(job))
        if isinstance(outcome, Failed) and job.task.log_path:
            _keep_log(job.task.full_name, job.task.log_path)
        return outcome

    def _run(self, job: Job) -> Outcome:
        try:
            if job.cleanup:
                job.operator.cleanup()
                return Canceled()
            outcome = outcome_of(job.operator.run, job.retry)
            if job.cancel.is_set():
                if job.timed_out:
                    return Failed({"message": job.timeout_reason}, retry=job.retry)
                return Canceled()
            return outcome
        except KeyboardInterrupt:
            raise  # Ctrl-C on the driver's thread (a task run inline): the driver handles it
        except BaseException as exc:  # a bug in cleanup() or in the log: still an outcome
            return Failed(_unexpected(exc), retry=None)
        finally:
            try:
                job.log.close()
            except OSError as exc:  # disk full, permissions: the machine's fault, no traceback
                log.warning("closing the log of %s failed: %s", job.task.full_name, exc)
            except Exception:
                log.exception("closing the log of %s failed", job.task.full_name)


def _keep_log(name: str, path: str) -> None:
    """A log file is created with its first line; a failed task's is created anyway, since
    the failure report points to it."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        log.warning("creating the log of %s failed: %s", name, exc)


def outcome_of(call: Callable[[], TaskResult], retry: RetryPolicy | None) -> Outcome:
    try:
        result = call()
    except PollAgain as exc:
        return Polled(exc.interval, exc.state)
    except TaskFailed as exc:
        return Failed(exc.error, retry=retry)
    except (ConfigError, ExpressionError) as exc:
        return Failed({"message": str(exc)})
    except Exception as exc:
        return Failed(_unexpected(exc), retry=retry)
    return Succeeded(output_of(result))


def output_of(result: TaskResult) -> TaskOutput:
    return TaskOutput(
        export_params=dict(result.export_params),
        store_params=dict(result.store_params),
        reset_keys=tuple(result.reset_store_params),
        subtask_config=dict(result.subtask_config) if result.subtask_config else None,
        report=dict(result.report),
    )


def _mask_strings(value: Any, mask: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, Mapping):
        return {k: _mask_strings(v, mask) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_strings(v, mask) for v in value]
    return value


def _unexpected(exc: BaseException) -> dict[str, Any]:
    """Digdag's record for an unexpected exception: message plus a lower-case class
    suffix (``(runtime)``), and the stack trace."""
    name = type(exc).__name__
    for suffix in ("Exception", "Error"):
        if name.endswith(suffix) and name != suffix:
            name = name[: -len(suffix)]
    message = str(exc) or type(exc).__name__
    return {
        "message": f"{message} ({name.lower()})",
        "stacktrace": "".join(traceback.format_exception(exc)),
    }


def _retry_policy(operator_class: type[Operator], config: Mapping[str, Any]
                  ) -> RetryPolicy | None:
    """Operator-level ``_retry`` from the merged params, for operators that honour it."""
    value = config.get("_retry")
    if value is None or not operator_class.retryable:
        return None
    from digpy.dsl.compiler import parse_retry

    return parse_retry(value)


def _deadline(executor: AttemptExecutor, task: Task, config: Mapping[str, Any],
              now: datetime) -> tuple[datetime, str] | None:
    """The earliest of the task's own ``_timeout`` (from now) and its groups' deadlines."""
    found = []
    value = config.get("_timeout")
    if value is not None:
        from digpy.dsl.durations import parse_duration

        seconds = parse_duration(value)
        found.append((now + timedelta(seconds=seconds), timeout_reason(seconds)))
    group = executor.deadline(task)
    if group is not None:
        found.append(group)
    return min(found) if found else None


def _has_dollar(value: Any) -> bool:
    """Whether any string in ``value`` contains ``$`` (only those are evaluated)."""
    if isinstance(value, str):
        return "$" in value
    if isinstance(value, Mapping):
        return any(_has_dollar(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_dollar(v) for v in value)
    return False


def _cancel_event() -> Any:
    from digpy.spi.process import CancelEvent

    return CancelEvent()
