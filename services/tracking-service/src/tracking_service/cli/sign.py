"""Sign a JSON body per the Standard Webhooks spec and POST it, as a CRM would:
`python -m tracking_service.cli.sign --secret whsec_... --url URL deal.json`."""

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import httpx
from standardwebhooks.webhooks import Webhook


def signed_headers(
    secret: str, body: str, now: datetime | None = None, message_id: str | None = None
) -> dict[str, str]:
    """Headers of a new message, or of a retry of `message_id` (the same id, signed anew)."""
    message_id = message_id or f"msg_{uuid4().hex}"
    timestamp = now or datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, timestamp, body),
        "content-type": "application/json",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("body", type=Path, help="a JSON file, or - for standard input")
    args = parser.parse_args()
    body = sys.stdin.read() if str(args.body) == "-" else args.body.read_text()
    response = httpx.post(args.url, content=body, headers=signed_headers(args.secret, body))
    print(response.status_code, response.text)


if __name__ == "__main__":
    main()
