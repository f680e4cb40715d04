"""Request hooks: ``ClientSession(trace_configs=...)`` sends what aiohttp's does, in its order."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.compat.support import same
from tests.servers import HttpServer, refused_url


def recording_trace(http: Any, seen: list[tuple[Any, ...]], name: str) -> Any:
    """A ``TraceConfig`` whose four hooks append what they were given to ``seen``."""

    async def on_start(session: Any, ctx: SimpleNamespace, params: Any) -> None:
        ctx.started = True
        headers = sorted((k, v) for k, v in params.headers.items())
        seen.append((name, "start", params.method, str(params.url), headers, ctx.trace_request_ctx))

    async def on_redirect(session: Any, ctx: SimpleNamespace, params: Any) -> None:
        seen.append((name, "redirect", params.method, str(params.url), params.response.status))

    async def on_end(session: Any, ctx: SimpleNamespace, params: Any) -> None:
        status = params.response.status
        seen.append((name, "end", params.method, str(params.url), status, ctx.started, ctx.trace_request_ctx))

    async def on_exception(session: Any, ctx: SimpleNamespace, params: Any) -> None:
        error = type(params.exception).__name__
        seen.append((name, "exception", params.method, str(params.url), error, ctx.started))

    trace = http.TraceConfig()
    trace.on_request_start.append(on_start)
    trace.on_request_redirect.append(on_redirect)
    trace.on_request_end.append(on_end)
    trace.on_request_exception.append(on_exception)
    return trace


async def test_hooks_see_start_redirects_end_and_exceptions(http_server: HttpServer) -> None:
    refused = refused_url("/gone")

    async def scenario(http: Any) -> list[tuple[Any, ...]]:
        seen: list[tuple[Any, ...]] = []
        traces = [recording_trace(http, seen, "first"), recording_trace(http, seen, "second")]
        async with http.ClientSession(trace_configs=traces, headers={"X-Session": "s"}) as session:
            async with session.get(
                http_server.url_for("/redirect/2"),
                params={"a": "1"},
                headers={"X-Request": "r"},
                trace_request_ctx={"id": 7},
            ) as response:
                seen.append(("body", await response.text()))
            async with session.post(http_server.url_for("/status/404"), data=b"x") as response:
                seen.append(("status", response.status))
            try:
                await session.get(refused)
            except http.ClientConnectionError as error:
                seen.append(("raised", type(error).__name__))
            with pytest.raises(http.InvalidURL):
                await session.get("http://")
        return seen

    seen = await same(scenario)
    assert [entry[:2] for entry in seen[:8]] == [
        ("first", "start"),
        ("second", "start"),
        ("first", "redirect"),
        ("second", "redirect"),
        ("first", "redirect"),
        ("second", "redirect"),
        ("first", "end"),
        ("second", "end"),
    ]


async def test_a_frozen_config_takes_no_more_hooks() -> None:
    async def scenario(http: Any) -> str:
        trace = http.TraceConfig()
        async with http.ClientSession(trace_configs=[trace]):
            pass

        async def hook(session: Any, ctx: Any, params: Any) -> None:
            pass

        try:
            trace.on_request_start.append(hook)
        except RuntimeError as error:
            return type(error).__name__
        return "appended"

    assert await same(scenario) == "RuntimeError"


async def test_the_context_factory_makes_each_requests_context(http_server: HttpServer) -> None:
    class Context(SimpleNamespace):
        pass

    async def scenario(http: Any) -> list[str]:
        kinds: list[str] = []

        async def on_start(session: Any, ctx: Any, params: Any) -> None:
            kinds.append(f"{type(ctx).__name__}:{ctx.trace_request_ctx}")

        trace = http.TraceConfig(trace_config_ctx_factory=Context)
        trace.on_request_start.append(on_start)
        async with http.ClientSession(trace_configs=[trace]) as session:
            for n in range(2):
                async with session.get(http_server.url_for("/bytes/1"), trace_request_ctx=n):
                    pass
        return kinds

    assert await same(scenario) == ["Context:0", "Context:1"]
