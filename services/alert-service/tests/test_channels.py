"""Each channel's message, signed as its platform documents, and each platform's
answers read right. The signatures are recomputed here from the platforms'
documented algorithms, not with the code under test."""

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from alert_service.domain.channels import (
    CHANNELS,
    Channel,
    MissingSigningSecret,
    Notification,
    chat_request,
    dingtalk_request,
    email_message,
    feishu_request,
    rate_limited,
    rejection,
    retryable,
    slack_request,
    smtp_retryable,
    webhook_request,
    wecom_request,
)

pytestmark = pytest.mark.unit

SECRET = "whsec_" + base64.b64encode(b"a-32-byte-secret-for-the-tests!!").decode()
ROBOT_SECRET = "SEC0123456789abcdef"
LINK = "https://attain.example/goals/g-1"
SENT_AT = datetime(2026, 3, 14, 9, 30, 15, 250000, tzinfo=UTC)


ALERT = Notification(
    message_id="msg_0001",
    event="opened",
    severity="critical",
    title="Q1 revenue (Ada) is 42% behind pace",
    text="Goal: Q1 revenue\nActual 5,800 so far\nExpected 10,000 by 2026-03-14\nTarget 31,000",
    link=LINK,
    data={"alert_id": "a-1", "goal_id": "g-1", "pace": "0.58"},
    created_at=datetime(2026, 3, 14, 9, 0, tzinfo=UTC),
)


def body_of(request_body: bytes) -> Any:
    return json.loads(request_body)


# -- generic webhook (Standard Webhooks) --


def test_webhook_signature_verifies_with_standardwebhooks() -> None:
    now = datetime.now(UTC)
    request = webhook_request("https://hooks.example/in", SECRET, ALERT, now)

    payload = Webhook(SECRET).verify(request.body, request.headers)

    assert payload == {
        "type": "attain.alert.opened",
        "timestamp": "2026-03-14T09:00:00Z",
        "data": {"alert_id": "a-1", "goal_id": "g-1", "pace": "0.58"},
    }
    assert request.headers["webhook-id"] == "msg_0001"
    assert request.headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert request.headers["content-type"] == "application/json"


def test_webhook_signature_fails_on_an_altered_body() -> None:
    request = webhook_request("https://hooks.example/in", SECRET, ALERT, datetime.now(UTC))
    altered = request.body.replace(b"g-1", b"g-2")

    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(altered, request.headers)


def test_webhook_signature_fails_with_another_secret() -> None:
    request = webhook_request("https://hooks.example/in", SECRET, ALERT, datetime.now(UTC))
    other = "whsec_" + base64.b64encode(b"another-secret-of-32-bytes-long!").decode()

    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(request.body, request.headers)


def test_webhook_signs_the_instant_not_the_wall_clock_of_a_non_utc_time() -> None:
    # Webhook.sign replaces a tzinfo instead of converting it: a +08:00 time must
    # still sign its UTC instant, or every receiver sees a time 8 hours off.
    now = datetime.now(UTC)
    in_shanghai = now.astimezone(timezone(timedelta(hours=8)))
    request = webhook_request("https://hooks.example/in", SECRET, ALERT, in_shanghai)

    Webhook(SECRET).verify(request.body, request.headers)
    assert request.headers["webhook-timestamp"] == str(int(now.timestamp()))


def test_webhook_without_a_send_time_is_signed_at_the_alert_time() -> None:
    request = webhook_request("https://hooks.example/in", SECRET, ALERT)

    assert request.headers["webhook-timestamp"] == str(
        int(datetime(2026, 3, 14, 9, 0, tzinfo=UTC).timestamp())
    )


# -- DingTalk --


