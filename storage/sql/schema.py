"""The ordered schema steps, each written once for both backends and rendered with a backend's `SchemaWords`.

Append only: a step, once released, never changes what it does. Its SQLite text stays as released too, down
to the indentation: SQLite stores CREATE text verbatim, and a database created today matches older ones.

In a step, `$word` is the backend's spelling; a `$word` alone on its line stands for whole lines (indented
like it, and none when the backend has nothing there).
"""

from __future__ import annotations

import re
import textwrap
from typing import TypedDict


class SchemaWords(TypedDict):
    """A backend's spelling of what its schema does differently."""

    big: str  # 64-bit integer
    small: str  # 0/1 flag
    real: str  # double precision float
    ctext: str  # text that is compared or sorted (ids, models, tags): byte-wise in both backends
    json: str  # a JSON document
    text_list: str  # a sorted list of strings (sessions' models and tags) ...
    empty_list: str  # ... and its empty value
    identity: str  # a primary key the database numbers
    without_rowid: str  # table suffix: stored in primary key order
    # whole lines, where the backends truly differ
    api_keys_indexes: str
    search_column: str  # full-text search over events' input and output: a column of events,
    search_indexes: str  # its indexes,
    search_table: str  # or a table of its own
    event_tags_indexes: str
    shard_column: str  # rollups' shard (`Dialect.shard`) ...
    shard_key: str  # ... and its place in their primary key
    # index column lists
    events_by_session: str
    events_by_model: str


