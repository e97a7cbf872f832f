"""A history of writes through the storage contract, and every read of it, for the upgrade test.

`write_history` runs only when the fixtures are captured (`fixtures/upgrade_0003/capture.py`, against
the code of that schema); `read_everything` runs then and in the test, so both sides read alike. Both
use only methods the contract has had since that schema.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from phosphobs.storage.dashboard_records import HOUR_US, SessionSearch, UserQuery, WebSession
from phosphobs.storage.models import Event, EventPatch, Feedback, TraceHint, otlp_event_id
from phosphobs.storage.protocol import EventQuery, FeedbackOp, IngestOp, SessionQuery, TouchKeyOp

BASE = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
MIN = 60_000_000
NOW = BASE + 6 * HOUR_US
KEYS = ("ph_shop_live", "ph_shop_old", "ph_lab")
TOKENS = ("valid-token", "expired-token")


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _event(n: int, minutes: float, **fields: Any) -> Event:
    values: dict[str, Any] = {"event_id": f"ev-{n:03d}", "input": f"question {n} naïve café",
                              "output": f"answer {n}", "timestamp_us": BASE + int(minutes * MIN)}
    values.update(fields)
    return Event(**values)


def _span(trace: str, span: str, minutes: float, **fields: Any) -> Event:
    values = {"input": f"span {span} prompt", "output": f"span {span} completion", **fields}
    return _event(0, minutes, event_id=otlp_event_id(trace, span), source="otlp", trace_id=trace, span_id=span,
                  **values)


def write_history(storage: Any) -> None:
    """Projects, keys, native and OTLP events, sessions of every kind, feedback, patches, admins, logins."""
    shop = storage.create_project("shop", "pro", BASE)
    storage.set_project_plan(shop.id, "pro", 10_000)
    lab = storage.create_project("lab", "free", BASE + 1)
    live = storage.create_key(shop.id, "live", KEYS[0][:11], _hash(KEYS[0]), BASE + 2)
    storage.create_key(shop.id, "old", KEYS[1][:11], _hash(KEYS[1]), BASE + 3)
    storage.create_key(lab.id, "lab", KEYS[2][:11], _hash(KEYS[2]), BASE + 4)
    storage.revoke_key(KEYS[1][:11], BASE + 5)
    trace_a, trace_b = "a" * 32, "b" * 32
    ops: list[Any] = [
        IngestOp(shop.id, [
            _event(1, 0, session_id="s1", user_id="alice", model="gpt-4o", provider="openai", latency_ms=420.5,
                   tokens_in=12, tokens_out=30, cost_cents=0.75, cost_source="estimated", tags=["prod", "chat"],
                   metadata={"nested": {"k": [1, 2.5, None]}, "flag": True}),
            _event(2, 3, session_id="s1", model="claude-3", latency_ms=1500, tokens_in=5, tokens_out=9, tags=["chat"]),
            _event(3, 4, status="error", error_type="TimeoutError", flag="failure", kind="tool", latency_ms=30000),
            _event(4, 5, user_id="bob", model="gpt-4o", latency_ms=80),
            _event(5, 50, user_id="bob", model="gpt-4o", latency_ms=95, tags=["later"]),
        ], 10_000, received_us=BASE + 6 * MIN),
        FeedbackOp(shop.id, Feedback("ev-002", "success", "great", "dashboard"), received_us=BASE + 7 * MIN),
        FeedbackOp(shop.id, Feedback("ev-009", "failure", None, "api"), received_us=BASE + 8 * MIN),  # before its event
        FeedbackOp(shop.id, Feedback("ev-never", "success"), received_us=BASE + 8 * MIN),
        TouchKeyOp(live.id, BASE + 9 * MIN),
    ]
    storage.write(ops, BASE + 10 * MIN)
    storage.write([
        IngestOp(shop.id, [_event(6, 25, user_id="bob", output="bridging answer", tokens_in=1)], 10_000),  # merges bob
        IngestOp(shop.id, [_event(9, 61, session_id="s2", user_id="carol", cost_cents=2.0, tags=["vip"])], 10_000),
        IngestOp(shop.id, [_span(trace_a, "1" * 16, 70, model="gpt-4o-mini", tokens_in=7, input="",
                                 parent_span_id="f" * 16)],
                 10_000, patches=[EventPatch(otlp_event_id(trace_b, "2" * 16), trace_b, "2" * 16, "0001",
                                             {"output_messages": [{"role": "assistant", "content": "patched"}]})],
                 trace_hints=[TraceHint(trace_a, BASE + 69 * MIN, session_id="conv-7", user_id="dave")]),
        IngestOp(lab.id, [_event(20, 120, session_id="lab-1", input="ünïcödé 漢字 \U0001f600")], None),
    ], BASE + 130 * MIN)
    storage.write([
        IngestOp(shop.id, [_span(trace_b, "2" * 16, 71, model="gpt-4o-mini", tokens_in=4, output="")], 10_000,
                 patches=[EventPatch(otlp_event_id(trace_a, "1" * 16), trace_a, "1" * 16, "0002", {
                     "input_messages": [{"role": "user", "content": "late prompt"}], "tokens_out": 11})]),
        FeedbackOp(shop.id, Feedback(otlp_event_id(trace_a, "1" * 16), "success"), received_us=BASE + 140 * MIN),
        IngestOp(shop.id, [], 10_000, trace_hints=[TraceHint(trace_b, BASE + 68 * MIN, session_id="conv-8")]),
    ], BASE + 140 * MIN)
    storage.set_admin_password("admin", "pbkdf2$hash-1", BASE)
    storage.set_admin_password("admin", "pbkdf2$hash-2", BASE + MIN)
    storage.create_web_session(WebSession(_hash(TOKENS[0]), "admin", "csrf-1", BASE + 2 * MIN, NOW + HOUR_US))
    storage.create_web_session(WebSession(_hash(TOKENS[1]), "admin", "csrf-2", BASE + 2 * MIN, NOW - 1))


# Fields records gained after schema 0003 (the capture could not read them); their values after an upgrade
# are checked by the tests of the migration that added them (0006_detection: tests/storage/test_detection_upgrade.py).
LATER_FIELDS = {"flag_source", "detected_flag"}


def _plain(value: Any) -> Any:
    """Records as JSON-shaped values (tuples as lists) so a capture and a read compare equal."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.name not in LATER_FIELDS}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _pages(fetch: Any, query: Any) -> list[Any]:
    items: list[Any] = []
    while True:
        page = fetch(query)
        items += page.items
        if page.next_after is None:
            return items
        query = dataclasses.replace(query, after=page.next_after)


