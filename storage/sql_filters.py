"""WHERE clauses of the listings, written once for every SQL dialect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phosphobs.storage.protocol import EventQuery, SessionQuery


@dataclass(frozen=True, slots=True)
class Dialect:
    mark: str  # the driver's placeholder: "?" (sqlite3) or "%s" (psycopg)
    contains: str  # predicate "list column {col} contains the value", with one placeholder


SQLITE = Dialect("?", "EXISTS (SELECT 1 FROM json_each({col}) WHERE value = ?)")
POSTGRES = Dialect("%s", "%s = ANY({col})")


def session_where(project_id: str, q: SessionQuery, d: Dialect) -> tuple[list[str], list[Any]]:
    """Conditions (over alias `s`) and their arguments; keyset-ready for `ORDER BY end_us DESC, session_id DESC`."""
    m = d.mark
    where, args = [f"s.project_id = {m}", "s.event_count > 0"], [project_id]
    for condition, value in (
        (f"s.user_id = {m}", q.user_id),
        (f"s.end_us >= {m}", q.since_us),  # sessions active in [since, until)
        (f"s.start_us < {m}", q.until_us),
        (d.contains.format(col="s.models"), q.model),
        (d.contains.format(col="s.tags"), q.tag),
    ):
        if value is not None:
            where.append(condition)
            args.append(value)
    if q.has_failures is not None:
        where.append("s.failure_count > 0" if q.has_failures else "s.failure_count = 0")
    if q.flag_source is not None or q.detected_flag is not None:
        inner = ["e.project_id = s.project_id", "e.session_id = s.session_id"]
        if q.flag_source is not None:
            inner.append(_source_condition("e", q.flag_source, d))
            args += [] if q.flag_source in ("none", "detector") else [q.flag_source]
        if q.detected_flag is not None:
            inner.append(f"e.detected_flag = {m}")
            args.append(q.detected_flag)
        where.append(f"EXISTS (SELECT 1 FROM events e WHERE {' AND '.join(inner)})")
    if q.after is not None:
        where.append(f"(s.end_us, s.session_id) < ({m}, {m})")
        args += list(q.after)
    return where, args


def event_field_where(project_id: str, q: EventQuery, d: Dialect) -> tuple[list[str], list[Any]]:
    """Equality conditions (over alias `e`) of an event listing; ranges, tags and text are backend-specific."""
    where, args = [f"e.project_id = {d.mark}"], [project_id]
    for column, value in (
        ("session_id", q.session_id), ("user_id", q.user_id), ("model", q.model),
        ("provider", q.provider), ("flag", q.flag), ("kind", q.kind), ("detected_flag", q.detected_flag),
    ):
        if value is not None:
            where.append(f"e.{column} = {d.mark}")
            args.append(value)
    if q.flag_source is not None:
        where.append(_source_condition("e", q.flag_source, d))
        args += [] if q.flag_source in ("none", "detector") else [q.flag_source]
    return where, args


def _source_condition(alias: str, source: str, d: Dialect) -> str:
    """An event's flag source; an own flag (error span) not yet settled by the worker counts as detector."""
    if source == "none":
        return f"{alias}.flag IS NULL"
    if source == "detector":
        return (f"({alias}.flag_source = 'detector' OR ({alias}.flag_source IS NULL"
                f" AND {alias}.flag IS NOT NULL))")
    return f"{alias}.flag_source = {d.mark}"
