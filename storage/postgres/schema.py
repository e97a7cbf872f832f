"""Ordered Postgres schema steps, the counterpart of `storage/sqlite/schema.py`. Append only.

Text that is compared or sorted (ids, models, tags) uses the "C" collation so orderings and keyset
cursors are byte-wise, exactly as in SQLite, whatever the database's default collation.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_core",
        """
        CREATE TABLE projects (
            id TEXT COLLATE "C" PRIMARY KEY,
            name TEXT COLLATE "C" NOT NULL UNIQUE,
            plan TEXT NOT NULL DEFAULT 'free',
            rate_limit_per_min BIGINT,
            created_us BIGINT NOT NULL
        );
        CREATE TABLE api_keys (
            id TEXT COLLATE "C" PRIMARY KEY,
            project_id TEXT COLLATE "C" NOT NULL REFERENCES projects(id),
            name TEXT NOT NULL,
            prefix TEXT COLLATE "C" NOT NULL,
            key_hash TEXT COLLATE "C" NOT NULL UNIQUE,
            created_us BIGINT NOT NULL,
            last_used_us BIGINT,
            revoked_us BIGINT
        );
        CREATE INDEX api_keys_by_prefix ON api_keys (prefix);
        CREATE TABLE events (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            project_id TEXT COLLATE "C" NOT NULL,
            event_id TEXT COLLATE "C" NOT NULL,
            session_id TEXT COLLATE "C",
            session_kind TEXT,
            explicit_session_id TEXT COLLATE "C",
            user_id TEXT COLLATE "C",
            explicit_user_id TEXT COLLATE "C",
            ts_us BIGINT NOT NULL,
            input TEXT NOT NULL,
            output TEXT NOT NULL,
            model TEXT COLLATE "C",
            provider TEXT COLLATE "C",
            latency_ms DOUBLE PRECISION,
            tokens_in BIGINT,
            tokens_out BIGINT,
            cost_cents DOUBLE PRECISION,
            cost_source TEXT,
            tags JSON NOT NULL DEFAULT '[]',
            metadata JSON NOT NULL DEFAULT '{}',
            source TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            error_type TEXT,
            own_flag TEXT,
            flag TEXT,
            trace_id TEXT COLLATE "C",
            span_id TEXT COLLATE "C",
            parent_span_id TEXT COLLATE "C",
            received_us BIGINT NOT NULL,
            search TSVECTOR NOT NULL,
            UNIQUE (project_id, event_id)
        );
        CREATE INDEX events_by_time ON events (project_id, ts_us DESC, seq DESC);
        CREATE INDEX events_by_session ON events (project_id, session_id, ts_us, seq);
        CREATE INDEX events_by_user ON events (project_id, user_id, ts_us);
        CREATE INDEX events_by_model ON events (project_id, model, ts_us DESC, seq DESC);
        CREATE INDEX events_by_trace ON events (project_id, trace_id) WHERE trace_id IS NOT NULL;
        CREATE INDEX events_search ON events USING GIN (search);
        CREATE INDEX events_by_seq ON events (project_id, seq DESC);  -- text search walks newest-stored first
        CREATE TABLE event_tags (
            project_id TEXT COLLATE "C" NOT NULL,
            tag TEXT COLLATE "C" NOT NULL,
            ts_us BIGINT NOT NULL,
            seq BIGINT NOT NULL,
            PRIMARY KEY (project_id, tag, ts_us, seq)
        );
        CREATE INDEX event_tags_by_seq ON event_tags (seq);
        CREATE TABLE feedback (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            project_id TEXT COLLATE "C" NOT NULL,
            event_id TEXT COLLATE "C" NOT NULL,
            flag TEXT NOT NULL,
            comment TEXT,
            source TEXT,
            created_us BIGINT NOT NULL
        );
        CREATE INDEX feedback_by_event ON feedback (project_id, event_id, id);
        CREATE TABLE sessions (
            project_id TEXT COLLATE "C" NOT NULL,
            session_id TEXT COLLATE "C" NOT NULL,
            kind TEXT NOT NULL,
            user_id TEXT COLLATE "C",
            user_ts_us BIGINT,
            start_us BIGINT NOT NULL,
            end_us BIGINT NOT NULL,
            event_count BIGINT NOT NULL DEFAULT 0,
            tokens_in BIGINT NOT NULL DEFAULT 0,
            tokens_out BIGINT NOT NULL DEFAULT 0,
            cost_cents DOUBLE PRECISION,
            flagged_count BIGINT NOT NULL DEFAULT 0,
            success_count BIGINT NOT NULL DEFAULT 0,
            failure_count BIGINT NOT NULL DEFAULT 0,
            models TEXT[] COLLATE "C" NOT NULL DEFAULT '{}',
            tags TEXT[] COLLATE "C" NOT NULL DEFAULT '{}',
            PRIMARY KEY (project_id, session_id)
        );
        CREATE INDEX sessions_by_activity ON sessions (project_id, end_us DESC, session_id DESC);
        CREATE INDEX sessions_by_user ON sessions (project_id, user_id, end_us DESC);
        CREATE INDEX sessions_user_windows ON sessions (project_id, user_id, kind, start_us);
        CREATE TABLE rate_windows (
            project_id TEXT COLLATE "C" NOT NULL,
            window_start BIGINT NOT NULL,
            used BIGINT NOT NULL,
            PRIMARY KEY (project_id, window_start)
        );
        """,
    ),
    (
        "0002_otlp_joins",
        """
        CREATE TABLE event_bases (
            project_id TEXT COLLATE "C" NOT NULL,
            event_id TEXT COLLATE "C" NOT NULL,
            base TEXT NOT NULL,
            PRIMARY KEY (project_id, event_id)
        );
        CREATE TABLE event_patches (
            project_id TEXT COLLATE "C" NOT NULL,
            event_id TEXT COLLATE "C" NOT NULL,
            order_key TEXT COLLATE "C" NOT NULL,
            patch TEXT NOT NULL,
            PRIMARY KEY (project_id, event_id, order_key)
        );
        CREATE TABLE trace_context (
            project_id TEXT COLLATE "C" NOT NULL,
            trace_id TEXT COLLATE "C" NOT NULL,
            session_start_us BIGINT,
            session_id TEXT COLLATE "C",
            user_start_us BIGINT,
            user_id TEXT COLLATE "C",
            PRIMARY KEY (project_id, trace_id)
        );
        """,
    ),
]

# Rollups carry a `shard` (the writing backend's pid modulo ROLLUP_SHARDS) in their key: workers adding
# to the same hour and model then update different rows instead of queueing on one row lock until
# commit. Readers sum over shards.
MIGRATIONS.append((
    "0003_dashboard",
    """
    CREATE TABLE admin_users (
        username TEXT COLLATE "C" PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_us BIGINT NOT NULL,
        updated_us BIGINT NOT NULL
    );
    CREATE TABLE web_sessions (
        token_hash TEXT COLLATE "C" PRIMARY KEY,
        username TEXT COLLATE "C" NOT NULL REFERENCES admin_users(username) ON DELETE CASCADE,
        csrf_token TEXT NOT NULL,
        created_us BIGINT NOT NULL,
        expires_us BIGINT NOT NULL
    );
    CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_us);
    CREATE INDEX sessions_by_start ON sessions (project_id, start_us);
    CREATE TABLE usage_hourly (
        project_id TEXT COLLATE "C" NOT NULL,
        hour_us BIGINT NOT NULL,
        model TEXT COLLATE "C" NOT NULL,
        shard SMALLINT NOT NULL DEFAULT 0,
        events BIGINT NOT NULL DEFAULT 0,
        errors BIGINT NOT NULL DEFAULT 0,
        tokens_in BIGINT NOT NULL DEFAULT 0,
        tokens_out BIGINT NOT NULL DEFAULT 0,
        cost_cents DOUBLE PRECISION NOT NULL DEFAULT 0,
        costed BIGINT NOT NULL DEFAULT 0,
        latency_ms_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
        latency_count BIGINT NOT NULL DEFAULT 0,
        success_count BIGINT NOT NULL DEFAULT 0,
        failure_count BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (project_id, hour_us, model, shard)
    );
    CREATE TABLE latency_hourly (
        project_id TEXT COLLATE "C" NOT NULL,
        hour_us BIGINT NOT NULL,
        model TEXT COLLATE "C" NOT NULL,
        bucket INTEGER NOT NULL,
        shard SMALLINT NOT NULL DEFAULT 0,
        count BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (project_id, hour_us, model, bucket, shard)
    );
    INSERT INTO usage_hourly (project_id, hour_us, model, events, errors, tokens_in, tokens_out, cost_cents,
        costed, latency_ms_sum, latency_count, success_count, failure_count)
    SELECT project_id, (ts_us / 3600000000) * 3600000000, COALESCE(model, ''), COUNT(*),
        COUNT(*) FILTER (WHERE status = 'error'), COALESCE(SUM(tokens_in), 0), COALESCE(SUM(tokens_out), 0),
        COALESCE(SUM(cost_cents), 0), COUNT(cost_cents), COALESCE(SUM(latency_ms), 0), COUNT(latency_ms),
        COUNT(*) FILTER (WHERE flag = 'success'), COUNT(*) FILTER (WHERE flag = 'failure')
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
))