STEPS: list[tuple[str, str]] = [
    (
        "0001_core",
        """
        CREATE TABLE projects (
            id $ctext PRIMARY KEY,
            name $ctext NOT NULL UNIQUE,
            plan TEXT NOT NULL DEFAULT 'free',
            rate_limit_per_min $big,
            created_us $big NOT NULL
        );
        CREATE TABLE api_keys (
            id $ctext PRIMARY KEY,
            project_id $ctext NOT NULL REFERENCES projects(id),
            name TEXT NOT NULL,
            prefix $ctext NOT NULL,
            key_hash $ctext NOT NULL UNIQUE,
            created_us $big NOT NULL,
            last_used_us $big,
            revoked_us $big
        );
        $api_keys_indexes
        CREATE TABLE events (
            seq $identity,
            project_id $ctext NOT NULL,
            event_id $ctext NOT NULL,
            session_id $ctext,
            session_kind TEXT,
            explicit_session_id $ctext,
            user_id $ctext,
            explicit_user_id $ctext,
            ts_us $big NOT NULL,
            input TEXT NOT NULL,
            output TEXT NOT NULL,
            model $ctext,
            provider $ctext,
            latency_ms $real,
            tokens_in $big,
            tokens_out $big,
            cost_cents $real,
            cost_source TEXT,
            tags $json NOT NULL DEFAULT '[]',
            metadata $json NOT NULL DEFAULT '{}',
            source TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            error_type TEXT,
            own_flag TEXT,
            flag TEXT,
            trace_id $ctext,
            span_id $ctext,
            parent_span_id $ctext,
            received_us $big NOT NULL,
            $search_column
            UNIQUE (project_id, event_id)
        );
        CREATE INDEX events_by_time ON events (project_id, ts_us DESC, seq DESC);
        CREATE INDEX events_by_session ON events ($events_by_session);
        CREATE INDEX events_by_user ON events (project_id, user_id, ts_us);
        CREATE INDEX events_by_model ON events ($events_by_model);
        CREATE INDEX events_by_trace ON events (project_id, trace_id) WHERE trace_id IS NOT NULL;
        $search_indexes
        CREATE TABLE event_tags (
            project_id $ctext NOT NULL,
            tag $ctext NOT NULL,
            ts_us $big NOT NULL,
            seq $big NOT NULL,
            PRIMARY KEY (project_id, tag, ts_us, seq)
        )$without_rowid;
        $event_tags_indexes
        $search_table
        CREATE TABLE feedback (
            id $identity,
            project_id $ctext NOT NULL,
            event_id $ctext NOT NULL,
            flag TEXT NOT NULL,
            comment TEXT,
            source TEXT,
            created_us $big NOT NULL
        );
        CREATE INDEX feedback_by_event ON feedback (project_id, event_id, id);
        CREATE TABLE sessions (
            project_id $ctext NOT NULL,
            session_id $ctext NOT NULL,
            kind TEXT NOT NULL,
            user_id $ctext,
            user_ts_us $big,
            start_us $big NOT NULL,
            end_us $big NOT NULL,
            event_count $big NOT NULL DEFAULT 0,
            tokens_in $big NOT NULL DEFAULT 0,
            tokens_out $big NOT NULL DEFAULT 0,
            cost_cents $real,
            flagged_count $big NOT NULL DEFAULT 0,
            success_count $big NOT NULL DEFAULT 0,
            failure_count $big NOT NULL DEFAULT 0,
            models $text_list NOT NULL DEFAULT $empty_list,
            tags $text_list NOT NULL DEFAULT $empty_list,
            PRIMARY KEY (project_id, session_id)
        );
        CREATE INDEX sessions_by_activity ON sessions (project_id, end_us DESC, session_id DESC);
        CREATE INDEX sessions_by_user ON sessions (project_id, user_id, end_us DESC);
        CREATE INDEX sessions_user_windows ON sessions (project_id, user_id, kind, start_us);
        CREATE TABLE rate_windows (
            project_id $ctext NOT NULL,
            window_start $big NOT NULL,
            used $big NOT NULL,
            PRIMARY KEY (project_id, window_start)
        )$without_rowid;
        """,
    ),
    (
        "0002_otlp_joins",
        """
        CREATE TABLE event_bases (
            project_id $ctext NOT NULL,
            event_id $ctext NOT NULL,
            base TEXT NOT NULL,
            PRIMARY KEY (project_id, event_id)
        )$without_rowid;
        CREATE TABLE event_patches (
            project_id $ctext NOT NULL,
            event_id $ctext NOT NULL,
            order_key $ctext NOT NULL,
            patch TEXT NOT NULL,
            PRIMARY KEY (project_id, event_id, order_key)
        )$without_rowid;
        CREATE TABLE trace_context (
            project_id $ctext NOT NULL,
            trace_id $ctext NOT NULL,
            session_start_us $big,
            session_id $ctext,
            user_start_us $big,
            user_id $ctext,
            PRIMARY KEY (project_id, trace_id)
        )$without_rowid;
        """,
    ),
    (
        "0003_dashboard",
        """
        CREATE TABLE admin_users (
            username $ctext PRIMARY KEY,
            password_hash TEXT NOT NULL,
            created_us $big NOT NULL,
            updated_us $big NOT NULL
        );
        CREATE TABLE web_sessions (
            token_hash $ctext PRIMARY KEY,
            username $ctext NOT NULL REFERENCES admin_users(username) ON DELETE CASCADE,
            csrf_token TEXT NOT NULL,
            created_us $big NOT NULL,
            expires_us $big NOT NULL
        );
        CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_us);
        CREATE INDEX sessions_by_start ON sessions (project_id, start_us);
        CREATE TABLE usage_hourly (
            project_id $ctext NOT NULL,
            hour_us $big NOT NULL,
            model $ctext NOT NULL,
            $shard_column
            events $big NOT NULL DEFAULT 0,
            errors $big NOT NULL DEFAULT 0,
            tokens_in $big NOT NULL DEFAULT 0,
            tokens_out $big NOT NULL DEFAULT 0,
            cost_cents $real NOT NULL DEFAULT 0,
            costed $big NOT NULL DEFAULT 0,
            latency_ms_sum $real NOT NULL DEFAULT 0,
            latency_count $big NOT NULL DEFAULT 0,
            success_count $big NOT NULL DEFAULT 0,
            failure_count $big NOT NULL DEFAULT 0,
            PRIMARY KEY (project_id, hour_us, model$shard_key)
        )$without_rowid;
        CREATE TABLE latency_hourly (
            project_id $ctext NOT NULL,
            hour_us $big NOT NULL,
            model $ctext NOT NULL,
            bucket INTEGER NOT NULL,
            $shard_column
            count $big NOT NULL DEFAULT 0,
            PRIMARY KEY (project_id, hour_us, model, bucket$shard_key)
        )$without_rowid;
        INSERT INTO usage_hourly (project_id, hour_us, model, events, errors, tokens_in, tokens_out, cost_cents,
            costed, latency_ms_sum, latency_count, success_count, failure_count)
        SELECT project_id, (ts_us / 3600000000) * 3600000000, COALESCE(model, ''), COUNT(*),
            COUNT(CASE WHEN status = 'error' THEN 1 END), COALESCE(SUM(tokens_in), 0), COALESCE(SUM(tokens_out), 0),
            COALESCE(SUM(cost_cents), 0), COUNT(cost_cents), COALESCE(SUM(latency_ms), 0), COUNT(latency_ms),
            COUNT(CASE WHEN flag = 'success' THEN 1 END), COUNT(CASE WHEN flag = 'failure' THEN 1 END)
        FROM events GROUP BY 1, 2, 3;
        INSERT INTO latency_hourly (project_id, hour_us, model, bucket, count)
        SELECT project_id, (ts_us / 3600000000) * 3600000000, COALESCE(model, ''),
            CASE WHEN latency_ms <= 100 THEN 0 WHEN latency_ms <= 250 THEN 1 WHEN latency_ms <= 500 THEN 2
                 WHEN latency_ms <= 1000 THEN 3 WHEN latency_ms <= 2000 THEN 4 WHEN latency_ms <= 4000 THEN 5
                 WHEN latency_ms <= 8000 THEN 6 WHEN latency_ms <= 15000 THEN 7 WHEN latency_ms <= 30000 THEN 8
                 WHEN latency_ms <= 60000 THEN 9 WHEN latency_ms <= 120000 THEN 10 ELSE 11 END,
            COUNT(*)
        FROM events WHERE latency_ms IS NOT NULL GROUP BY 1, 2, 3, 4;
        """,
    ),
]

