"""Users: each end user's sessions, activity and success rate, from the sessions table (keyset by user id)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from phosphobs.api.dashboard.common import ProjectDep, clean, page, page_cursor
from phosphobs.api.pagination import encode_cursor
from phosphobs.storage.dashboard_records import UserQuery
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

router = APIRouter(include_in_schema=False)


@router.get("/p/{project}/users")
async def users(request: Request, ctx: ProjectDep, prefix: str = "") -> Response:
    after = page_cursor(request, ("str",))
    query = UserQuery(prefix=clean(prefix), after=after[0] if after else None, limit=50)
    result = await run_in_threadpool(ctx.storage.list_users, ctx.project.id, query)
    return page(request, ctx, "users.html", "users", users=result.items, prefix=prefix,
                next_cursor=encode_cursor(result.next_after), first_page=query.after is None)
