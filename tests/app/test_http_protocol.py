"""The server's HTTP protocol: every answer of one body leaves in one write, and none is lost.

Whole requests go through `CoalescingHttpToolsProtocol` (uvicorn's httptools protocol underneath)
with a transport that records each write, so these fail if the head is written apart from its
body again, or if a head is held past the end of an answer (a client would wait for it forever).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from uvicorn.config import Config
from uvicorn.server import ServerState

from app.http_protocol import CoalescingHttpToolsProtocol


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def chunks() -> Any:
    yield b"first,"
    await asyncio.sleep(0)
    yield b"second"


async def echo(request: Request) -> Response:
    return PlainTextResponse(b"got " + await request.body())


async def json_answer(_: Request) -> Response:
    return Response(b'{"a": 1}', media_type="application/json")


async def empty(_: Request) -> Response:
    return Response(status_code=204)


async def stream(_: Request) -> Response:
    return StreamingResponse(chunks(), media_type="text/plain")


async def page(_: Request) -> Response:
    return PlainTextResponse("a page")


APP = Starlette(
    routes=[
        Route("/json", json_answer),
        Route("/empty", empty),
        Route("/stream", stream),
        Route("/echo", echo, methods=["POST"]),
        Route("/page", page, methods=["GET", "HEAD"]),
    ]
)


def connect() -> tuple[Any, RecordingTransport]:
    # As `counterpart serve` configures uvicorn.
    config = Config(
        app=APP, http=CoalescingHttpToolsProtocol, ws="none", lifespan="off", log_level="error"
    )
    config.load()
    protocol = config.http_protocol_class(  # type: ignore[call-arg]
        config=config, server_state=ServerState(), app_state={}
    )
    transport = RecordingTransport()
    protocol.connection_made(transport)
    return protocol, transport


async def answered(protocol: Any) -> None:
    """Until every request the connection has been given is answered (pipelined ones too)."""
    for _ in range(1000):
        await asyncio.sleep(0)
        if not protocol.tasks and not protocol.pipeline:
            return
        await asyncio.wait(list(protocol.tasks), timeout=5)
    raise AssertionError("the requests were not all answered")


async def exchange(requests: bytes) -> RecordingTransport:
    protocol, transport = connect()
    protocol.data_received(requests)
    await answered(protocol)
    return transport


def run(requests: bytes) -> RecordingTransport:
    return asyncio.run(exchange(requests))


def get(path: str, method: str = "GET", extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: test\r\n{extra}\r\n".encode()


def test_an_answer_of_one_body_is_one_write() -> None:
    writes = run(get("/json")).writes
    assert len(writes) == 1
    head, body = writes[0].split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK") and b"content-length: 8" in head
    assert body == b'{"a": 1}'


def test_answers_without_a_body_are_sent_when_they_end() -> None:
    # A 204, and a HEAD of a page: nothing follows the head, so it must not wait for more.
    assert run(get("/empty")).writes[0].startswith(b"HTTP/1.1 204")
    head = run(get("/page", "HEAD")).writes
    assert len(head) == 1 and head[0].startswith(b"HTTP/1.1 200") and head[0].endswith(b"\r\n\r\n")


def test_a_streamed_answer_sends_its_head_with_the_first_chunk() -> None:
    writes = run(get("/stream")).writes
    assert writes[0].startswith(b"HTTP/1.1 200") and writes[0].endswith(b"6\r\nfirst,\r\n")
    assert b"".join(writes[1:]) == b"6\r\nsecond\r\n0\r\n\r\n"


def test_a_100_continue_is_sent_at_once_and_the_answer_after_it() -> None:
    request = (
        b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
    )

    async def go() -> RecordingTransport:
        protocol, transport = connect()
        protocol.data_received(request)
        for _ in range(50):
            await asyncio.sleep(0)
        # The client sends the body only once it has read the 100 Continue.
        assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
        protocol.data_received(b"ping")
        await answered(protocol)
        return transport

    writes = asyncio.run(go()).writes
    assert len(writes) == 2 and writes[1].startswith(b"HTTP/1.1 200")
    assert writes[1].endswith(b"got ping")


def test_pipelined_requests_get_every_answer_in_order_each_in_one_write() -> None:
    writes = run(get("/json") + get("/page", "HEAD") + get("/empty") + get("/page")).writes
    assert [w[:12] for w in writes] == [b"HTTP/1.1 200", b"HTTP/1.1 200", b"HTTP/1.1 204",
                                        b"HTTP/1.1 200"]  # fmt: skip
    assert writes[0].endswith(b'\r\n\r\n{"a": 1}') and writes[1].endswith(b"\r\n\r\n")
    assert writes[3].endswith(b"\r\n\r\na page")


@pytest.mark.parametrize("request_bytes", [b"NOT HTTP AT ALL\r\n\r\n", get("/x", extra="Bad\r\n")])
def test_a_malformed_request_is_answered_before_the_connection_closes(
    request_bytes: bytes,
) -> None:
    transport = run(request_bytes)
    assert transport.closed
    assert b"".join(transport.writes).startswith(b"HTTP/1.1 400")


def test_a_websocket_upgrade_is_answered_as_plain_http() -> None:
    # The service has no WebSocket routes: the handshake is not taken up, the app answers.
    upgrade = get("/json", extra="Connection: Upgrade\r\nUpgrade: websocket\r\n")
    writes = run(upgrade).writes
    assert len(writes) == 1 and writes[0].startswith(b"HTTP/1.1 200")
