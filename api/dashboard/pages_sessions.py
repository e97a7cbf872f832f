"""Sessions: the filterable, sortable list (keyset pages) and one session's timeline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from phosphobs.api.dashboard.common import PageError, ProjectDep, clean, page, page_cursor, parse_time
from phosphobs.api.dashboard.content import timeline_item
from phosphobs.api.dashboard.waterfall import rows
from phosphobs.api.enrich import read_together
from phosphobs.api.pagination import encode_cursor
from phosphobs.storage.dashboard_records import SessionSearch
from phosphobs.storage.protocol import SessionRecord, Storage, StoredEvent
from phosphobs.storage.trace_records import TraceRecord
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

router = APIRouter(include_in_schema=False)

SORTS = {"activity": "Last activity", "start": "Start", "duration": "Duration", "events": "Events", "cost": "Cost",
         "tokens": "Tokens"}
FILTERS = ("user", "model", "tag", "failures", "since", "until", "q", "sort", "order")
TIMELINE_LIMIT = 1000
MAX_WATERFALLS = 20  # traces drawn on a session page; the others are linked


@router.get("/p/{project}/sessions")
async def sessions(request: Request, ctx: ProjectDep) -> Response:
    params = {name: request.query_params.get(name, "") for name in FILTERS}
    sort = params["sort"] if params["sort"] in SORTS else "activity"
    failures = {"yes": True, "no": False}.get(params["failures"])
    after = page_cursor(request, ("number", "str"))
    query = SessionSearch(
        user_id=clean(params["user"]), model=clean(params["model"]), tag=clean(params["tag"]), has_failures=failures,
        since_us=parse_time(params["since"]), until_us=parse_time(params["until"]), text=clean(params["q"], 1000),
        sort=sort, descending=params["order"] != "asc",  # type: ignore[arg-type]
        after=after, limit=50,  # type: ignore[arg-type]
    )
    result = await run_in_threadpool(ctx.storage.search_sessions, ctx.project.id, query)
    kept = {k: v for k, v in params.items() if v}
    return page(request, ctx, "sessions.html", "sessions", sessions=result.items, params=params, kept=kept,
                sorts=SORTS, next_cursor=encode_cursor(result.next_after), first_page=query.after is None)


@router.get("/p/{project}/sessions/{session_id:path}")
async def session_detail(request: Request, ctx: ProjectDep, session_id: str) -> Response:
    project_id = ctx.project.id

    def detail(store: Storage) -> tuple[SessionRecord, list[StoredEvent], list[str], list[TraceRecord]] | None:
        record = store.get_session(project_id, session_id)
        if record is None:
            return None
        trace_ids = store.session_traces(project_id, session_id)
        traces = [store.get_trace(project_id, trace_id) for trace_id in trace_ids[:MAX_WATERFALLS]]
        return (record, store.session_events(project_id, session_id, TIMELINE_LIMIT), trace_ids,
                [t for t in traces if t is not None])

    found = await read_together(ctx.storage, detail)
    if found is None:
        raise PageError(404, f"no session {session_id!r}")
    record, events, trace_ids, traces = found
    untraced = [timeline_item(e) for e in events if not e.event.trace_id]  # native events keep the timeline
    return page(request, ctx, "session.html", "sessions", record=record, items=untraced,
                waterfalls=[(t, rows(t)) for t in traces], more_traces=trace_ids[MAX_WATERFALLS:],
                truncated=len(events) >= TIMELINE_LIMIT, here=request.url.path)


@router.get("/p/{project}/traces/{trace_id}")
async def trace_detail(request: Request, ctx: ProjectDep, trace_id: str) -> Response:
    trace = await run_in_threadpool(ctx.storage.get_trace, ctx.project.id, trace_id.lower()[:64])
    if trace is None:
        raise PageError(404, f"no trace {trace_id!r}")
    return page(request, ctx, "trace.html", "sessions", trace=trace, rows=rows(trace), here=request.url.path)
