"""Detection queue, detections, evaluations and agreement: every query written once for both backends.

Queries are written with `?` placeholders over the shared core's connections (`storage/sql/dialect.py`).
Backends supply only what really differs: how a batch is claimed (row locks on Postgres, one drainer
on SQLite).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from phosphobs.storage.detection_records import (
    AgreementCounts,
    Detection,
    DetectionLag,
    Disagreement,
    Evaluation,
    Outcome,
    QueuedEvent,
)
from phosphobs.storage.flags import detected_flag, final_flag, label_flag
from phosphobs.storage.rows import stored_event
from phosphobs.storage.sql.dialect import Conn, all_rows
from phosphobs.storage.sql.reads import EVENT_SELECT
from phosphobs.storage.sql.sessions import SessionChanges
from phosphobs.storage.usage_facts import FACT_COLUMNS, facts_from_row, with_flag

# (project_id, facts row before the change, new flag) -> update rollups and session counters
FlagChanged = Callable[[str, Any, "str | None"], None]

ENQUEUE = ("INSERT INTO detection_queue (seq, project_id, event_id, enqueued_us) VALUES (?, ?, ?, ?)"
           " ON CONFLICT (seq) DO NOTHING")
# Detect again (content changed). DO NOTHING when queued: the entry will see the new content anyway, and
# an entry a worker holds locked must never make ingest wait.
REQUEUE = ("INSERT INTO detection_queue (seq, project_id, event_id, enqueued_us, rerun) VALUES (?, ?, ?, ?, 1)"
           " ON CONFLICT (seq) DO NOTHING")


def _one(conn: Conn, sql: str, args: Sequence[Any] = ()) -> Any:
    return conn.execute(sql, tuple(args)).fetchone()


def _response_id(conn: Conn) -> str:
    """An event's provider response id, read by the database from its metadata."""
    return f"CAST({conn.dialect.json_field('metadata', 'response', 'id')} AS TEXT)"


def _in(conn: Conn, sql: str, head: Sequence[Any], keys: Sequence[Any]) -> list[Any]:
    """`sql` whose `{in}` tests membership in `keys` (chunked or one array, by dialect)."""
    return conn.dialect.rows_in(conn, sql, head, keys)


# ---------------------------------------------------------------- the queue (worker side)

def claim(conn: Conn, limit: int, ready_us: int, lock: str = "") -> tuple[list[QueuedEvent], list[int]]:
    """Entries enqueued at or before `ready_us`, oldest first, and the entries whose event is gone
    (pruned): `complete` drops those."""
    rows = all_rows(
        conn, f"SELECT q.seq AS q_seq, q.attempts AS q_attempts, q.rerun AS q_rerun, q.project_id AS q_project,"
              f" {EVENT_SELECT} FROM detection_queue q LEFT JOIN events e ON e.seq = q.seq"
              f" WHERE q.enqueued_us <= ? ORDER BY q.enqueued_us, q.seq LIMIT ?{lock}",
              (ready_us, limit),
    )
    gone = [r["q_seq"] for r in rows if r["event_id"] is None]
    items = [QueuedEvent(seq=r["q_seq"], attempts=r["q_attempts"], rerun=bool(r["q_rerun"]),
                         stored=stored_event(r)) for r in rows if r["event_id"] is not None]
    by_project: dict[str, list[QueuedEvent]] = defaultdict(list)
    for item in items:
        by_project[item.stored.project_id].append(item)
    for project, group in by_project.items():
        index = {i.stored.event.event_id: i for i in group}
        for r in _in(conn, "SELECT event_id, detector, version FROM detections WHERE project_id = ?"
                           " AND event_id {in}", (project,), list(index)):
            index[r["event_id"]].done.add((r["detector"], r["version"]))
    return items, gone


