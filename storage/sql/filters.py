"""WHERE clauses of the listings, written once for every dialect."""

from __future__ import annotations

from typing import Any

from phosphobs.storage.dashboard_records import SessionSearch
from phosphobs.storage.protocol import EventQuery, SessionQuery
from phosphobs.storage.sql.dialect import Dialect


def session_where(project_id: str, q: SessionQuery | SessionSearch, d: Dialect) -> tuple[list[str], list[Any]]:
    """Conditions (over alias `s`) and their arguments; a `SessionQuery`'s keyset is for
    `ORDER BY end_us DESC, session_id DESC` (a `SessionSearch` pages by its own sort)."""
    where, args = ["s.project_id = ?", "s.event_count > 0"], [project_id]
    for condition, value in (
        ("s.user_id = ?", q.user_id),
        ("s.end_us >= ?", q.since_us),  # sessions active in [since, until)
        ("s.start_us < ?", q.until_us),
        (d.contains.format(col="s.models"), q.model),
        (d.contains.format(col="s.tags"), q.tag),
    ):
        if value is not None:
            where.append(condition)
            args.append(value)
    if q.has_failures is not None:
        where.append("s.failure_count > 0" if q.has_failures else "s.failure_count = 0")
    if isinstance(q, SessionQuery) and (q.flag_source is not None or q.detected_flag is not None):
        inner = ["e.project_id = s.project_id", "e.session_id = s.session_id"]
        if q.flag_source is not None:
            inner.append(_source_condition("e", q.flag_source))
            args += [] if q.flag_source in ("none", "detector") else [q.flag_source]
        if q.detected_flag is not None:
            inner.append("e.detected_flag = ?")
            args.append(q.detected_flag)
        where.append(f"EXISTS (SELECT 1 FROM events e WHERE {' AND '.join(inner)})")
    if isinstance(q, SessionQuery) and q.after is not None:
        where.append("(s.end_us, s.session_id) < (?, ?)")
        args += list(q.after)
    return where, args


def event_field_where(project_id: str, q: EventQuery) -> tuple[list[str], list[Any]]:
    """Equality conditions (over alias `e`) of an event listing; ranges, tags and text depend on the walk."""
    where, args = ["e.project_id = ?"], [project_id]
    for column, value in (
        ("session_id", q.session_id), ("user_id", q.user_id), ("model", q.model),
        ("provider", q.provider), ("flag", q.flag), ("kind", q.kind), ("detected_flag", q.detected_flag),
    ):
        if value is not None:
            where.append(f"e.{column} = ?")
            args.append(value)
    if q.flag_source is not None:
        where.append(_source_condition("e", q.flag_source))
        args += [] if q.flag_source in ("none", "detector") else [q.flag_source]
    return where, args


def _source_condition(alias: str, source: str) -> str:
    """An event's flag source; an own flag (error span) not yet settled by the worker counts as detector."""
    if source == "none":
        return f"{alias}.flag IS NULL"
    if source == "detector":
        return f"({alias}.flag_source = 'detector' OR ({alias}.flag_source IS NULL AND {alias}.flag IS NOT NULL))"
    return f"{alias}.flag_source = ?"
