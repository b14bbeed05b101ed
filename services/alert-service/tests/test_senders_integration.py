"""Senders against real servers on local ports: an aiosmtpd SMTP server, and an
HTTP receiver (Starlette on uvicorn) that checks signatures as the platforms do
and answers as they do, including their refusals and a receiver too slow to answer."""

import asyncio
import base64
import hashlib
import hmac
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from alert_service.clients.senders import Senders, SendResult, SmtpConfig
from alert_service.domain.channels import Notification

pytestmark = pytest.mark.integration

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"integration-test-secret-32-bytes").decode()
ROBOT_SECRET = "SECintegration"
# The client's timeout; the slow receiver answers only when the test is over.
HTTP_TIMEOUT_SECONDS = 0.5
REFUSED_ADDRESS = "nobody@attain.example"

ALERT = Notification(
    message_id="msg_integration_1",
    event="raised",
    severity="critical",
    title="Q1 revenue (Ada) is 42% behind pace",
    text="Goal: Q1 revenue\nActual 5,800 so far\nExpected 10,000 by 2026-03-14",
    link="https://attain.example/goals/g-1",
    data={"alert_id": "a-1", "goal_id": "g-1"},
    created_at=datetime(2026, 3, 14, 9, 0, tzinfo=UTC),
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# -- SMTP --


@dataclass
class Mailbox:
    """An aiosmtpd handler: keeps what it is sent, refuses REFUSED_ADDRESS."""

    received: list[Envelope] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address == REFUSED_ADDRESS:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Mailbox, SmtpConfig]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield (
            mailbox,
            SmtpConfig(
                host="127.0.0.1", port=controller.port, sender="Attain <alerts@attain.example>"
            ),
        )
    finally:
        controller.stop()


# -- HTTP --


@dataclass
class Receiver:
    base_url: str
    webhooks: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    release_slow: asyncio.Event = field(default_factory=asyncio.Event)