def complete(conn: Conn, outcomes: list[Outcome], gone: list[int], now_us: int) -> None:
    """Record every outcome, settle each touched event's final flag, and take the entries off the queue.

    A handful of statements per batch and project, not per event: the worker must stay cheap beside
    ingest. A blame (the next user message said an answer was wrong) is recorded after the batch's own
    verdicts, so it wins over that event's verdict in the same batch."""
    if gone:
        _in(conn, "DELETE FROM detection_queue WHERE seq {in} RETURNING seq", (), gone)
    changes = SessionChanges()
    changed = flag_changes(changes)
    lock = conn.dialect.for_update
    by_project: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_project[o.project_id].append(o)
    for project_id, group in by_project.items():
        verdicts = [(o.event_id, d) for o in group for d in o.detections]
        verdicts += [o.blame_previous for o in group if o.blame_previous is not None]
        touched = list(dict.fromkeys([o.event_id for o in group] + [v[0] for v in verdicts]))
        settle(conn, project_id, touched, verdicts, now_us, lock, changed)
    done = [o.seq for o in outcomes if o.retry_at_us is None]
    if done:
        _in(conn, "DELETE FROM detection_queue WHERE seq {in} RETURNING seq", (), done)
    conn.executemany("UPDATE detection_queue SET enqueued_us = ?, attempts = attempts + 1 WHERE seq = ?",
                     [(o.retry_at_us, o.seq) for o in outcomes if o.retry_at_us is not None])
    changes.flush(conn)


def flag_changes(changes: SessionChanges) -> FlagChanged:
    """A changed final flag moves the event between its hour's and its session's success/failure counts."""
    def changed(project_id: str, row: Any, flag: str | None) -> None:
        old = facts_from_row(row)
        changes.usage(project_id, [old], [with_flag(old, flag)])
        if row["session_id"]:
            changes.flag_changed((project_id, row["session_id"]), row["flag"], flag)

    return changed


def settle(conn: Conn, project_id: str, event_ids: list[str], verdicts: list[tuple[str, Detection]], now_us: int,
           lock: str, changed: FlagChanged) -> None:
    """Record `verdicts`, then set each event's detected, evaluated and final flag from all it has.

    An event in a trace that has a whole-trace evaluation brings the trace's other events with it: which of
    them is the trace's final call (the one the evaluation applies to) may have just changed."""
    def select(ids: list[str]) -> dict[str, Any]:
        return {r["event_id"]: r for r in _in(
            conn, f"SELECT seq, event_id, session_id, trace_id, span_id, own_flag, flag_source, detected_flag,"
                  f" eval_flag, {_response_id(conn)} AS response_id, {FACT_COLUMNS} FROM events WHERE project_id = ?"
                  f" AND event_id {{in}} ORDER BY seq{lock}", (project_id,), ids)}

    rows = select(event_ids)
    if not rows:
        return
    detached = _has_detached(conn, project_id)
    trace_rows = _trace_evaluations(conn, project_id, [r["trace_id"] for r in rows.values() if r["trace_id"]]) \
        if detached else []
    if trace_rows:
        mates = _in(conn, "SELECT event_id FROM events WHERE project_id = ? AND trace_id {in}", (project_id,),
                    sorted({trace_id for trace_id, _ in trace_rows}))
        rows.update(select([m["event_id"] for m in mates if m["event_id"] not in rows]))
    conn.executemany(
        "INSERT INTO detections (project_id, event_id, detector, version, ts_us, flag, score, reason, evidence,"
        " error, tokens_in, tokens_out, created_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (project_id, event_id, detector, version) DO UPDATE SET flag = excluded.flag,"
        " score = excluded.score, reason = excluded.reason, evidence = excluded.evidence, error = excluded.error,"
        " tokens_in = excluded.tokens_in, tokens_out = excluded.tokens_out, created_us = excluded.created_us",
        [(project_id, event_id, d.detector, d.version, rows[event_id]["ts_us"], d.flag, d.score, d.reason,
          d.evidence, d.error, d.tokens_in, d.tokens_out, d.created_us or now_us)
         for event_id, d in verdicts if event_id in rows])
    ids = list(rows)
    users = {r["event_id"]: r["flag"] for r in _in(
        conn, "SELECT event_id, flag FROM feedback WHERE project_id = ? AND event_id {in} ORDER BY id",
              (project_id,), ids)}  # the latest feedback wins
    keys = [(event_id, r["response_id"], r["trace_id"], r["span_id"]) for event_id, r in rows.items()]
    evaluations = _evaluations(conn, project_id, keys, trace_rows, detached)
    verdicts_of: dict[str, list[Any]] = defaultdict(list)
    for r in _in(conn, "SELECT event_id, detector, flag, evidence, created_us FROM detections"
                       " WHERE project_id = ? AND event_id {in}", (project_id,), ids):
        verdicts_of[r["event_id"]].append((r["detector"], r["flag"], r["evidence"], r["created_us"]))
    updates = []
    for event_id, row in rows.items():
        latest_first = list(reversed(evaluations.get(event_id, [])))
        otel = next((f for e in latest_first if not e.human and (f := label_flag(e.label))), None)
        human = next((f for e in latest_first if e.human and (f := label_flag(e.label))), None)
        detected = detected_flag(verdicts_of.get(event_id, []))
        flag, source = final_flag(users.get(event_id) or human, otel, detected, row["own_flag"])
        if (flag, source, detected, otel) == (row["flag"], row["flag_source"], row["detected_flag"], row["eval_flag"]):
            continue
        updates.append((flag, source, detected, otel, row["seq"]))
        if flag != row["flag"]:
            changed(project_id, row, flag)
    conn.executemany("UPDATE events SET flag = ?, flag_source = ?, detected_flag = ?, eval_flag = ? WHERE seq = ?",
                     updates)
    conn.executemany("INSERT INTO response_events (project_id, response_id, event_id) VALUES (?, ?, ?)"
                     " ON CONFLICT (project_id, response_id) DO NOTHING",
                     [(project_id, r["response_id"], event_id) for event_id, r in rows.items() if r["response_id"]])


