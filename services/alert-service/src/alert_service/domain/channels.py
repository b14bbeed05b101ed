"""What an alert notification looks like on each channel, and what each
platform's answer means. Every function here builds or reads values; sending is
`alert_service.senders`.

The chat channels are posted to the URL the admin pasted from the platform
(a robot's webhook address), never to a host fixed here, so a proxy or a local
receiver can stand in for the platform.
"""

import base64
import hashlib
import hmac
import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, Literal
from urllib.parse import quote_plus

from standardwebhooks.webhooks import Webhook

Channel = Literal["webhook", "email", "slack", "dingtalk", "wecom", "feishu"]
CHANNELS: tuple[Channel, ...] = ("webhook", "email", "slack", "dingtalk", "wecom", "feishu")

GOAL_LINK_LABEL = "Open the goal"
# How much of a refusing answer goes into the delivery log.
ANSWER_EXCERPT_CHARS = 200
# RFC 9110 §15.5.9 (408), RFC 8470 §5.2 (425), RFC 6585 §4 (429): the same
# request may succeed later. Other 4xx answers (a revoked robot, a bad URL) will not heal.
RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})
# The robots' answers to "too many messages", sent with HTTP 200: a later try succeeds.
# A robot takes 20 messages a minute on DingTalk and WeCom, 100 (5 a second) on Feishu.
RATE_LIMIT_CODES: dict[Channel, frozenset[int]] = {
    "dingtalk": frozenset({130101}),
    "wecom": frozenset({45009}),
    "feishu": frozenset({11232}),
}


@dataclass(frozen=True)
class Notification:
    """One alert notification, the same on every channel. `text` is plain lines
    without the link: each channel adds `link` in its own markup. `message_id`
    stays the same across a delivery's retries, so receivers can drop repeats."""

    message_id: str
    event: str
    severity: str
    title: str
    text: str
    link: str
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class HttpRequest:
    url: str
    headers: dict[str, str]
    body: bytes


class MissingSigningSecret(ValueError):
    """A generic webhook target without a secret: Standard Webhooks messages are always signed."""


def webhook_request(
    url: str, secret: str, notification: Notification, now: datetime | None = None
) -> HttpRequest:
    """A Standard Webhooks message (https://www.standardwebhooks.com). The body's
    `timestamp` is when the alert happened; the signed `webhook-timestamp` is when
    this attempt is made (`now`), because receivers refuse signatures more than
    five minutes old and a delivery may wait out quiet hours and retries."""
    sent_at = (now or notification.created_at).astimezone(UTC)
    payload = {
        "type": f"attain.alert.{notification.event}",
        "timestamp": notification.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": notification.data,
    }
    body = _json(payload)
    # Webhook.sign replaces the tzinfo with UTC instead of converting, so it must
    # be given UTC already.
    signature = Webhook(secret).sign(notification.message_id, sent_at, body.decode())
    headers = {
        "content-type": "application/json",
        "webhook-id": notification.message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }
    return HttpRequest(url=url, headers=headers, body=body)


def slack_request(url: str, notification: Notification) -> HttpRequest:
    """A Slack incoming webhook message; `text` is what notifications and
    clients without blocks show."""
    title = _slack_escaped(notification.title)
    text = _slack_escaped(notification.text)
    link = f"<{notification.link}|{GOAL_LINK_LABEL}>"
    payload = {
        "text": f"{title}\n{text}\n{link}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*\n{text}"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": link}},
        ],
    }
    return _json_request(url, payload)


def dingtalk_request(
    url: str, secret: str | None, notification: Notification, now: datetime
) -> HttpRequest:
    """A DingTalk custom robot markdown message. A robot with "additional
    signature" security takes the signature in the URL, beside its access_token."""
    # DingTalk's markdown needs a blank line to break a line.
    lines = "\n\n".join(notification.text.splitlines())
    payload = {
        "msgtype": "markdown",
        "markdown": {
            "title": notification.title,
            "text": f"### {notification.title}\n\n{lines}\n\n"
            f"[{GOAL_LINK_LABEL}]({notification.link})",
        },
    }
    if secret is not None:
        timestamp = str(int(now.timestamp() * 1000))
        separator = "&" if "?" in url else "?"
        url = f"{url}{separator}timestamp={timestamp}&sign={dingtalk_sign(timestamp, secret)}"
    return _json_request(url, payload)


