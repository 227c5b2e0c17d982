"""The fake GitHub API refuses what GitHub refuses; otherwise the app tests
would prove nothing about the requests the app sends."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import jwt
import pytest

from tests.support.apptools import APP_ID, KeyPair
from tests.support.fakegithub import (
    FakeGitHub,
    FakePull,
    FakeRepo,
    added_file_patch,
    right_side_lines,
)


@pytest.fixture
async def http() -> Any:
    async with aiohttp.ClientSession() as session:
        yield session


async def token_for(fake: FakeGitHub, http: aiohttp.ClientSession, key_pair: KeyPair) -> str:
    now = int(time.time())
    app_token = jwt.encode(
        {"iat": now - 60, "exp": now + 300, "iss": APP_ID}, key_pair.private_pem, "RS256"
    )
    async with http.post(
        f"{fake.url}/app/installations/1/access_tokens",
        headers={"Authorization": f"Bearer {app_token}"},
    ) as response:
        assert response.status == 201
        return str((await response.json())["token"])


def setup(fake: FakeGitHub) -> tuple[FakeRepo, FakePull]:
    repo = fake.add_repo()
    pull = fake.add_pull(repo, added={"docs/rfcs/a.md": "# A\nline two\nline three\n"})
    return repo, pull


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"iat": -60, "exp": -10}, "Expiration"),  # expired
        ({"iat": -60, "exp": 900}, "too far"),  # more than 10 minutes
        ({"iat": 120, "exp": 500}, "Issued at"),  # issued in the future
        ({"iat": -60, "exp": 300, "iss": "999"}, "Integration"),  # another app
    ],
)
async def test_bad_app_jwts_are_refused(
    fake_github: FakeGitHub,
    http: aiohttp.ClientSession,
    key_pair: KeyPair,
    claims: dict[str, Any],
    message: str,
) -> None:
    now = int(time.time())
    payload = {
        "iat": now + claims["iat"],
        "exp": now + claims["exp"],
        "iss": claims.get("iss", APP_ID),
    }
    token = jwt.encode(payload, key_pair.private_pem, "RS256")
    async with http.post(
        f"{fake_github.url}/app/installations/1/access_tokens",
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 401
        assert message in (await response.json())["message"]


@pytest.mark.parametrize("authorization", ["", "Bearer not.a.jwt", "token"])
async def test_malformed_or_missing_credentials_are_refused(
    fake_github: FakeGitHub, http: aiohttp.ClientSession, authorization: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async with http.post(
        f"{fake_github.url}/app/installations/1/access_tokens", headers=headers
    ) as response:
        assert response.status == 401
    repo, pull = setup(fake_github)
    async with http.get(
        f"{fake_github.url}/repos/{repo.full_name}/pulls/{pull.number}/files",
        headers={"Authorization": "token ghs_unknown"},
    ) as response:
        assert response.status == 401


async def check_run_status(
    fake: FakeGitHub, http: aiohttp.ClientSession, token: str, body: dict[str, Any]
) -> int:
    repo = next(iter(fake.repos.values()))
    async with http.post(
        f"{fake.url}/repos/{repo.full_name}/check-runs",
        json=body,
        headers={"Authorization": f"token {token}"},
    ) as response:
        return response.status


def annotation(line: int = 1) -> dict[str, Any]:
    return {
        "path": "a.md",
        "start_line": line,
        "end_line": line,
        "annotation_level": "warning",
        "message": "m",
    }


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({}, 201),
        ({"status": "done"}, 422),
        ({"status": "completed"}, 422),  # a conclusion is required
        ({"status": "completed", "conclusion": "great"}, 422),
        ({"output": {"title": "t" * 256, "summary": "s"}}, 422),
        ({"output": {"title": "t", "summary": "s" * 65_536}}, 422),
        ({"output": {"title": "t", "summary": "s", "text": "é" * 40_000}}, 422),  # bytes
        ({"output": {"title": "t", "summary": "s", "annotations": [annotation()] * 51}}, 422),
        ({"output": {"title": "t", "summary": "s", "annotations": [annotation()] * 50}}, 201),
        ({"head_sha": "main"}, 422),
    ],
)
async def test_check_run_limits_and_enums(
    fake_github: FakeGitHub,
    http: aiohttp.ClientSession,
    key_pair: KeyPair,
    change: dict[str, Any],
    status: int,
) -> None:
    setup(fake_github)
    token = await token_for(fake_github, http, key_pair)
    body = {"name": "Product review", "head_sha": "a" * 40, "status": "in_progress", **change}
    assert await check_run_status(fake_github, http, token, body) == status


@pytest.mark.parametrize(
    ("comment", "event", "status"),
    [
        ({"path": "docs/rfcs/a.md", "line": 2, "side": "RIGHT", "body": "q"}, "COMMENT", 200),
        ({"path": "docs/rfcs/a.md", "line": 9, "side": "RIGHT", "body": "q"}, "COMMENT", 422),
        ({"path": "other.md", "line": 1, "side": "RIGHT", "body": "q"}, "COMMENT", 422),
        ({"path": "docs/rfcs/a.md", "line": 2, "side": "MIDDLE", "body": "q"}, "COMMENT", 422),
        ({"path": "docs/rfcs/a.md", "line": 2, "side": "RIGHT", "body": "q"}, "SHOUT", 422),
    ],
)
async def test_review_comments_must_sit_on_diff_lines(
    fake_github: FakeGitHub,
    http: aiohttp.ClientSession,
    key_pair: KeyPair,
    comment: dict[str, Any],
    event: str,
    status: int,
) -> None:
    repo, pull = setup(fake_github)
    token = await token_for(fake_github, http, key_pair)
    async with http.post(
        f"{fake_github.url}/repos/{repo.full_name}/pulls/{pull.number}/reviews",
        json={"commit_id": pull.head_sha, "body": "b", "event": event, "comments": [comment]},
        headers={"Authorization": f"token {token}"},
    ) as response:
        assert response.status == status


def test_right_side_lines_of_a_patch() -> None:
    patch = "@@ -1,3 +1,4 @@\n context\n-gone\n+new one\n+new two\n context\n@@ -10 +11 @@\n-x\n+y"
    assert right_side_lines(patch) == {1, 2, 3, 4, 11}
    assert right_side_lines(added_file_patch("a\nb\n")) == {1, 2}
    assert right_side_lines(None) == set()