# Issue 13: a span merged into another span's event (same provider call) keeps its id as an alias, so
# content that arrives later for it (log records) lands on the event that stands for the call.
MIGRATIONS.append((
    "0004_event_aliases",
    """
    CREATE TABLE event_aliases (
        project_id TEXT COLLATE "C" NOT NULL,
        event_id TEXT COLLATE "C" NOT NULL,
        target_id TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (project_id, event_id)
    );
    CREATE INDEX event_aliases_by_target ON event_aliases (project_id, target_id);
    """,
))

# The GenAI span tree's spans that are not events (`storage/sql/span_tree.py`); events are the call spans.
MIGRATIONS.append((
    "0005_span_tree",
    """
    CREATE TABLE spans (
        project_id TEXT COLLATE "C" NOT NULL,
        trace_id TEXT COLLATE "C" NOT NULL,
        span_id TEXT COLLATE "C" NOT NULL,
        parent_span_id TEXT COLLATE "C",
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        start_us BIGINT NOT NULL,
        end_us BIGINT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        event_id TEXT COLLATE "C",
        agent_name TEXT,
        tool_name TEXT,
        model TEXT COLLATE "C",
        tokens_in BIGINT,
        tokens_out BIGINT,
        cost_cents DOUBLE PRECISION,
        attributes TEXT NOT NULL DEFAULT '{}',
        pending SMALLINT NOT NULL DEFAULT 0,
        received_us BIGINT NOT NULL,
        PRIMARY KEY (project_id, trace_id, span_id)
    );
    CREATE INDEX spans_by_end ON spans (project_id, end_us);
    CREATE INDEX spans_pending ON spans (project_id, received_us) WHERE pending = 1;
    """,
))

