"""App JWTs, the installation token cache and the retry policy."""

from __future__ import annotations

import asyncio

import jwt
import pytest

from ghapp.auth import (
    TOKEN_EXPIRY_MARGIN_SECONDS,
    InstallationToken,
    InstallationTokens,
    app_jwt,
)
from ghapp.github import RetryPolicy, retry_delay, safe_to_repeat
from tests.support.apptools import KeyPair


def test_app_jwt_claims(key_pair: KeyPair) -> None:
    now = 1_800_000_000.0
    token = app_jwt(app_id="99", private_key=key_pair.private_pem, now=now)
    claims = jwt.decode(
        token,
        key_pair.public_key,
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == "99"
    assert claims["iat"] == now - 60
    assert claims["exp"] - claims["iat"] <= 600
    assert claims["exp"] > now
    assert jwt.get_unverified_header(token)["alg"] == "RS256"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_tokens_are_cached_until_shortly_before_they_expire() -> None:
    clock = Clock()
    tokens = InstallationTokens(clock=clock)
    minted: list[int] = []

    async def mint(installation_id: int) -> InstallationToken:
        minted.append(installation_id)
        return InstallationToken(token=f"t{len(minted)}", expires_at=clock.now + 3600)

    assert await tokens.get(1, mint=mint) == "t1"
    assert await tokens.get(1, mint=mint) == "t1"
    assert await tokens.get(2, mint=mint) == "t2"  # per installation
    clock.now += 3600 - TOKEN_EXPIRY_MARGIN_SECONDS - 1
    assert await tokens.get(1, mint=mint) == "t1"
    clock.now += 2
    assert await tokens.get(1, mint=mint) == "t3"
    assert minted == [1, 2, 1]


async def test_concurrent_gets_on_a_cold_cache_mint_once_and_leave_no_lock_behind() -> None:
    clock = Clock()
    tokens = InstallationTokens(clock=clock)
    minted: list[int] = []
    release = asyncio.Event()

    async def mint(installation_id: int) -> InstallationToken:
        minted.append(installation_id)
        await release.wait()
        return InstallationToken(token=f"t{len(minted)}", expires_at=clock.now + 3600)

    waiting = [asyncio.ensure_future(tokens.get(7, mint=mint)) for _ in range(5)]
    while not minted:
        await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == ["t1"] * 5
    assert minted == [7]
    # One lock per installation ever seen would grow without bound.
    assert tokens._locks == {}


async def test_invalidate_forgets_only_the_refused_token() -> None:
    clock = Clock()
    tokens = InstallationTokens(clock=clock)
    count = 0

    async def mint(installation_id: int) -> InstallationToken:
        nonlocal count
        count += 1
        return InstallationToken(token=f"t{count}", expires_at=clock.now + 3600)

    first = await tokens.get(1, mint=mint)
    tokens.invalidate(1, token="something-else")
    assert await tokens.get(1, mint=mint) == first
    tokens.invalidate(1, token=first)
    assert await tokens.get(1, mint=mint) == "t2"


def test_token_expiry_parsing() -> None:
    token = InstallationToken.from_response(
        {"token": "ghs_x", "expires_at": "2030-01-01T00:00:00Z"}
    )
    assert token.expires_at == 1893456000.0


POLICY = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=60.0)


@pytest.mark.parametrize(
    ("status", "headers", "attempt", "expected"),
    [
        (502, {}, 1, 1.0),
        (503, {}, 3, 4.0),
        (500, {}, 4, None),  # attempts exhausted
        (403, {"retry-after": "7"}, 1, 7.0),
        (429, {"retry-after": "2"}, 1, 2.0),
        (429, {}, 2, 2.0),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1030"}, 1, 31.0),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "5000"}, 1, None),  # too far
        (403, {"retry-after": "3600"}, 1, None),
        (403, {}, 1, None),  # permission denied is final
        (404, {}, 1, None),
        (422, {}, 1, None),
    ],
)
def test_retry_delay(
    status: int, headers: dict[str, str], attempt: int, expected: float | None
) -> None:
    assert (
        retry_delay(status=status, headers=headers, attempt=attempt, policy=POLICY, now=1000.0)
        == expected
    )


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        ("GET", "https://api.github.com/repos/o/r/pulls/1/files?per_page=100", True),
        ("PATCH", "https://api.github.com/repos/o/r/check-runs/5", True),
        ("DELETE", "https://api.github.com/repos/o/r/issues/1/labels/x", True),
        ("POST", "https://api.github.com/graphql", True),
        ("POST", "https://ghe.example/api/graphql", True),
        ("POST", "https://api.github.com/app/installations/42/access_tokens", True),
        ("POST", "https://api.github.com/repos/o/r/pulls/1/reviews", False),
        ("POST", "https://api.github.com/repos/o/r/check-runs", False),
        ("POST", "https://api.github.com/repos/o/r/issues/1/comments", False),
    ],
)
def test_only_requests_that_create_nothing_are_repeated_after_a_5xx(
    method: str, url: str, expected: bool
) -> None:
    assert safe_to_repeat(method, url) is expected