def receiver_app(receiver: Receiver) -> Starlette:
    async def webhook(request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        try:
            Webhook(WEBHOOK_SECRET).verify(body, headers)
        except WebhookVerificationError as error:
            return PlainTextResponse(str(error), status_code=401)
        receiver.webhooks.append((headers, body))
        return Response(status_code=204)

    async def dingtalk(request: Request) -> Response:
        # As DingTalk does: HTTP 200 either way, the verdict in errcode.
        timestamp = request.query_params.get("timestamp", "")
        expected = base64.b64encode(
            hmac.new(
                ROBOT_SECRET.encode(), f"{timestamp}\n{ROBOT_SECRET}".encode(), hashlib.sha256
            ).digest()
        ).decode()
        if request.query_params.get("access_token") != "robot-1":
            return JSONResponse({"errcode": 300001, "errmsg": "token is not exist"})
        if request.query_params.get("sign") != expected:
            return JSONResponse({"errcode": 310000, "errmsg": "sign not match"})
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def dingtalk_busy(request: Request) -> Response:
        return JSONResponse(
            {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
        )

    async def slack(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def broken(request: Request) -> Response:
        return PlainTextResponse("upstream down", status_code=500)

    async def gone(request: Request) -> Response:
        return PlainTextResponse("no_service", status_code=404)

    async def slow(request: Request) -> Response:
        await receiver.release_slow.wait()
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route("/webhook", webhook, methods=["POST"]),
            Route("/robot/send", dingtalk, methods=["POST"]),
            Route("/robot/busy", dingtalk_busy, methods=["POST"]),
            Route("/slack", slack, methods=["POST"]),
            Route("/broken", broken, methods=["POST"]),
            Route("/gone", gone, methods=["POST"]),
            Route("/slow", slow, methods=["POST"]),
        ]
    )


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    receiver = Receiver(base_url=f"http://127.0.0.1:{listener.getsockname()[1]}")
    server = uvicorn.Server(
        uvicorn.Config(receiver_app(receiver), log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to await)
        await asyncio.sleep(0.01)
    yield receiver
    receiver.release_slow.set()
    server.should_exit = True
    await serving
    listener.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as client:
        yield client


def senders(http: httpx.AsyncClient, smtp: SmtpConfig | None = None) -> Senders:
    return Senders(http, smtp, clock=lambda: datetime.now(UTC))


# -- e-mail --


async def test_email_reaches_the_smtp_server(
    http: httpx.AsyncClient, smtp_server: tuple[Mailbox, SmtpConfig]
) -> None:
    mailbox, smtp = smtp_server

    result = await senders(http, smtp).send("email", "ada@example.com", None, ALERT)

    assert result.ok, result.detail
    assert result.detail.startswith("SMTP 250")
    envelope = mailbox.received[-1]
    assert envelope.rcpt_tos == ["ada@example.com"]
    assert envelope.mail_from == "alerts@attain.example"
    assert isinstance(envelope.content, bytes)
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == ALERT.title
    assert message["Message-ID"] == "<msg_integration_1@attain.example>"
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None
    text = plain.get_content()
    assert "Expected 10,000 by 2026-03-14" in text
    assert ALERT.link in text


async def test_email_refused_by_the_server_is_a_permanent_failure(
    http: httpx.AsyncClient, smtp_server: tuple[Mailbox, SmtpConfig]
) -> None:
    _, smtp = smtp_server

    result = await senders(http, smtp).send("email", REFUSED_ADDRESS, None, ALERT)

    assert result == SendResult(ok=False, detail="SMTP 550 5.1.1 no such mailbox", retryable=False)


async def test_email_to_a_server_that_is_down_is_retryable(http: httpx.AsyncClient) -> None:
    down = SmtpConfig(host="127.0.0.1", port=free_port(), sender="alerts@attain.example")

    result = await senders(http, down).send("email", "ada@example.com", None, ALERT)

    assert not result.ok
    assert result.retryable
    assert result.detail.startswith("SMTP ")


async def test_email_without_an_smtp_server_configured(http: httpx.AsyncClient) -> None:
    result = await senders(http).send("email", "ada@example.com", None, ALERT)

    assert result == SendResult(ok=False, detail="no SMTP server configured", retryable=False)


# -- webhook and robots --


async def test_webhook_arrives_signed(http: httpx.AsyncClient, receiver: Receiver) -> None:
    result = await senders(http).send(
        "webhook", f"{receiver.base_url}/webhook", WEBHOOK_SECRET, ALERT
    )

    assert result == SendResult(ok=True, detail="HTTP 204", retryable=False)
    headers, body = receiver.webhooks[-1]
    assert headers["webhook-id"] == "msg_integration_1"
    assert Webhook(WEBHOOK_SECRET).verify(body, headers)["data"] == ALERT.data


async def test_webhook_signed_with_another_secret_is_refused(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    other = "whsec_" + base64.b64encode(b"not-the-secret-the-receiver-has!").decode()

    result = await senders(http).send("webhook", f"{receiver.base_url}/webhook", other, ALERT)

    assert not result.ok
    assert not result.retryable
    assert result.detail.startswith("HTTP 401: No matching signature")


async def test_signed_dingtalk_message_is_accepted(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    url = f"{receiver.base_url}/robot/send?access_token=robot-1"

    result = await senders(http).send("dingtalk", url, ROBOT_SECRET, ALERT)

    assert result == SendResult(ok=True, detail="HTTP 200", retryable=False)


async def test_dingtalk_errcode_with_http_200_is_a_failure(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    url = f"{receiver.base_url}/robot/send?access_token=robot-1"

    result = await senders(http).send("dingtalk", url, "SECwrong", ALERT)

    assert result == SendResult(ok=False, detail="errcode 310000: sign not match", retryable=False)


async def test_dingtalk_rate_limit_is_retryable(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    result = await senders(http).send("dingtalk", f"{receiver.base_url}/robot/busy", None, ALERT)

    assert not result.ok
    assert result.retryable
    assert result.detail.startswith("errcode 130101")


async def test_slack_ok(http: httpx.AsyncClient, receiver: Receiver) -> None:
    result = await senders(http).send("slack", f"{receiver.base_url}/slack", None, ALERT)

    assert result.ok


async def test_server_error_is_retryable(http: httpx.AsyncClient, receiver: Receiver) -> None:
    result = await senders(http).send("wecom", f"{receiver.base_url}/broken", None, ALERT)

    assert result == SendResult(ok=False, detail="HTTP 500: upstream down", retryable=True)


async def test_not_found_is_not_retryable(http: httpx.AsyncClient, receiver: Receiver) -> None:
    result = await senders(http).send("slack", f"{receiver.base_url}/gone", None, ALERT)

    assert result == SendResult(ok=False, detail="HTTP 404: no_service", retryable=False)


async def test_refused_connection_is_a_retryable_failure(http: httpx.AsyncClient) -> None:
    closed = f"http://127.0.0.1:{free_port()}/webhook"

    result = await senders(http).send("webhook", closed, WEBHOOK_SECRET, ALERT)

    assert not result.ok
    assert result.retryable
    assert result.detail.startswith("ConnectError (ConnectionRefusedError)")


async def test_slow_receiver_times_out(http: httpx.AsyncClient, receiver: Receiver) -> None:
    result = await senders(http).send("feishu", f"{receiver.base_url}/slow", None, ALERT)

    assert result == SendResult(
        ok=False, detail=f"timeout after {HTTP_TIMEOUT_SECONDS:g}s", retryable=True
    )


async def test_unsigned_webhook_target_is_a_permanent_failure(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    result = await senders(http).send("webhook", f"{receiver.base_url}/webhook", None, ALERT)

    assert not result.ok
    assert not result.retryable


async def test_url_without_a_scheme_is_a_permanent_failure(http: httpx.AsyncClient) -> None:
    result = await senders(http).send("slack", "hooks.slack.com/services/x", None, ALERT)

    assert not result.ok
    assert not result.retryable
    assert result.detail.startswith("invalid URL")
