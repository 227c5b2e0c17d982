"""Fixtures for the GitHub side: an RSA key, the shared fake GitHub API on
loopback, and the real aiohttp app wired to it."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

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
from ghapp.server import BACKGROUND_KEY, CONTEXT_KEY, create_app
from ghapp.settings import ServerSettings
from tests.ghapp.fakegithub import FakeGitHub

APP_ID = "4242"
WEBHOOK_SECRET = "it's a secret to everybody"


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_key: Any


@pytest.fixture(scope="session")
def key_pair() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return KeyPair(private_pem=pem, public_key=key.public_key())


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


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def fake_github(aiohttp_server: Any, key_pair: KeyPair) -> FakeGitHub:
    fake = FakeGitHub(app_id=APP_ID, public_key=key_pair.public_key)
    server = await aiohttp_server(fake.app)
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
def server_settings(fake_github: FakeGitHub, key_pair: KeyPair) -> ServerSettings:
    return ServerSettings(
        app_id=APP_ID,
        private_key=key_pair.private_pem,
        webhook_secret=WEBHOOK_SECRET,
        github_api_url=fake_github.url,
    )


AppFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def make_client(
    aiohttp_client: Any, server_settings: ServerSettings, sleeps: Sleeps
) -> AppFactory:
    """The real app on loopback; keywords override create_app's defaults."""

    async def make(**overrides: Any) -> TestClient[Any, Any]:
        options: dict[str, Any] = {"engine": stub_engine, "sleep": sleeps}
        options.update(overrides)
        return await aiohttp_client(create_app(server_settings, **options))  # type: ignore[no-any-return]

    return make


@pytest.fixture
async def client(make_client: AppFactory) -> TestClient[Any, Any]:
    return await make_client()


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


async def settled(client: TestClient[Any, Any]) -> None:
    await client.app[BACKGROUND_KEY].join()


def outcomes(client: TestClient[Any, Any]) -> list[Any]:
    return client.app[CONTEXT_KEY].outcomes