def dingtalk_documented_sign(timestamp: str, secret: str) -> str:
    # DingTalk custom robot docs: HmacSHA256 keyed by the secret over
    # timestamp + "\n" + secret, Base64, then URL-encoded.
    string_to_sign = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, digestmod=hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_dingtalk_signed_url_keeps_the_access_token_and_signs_per_the_docs() -> None:
    url = "https://oapi.dingtalk.com/robot/send?access_token=abc123"
    request = dingtalk_request(url, ROBOT_SECRET, ALERT, SENT_AT)

    parts = urlsplit(request.url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://oapi.dingtalk.com/robot/send"
    assert query["access_token"] == ["abc123"]
    assert query["timestamp"] == ["1773480615250"]  # milliseconds
    # parse_qs has decoded the sign once, as DingTalk does.
    assert query["sign"] == [dingtalk_documented_sign("1773480615250", ROBOT_SECRET)]


def test_dingtalk_sign_is_url_encoded() -> None:
    request = dingtalk_request(
        "https://oapi.dingtalk.com/robot/send?access_token=t", ROBOT_SECRET, ALERT, SENT_AT
    )
    raw_sign = request.url.rpartition("&sign=")[2]

    assert not {"+", "/", "="} & set(raw_sign)
    assert unquote_plus(raw_sign) == dingtalk_documented_sign("1773480615250", ROBOT_SECRET)


def test_dingtalk_without_a_secret_leaves_the_url_alone() -> None:
    url = "https://oapi.dingtalk.com/robot/send?access_token=abc123"

    assert dingtalk_request(url, None, ALERT, SENT_AT).url == url


def test_dingtalk_is_a_markdown_message_with_title_lines_and_link() -> None:
    request = dingtalk_request("https://d.example/robot/send", None, ALERT, SENT_AT)
    body = body_of(request.body)

    assert body["msgtype"] == "markdown"
    markdown = body["markdown"]
    assert markdown["title"] == "Q1 revenue (Ada) is 42% behind pace"
    assert "Actual 5,800 so far\n\nExpected 10,000 by 2026-03-14" in markdown["text"]
    assert f"]({LINK})" in markdown["text"]


# -- Feishu --


def feishu_documented_sign(timestamp: str, secret: str) -> str:
    # Feishu custom bot docs: HmacSHA256 keyed by timestamp + "\n" + secret over
    # empty data, then Base64.
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, digestmod=hashlib.sha256).digest()).decode()


def test_feishu_signed_body_carries_timestamp_seconds_and_documented_sign() -> None:
    request = feishu_request(
        "https://open.feishu.cn/open-apis/bot/v2/hook/xyz", ROBOT_SECRET, ALERT, SENT_AT
    )
    body = body_of(request.body)

    assert body["timestamp"] == "1773480615"
    assert body["sign"] == feishu_documented_sign("1773480615", ROBOT_SECRET)
    assert request.url == "https://open.feishu.cn/open-apis/bot/v2/hook/xyz"


def test_feishu_is_a_post_with_title_paragraphs_and_link() -> None:
    body = body_of(feishu_request("https://f.example/hook", None, ALERT, SENT_AT).body)

    assert "sign" not in body
    assert body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]
    assert post["title"] == "Q1 revenue (Ada) is 42% behind pace"
    assert post["content"][0] == [{"tag": "text", "text": "Goal: Q1 revenue"}]
    assert post["content"][-1] == [{"tag": "a", "text": "Open the goal", "href": LINK}]


# -- Slack and WeCom --


def test_slack_message_has_text_blocks_and_an_escaped_title() -> None:
    request = slack_request(
        "https://hooks.slack.com/services/T/B/X", replace(ALERT, title="Deals <&> pace")
    )
    body = body_of(request.body)

    assert "Deals &lt;&amp;&gt; pace" in body["text"]
    assert f"<{LINK}|Open the goal>" in body["text"]
    rendered = json.dumps(body["blocks"])
    assert "Deals &lt;&amp;&gt; pace" in rendered
    assert LINK in rendered


def test_wecom_is_markdown_content_with_title_and_link() -> None:
    request = wecom_request("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", ALERT)
    body = body_of(request.body)

    assert body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert "Q1 revenue (Ada) is 42% behind pace" in content
    assert f"[Open the goal]({LINK})" in content
    assert request.url.endswith("?key=k")


# -- dispatch --


@pytest.mark.parametrize("channel", [c for c in CHANNELS if c != "email"])
def test_chat_request_dispatches_every_http_channel(channel: Channel) -> None:
    request = chat_request(channel, "https://x.example/hook", SECRET, ALERT, SENT_AT)

    assert request.url.startswith("https://x.example/hook")
    assert request.headers["content-type"] == "application/json"
    body_of(request.body)


def test_chat_request_refuses_an_unsigned_webhook_and_email() -> None:
    with pytest.raises(MissingSigningSecret):
        chat_request("webhook", "https://x.example/hook", None, ALERT, SENT_AT)
    with pytest.raises(ValueError, match="e-mail"):
        chat_request("email", "ada@example.com", None, ALERT, SENT_AT)


