"""GitHub App authentication: the app JWT and cached installation tokens.

No HTTP here: minting a token is an API call, so `ghapp.github` passes the
minting coroutine in. This module decides when a token is still good.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import jwt
from cachetools import TLRUCache

# GitHub rejects an `iat` in its future; backdating absorbs clock drift.
JWT_BACKDATE_SECONDS = 60
# GitHub's ceiling is 10 minutes after `iat`; stay under it.
JWT_LIFETIME_SECONDS = 9 * 60
# Stop using a token this long before GitHub expires it (a review can take a while).
TOKEN_EXPIRY_MARGIN_SECONDS = 5 * 60
_MAX_CACHED_INSTALLATIONS = 10_000


def app_jwt(*, app_id: str, private_key: str, now: float | None = None) -> str:
    """An RS256 JWT identifying the app (for /app/... endpoints only)."""
    issued_at = int(time.time() if now is None else now) - JWT_BACKDATE_SECONDS
    payload = {"iat": issued_at, "exp": issued_at + JWT_LIFETIME_SECONDS, "iss": app_id}
    return jwt.encode(payload, private_key, algorithm="RS256")


@dataclass(frozen=True)
class InstallationToken:
    token: str
    expires_at: float  # seconds since the epoch

    @classmethod
    def from_response(cls, response: dict[str, object]) -> InstallationToken:
        expires_at = str(response["expires_at"]).replace("Z", "+00:00")
        return cls(
            token=str(response["token"]),
            expires_at=datetime.fromisoformat(expires_at).timestamp(),
        )


MintToken = Callable[[int], Awaitable[InstallationToken]]


class InstallationTokens:
    """Installation tokens cached until shortly before they expire.

    One lock per installation: concurrent reviews on a cold cache mint one token,
    not one each.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._cache: TLRUCache[int, InstallationToken] = TLRUCache(
            maxsize=_MAX_CACHED_INSTALLATIONS,
            ttu=lambda _key, token, _now: token.expires_at - TOKEN_EXPIRY_MARGIN_SECONDS,
            timer=clock,
        )
        self._locks: dict[int, asyncio.Lock] = {}

    async def get(self, installation_id: int, *, mint: MintToken) -> str:
        cached = self._cache.get(installation_id)
        if cached is not None:
            return cached.token
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        try:
            async with lock:
                cached = self._cache.get(installation_id)
                if cached is None:
                    cached = await mint(installation_id)
                    self._cache[installation_id] = cached
                return cached.token
        finally:
            # The lock only guards a cold cache; keeping one per installation ever
            # seen would grow without bound. Callers already waiting keep their reference.
            if not lock.locked() and self._locks.get(installation_id) is lock:
                del self._locks[installation_id]

    def invalidate(self, installation_id: int, *, token: str) -> None:
        """Forget `token` (GitHub refused it); a newer token minted meanwhile is kept."""
        cached = self._cache.get(installation_id)
        if cached is not None and cached.token == token:
            del self._cache[installation_id]