def dingtalk_sign(timestamp_ms: str, secret: str) -> str:
    """DingTalk's robot signature, URL-encoded: base64 of HMAC-SHA256 keyed by the
    secret over "timestamp\\nsecret". DingTalk refuses a timestamp more than an
    hour away from its clock."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return quote_plus(base64.b64encode(digest).decode())


def wecom_request(url: str, notification: Notification) -> HttpRequest:
    """A WeCom group robot markdown message; the severity takes WeCom's
    `warning` colour (orange) when it is critical."""
    colour = "warning" if notification.severity == "critical" else "comment"
    content = (
        f"### {notification.title}\n"
        f'<font color="{colour}">{notification.severity}</font>\n'
        f"{notification.text}\n"
        f"[{GOAL_LINK_LABEL}]({notification.link})"
    )
    return _json_request(url, {"msgtype": "markdown", "markdown": {"content": content}})


def feishu_request(
    url: str, secret: str | None, notification: Notification, now: datetime
) -> HttpRequest:
    """A Feishu/Lark custom bot rich-text ("post") message. A post has a title,
    one paragraph per line and a real link, and its schema has been stable since
    the bot API began; an "interactive" card would add a coloured header but its
    schema is much larger and versioned, and "text" has neither title nor link."""
    paragraphs: list[list[dict[str, str]]] = [
        [{"tag": "text", "text": line}] for line in notification.text.splitlines()
    ]
    paragraphs.append([{"tag": "a", "text": GOAL_LINK_LABEL, "href": notification.link}])
    payload: dict[str, Any] = {
        "msg_type": "post",
        # zh_cn is the locale of Feishu's own custom bot example.
        "content": {"post": {"zh_cn": {"title": notification.title, "content": paragraphs}}},
    }
    if secret is not None:
        timestamp = str(int(now.timestamp()))
        payload = {"timestamp": timestamp, "sign": feishu_sign(timestamp, secret), **payload}
    return _json_request(url, payload)


def feishu_sign(timestamp_s: str, secret: str) -> str:
    """Feishu's bot signature: base64 of HMAC-SHA256 keyed by "timestamp\\nsecret"
    over an empty message (the reverse of DingTalk's). Feishu refuses a timestamp
    more than an hour away from its clock."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def chat_request(
    channel: Channel, url: str, secret: str | None, notification: Notification, now: datetime
) -> HttpRequest:
    """The request for any channel but e-mail; `now` is when it is sent."""
    match channel:
        case "webhook":
            if secret is None:
                raise MissingSigningSecret("a webhook target needs a signing secret")
            return webhook_request(url, secret, notification, now)
        case "slack":
            return slack_request(url, notification)
        case "dingtalk":
            return dingtalk_request(url, secret, notification, now)
        case "wecom":
            return wecom_request(url, notification)
        case "feishu":
            return feishu_request(url, secret, notification, now)
        case "email":
            raise ValueError("e-mail is not sent over HTTP")


def rejection(channel: Channel, status_code: int, body: bytes) -> str | None:
    """None when the platform took the message, else why not, for the delivery log.
    The robots answer HTTP 200 also when they refuse (bad signature, missing
    keyword, too many messages), with the reason in the JSON body."""
    if not 200 <= status_code < 300:
        return f"HTTP {status_code}: {_excerpt(body)}"
    match channel:
        case "slack":
            return None if body.strip() == b"ok" else f"Slack answered: {_excerpt(body)}"
        case "dingtalk" | "wecom":
            return _robot_refusal(body, "errcode", "errmsg")
        case "feishu":
            answer = _json_object(body) or {}
            # Older bots answer {"StatusCode", "StatusMessage"} instead of {"code", "msg"}.
            if "code" not in answer and "StatusCode" in answer:
                return _robot_refusal(body, "StatusCode", "StatusMessage")
            return _robot_refusal(body, "code", "msg")
        case _:
            return None


def retryable(status_code: int) -> bool:
    return status_code in RETRYABLE_CLIENT_ERRORS or 500 <= status_code < 600


def rate_limited(channel: Channel, body: bytes) -> bool:
    """Whether a robot's HTTP 200 refusal says only that it got too many messages."""
    codes = RATE_LIMIT_CODES.get(channel, frozenset())
    answer = _json_object(body)
    if not codes or answer is None:
        return False
    return answer.get("errcode", answer.get("code")) in codes


def smtp_retryable(reply_code: int) -> bool:
    """RFC 5321 §4.2.1: a 4yz reply is a transient failure, a 5yz one permanent."""
    return 400 <= reply_code < 500


def email_message(sender: str, to: str, notification: Notification) -> EmailMessage:
    """Plain text with an HTML alternative; the Message-ID is the delivery's, so
    a retried send is recognisable as the same message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = notification.title
    message["Date"] = format_datetime(notification.created_at)
    message["Message-ID"] = f"<{notification.message_id}@{_domain(sender)}>"
    message.set_content(f"{notification.text}\n\n{GOAL_LINK_LABEL}: {notification.link}\n")
    message.add_alternative(_email_html(notification), subtype="html")
    return message


def _email_html(notification: Notification) -> str:
    lines = "<br>\n".join(html.escape(line) for line in notification.text.splitlines())
    link = html.escape(notification.link, quote=True)
    return (
        "<!DOCTYPE html>\n<html><body>\n"
        f"<h2>{html.escape(notification.title)}</h2>\n"
        f"<p>{lines}</p>\n"
        f'<p><a href="{link}">{GOAL_LINK_LABEL}</a></p>\n'
        "</body></html>\n"
    )


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


def _robot_refusal(body: bytes, code_field: str, message_field: str) -> str | None:
    answer = _json_object(body)
    if answer is None or code_field not in answer:
        return f"unexpected answer: {_excerpt(body)}"
    if answer[code_field] == 0:
        return None
    return f"{code_field} {answer[code_field]}: {answer.get(message_field, '')}"


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _excerpt(body: bytes) -> str:
    return body.decode(errors="replace")[:ANSWER_EXCERPT_CHARS]


def _slack_escaped(text: str) -> str:
    # Slack reads &, < and > as markup (links, mentions) in mrkdwn and text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _json_request(url: str, payload: dict[str, Any]) -> HttpRequest:
    return HttpRequest(url=url, headers={"content-type": "application/json"}, body=_json(payload))


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
