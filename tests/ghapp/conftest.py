"""Fixtures for the GitHub side: an RSA key, the shared fake GitHub API on
loopback, and the real aiohttp app wired to it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ghapp.server import create_app
from ghapp.settings import ServerSettings
from tests.support.apptools import APP_ID, WEBHOOK_SECRET, KeyPair, Sleeps
from tests.support.builders import stub_engine
from tests.support.fakegithub import FakeGitHub


@pytest.fixture(scope="session")
def key_pair() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return KeyPair(private_pem=pem, public_key=key.public_key())


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
def server_settings(
    fake_github: FakeGitHub, key_pair: KeyPair, tmp_path: Path
) -> ServerSettings:
    """As `serve` runs it: deliveries go through the durable queue."""
    return ServerSettings(
        app_id=APP_ID,
        private_key=key_pair.private_pem,
        webhook_secret=WEBHOOK_SECRET,
        github_api_url=fake_github.url,
        state_dir=tmp_path / "state",
    )


AppFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def make_client(aiohttp_client: Any, server_settings: ServerSettings, sleeps: Sleeps) -> AppFactory:
    """The real app on loopback; keywords override create_app's defaults."""

    async def make(**overrides: Any) -> TestClient[Any, Any]:
        options: dict[str, Any] = {"engine": stub_engine, "sleep": sleeps}
        options.update(overrides)
        return await aiohttp_client(create_app(server_settings, **options))  # type: ignore[no-any-return]

    return make


@pytest.fixture
async def client(make_client: AppFactory) -> TestClient[Any, Any]:
    return await make_client()
