"""The embedded engine's wire: an httpx request answered by an ASGI app in the same process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from memhub.embedded.asgi import call_app


async def echo(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": dict(request.query_params),
            "header": request.headers.get("x-probe"),
            "body": (await request.body()).decode(),
        },
        headers={"x-answer": "yes"},
    )


async def stream(_: Request) -> StreamingResponse:
    async def parts() -> AsyncIterator[bytes]:
        for i in range(5):
            await asyncio.sleep(0)  # give a disconnect listener every chance to fire early
            yield f"part {i};".encode()

    return StreamingResponse(parts(), media_type="text/plain")


async def fail(_: Request) -> Response:
    raise RuntimeError("boom")


APP = Starlette(
    routes=[
        Route("/echo/{name}", echo, methods=["GET", "POST"]),
        Route("/stream", stream),
        Route("/fail", fail),
    ]
)


def call(method: str, url: str, **kwargs: object) -> httpx.Response:
    request = httpx.Request(method, url, **kwargs)  # type: ignore[arg-type]
    request.read()
    return asyncio.run(call_app(APP, request))


def test_method_path_query_headers_and_body_reach_the_app() -> None:
    response = call(
        "POST",
        "http://memhub.embedded/echo/caf%C3%A9?a=1&b=two",
        headers={"X-Probe": "seen"},
        content=b"payload",
    )
    assert response.status_code == 200
    assert response.headers["x-answer"] == "yes"
    assert response.json() == {
        "method": "POST",
        "path": "/echo/café",
        "query": {"a": "1", "b": "two"},
        "header": "seen",
        "body": "payload",
    }


def test_a_streaming_response_arrives_whole() -> None:
    response = call("GET", "http://memhub.embedded/stream")
    assert response.status_code == 200
    assert response.text == "".join(f"part {i};" for i in range(5))


def test_an_app_failing_before_it_answers_gives_a_bare_500() -> None:
    response = call("GET", "http://memhub.embedded/fail")
    assert response.status_code == 500


def test_an_unknown_route_answers_as_the_app_says() -> None:
    assert call("GET", "http://memhub.embedded/nowhere").status_code == 404