# Issue 13: a span merged into another span's event (same provider call) keeps its id as an alias, so
# content that arrives later for it (log records) lands on the event that stands for the call.
STEPS.append((
    "0004_event_aliases",
    """
    CREATE TABLE event_aliases (
        project_id $ctext NOT NULL,
        event_id $ctext NOT NULL,
        target_id $ctext NOT NULL,
        PRIMARY KEY (project_id, event_id)
    )$without_rowid;
    CREATE INDEX event_aliases_by_target ON event_aliases (project_id, target_id);
    """,
))

# The GenAI span tree's spans that are not events (`storage/sql/span_tree.py`); events are the call spans.
STEPS.append((
    "0005_span_tree",
    """
    CREATE TABLE spans (
        project_id $ctext NOT NULL,
        trace_id $ctext NOT NULL,
        span_id $ctext NOT NULL,
        parent_span_id $ctext,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        start_us $big NOT NULL,
        end_us $big NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        event_id $ctext,
        agent_name TEXT,
        tool_name TEXT,
        model $ctext,
        tokens_in $big,
        tokens_out $big,
        cost_cents $real,
        attributes TEXT NOT NULL DEFAULT '{}',
        pending $small NOT NULL DEFAULT 0,
        received_us $big NOT NULL,
        PRIMARY KEY (project_id, trace_id, span_id)
    )$without_rowid;
    CREATE INDEX spans_by_end ON spans (project_id, end_us);
    CREATE INDEX spans_pending ON spans (project_id, received_us) WHERE pending = 1;
    """,
))

