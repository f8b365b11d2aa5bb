"""uvicorn's httptools protocol, sending a response's head and body in one write.

uvicorn writes the status line and headers of a response as soon as the app starts it, and the
body in a second write. Each write on a TCP socket is a send: with TCP_NODELAY (uvloop's
default) a segment of its own, and a wake-up of a client waiting for the answer, which then
reads the head, waits again and is woken again for the body. Profiled under the partner-query
load (py-spy, 2 workers and wrk on 2 cores), the head's write was 12% of a worker's busy samples
and the body's 2%: the first write is the one that wakes the client, and on a busy machine the
server is preempted right there.

`HeadWithBody` holds the head back and sends it with the first piece of the body, so an answer
of one body (every JSON answer) is one send; a streamed answer's head goes with its first chunk.
The head is sent on its own only when nothing follows it: at the end of a response without a
body (HEAD, 204, 304) and before the connection closes. An interim ``100 Continue`` is never
held: the client waits for it before it sends the request's body.

This builds on uvicorn's `HttpToolsProtocol` (its `transport` attribute and its response-complete
callback); `tests/app/test_http_protocol.py` runs whole requests through it, so a uvicorn that
changes those fails there.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["CoalescingHttpToolsProtocol", "HeadWithBody"]

#: What uvicorn writes for an ``Expect: 100-continue`` request when the app reads its body.
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class HeadWithBody:
    """A transport whose first write of each response (its head) waits for the next one."""

    __slots__ = ("_transport", "_head", "_expect_head")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._head: bytes | None = None
        self._expect_head = False

    def response_started(self) -> None:
        """The next write (but a 100 Continue) is an answer's head."""
        self._expect_head = True

    def flush(self) -> None:
        """Send a held head now."""
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Hold an answer's head; send anything else, after the head it follows if one is held."""
        if self._head is not None:
            # The held head's body (or, pipelined, whatever its response writes next).
            head, self._head = self._head, None
            self._transport.write(head + bytes(data))
        elif self._expect_head and data != _CONTINUE:
            self._expect_head = False
            self._head = bytes(data)
        else:
            self._transport.write(data)

    def close(self) -> None:
        """Send a held head, then close."""
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        """Whether the transport is closing (or closed)."""
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        # Everything else (get_extra_info, pause_reading, set_protocol, abort, ...) as is.
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` writing through `HeadWithBody`: one send per answer of one body."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Set the connection up as uvicorn does, writing through `HeadWithBody`."""
        super().connection_made(transport)
        self.transport = HeadWithBody(transport)  # type: ignore[assignment]

    def on_headers_complete(self) -> None:
        """A request's head is parsed: start its answer as uvicorn does."""
        if self.cycle is None or self.cycle.response_complete:
            # No answer under way: the next write is this request's head. (A pipelined request
            # parsed while one is under way waits for it, and `on_response_complete` says so.)
            self.transport.response_started()  # type: ignore[attr-defined]
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        """An answer is complete: send what is held of it, then go on as uvicorn does."""
        # A response without a body ends with its head still held; the next write, if any, is
        # the head of the next answer (of a pipelined request, or a 400 for a malformed one).
        self.transport.flush()  # type: ignore[attr-defined]
        self.transport.response_started()  # type: ignore[attr-defined]
        super().on_response_complete()
