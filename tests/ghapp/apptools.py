"""Helpers shared by the GitHub-side tests: the stub engine, webhook signing
and delivery, waiting for background reviews."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from checks.options import ReviewOptions
from checks.report import (
    DIMENSIONS,
    Category,
    DimensionResult,
    DocumentReport,
    Finding,
    FindingKind,
    Requirement,
    Severity,
    Status,
)
from ghapp.server import BACKGROUND_KEY, CONTEXT_KEY

APP_ID = "4242"
WEBHOOK_SECRET = "it's a secret to everybody"


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_key: Any


def stub_engine(text: str, path: str, options: ReviewOptions) -> DocumentReport:
    """A predictable engine for the app tests: `TBD` lines are placeholders,
    "real-time" is an absolute requirement, and a doc without a `## Metrics`
    heading misses the metrics dimension. (The engine has its own tests.)"""
    findings: list[Finding] = []
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if "TBD" in line:
            findings.append(
                Finding(
                    check="placeholder",
                    kind=FindingKind.LINE,
                    severity=Severity.WARNING,
                    line=number,
                    end_line=number,
                    message="A placeholder is left in the document.",
                    question=f"What should replace the placeholder in “{line.strip()}”?",
                    why="Placeholders hide decisions nobody has made yet.",
                    excerpt=line.strip(),
                )
            )
        if "real-time" in line:
            findings.append(
                Finding(
                    check="absolute-requirement",
                    kind=FindingKind.LINE,
                    severity=Severity.SUGGESTION,
                    line=number,
                    end_line=number,
                    message="“real-time” is used as a requirement.",
                    question="What latency would be good enough?",
                    why="A looser target can give most of the value for less.",
                    excerpt="real-time",
                )
            )
    has_metrics = "## Metrics" in text
    if not has_metrics:
        findings.append(
            Finding(
                check="metrics",
                kind=FindingKind.GAP,
                severity=Severity.WARNING,
                line=1,
                end_line=1,
                message="No measure of success.",
                question="How will we know this worked?",
                why="Without a target nobody can tell success from activity.",
            )
        )
    dimensions = tuple(
        DimensionResult(
            key=key,
            status=Status.MISSING if key == "metrics" and not has_metrics else Status.PRESENT,
            line=None if key == "metrics" and not has_metrics else 1,
            requirement=Requirement.REQUIRED,
            question=f"Question about {key}?",
            why="Because.",
        )
        for key in DIMENSIONS
    )
    return DocumentReport(
        path=path,
        category=Category.PRODUCT,
        category_source="default",
        kind="rfc",
        title=lines[0].lstrip("# "),
        line_count=len(lines),
        dimensions=dimensions,
        findings=tuple(sorted(findings, key=Finding.sort_key)),
    )


class Sleeps(list[float]):
    """Back-off waits requested by the client (recorded, not slept)."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


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


def outcomes(client: TestClient[Any, Any]) -> list[Any]:
    return client.app[CONTEXT_KEY].outcomes