# -- the platforms' answers --


@pytest.mark.parametrize(
    ("channel", "status", "answer"),
    [
        ("webhook", 200, b""),
        ("webhook", 204, b""),
        ("slack", 200, b"ok"),
        ("dingtalk", 200, b'{"errcode":0,"errmsg":"ok"}'),
        ("wecom", 200, b'{"errcode":0,"errmsg":"ok"}'),
        ("feishu", 200, b'{"code":0,"data":{},"msg":"success"}'),
        ("feishu", 200, b'{"Extra":null,"StatusCode":0,"StatusMessage":"success"}'),
    ],
)
def test_rejection_is_none_for_each_platforms_success(
    channel: Channel, status: int, answer: bytes
) -> None:
    assert rejection(channel, status, answer) is None


@pytest.mark.parametrize(
    ("channel", "status", "answer", "reason"),
    [
        ("webhook", 500, b"boom", "HTTP 500: boom"),
        ("slack", 404, b"no_service", "HTTP 404: no_service"),
        ("slack", 200, b"invalid_payload", "Slack answered: invalid_payload"),
        (
            "dingtalk",
            200,
            b'{"errcode":310000,"errmsg":"sign not match"}',
            "errcode 310000: sign not match",
        ),
        (
            "wecom",
            200,
            b'{"errcode":93000,"errmsg":"invalid webhook url"}',
            "errcode 93000: invalid webhook url",
        ),
        (
            "feishu",
            200,
            b'{"code":19021,"msg":"sign match fail or timestamp is not within one hour"}',
            "code 19021: sign match fail or timestamp is not within one hour",
        ),
        (
            "feishu",
            200,
            b'{"StatusCode":19001,"StatusMessage":"param invalid"}',
            "StatusCode 19001: param invalid",
        ),
        ("dingtalk", 200, b"<html>captive portal</html>", "unexpected answer: <html>captive"),
        ("feishu", 400, b'{"code":9499,"msg":"Bad Request"}', "HTTP 400: "),
    ],
)
def test_rejection_gives_each_platforms_reason(
    channel: Channel, status: int, answer: bytes, reason: str
) -> None:
    found = rejection(channel, status, answer)

    assert found is not None
    assert found.startswith(reason)


def test_rejection_quotes_at_most_200_characters_of_the_answer() -> None:
    assert rejection("webhook", 502, b"x" * 5000) == "HTTP 502: " + "x" * 200


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (408, True),
        (425, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (599, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (410, False),
        (422, False),
        (301, False),
    ],
)
def test_retryable(status: int, expected: bool) -> None:
    assert retryable(status) is expected


def test_rate_limited_answers_are_known_per_platform() -> None:
    assert rate_limited("dingtalk", b'{"errcode":130101,"errmsg":"send too fast"}')
    assert rate_limited("wecom", b'{"errcode":45009,"errmsg":"api freq out of limit"}')
    assert rate_limited("feishu", b'{"code":11232,"msg":"frequency limited"}')
    assert not rate_limited("dingtalk", b'{"errcode":310000,"errmsg":"sign not match"}')
    assert not rate_limited("wecom", b'{"errcode":130101,"errmsg":"a DingTalk code"}')
    assert not rate_limited("slack", b"rate_limited")
    assert not rate_limited("feishu", b"not json")


def test_smtp_retryable_on_transient_replies_only() -> None:
    assert smtp_retryable(421)
    assert smtp_retryable(451)
    assert not smtp_retryable(550)
    assert not smtp_retryable(535)


# -- e-mail --


def test_email_has_subject_text_link_html_and_message_id() -> None:
    message = email_message(
        "Attain <alerts@attain.example>", "ada@example.com", replace(ALERT, title="Behind <pace>")
    )

    assert message["Subject"] == "Behind <pace>"
    assert message["To"] == "ada@example.com"
    assert message["From"] == "Attain <alerts@attain.example>"
    assert message["Message-ID"] == "<msg_0001@attain.example>"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None
    assert html is not None
    plain_text = plain.get_content()
    html_text = html.get_content()
    assert "Expected 10,000 by 2026-03-14" in plain_text
    assert LINK in plain_text
    assert f'href="{LINK}"' in html_text
    assert "Behind &lt;pace&gt;" in html_text
