"""`product-review receive`: replay one webhook delivery into a local server.

Probot's `receive` command, for trying a change without GitHub: the payload file's
bytes are sent as they are, signed with the webhook secret, under a fresh
`X-GitHub-Delivery` id (so the server does not take it for a redelivery it has
handled). The server's status and answer are printed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from ghapp.settings import DEFAULT_PORT, DEFAULT_WEBHOOK_PATH, read_environment

DEFAULT_URL = f"http://localhost:{DEFAULT_PORT}{DEFAULT_WEBHOOK_PATH}"
# The local server answers within milliseconds; this only bounds a wrong address.
TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10)
EXIT_ACCEPTED = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    body: str


def signed_headers(event: str, body: bytes, *, secret: str, delivery_id: str) -> dict[str, str]:
    """The headers GitHub sends with a delivery."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/product-review-receive",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": "sha256=" + digest,
    }


async def send_delivery(
    url: str, event: str, body: bytes, *, secret: str, delivery_id: str
) -> Answer:
    """POST one signed delivery to `url`; the server's answer."""
    headers = signed_headers(event, body, secret=secret, delivery_id=delivery_id)
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        text = await response.text(errors="replace")
        return Answer(status=response.status, reason=response.reason or "", body=text)


def run(
    *,
    event: str,
    payload: str,
    url: str = DEFAULT_URL,
    secret: str | None = None,
    delivery_id: str | None = None,
) -> int:
    """Replay the delivery; 0 when the server answered 2xx, 1 otherwise, 2 when it
    could not be sent (no secret, an unreadable payload)."""
    if secret is None:
        env = read_environment(os.environ, dotenv_path=Path.cwd() / ".env")
        secret = env.get("WEBHOOK_SECRET") or None
    if not secret:
        print(
            "product-review receive: no webhook secret (pass --secret or set WEBHOOK_SECRET, "
            "in the environment or .env)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        body = Path(payload).read_bytes()
    except OSError as error:
        print(
            f"product-review receive: cannot read {payload}: "
            f"{error.strerror or error.__class__.__name__}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    delivery = delivery_id or str(uuid.uuid4())
    try:
        answer = asyncio.run(send_delivery(url, event, body, secret=secret, delivery_id=delivery))
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        reason = "no answer in time" if isinstance(error, TimeoutError) else str(error)
        print(f"product-review receive: could not reach {url}: {reason}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"{answer.status} {answer.reason} (delivery {delivery})")
    if answer.body:
        print(answer.body)
    return EXIT_ACCEPTED if 200 <= answer.status < 300 else EXIT_REFUSED
