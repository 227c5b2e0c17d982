"""The webhook endpoint through the real aiohttp app: verification, limits,
deduplication, ping, health."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from ghapp.server import MAX_PAYLOAD_BYTES
from tests.support.apptools import deliver, outcomes, settled, sign, wait_until
from tests.support.builders import stub_engine
from tests.support.fakegithub import FakeGitHub, added_file_patch

WEBHOOK = "/api/github/webhooks"


def headers(body: bytes, **extra: str) -> dict[str, str]:
    base = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": "d-1",
        "X-Hub-Signature-256": sign(body),
    }
    base.update(extra)
    return base


async def test_healthz_answers_200(client: TestClient[Any, Any]) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["status"] == "ok"


async def test_ping_is_answered(client: TestClient[Any, Any], fake_github: FakeGitHub) -> None:
    response = await deliver(client, "ping", {"zen": "Keep it logically awesome.", "hook_id": 1})
    assert response.status == 200
    assert (await response.json())["message"] == "pong"
    assert fake_github.requests == []


async def test_wrong_or_missing_signature_is_401_and_does_nothing(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    body = json.dumps({"zen": "x"}).encode()
    for signature in (
        "sha256=" + "0" * 64,
        "",
        "sha1=abc",
        "sha256=\u00e9\u00e9",
        sign(body, "other"),
    ):
        extra = {"X-Hub-Signature-256": signature} if signature else {}
        sent = headers(body, **{"X-GitHub-Event": "ping"})
        sent.pop("X-Hub-Signature-256")
        sent.update(extra)
        response = await client.post(WEBHOOK, data=body, headers=sent)
        assert response.status == 401, signature
    assert fake_github.requests == []


async def test_body_changed_after_signing_is_401(client: TestClient[Any, Any]) -> None:
    body = json.dumps({"zen": "x"}).encode()
    sent = headers(body, **{"X-GitHub-Event": "ping"})
    response = await client.post(WEBHOOK, data=body + b" ", headers=sent)
    assert response.status == 401


async def test_wrong_content_type_is_415(client: TestClient[Any, Any]) -> None:
    body = b"payload=%7B%7D"
    sent = headers(body, **{"Content-Type": "application/x-www-form-urlencoded"})
    response = await client.post(WEBHOOK, data=body, headers=sent)
    assert response.status == 415


async def test_signed_body_that_is_not_json_is_400(client: TestClient[Any, Any]) -> None:
    for body in (b"{not json", b"\xff\xfe", b"[1, 2]"):
        response = await client.post(WEBHOOK, data=body, headers=headers(body))
        assert response.status == 400, body


async def test_missing_event_headers_is_400(client: TestClient[Any, Any]) -> None:
    body = b"{}"
    sent = headers(body)
    sent.pop("X-GitHub-Event")
    response = await client.post(WEBHOOK, data=body, headers=sent)
    assert response.status == 400


async def test_payload_over_the_limit_is_413(client: TestClient[Any, Any]) -> None:
    body = b"{" + b" " * MAX_PAYLOAD_BYTES + b"}"
    response = await client.post(WEBHOOK, data=body, headers=headers(body))
    assert response.status == 413


async def test_unhandled_events_and_actions_are_acknowledged_and_ignored(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={"docs/rfcs/0001-x.md": "# X\nTBD\n"})
    for event, payload in (
        ("issues", {"action": "opened"}),
        ("pull_request", fake_github.pull_request_event(repo, pull, "closed")),
        ("pull_request", fake_github.pull_request_event(repo, pull, "labeled")),
        ("check_suite", fake_github.check_suite_event(repo, pull, "completed")),
    ):
        response = await deliver(client, event, payload)
        assert response.status == 200
        assert (await response.json())["message"].startswith("ignored")
    assert fake_github.requests == []


async def test_duplicate_delivery_is_acknowledged_and_not_processed_twice(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={"docs/rfcs/0001-x.md": "# X\nTBD\n"})
    payload = fake_github.pull_request_event(repo, pull, "opened")
    first = await deliver(client, "pull_request", payload, delivery_id="same-id")
    calls_after_first = len(fake_github.requests)
    second = await deliver(client, "pull_request", payload, delivery_id="same-id")
    assert first.status == 202
    assert second.status == 200
    assert "duplicate" in (await second.json())["message"]
    assert len(fake_github.requests) == calls_after_first
    assert len(fake_github.calls("POST", "/check-runs")) == 1


async def test_webhook_is_acknowledged_before_the_review_runs(
    make_client: Any, fake_github: FakeGitHub
) -> None:
    release = threading.Event()

    def slow_engine(text: str, path: str, options: Any) -> Any:
        release.wait(timeout=10)
        return stub_engine(text, path, options)

    client = await make_client(engine=slow_engine)
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={"docs/rfcs/0001-x.md": "# X\nTBD\n"})
    try:
        response = await deliver(
            client,
            "pull_request",
            fake_github.pull_request_event(repo, pull, "opened"),
            settle=False,
        )
        # The engine cannot finish before `release`: an answer now, with the review
        # still in flight, is an answer that did not wait for it (no stopwatch needed).
        assert response.status == 202
        health = await client.get("/healthz")
        assert (await health.json())["reviews_in_flight"] == 1
        assert not repo.check_runs or next(iter(repo.check_runs.values()))["status"] != "completed"
    finally:
        release.set()
    await settled(client)
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed"


async def test_shutdown_lets_an_in_flight_review_finish(
    make_client: Any, fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ghapp.server")
    # A bound far above what the review needs: the drain ends as soon as it finishes.
    client = await make_client(drain_seconds=60)
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={"docs/rfcs/0001-x.md": "# X\nTBD\n"})
    gate = fake_github.stall("POST", r"/reviews$")  # the review is held mid-way
    await deliver(
        client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"), settle=False
    )
    await wait_until(lambda: bool(fake_github.calls("POST", "/reviews")))
    # The app's cleanup drains reviews before closing its session.
    closing = asyncio.ensure_future(client.close())
    await wait_until(lambda: "shutting down: 1 review(s) in flight" in caplog.text)
    assert not closing.done()
    gate.set()  # the review may go on only once the shutdown is waiting for it
    await closing
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed"
    assert run["conclusion"] == "neutral"
    assert "could not complete" not in run["output"]["title"]  # finished, not cut short
    assert len(pull.reviews) == 1
    assert [outcome.outcome for outcome in outcomes(client)] == ["reviewed"]


async def test_shutdown_bound_cancels_the_review_and_still_completes_the_check(
    make_client: Any, fake_github: FakeGitHub
) -> None:
    client = await make_client(drain_seconds=0.2)
    repo = fake_github.add_repo()
    text = "# X\nTBD\n"
    pull = fake_github.add_pull(
        repo, modified={"docs/rfcs/0001-x.md": (text, added_file_patch(text))}
    )
    # The review hangs on posting its review, after the check was created.
    gate = fake_github.stall("POST", r"/pulls/\d+/reviews$")
    await deliver(
        client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"), settle=False
    )
    await wait_until(lambda: bool(fake_github.calls("POST", "/reviews")))
    assert len(fake_github.calls("POST", "/check-runs")) == 1
    await client.close()
    gate.set()
    assert fake_github.calls("GET", "/contents/") == []
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed"
    assert run["conclusion"] == "neutral"
    assert "could not complete" in run["output"]["title"]
    assert "shut down" in run["output"]["summary"]