# Issue 15: the detection queue, detections, OTel evaluations, and each event's flag source.
MIGRATIONS.append((
    "0006_detection",
    """
    CREATE TABLE detection_queue (
        seq BIGINT PRIMARY KEY,
        project_id TEXT COLLATE "C" NOT NULL,
        event_id TEXT COLLATE "C" NOT NULL,
        enqueued_us BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        rerun INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX detection_queue_by_age ON detection_queue (enqueued_us, seq);
    CREATE TABLE detections (
        project_id TEXT COLLATE "C" NOT NULL,
        event_id TEXT COLLATE "C" NOT NULL,
        detector TEXT COLLATE "C" NOT NULL,
        version TEXT COLLATE "C" NOT NULL,
        ts_us BIGINT NOT NULL,
        flag TEXT,
        score DOUBLE PRECISION,
        reason TEXT,
        evidence TEXT,
        error TEXT,
        tokens_in BIGINT,
        tokens_out BIGINT,
        created_us BIGINT NOT NULL,
        PRIMARY KEY (project_id, event_id, detector, version)
    );
    CREATE INDEX detections_by_time ON detections (project_id, ts_us);
    CREATE TABLE evaluations (
        project_id TEXT COLLATE "C" NOT NULL,
        eval_key TEXT COLLATE "C" NOT NULL,
        event_id TEXT COLLATE "C",
        response_id TEXT COLLATE "C",
        name TEXT,
        score DOUBLE PRECISION,
        label TEXT,
        explanation TEXT,
        source TEXT NOT NULL DEFAULT 'otel',
        ts_us BIGINT NOT NULL,
        created_us BIGINT NOT NULL,
        PRIMARY KEY (project_id, eval_key)
    );
    CREATE INDEX evaluations_by_event ON evaluations (project_id, event_id);
    CREATE INDEX evaluations_by_response ON evaluations (project_id, response_id);
    CREATE TABLE response_events (
        project_id TEXT COLLATE "C" NOT NULL,
        response_id TEXT COLLATE "C" NOT NULL,
        event_id TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (project_id, response_id)
    );
    CREATE TABLE detection_settings (
        project_id TEXT COLLATE "C" PRIMARY KEY,
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
        name TEXT COLLATE "C" PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        created_us BIGINT NOT NULL
    );
    """,
))