def recompute_flag(conn: Conn, project_id: str, event_id: str) -> None:
    """Settle one event's flag from what is recorded about it."""
    changes = SessionChanges()
    settle(conn, project_id, [event_id], [], 0, conn.dialect.for_update, flag_changes(changes))
    changes.flush(conn)


def response_id_of(metadata: Any) -> str | None:
    meta = orjson.loads(metadata) if isinstance(metadata, str) else metadata
    response = meta.get("response") if isinstance(meta, dict) else None
    value = response.get("id") if isinstance(response, dict) else None
    return str(value) if value is not None else None


# ---------------------------------------------------------------- what detectors read

def judge_examples(conn: Conn, project_id: str, limit: int) -> list[tuple[str, str, str]]:
    """Up to `limit` of the project's human-flagged events, most recent, both flags: (input, output, flag)."""
    per_flag = {flag: all_rows(
        conn, "SELECT input, output, flag, ts_us FROM events WHERE project_id = ? AND flag_source = 'user' AND flag = ?"
              " ORDER BY ts_us DESC LIMIT ?", (project_id, flag, limit)) for flag in ("success", "failure")}
    ok, bad = per_flag["success"], per_flag["failure"]
    take_bad = min(len(bad), max(limit // 2, limit - len(ok)))
    chosen = list(bad[:take_bad]) + list(ok[:limit - take_bad])
    chosen.sort(key=lambda r: r["ts_us"])
    return [(r["input"], r["output"], r["flag"]) for r in chosen]


def session_neighbours(conn: Conn, project_id: str, session_id: str, ts_us: int, seq: int,
                       before: int) -> tuple[list[Any], Any | None]:
    """Up to `before` earlier events of the session (oldest first) and the next one, if any."""
    earlier = all_rows(
        conn, "SELECT event_id, input, output FROM events WHERE project_id = ? AND session_id = ?"
              " AND (ts_us < ? OR (ts_us = ? AND seq < ?)) ORDER BY ts_us DESC, seq DESC LIMIT ?",
              (project_id, session_id, ts_us, ts_us, seq, before))
    later = _one(
        conn, "SELECT event_id, input, output FROM events WHERE project_id = ? AND session_id = ?"
              " AND (ts_us > ? OR (ts_us = ? AND seq > ?)) ORDER BY ts_us, seq LIMIT 1",
              (project_id, session_id, ts_us, ts_us, seq))
    return list(reversed(earlier)), later


def judge_enabled(conn: Conn, project_id: str) -> bool:
    row = _one(conn, "SELECT judge_enabled FROM detection_settings WHERE project_id = ?", (project_id,))
    return True if row is None else bool(row["judge_enabled"])


def set_judge_enabled(conn: Conn, project_id: str, enabled: bool) -> None:
    conn.execute("INSERT INTO detection_settings (project_id, judge_enabled) VALUES (?, ?)"
                 " ON CONFLICT (project_id) DO UPDATE SET judge_enabled = excluded.judge_enabled",
                 (project_id, int(enabled)))


# ---------------------------------------------------------------- reads for the API

def detections_for(conn: Conn, project_id: str, event_ids: list[str]) -> dict[str, list[Detection]]:
    out: dict[str, list[Detection]] = defaultdict(list)
    for r in _in(
        conn, "SELECT event_id, detector, version, flag, score, reason, evidence, error, tokens_in, tokens_out,"
              " created_us FROM detections WHERE project_id = ? AND event_id {in}"
              " ORDER BY created_us, detector, version", (project_id,), event_ids,
    ):
        out[r["event_id"]].append(Detection(
            detector=r["detector"], version=r["version"], flag=r["flag"], score=r["score"], reason=r["reason"],
            evidence=r["evidence"], error=r["error"], tokens_in=r["tokens_in"], tokens_out=r["tokens_out"],
            created_us=r["created_us"]))
    return out


EvaluationKey = tuple[str, "str | None", "str | None", "str | None"]  # event_id, response_id, trace_id, span_id


def _has_detached(conn: Conn, project_id: str) -> bool:
    """Whether any evaluation of the project waits on a response id, a span or a trace rather than naming its
    event. Most projects have none: their pages and batches then skip those lookups (one probe instead)."""
    return _one(conn, "SELECT 1 AS found FROM evaluations WHERE project_id = ? AND event_id IS NULL LIMIT 1",
                (project_id,)) is not None


def _trace_evaluations(conn: Conn, project_id: str, trace_ids: list[str]) -> list[tuple[str, Any]]:
    """(trace id, row) of each evaluation of a whole trace among `trace_ids`: the trace's own, and those of
    a span of it that is no call (a Phoenix annotation of the app's span around its calls). None: two
    indexed probes."""
    traces = sorted(set(trace_ids))
    if not traces:
        return []
    found = [(r["trace_id"], r) for r in _in(
        conn, "SELECT * FROM evaluations WHERE project_id = ? AND trace_id {in} AND event_id IS NULL",
              (project_id,), traces)]
    return found + [(r["tree_trace"], r) for r in _in(
        conn, "SELECT e.*, s.trace_id AS tree_trace FROM spans s JOIN evaluations e ON e.project_id = s.project_id"
              " AND e.span_id = s.span_id AND e.event_id IS NULL WHERE s.project_id = ? AND s.trace_id {in}",
              (project_id,), traces)]


def _final_calls(conn: Conn, project_id: str, trace_ids: list[str]) -> dict[str, str]:
    """Each trace's final call: its last LLM call by start (then arrival), else its last event. A score of a
    whole trace (a user's thumbs on one turn) is about the answer that turn ended with."""
    best: dict[str, tuple[tuple[bool, int, int], str]] = {}
    for r in _in(conn, "SELECT trace_id, event_id, kind, ts_us, seq FROM events WHERE project_id = ?"
                       " AND trace_id {in}", (project_id,), trace_ids):
        rank = (r["kind"] == "llm", r["ts_us"], r["seq"])
        if r["trace_id"] not in best or rank > best[r["trace_id"]][0]:
            best[r["trace_id"]] = (rank, r["event_id"])
    return {trace_id: event_id for trace_id, (_, event_id) in best.items()}


def _evaluations(conn: Conn, project_id: str, keys: list[EvaluationKey], trace_rows: list[tuple[str, Any]],
                 detached: bool) -> dict[str, list[Evaluation]]:
    """Evaluations of each key's event, oldest first: by event, by response id, by span id, and the
    whole-trace ones (`trace_rows`) on the event that is its trace's final call."""
    wanted = {k[0] for k in keys}
    by_response = {k[1]: k[0] for k in keys if k[1]}
    by_span: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        if key[3]:
            by_span[key[3]].append(key[0])
    found = [(r["event_id"], r) for r in _in(
        conn, "SELECT * FROM evaluations WHERE project_id = ? AND event_id {in}", (project_id,), list(wanted))]
    if by_response and detached:
        found += [(by_response[r["response_id"]], r) for r in _in(
            conn, "SELECT * FROM evaluations WHERE project_id = ? AND event_id IS NULL AND response_id {in}",
                  (project_id,), list(by_response))]
    if by_span and detached:
        found += [(event_id, r) for r in _in(
            conn, "SELECT * FROM evaluations WHERE project_id = ? AND span_id {in} AND event_id IS NULL",
                  (project_id,), list(by_span)) for event_id in by_span[r["span_id"]]]
    traced: dict[str, str] = {}  # eval_key → the trace a whole-trace evaluation is of
    if trace_rows:
        finals = _final_calls(conn, project_id, sorted({trace_id for trace_id, _ in trace_rows}))
        for trace_id, r in trace_rows:
            if finals.get(trace_id) in wanted:
                found.append((finals[trace_id], r))
                traced[r["eval_key"]] = trace_id
    out: dict[str, list[Evaluation]] = defaultdict(list)
    for event_id, r in sorted(found, key=lambda f: (f[1]["ts_us"], f[1]["eval_key"])):
        out[event_id].append(Evaluation(
            eval_key=r["eval_key"], event_id=r["event_id"], response_id=r["response_id"], name=r["name"],
            score=r["score"], label=r["label"], explanation=r["explanation"], ts_us=r["ts_us"], source=r["source"],
            trace_id=traced.get(r["eval_key"], r["trace_id"]), span_id=r["span_id"], human=bool(r["human"])))
    return out


def evaluations_for(conn: Conn, project_id: str, keys: list[EvaluationKey]) -> dict[str, list[Evaluation]]:
    """Evaluations of each (event_id, response_id, trace_id, span_id), oldest first."""
    if not keys:
        return {}
    detached = _has_detached(conn, project_id)
    traces = _trace_evaluations(conn, project_id, [k[2] for k in keys if k[2]]) if detached else []
    return _evaluations(conn, project_id, keys, traces, detached)


def human_rates(conn: Conn, project_id: str, session_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Per session: (human-flagged events, of which success), from the partial index of human flags."""
    out: dict[str, tuple[int, int]] = {}
    for r in _in(
        conn, "SELECT session_id, COUNT(*) AS n, SUM(CASE WHEN flag = 'success' THEN 1 ELSE 0 END) AS ok FROM events"
              " WHERE project_id = ? AND flag_source = 'user' AND session_id {in} GROUP BY session_id",
              (project_id,), session_ids,
    ):
        out[r["session_id"]] = (int(r["n"]), int(r["ok"] or 0))
    return out


def quality(conn: Conn, project_id: str, since_us: int, until_us: int) -> list[AgreementCounts]:
    rows = all_rows(
        conn, "SELECT d.detector AS detector, d.flag AS dflag,"
              " CASE WHEN e.flag_source = 'user' THEN e.flag END AS human, d.error IS NOT NULL AS failed,"
              " COUNT(*) AS n FROM detections d JOIN events e"
              " ON e.project_id = d.project_id AND e.event_id = d.event_id"
              " WHERE d.project_id = ? AND d.ts_us >= ? AND d.ts_us < ?"
              " AND d.created_us = (SELECT MAX(x.created_us) FROM detections x WHERE x.project_id = d.project_id"
              " AND x.event_id = d.event_id AND x.detector = d.detector)"
              " GROUP BY d.detector, d.flag, CASE WHEN e.flag_source = 'user' THEN e.flag END, d.error IS NOT NULL",
              (project_id, since_us, until_us))
    tally: dict[str, list[int]] = defaultdict(lambda: [0] * 7)
    for r in rows:
        t, n, flag, human = tally[r["detector"]], int(r["n"]), r["dflag"], r["human"]
        if flag is not None:
            t[0] += n
            t[1] += n if flag == "failure" else 0
        elif r["failed"]:
            t[2] += n
        if flag is not None and human is not None:
            index = {("success", "success"): 3, ("failure", "failure"): 4, ("failure", "success"): 5,
                     ("success", "failure"): 6}[(flag, human)]
            t[index] += n
    return [AgreementCounts(name, *t) for name, t in sorted(tally.items())]


def disagreements(conn: Conn, project_id: str, since_us: int, until_us: int, limit: int) -> list[Disagreement]:
    rows = all_rows(
        conn, "SELECT d.event_id, d.ts_us, d.detector, d.flag AS dflag, e.flag AS human, d.score, d.reason, e.input,"
              " e.output FROM detections d JOIN events e ON e.project_id = d.project_id AND e.event_id = d.event_id"
              " WHERE d.project_id = ? AND d.ts_us >= ? AND d.ts_us < ? AND e.flag_source = 'user'"
              " AND d.flag IS NOT NULL AND d.flag <> e.flag ORDER BY d.ts_us DESC, d.event_id, d.detector LIMIT ?",
              (project_id, since_us, until_us, limit))
    return [Disagreement(r["event_id"], r["ts_us"], r["detector"], r["dflag"], r["human"], r["score"], r["reason"],
                         r["input"], r["output"]) for r in rows]


def rerun(conn: Conn, project_id: str, since_us: int, until_us: int, now_us: int, limit: int) -> int:
    """Queue the range's events (newest first, at most `limit`) to be detected again."""
    return conn.execute(
        "INSERT INTO detection_queue (seq, project_id, event_id, enqueued_us, rerun)"
        " SELECT seq, project_id, event_id, ?, 1 FROM events WHERE project_id = ? AND ts_us >= ? AND ts_us < ?"
        " ORDER BY ts_us DESC LIMIT ? ON CONFLICT (seq) DO UPDATE SET rerun = 1",
        (now_us, project_id, since_us, until_us, limit)).rowcount


def lag(conn: Conn, project_id: str | None = None) -> DetectionLag:
    if project_id is None:
        row = _one(conn, "SELECT COUNT(*) AS n, MIN(enqueued_us) AS oldest FROM detection_queue")
    else:
        row = _one(conn, "SELECT COUNT(*) AS n, MIN(enqueued_us) AS oldest FROM detection_queue WHERE project_id = ?",
                         (project_id,))
    return DetectionLag(int(row["n"]), row["oldest"])


# ---------------------------------------------------------------- the ingest side

def store_evaluations(conn: Conn, project_id: str, evaluations: list[Evaluation], now_us: int,
                      enqueue: bool = True) -> None:
    """Keep evaluations and queue their events, if stored, to settle the flag again (`enqueue` False:
    detection is off, nothing would drain the queue). A record whose key is stored replaces it: an OTel
    retry is the same record, and a Langfuse score sent again under its id is that score's new value."""
    conn.executemany(
        "INSERT INTO evaluations (project_id, eval_key, event_id, response_id, name, score, label, explanation,"
        " source, ts_us, created_us, trace_id, span_id, human) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (project_id, eval_key) DO UPDATE SET event_id = excluded.event_id,"
        " response_id = excluded.response_id, name = excluded.name, score = excluded.score, label = excluded.label,"
        " explanation = excluded.explanation, source = excluded.source, ts_us = excluded.ts_us,"
        " trace_id = excluded.trace_id, span_id = excluded.span_id, human = excluded.human",
        [(project_id, e.eval_key, e.event_id, e.response_id, e.name, e.score, e.label, e.explanation, e.source,
          e.ts_us, now_us, e.trace_id, e.span_id, int(e.human)) for e in evaluations])
    if not enqueue:
        return
    event_ids = list({e.event_id for e in evaluations if e.event_id})
    responses = list({e.response_id for e in evaluations if not e.event_id and e.response_id})
    if responses:
        event_ids += [r["event_id"] for r in _in(
            conn, "SELECT event_id FROM response_events WHERE project_id = ? AND response_id {in}",
                  (project_id,), responses)]
    found = _in(conn, "SELECT seq, event_id FROM events WHERE project_id = ? AND event_id {in}",
                (project_id,), event_ids) if event_ids else []
    spans = list({e.span_id for e in evaluations if e.span_id and not e.event_id})
    traces = {e.trace_id for e in evaluations if e.trace_id and not e.event_id and not e.response_id}
    if spans:  # a call's span, or a span of the tree (its trace's final call is meant)
        found += _in(conn, "SELECT seq, event_id FROM events WHERE project_id = ? AND span_id {in}", (project_id,),
                     spans)
        traces.update(r["trace_id"] for r in _in(
            conn, "SELECT trace_id FROM spans WHERE project_id = ? AND span_id {in}", (project_id,), spans))
    if traces:  # a whole trace's: settling any one event of the trace settles them all
        first = {r["trace_id"]: r for r in reversed(_in(
            conn, "SELECT seq, event_id, trace_id FROM events WHERE project_id = ? AND trace_id {in}",
                  (project_id,), sorted(traces)))}
        found += list(first.values())
    conn.executemany(ENQUEUE, [(r["seq"], project_id, r["event_id"], now_us) for r in found])


def human_totals(conn: Conn, project_id: str, since_us: int, until_us: int) -> tuple[int, int]:
    """(human-flagged events in the range, of which success), from the partial index of human flags."""
    row = _one(conn, "SELECT COUNT(*) AS n, SUM(CASE WHEN flag = 'success' THEN 1 ELSE 0 END) AS ok FROM events"
                     " WHERE project_id = ? AND flag_source = 'user' AND ts_us >= ? AND ts_us < ?",
                     (project_id, since_us, until_us))
    return int(row["n"]), int(row["ok"] or 0)