# Issue 15: the detection queue, detections, OTel evaluations, and each event's flag source.
STEPS.append((
        "0006_detection",
        """
        CREATE TABLE detection_queue (
            seq $big PRIMARY KEY,
            project_id $ctext NOT NULL,
            event_id $ctext NOT NULL,
            enqueued_us $big NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            rerun INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX detection_queue_by_age ON detection_queue (enqueued_us, seq);
        CREATE TABLE detections (
            project_id $ctext NOT NULL,
            event_id $ctext NOT NULL,
            detector $ctext NOT NULL,
            version $ctext NOT NULL,
            ts_us $big NOT NULL,
            flag TEXT,
            score $real,
            reason TEXT,
            evidence TEXT,
            error TEXT,
            tokens_in $big,
            tokens_out $big,
            created_us $big NOT NULL,
            PRIMARY KEY (project_id, event_id, detector, version)
        );
        CREATE INDEX detections_by_time ON detections (project_id, ts_us);
        CREATE TABLE evaluations (
            project_id $ctext NOT NULL,
            eval_key $ctext NOT NULL,
            event_id $ctext,
            response_id $ctext,
            name TEXT,
            score $real,
            label TEXT,
            explanation TEXT,
            source TEXT NOT NULL DEFAULT 'otel',
            ts_us $big NOT NULL,
            created_us $big NOT NULL,
            PRIMARY KEY (project_id, eval_key)
        );
        CREATE INDEX evaluations_by_event ON evaluations (project_id, event_id);
        CREATE INDEX evaluations_by_response ON evaluations (project_id, response_id);
        CREATE TABLE response_events (
            project_id $ctext NOT NULL,
            response_id $ctext NOT NULL,
            event_id $ctext NOT NULL,
            PRIMARY KEY (project_id, response_id)
        );
        CREATE TABLE detection_settings (
            project_id $ctext PRIMARY KEY,
            judge_enabled INTEGER NOT NULL
        );
        ALTER TABLE events ADD COLUMN flag_source TEXT;
        ALTER TABLE events ADD COLUMN detected_flag TEXT;
        ALTER TABLE events ADD COLUMN eval_flag TEXT;
        CREATE INDEX events_human_flags ON events (project_id, session_id) WHERE flag_source = 'user';
        CREATE INDEX events_human_by_time ON events (project_id, ts_us) WHERE flag_source = 'user';
        UPDATE events SET flag_source = 'user' WHERE EXISTS (
            SELECT 1 FROM feedback f WHERE f.project_id = events.project_id AND f.event_id = events.event_id);
        UPDATE events SET flag_source = 'detector' WHERE flag_source IS NULL AND flag IS NOT NULL;
        """,
))

# Issue 11: hashes of server-wide secrets (the /metrics scrape token), created once at first start.
STEPS.append((
    "0007_server_secrets",
    """
    CREATE TABLE server_secrets (
        name $ctext PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        created_us $big NOT NULL
    );
    """,
))

# Evaluations of a whole trace (a Langfuse trace score, a Phoenix trace annotation: they apply to the trace's
# final call) or of a span known only by its id (a Phoenix span annotation), whenever those arrive; and whether
# a human gave it (a Phoenix HUMAN annotation is the user's flag). See `storage/sql/detection.py`.
STEPS.append((
    "0008_evaluation_targets",
    """
    ALTER TABLE evaluations ADD COLUMN trace_id $ctext;
    ALTER TABLE evaluations ADD COLUMN span_id $ctext;
    ALTER TABLE evaluations ADD COLUMN human $small NOT NULL DEFAULT 0;
    CREATE INDEX evaluations_by_trace ON evaluations (project_id, trace_id) WHERE trace_id IS NOT NULL;
    CREATE INDEX evaluations_by_span ON evaluations (project_id, span_id) WHERE span_id IS NOT NULL;
    CREATE INDEX events_by_span ON events (project_id, span_id) WHERE span_id IS NOT NULL;
    CREATE INDEX spans_by_span ON spans (project_id, span_id);
    """,
))

_WORD = re.compile(r"^( *)\$(\w+)\n|\$(\w+)", re.MULTILINE)


def render(words: SchemaWords) -> list[tuple[str, str]]:
    """The steps in a backend's spelling, for the migration runner."""
    spelled: dict[str, str] = dict(words)

    def spell(match: re.Match[str]) -> str:
        if match[2] is None:
            return spelled[match[3]]
        lines = spelled[match[2]]
        return textwrap.indent(lines + "\n", match[1]) if lines else ""

    return [(name, _WORD.sub(spell, step)) for name, step in STEPS]
