"""Sending a notification on its channel: HTTP for the webhook and the chat
robots, SMTP for e-mail. Whatever goes wrong on the way (refused, timed out,
rejected by the platform) comes back as a SendResult for the delivery log;
`send` raises only for a bug."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import aiosmtplib
import httpx

from alert_service.domain.channels import (
    Channel,
    HttpRequest,
    MissingSigningSecret,
    Notification,
    chat_request,
    email_message,
    rate_limited,
    rejection,
    retryable,
    smtp_retryable,
)
from alert_service.settings import AlertSettings

# Enough of an answer for `rejection`; a misconfigured URL pointing at a large
# download must not be read into memory.
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class SendResult:
    ok: bool
    detail: str
    retryable: bool


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    use_tls: bool = False
    timeout_seconds: float = 10


class Senders:
    def __init__(
        self, http: httpx.AsyncClient, smtp: SmtpConfig | None, clock: Callable[[], datetime]
    ) -> None:
        self._http = http
        self._smtp = smtp
        self._clock = clock

    async def send(
        self, channel: Channel, target: str, secret: str | None, notification: Notification
    ) -> SendResult:
        """`target` is the URL for the HTTP channels, the address for e-mail."""
        if channel == "email":
            return await self._send_email(target, notification)
        try:
            request = chat_request(channel, target, secret, notification, self._clock())
        except MissingSigningSecret as error:
            return SendResult(ok=False, detail=str(error), retryable=False)
        return await self._post(channel, request)

    async def _post(self, channel: Channel, request: HttpRequest) -> SendResult:
        try:
            async with self._http.stream(
                "POST", request.url, content=request.body, headers=request.headers
            ) as response:
                answer = await _read_at_most(response, MAX_ANSWER_BYTES)
        except httpx.TimeoutException as error:
            return SendResult(
                ok=False, detail=_timeout_detail(error, self._http.timeout), retryable=True
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
            return SendResult(ok=False, detail=f"invalid URL: {error}", retryable=False)
        except httpx.HTTPError as error:
            # Connection refused or reset, DNS or TLS failure, a garbled answer: the
            # receiver may be fixed or back later.
            return SendResult(ok=False, detail=_transport_detail(error), retryable=True)
        reason = rejection(channel, response.status_code, answer)
        if reason is not None:
            again = retryable(response.status_code) or rate_limited(channel, answer)
            return SendResult(ok=False, detail=reason, retryable=again)
        return SendResult(ok=True, detail=f"HTTP {response.status_code}", retryable=False)

    async def _send_email(self, to: str, notification: Notification) -> SendResult:
        if self._smtp is None:
            return SendResult(ok=False, detail="no SMTP server configured", retryable=False)
        smtp = self._smtp
        message = email_message(smtp.sender, to, notification)
        try:
            _, reply = await aiosmtplib.send(
                message,
                hostname=smtp.host,
                port=smtp.port,
                username=smtp.username,
                password=smtp.password,
                # Exactly what is configured: aiosmtplib's default (None) would upgrade
                # whenever the server offers STARTTLS, and then fail on a relay's
                # self-signed certificate.
                start_tls=smtp.starttls,
                use_tls=smtp.use_tls,
                timeout=smtp.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            refused = error.recipients[0]
            return _smtp_refusal(refused.code, refused.message)
        except aiosmtplib.SMTPResponseException as error:
            return _smtp_refusal(error.code, error.message)
        except aiosmtplib.SMTPNotSupported as error:
            # The server lacks what is configured (STARTTLS, AUTH): no retry fixes that.
            return SendResult(ok=False, detail=f"SMTP {error}", retryable=False)
        except aiosmtplib.SMTPTimeoutError:
            detail = f"SMTP timeout after {smtp.timeout_seconds:g}s"
            return SendResult(ok=False, detail=detail, retryable=True)
        except (aiosmtplib.SMTPException, OSError) as error:
            # Refused, dropped or never established: the server may be back later.
            return SendResult(ok=False, detail=f"SMTP {error}", retryable=True)
        # send raises unless DATA was answered 250.
        return SendResult(ok=True, detail=f"SMTP 250 {reply}", retryable=False)


async def _read_at_most(response: httpx.Response, limit: int) -> bytes:
    answer = b""
    async for chunk in response.aiter_bytes():
        answer += chunk
        if len(answer) >= limit:
            break
    return answer[:limit]


def _smtp_refusal(code: int, message: str) -> SendResult:
    return SendResult(ok=False, detail=f"SMTP {code} {message}", retryable=smtp_retryable(code))


def _timeout_detail(error: httpx.TimeoutException, timeout: httpx.Timeout) -> str:
    seconds = {
        httpx.ConnectTimeout: timeout.connect,
        httpx.ReadTimeout: timeout.read,
        httpx.WriteTimeout: timeout.write,
        httpx.PoolTimeout: timeout.pool,
    }.get(type(error))
    return f"timeout after {seconds:g}s" if seconds is not None else "timeout"


def _transport_detail(error: httpx.HTTPError) -> str:
    # httpx says only "All connection attempts failed"; what happened (refused,
    # unknown host, reset) is the OS error at the end of the chain.
    cause: BaseException = error
    while (inner := cause.__cause__ or cause.__context__) is not None and inner is not error:
        cause = inner
    if cause is error:
        return f"{type(error).__name__}: {error}"
    return f"{type(error).__name__} ({type(cause).__name__}): {cause}"


def smtp_config(settings: AlertSettings) -> SmtpConfig | None:
    """The SMTP server of the settings; None when none is configured."""
    if settings.smtp_host is None:
        return None
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_sender,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls,
        use_tls=settings.smtp_use_tls,
        timeout_seconds=settings.http_timeout_seconds,
    )
