"""Helpers shared by the GitHub-side tests: webhook signing
and delivery, waiting for background reviews."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from ghapp.queue import InMemoryReviewQueue
from ghapp.review import ReviewResult
from ghapp.server import BACKGROUND_KEY, CONTEXT_KEY

APP_ID = "4242"
WEBHOOK_SECRET = "it's a secret to everybody"


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_key: Any


class Sleeps(list[float]):
    """Back-off waits requested by the client (recorded, not slept)."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def free_port() -> int:
    """A loopback port nothing listens on (as of now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def deliver(
    client: TestClient[Any, Any],
    event: str,
    payload: dict[str, Any],
    *,
    delivery_id: str | None = None,
    settle: bool = True,
) -> ClientResponse:
    """POST a signed webhook; by default wait until the background work is done."""
    body = json.dumps(payload).encode()
    response = await client.post(
        "/api/github/webhooks",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(body),
        },
    )
    if settle:
        await settled(client)
    return response


async def wait_until(condition: Callable[[], bool], *, timeout: float = 30.0) -> None:
    """Poll until `condition` holds. The bound only stops a broken test from hanging;
    it is generous so that a slow CI machine never trips it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.005)


async def settled(client: TestClient[Any, Any]) -> None:
    await client.app[BACKGROUND_KEY].join()


def outcomes(client: TestClient[Any, Any]) -> list[ReviewResult]:
    """The results of the latest reviews the app ran, oldest first."""
    queue = client.app[CONTEXT_KEY].queue
    assert isinstance(queue, InMemoryReviewQueue)
    return queue.results