def read_everything(storage: Any) -> dict[str, Any]:
    """Every read of the contract over the history, keyed by what was asked."""
    out: dict[str, Any] = {"projects": storage.list_projects(), "keys": storage.list_keys(),
                           "key_matches": [storage.find_key(_hash(k)) for k in (*KEYS, "ph_unknown")],
                           "admin": storage.get_admin("admin"), "admins": storage.count_admins(),
                           "web_sessions": [storage.get_web_session(_hash(t), NOW) for t in TOKENS]}
    for project in storage.list_projects():
        pid, p = project.id, project.name
        out[f"{p}/by_name"] = storage.get_project(p)
        events = _pages(lambda q, pid=pid: storage.list_events(pid, q), EventQuery(limit=4))
        out[f"{p}/events"] = events
        out[f"{p}/event"] = [storage.get_event(pid, e.event.event_id) for e in events]
        out[f"{p}/feedback"] = [storage.list_feedback(pid, i) for i in [e.event.event_id for e in events] +
                                ["ev-never"]]
        for name, query in (("text", EventQuery(text="answer", limit=3)), ("tag", EventQuery(tag="chat", limit=1)),
                            ("user", EventQuery(user_id="bob")), ("flag", EventQuery(flag="failure"))):
            out[f"{p}/events_{name}"] = _pages(lambda q, pid=pid: storage.list_events(pid, q), query)
        sessions = _pages(lambda q, pid=pid: storage.list_sessions(pid, q), SessionQuery(limit=2))
        out[f"{p}/sessions"] = sessions
        out[f"{p}/session"] = [storage.get_session(pid, s.session_id) for s in sessions]
        out[f"{p}/session_events"] = [storage.session_events(pid, s.session_id, 100) for s in sessions]
        out[f"{p}/search"] = [_pages(lambda q, pid=pid: storage.search_sessions(pid, q), q) for q in (
            SessionSearch(limit=2), SessionSearch(text="answer", sort="cost", descending=False),
            SessionSearch(sort="tokens", limit=1), SessionSearch(tag="chat"), SessionSearch(has_failures=False))]
        out[f"{p}/users"] = _pages(lambda q, pid=pid: storage.list_users(pid, q), UserQuery(limit=1))
        out[f"{p}/usage"] = storage.usage_series(pid, BASE, NOW, HOUR_US)
        out[f"{p}/session_series"] = storage.session_series(pid, BASE, NOW, HOUR_US)
        out[f"{p}/latency"] = storage.latency_percentiles(pid, BASE, NOW, 2 * HOUR_US)
        out[f"{p}/models"] = storage.top_models(pid, BASE, NOW, 10)
    return _plain(out)
