"""`SqlStorage`: the one storage class, every role's queries over a backend's `Runner`."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from phosphobs.storage.protocol import WriteOp, WriteResult
from phosphobs.storage.sql import accounts, analytics, reads, retention, server_secrets, span_tree, trace_reads
from phosphobs.storage.sql import detection as q
from phosphobs.storage.sql.dialect import Conn

T = TypeVar("T")
P = ParamSpec("P")


class Runner(Protocol):
    """How a backend runs work: reads on a connection of the calling thread or a pool, small writes in a
    short transaction that serialises with group commits, and the group commit itself."""

    def read(self, fn: Callable[[Conn], T]) -> T: ...
    def transaction(self, fn: Callable[[Conn], T]) -> T: ...
    def write(self, ops: list[WriteOp], now_us: int) -> list[WriteResult]: ...
    def migrate(self) -> list[str]: ...
    def close(self) -> None: ...


def _reading(query: Callable[Concatenate[Conn, P], T]) -> Callable[Concatenate[SqlStorage, P], T]:
    def method(self: SqlStorage, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._runner.read(_bind(query, args, kwargs))
    method.__doc__ = query.__doc__
    return method


def _changing(change: Callable[Concatenate[Conn, P], T]) -> Callable[Concatenate[SqlStorage, P], T]:
    def method(self: SqlStorage, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._runner.transaction(_bind(change, args, kwargs))
    method.__doc__ = change.__doc__
    return method


def _bind(fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Callable[[Conn], T]:
    return lambda conn: fn(conn, *args, **kwargs)


class _PinnedRunner:
    """A runner over one connection already in a snapshot: every read sees that snapshot; nothing writes."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    def read(self, fn: Callable[[Conn], T]) -> T:
        return fn(self._conn)

    def transaction(self, fn: Callable[[Conn], T]) -> T:
        raise TypeError("a snapshot only reads")

    def write(self, ops: list[WriteOp], now_us: int) -> list[WriteResult]:
        raise TypeError("a snapshot only reads")

    def migrate(self) -> list[str]:
        raise TypeError("a snapshot only reads")

    def close(self) -> None:
        pass


class SqlStorage:
    """Every role of `phosphobs.storage.protocol`: each method runs its shared query on the runner,
    reads on a reader, changes in a short transaction. Blocking: call them off the event loop.
    A backend adds only its `claim_detections` (how the detection queue is claimed)."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner

    def _admin(self, fn: Callable[[Conn], T]) -> T:
        return self._runner.transaction(fn)

    def migrate(self) -> list[str]:
        return self._runner.migrate()

    def snapshot(self, fn: Callable[[SqlStorage], T]) -> T:
        """Run `fn`'s reads, made through the storage it is given, against one committed state."""
        return self._runner.read(lambda conn: fn(SqlStorage(_PinnedRunner(conn))))

    def close(self) -> None:
        self._runner.close()

    def write(self, ops: list[WriteOp], now_us: int) -> list[WriteResult]:
        return self._runner.write(ops, now_us)

    def prune(self, older_than_us: int) -> int:
        total = 0
        for project in self.list_projects():  # short batches: the writer is never held for long
            while deleted := self._runner.transaction(partial(retention.prune_batch, project_id=project.id,
                                                              older_than_us=older_than_us)):
                total += deleted
            while self._runner.transaction(partial(span_tree.prune_spans, project=project.id,
                                                   older_than_us=older_than_us, batch=retention.BATCH)):
                pass  # spans go with their events (by end time: a parent never outlives its children)
        return total

    create_project = _changing(accounts.create_project)
    get_project = _reading(accounts.get_project)
    list_projects = _reading(accounts.list_projects)
    set_project_plan = _changing(accounts.set_project_plan)
    create_key = _changing(accounts.create_key)
    find_key = _reading(accounts.find_key)
    list_keys = _reading(accounts.list_keys)
    revoke_key = _changing(accounts.revoke_key)

    get_event = _reading(reads.get_event)
    list_events = _reading(reads.list_events)
    list_feedback = _reading(reads.list_feedback)
    get_session = _reading(reads.get_session)
    list_sessions = _reading(reads.list_sessions)
    session_events = _reading(reads.session_events)
    get_trace = _reading(trace_reads.get_trace)
    list_traces = _reading(trace_reads.list_traces)
    session_traces = _reading(trace_reads.session_traces)

    usage_series = _reading(analytics.usage_series)
    session_series = _reading(analytics.session_series)
    latency_percentiles = _reading(analytics.latency_percentiles)
    top_models = _reading(analytics.top_models)
    list_users = _reading(analytics.list_users)
    search_sessions = _reading(analytics.search_sessions)

    get_admin = _reading(accounts.get_admin)
    count_admins = _reading(accounts.count_admins)
    set_admin_password = _changing(accounts.set_admin_password)
    create_web_session = _changing(accounts.create_web_session)
    get_web_session = _reading(accounts.get_web_session)
    delete_web_session = _changing(accounts.delete_web_session)

    get_server_secret = _reading(server_secrets.get_server_secret)
    add_server_secret = _changing(server_secrets.add_server_secret)

    judge_examples = _reading(q.judge_examples)
    session_neighbours = _reading(q.session_neighbours)
    judge_enabled = _reading(q.judge_enabled)
    set_judge_enabled = _changing(q.set_judge_enabled)
    detections_for = _reading(q.detections_for)
    evaluations_for = _reading(q.evaluations_for)
    human_rates = _reading(q.human_rates)
    human_totals = _reading(q.human_totals)
    quality = _reading(q.quality)
    disagreements = _reading(q.disagreements)
    rerun_detection = _changing(q.rerun)
    detection_lag = _reading(q.lag)
