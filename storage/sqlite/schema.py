"""Ordered SQLite schema steps. Append only: a step, once released, never changes."""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_core",
        """
        CREATE TABLE projects (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            plan TEXT NOT NULL DEFAULT 'free',
            rate_limit_per_min INTEGER,
            created_us INTEGER NOT NULL
        );
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id),
            name TEXT NOT NULL,
            prefix TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            created_us INTEGER NOT NULL,
            last_used_us INTEGER,
            revoked_us INTEGER
        );
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            project_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            session_id TEXT,
            session_kind TEXT,
            explicit_session_id TEXT,
            user_id TEXT,
            explicit_user_id TEXT,
            ts_us INTEGER NOT NULL,
            input TEXT NOT NULL,
            output TEXT NOT NULL,
            model TEXT,
            provider TEXT,
            latency_ms REAL,
            tokens_in INTEGER,
            tokens_out INTEGER,
            cost_cents REAL,
            cost_source TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            metadata TEXT NOT NULL DEFAULT '{}',
            source TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            error_type TEXT,
            own_flag TEXT,
            flag TEXT,
            trace_id TEXT,
            span_id TEXT,
            parent_span_id TEXT,
            received_us INTEGER NOT NULL,
            UNIQUE (project_id, event_id)
        );
        CREATE INDEX events_by_time ON events (project_id, ts_us DESC, seq DESC);
        CREATE INDEX events_by_session ON events (project_id, session_id, ts_us);
        CREATE INDEX events_by_user ON events (project_id, user_id, ts_us);
        CREATE INDEX events_by_model ON events (project_id, model, ts_us);
        CREATE INDEX events_by_trace ON events (project_id, trace_id) WHERE trace_id IS NOT NULL;
        CREATE TABLE event_tags (
            project_id TEXT NOT NULL,
            tag TEXT NOT NULL,
            ts_us INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (project_id, tag, ts_us, seq)
        ) WITHOUT ROWID;
        CREATE VIRTUAL TABLE events_fts USING fts5 (
            input, output, content='events', content_rowid='seq', tokenize='unicode61 remove_diacritics 2',
            detail='none', columnsize=0
        );
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            project_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            flag TEXT NOT NULL,
            comment TEXT,
            source TEXT,
            created_us INTEGER NOT NULL
        );
        CREATE INDEX feedback_by_event ON feedback (project_id, event_id, id);
        CREATE TABLE sessions (
            project_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            user_id TEXT,
            user_ts_us INTEGER,
            start_us INTEGER NOT NULL,
            end_us INTEGER NOT NULL,
            event_count INTEGER NOT NULL DEFAULT 0,
            tokens_in INTEGER NOT NULL DEFAULT 0,
            tokens_out INTEGER NOT NULL DEFAULT 0,
            cost_cents REAL,
            flagged_count INTEGER NOT NULL DEFAULT 0,
            success_count INTEGER NOT NULL DEFAULT 0,
            failure_count INTEGER NOT NULL DEFAULT 0,
            models TEXT NOT NULL DEFAULT '[]',
            tags TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (project_id, session_id)
        );
        CREATE INDEX sessions_by_activity ON sessions (project_id, end_us DESC, session_id DESC);
        CREATE INDEX sessions_by_user ON sessions (project_id, user_id, end_us DESC);
        CREATE INDEX sessions_user_windows ON sessions (project_id, user_id, kind, start_us);
        CREATE TABLE rate_windows (
            project_id TEXT NOT NULL,
            window_start INTEGER NOT NULL,
            used INTEGER NOT NULL,
            PRIMARY KEY (project_id, window_start)
        ) WITHOUT ROWID;
        """,
    ),
    (
        "0002_otlp_joins",
        """
        CREATE TABLE event_bases (
            project_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            base TEXT NOT NULL,
            PRIMARY KEY (project_id, event_id)
        ) WITHOUT ROWID;
        CREATE TABLE event_patches (
            project_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            order_key TEXT NOT NULL,
            patch TEXT NOT NULL,
            PRIMARY KEY (project_id, event_id, order_key)
        ) WITHOUT ROWID;
        CREATE TABLE trace_context (
            project_id TEXT NOT NULL,
            trace_id TEXT NOT NULL,
            session_start_us INTEGER,
            session_id TEXT,
            user_start_us INTEGER,
            user_id TEXT,
            PRIMARY KEY (project_id, trace_id)
        ) WITHOUT ROWID;
        """,
    ),
    (
        "0003_dashboard",
        """
        CREATE TABLE admin_users (
            username TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            created_us INTEGER NOT NULL,
            updated_us INTEGER NOT NULL
        );
        CREATE TABLE web_sessions (
            token_hash TEXT PRIMARY KEY,
            username TEXT NOT NULL REFERENCES admin_users(username) ON DELETE CASCADE,
            csrf_token TEXT NOT NULL,
            created_us INTEGER NOT NULL,
            expires_us INTEGER NOT NULL
        );
        CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_us);
        CREATE INDEX sessions_by_start ON sessions (project_id, start_us);
        CREATE TABLE usage_hourly (
            project_id TEXT NOT NULL,
            hour_us INTEGER NOT NULL,
            model TEXT NOT NULL,
            events INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0,
            tokens_in INTEGER NOT NULL DEFAULT 0,
            tokens_out INTEGER NOT NULL DEFAULT 0,
            cost_cents REAL NOT NULL DEFAULT 0,
            costed INTEGER NOT NULL DEFAULT 0,
            latency_ms_sum REAL NOT NULL DEFAULT 0,
            latency_count INTEGER NOT NULL DEFAULT 0,
            success_count INTEGER NOT NULL DEFAULT 0,
            failure_count INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (project_id, hour_us, model)
        ) WITHOUT ROWID;
        CREATE TABLE latency_hourly (
            project_id TEXT NOT NULL,
            hour_us INTEGER NOT NULL,
            model TEXT NOT NULL,
            bucket INTEGER NOT NULL,
            count INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (project_id, hour_us, model, bucket)
        ) WITHOUT ROWID;
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
MIGRATIONS.append((
    "0004_event_aliases",
    """
    CREATE TABLE event_aliases (
        project_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        target_id TEXT NOT NULL,
        PRIMARY KEY (project_id, event_id)
    ) WITHOUT ROWID;
    CREATE INDEX event_aliases_by_target ON event_aliases (project_id, target_id);
    """,
))

# The GenAI span tree's spans that are not events (`storage/sql/span_tree.py`); events are the call spans.
MIGRATIONS.append((
    "0005_span_tree",
    """
    CREATE TABLE spans (
        project_id TEXT NOT NULL,
        trace_id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        parent_span_id TEXT,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        start_us INTEGER NOT NULL,
        end_us INTEGER NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        event_id TEXT,
        agent_name TEXT,
        tool_name TEXT,
        model TEXT,
        tokens_in INTEGER,
        tokens_out INTEGER,
        cost_cents REAL,
        attributes TEXT NOT NULL DEFAULT '{}',
        pending INTEGER NOT NULL DEFAULT 0,
        received_us INTEGER NOT NULL,
        PRIMARY KEY (project_id, trace_id, span_id)
    ) WITHOUT ROWID;
    CREATE INDEX spans_by_end ON spans (project_id, end_us);
    CREATE INDEX spans_pending ON spans (project_id, received_us) WHERE pending = 1;
    """,
))

# Issue 15: the detection queue, detections, OTel evaluations, and each event's flag source.
MIGRATIONS.append((
        "0006_detection",
        """
        CREATE TABLE detection_queue (
            seq INTEGER PRIMARY KEY,
            project_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            enqueued_us INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            rerun INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX detection_queue_by_age ON detection_queue (enqueued_us, seq);
        CREATE TABLE detections (
            project_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            detector TEXT NOT NULL,
            version TEXT NOT NULL,
            ts_us INTEGER NOT NULL,
            flag TEXT,
            score REAL,
            reason TEXT,
            evidence TEXT,
            error TEXT,
            tokens_in INTEGER,
            tokens_out INTEGER,
            created_us INTEGER NOT NULL,
            PRIMARY KEY (project_id, event_id, detector, version)
        );
        CREATE INDEX detections_by_time ON detections (project_id, ts_us);
        CREATE TABLE evaluations (
            project_id TEXT NOT NULL,
            eval_key TEXT NOT NULL,
            event_id TEXT,
            response_id TEXT,
            name TEXT,
            score REAL,
            label TEXT,
            explanation TEXT,
            source TEXT NOT NULL DEFAULT 'otel',
            ts_us INTEGER NOT NULL,
            created_us INTEGER NOT NULL,
            PRIMARY KEY (project_id, eval_key)
        );
        CREATE INDEX evaluations_by_event ON evaluations (project_id, event_id);
        CREATE INDEX evaluations_by_response ON evaluations (project_id, response_id);
        CREATE TABLE response_events (
            project_id TEXT NOT NULL,
            response_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            PRIMARY KEY (project_id, response_id)
        );
        CREATE TABLE detection_settings (
            project_id TEXT PRIMARY KEY,
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
MIGRATIONS.append((
    "0007_server_secrets",
    """
    CREATE TABLE server_secrets (
        name TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        created_us INTEGER NOT NULL
    );
    """,
))
