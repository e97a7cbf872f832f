"""Trace waterfalls in real headless Chromium: the session page and the trace page, fed by the real
OpenTelemetry SDK over OTLP/HTTP; untrusted span content renders as text there too."""

from __future__ import annotations

from urllib.parse import quote

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.trace import Status, StatusCode, Tracer

from tests.conftest import new_api_project
from tests.dashboards.conftest import shot
from tests.dashboards.test_xss import IMG, LINK, PAYLOAD, SCRIPT, SVG
from tests.support.agent_traces import BUILDERS, TOOL_ARGS, TOOL_RESULT, record
from tests.support.server import ServerProcess


def export(server: ServerProcess, key: str, spans: list[ReadableSpan]) -> None:
    exporter = OTLPSpanExporter(endpoint=f"{server.base_url}/v1/traces", headers={"Authorization": f"Bearer {key}"})
    assert exporter.export(list(reversed(spans))) == SpanExportResult.SUCCESS  # root first: the hard order
    exporter.shutdown()


def test_session_page_draws_the_agent_waterfall_and_shows_the_tool_call(page, server: ServerProcess) -> None:
    api = new_api_project(server)
    spans = record(BUILDERS["semconv"], session="wf-session")
    failing = record(BUILDERS["openinference"], session="wf-session")
    export(server, api.key, spans)
    export(server, api.key, failing)
    page.goto(f"/p/{api.project.id}/sessions/wf-session")
    traces = page.locator("details.trace")
    assert traces.count() == 2
    first = traces.nth(0)
    assert first.get_attribute("open") is not None
    rows = first.locator("details.span")
    assert rows.count() == 5  # root, agent, two LLM calls, the tool: plain leaves are not stored
    assert [rows.nth(i).get_attribute("data-kind") for i in range(5)] == ["other", "agent", "llm", "tool", "llm"]
    assert first.locator("svg.wf-bar rect").count() == 5
    tool = first.locator("details.span[data-kind=tool]")
    assert not tool.locator(".span-detail").is_visible()
    tool.locator("summary").first.click()
    detail = tool.locator(".span-detail")
    assert detail.is_visible()
    text = detail.inner_text()
    assert "arguments" in text.lower() and "result" in text.lower()  # headings are shown upper case
    assert TOOL_ARGS in text and TOOL_RESULT in text
    shot(page, "session-waterfall-tool")

    traces.nth(1).locator("summary strong").first.click()  # the second trace: its failing tool is red
    failed = traces.nth(1).locator("details.span.failed")
    assert failed.count() == 1 and failed.get_attribute("data-kind") == "tool"
    failed.locator("summary").first.click()
    assert "weather service down" in failed.locator(".span-detail").inner_text()
    shot(page, "session-waterfall-error")

    first.locator("summary a", has_text="trace page").click()
    trace_id = f"{spans[0].context.trace_id:032x}"
    page.wait_for_url(f"**/traces/{trace_id}")
    assert page.locator("details.trace details.span").count() == 5
    page.locator("details.span[data-kind=llm] summary").first.click()
    assert "weather step 0" in page.locator("details.span[data-kind=llm] .span-detail").first.inner_text()
    shot(page, "trace-page")
    assert page.goto(f"/p/{api.project.id}/traces/{'0' * 32}").status == 404


def _hostile_agent(tracer: Tracer, session: str) -> None:
    with tracer.start_as_current_span(SCRIPT, attributes={"gen_ai.operation.name": "invoke_agent",
                                                          "gen_ai.agent.name": IMG, "session.id": session,
                                                          "custom.html": PAYLOAD}):
        with tracer.start_as_current_span(IMG, attributes={
            "gen_ai.operation.name": "chat", "gen_ai.request.model": SCRIPT,
            "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "content": "' +
                                     SCRIPT.replace('"', '\\"') + '"}]}]',
        }):
            pass
        with tracer.start_as_current_span(LINK, attributes={
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": SVG,
            "gen_ai.tool.call.arguments": PAYLOAD, "gen_ai.tool.call.result": PAYLOAD,
        }) as tool:
            tool.set_status(Status(StatusCode.ERROR, PAYLOAD))


def test_span_content_renders_as_text_and_never_runs(page, server: ServerProcess) -> None:
    api = new_api_project(server)
    session_id = "xss-trace-<script>alert(1)</script>"
    spans = record(_hostile_agent, session=session_id)
    export(server, api.key, spans)
    trace_id = f"{spans[0].context.trace_id:032x}"
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for name, path in {"xss-trace-session": f"/p/{api.project.id}/sessions/{quote(session_id, safe='')}",
                       "xss-trace-page": f"/p/{api.project.id}/traces/{trace_id}"}.items():
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        main = page.locator("main")
        for summary in main.locator("details.span > summary").all():
            summary.click()  # open every span's details
        for element in main.locator("b, summary").all()[:40]:
            element.hover()
        assert page.evaluate("window.__pwned") is None, name
        assert main.locator("img, svg:not(.wf-bar), script, iframe, b").count() == 0, name
        assert main.locator("a[href^='javascript']").count() == 0 and page.locator("#evil-link").count() == 0
        text = main.inner_text()
        assert SCRIPT in text and IMG in text and LINK in text, name
        shot(page, name)
    assert dialogs == []
