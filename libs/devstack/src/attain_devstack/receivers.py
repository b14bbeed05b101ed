"""Real receivers for what alert-service sends, for tests, benchmarks and the
demo: an HTTP server that records every request (a webhook or chat-bot
endpoint) and an SMTP server (aiosmtpd) that records every message."""

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

import uvicorn
from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived


async def _wait(found: Callable[[], list[Any]], count: int, within: float, what: str) -> list[Any]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if len(items := found()) >= count:
            return items
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: {len(found())} of {count} within {within}s")


@dataclass
class HttpReceiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # What it answers; a test sets e.g. 500 to play a failing endpoint.
    status: int = 200
    reply: bytes = b'{"ok": true}'

    async def wait_for(
        self, count: int = 1, within: float = 30, where: Callable[[Received], bool] | None = None
    ) -> list[Received]:
        return cast(
            list[Received],
            await _wait(
                lambda: [r for r in self.requests if where is None or where(r)],
                count,
                within,
                f"requests at {self.url}",
            ),
        )


@asynccontextmanager
async def http_receiver() -> AsyncIterator[HttpReceiver]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    receiver = HttpReceiver(url=f"http://127.0.0.1:{sock.getsockname()[1]}")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        receiver.requests.append(Received(scope["path"], headers, body, time.monotonic()))
        await send(
            {
                "type": "http.response.start",
                "status": receiver.status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": receiver.reply})

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to await)
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task


@dataclass
class MailReceiver:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    async def wait_for(
        self,
        count: int = 1,
        within: float = 30,
        where: Callable[[EmailMessage], bool] | None = None,
    ) -> list[EmailMessage]:
        return cast(
            list[EmailMessage],
            await _wait(
                lambda: [m for m in self.messages if where is None or where(m)],
                count,
                within,
                f"e-mails at {self.host}:{self.port}",
            ),
        )


class _Recorder:
    def __init__(self, receiver: MailReceiver) -> None:
        self._receiver = receiver

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self._receiver.messages.append(cast(EmailMessage, message))
        return "250 Message accepted for delivery"


@asynccontextmanager
async def smtp_receiver() -> AsyncIterator[MailReceiver]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    receiver = MailReceiver("127.0.0.1", port)
    controller = Controller(_Recorder(receiver), hostname="127.0.0.1", port=port)
    await asyncio.to_thread(controller.start)
    try:
        yield receiver
    finally:
        await asyncio.to_thread(controller.stop)
