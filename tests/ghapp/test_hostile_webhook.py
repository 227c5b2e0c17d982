"""The webhook endpoint against hostile input, through the real app in process:
malformed signed payloads, bodies over the limit (declared, undeclared, chunked),
slow and vanishing clients, busy read slots; and "remember success, not arrival":
a delivery that failed is reviewed again when GitHub redelivers it."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from checks.fingerprints import asked_fingerprints
from ghapp import server
from ghapp.server import MAX_PAYLOAD_BYTES, create_app
from ghapp.settings import ServerSettings
from tests.support.apptools import deliver, outcomes, settled, sign, wait_until
from tests.support.builders import stub_engine
from tests.support.fakegithub import FakeGitHub, FakePull, FakeRepo

WEBHOOK = "/api/github/webhooks"
DOC = "docs/rfcs/0001-offline-mode.md"
DOC_TEXT = "# Offline mode\n\n## Problem\nSync must be real-time.\n\n## Rollout\nTBD\n"


def signed_headers(
    body: bytes, event: str = "pull_request", delivery: str = "d-1"
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(body),
    }


async def post_signed(
    client: TestClient[Any, Any], event: str, body: bytes, delivery: str = "d-1"
) -> tuple[int, str]:
    response = await client.post(WEBHOOK, data=body, headers=signed_headers(body, event, delivery))
    return response.status, (await response.json())["message"]


def make_pr(fake: FakeGitHub) -> tuple[FakeRepo, FakePull]:
    repo = fake.add_repo()
    return repo, fake.add_pull(repo, added={DOC: DOC_TEXT})


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The test fails if anything logged an ERROR (a traceback) meanwhile."""
    caplog.set_level(logging.INFO)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


# --------------------------------------------------------------------------- shapes


def _without(payload: dict[str, Any], *path: str) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    target = changed
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return changed


def _with(payload: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


def malformed_payloads(fake: FakeGitHub) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(event, payload, the start of the 400's reason) for every routed event."""
    repo, pull = make_pr(fake)
    opened = fake.pull_request_event(repo, pull, "opened")
    yield (
        "pull_request",
        _without(opened, "pull_request", "head"),
        "pull_request.head: expected an object",
    )
    yield "pull_request", _with(opened, None, "repository"), "repository: expected an object"
    yield "pull_request", _with(opened, "seven", "pull_request", "number"), "pull_request.number:"
    yield "pull_request", _with(opened, True, "pull_request", "number"), "pull_request.number:"
    yield "pull_request", _without(opened, "installation"), "installation: expected an object"
    yield "pull_request", _with(opened, "42", "installation", "id"), "installation.id:"
    yield "pull_request", _with(opened, [], "pull_request"), "pull_request: expected an object"
    yield "pull_request", _with(opened, 7, "pull_request", "head", "sha"), "pull_request.head.sha:"
    yield (
        "pull_request",
        _with(opened, "../x", "pull_request", "head", "sha"),
        "pull_request.head.sha:",
    )
    yield "pull_request", _with(opened, "yes", "pull_request", "draft"), "pull_request.draft:"
    yield "pull_request", _with(opened, {}, "pull_request", "labels"), "pull_request.labels:"
    yield "pull_request", _with(opened, [3], "pull_request", "labels"), "pull_request.labels[0]:"
    yield "pull_request", _with(opened, ["x"], "repository", "name"), "repository.name:"
    yield "pull_request", _without(opened, "repository", "owner"), "repository.owner:"
    suite = fake.check_suite_event(repo, pull, "requested")
    yield "check_suite", _with(suite, None, "check_suite", "head_sha"), "check_suite.head_sha:"
    yield (
        "check_suite",
        _with(suite, {}, "check_suite", "pull_requests"),
        "check_suite.pull_requests:",
    )
    yield (
        "check_suite",
        _with(suite, [{"number": 1}], "check_suite", "pull_requests"),
        "check_suite.pull_requests[0].url:",
    )
    run = fake.check_run_event(repo, pull, "rerequested")
    yield "check_run", _with(run, 5, "check_run", "name"), "check_run.name:"
    yield "check_run", _with(run, "x", "check_run"), "check_run: expected an object"
    button = fake.check_run_event(repo, pull, "requested_action", requested_action=[])
    yield "check_run", button, "requested_action: expected an object"
    comment = fake.issue_comment_event(repo, pull, "/product-review")
    yield "issue_comment", _with(comment, ["/product-review"], "comment", "body"), "comment.body:"
    yield "issue_comment", _without(comment, "comment", "url"), "comment.url:"
    yield "issue_comment", _with(comment, "yes", "issue", "pull_request"), "issue.pull_request:"
    yield "issue_comment", _with(comment, 1, "comment", "user"), "comment.user:"


async def test_malformed_signed_payloads_get_400_naming_the_field(
    client: TestClient[Any, Any], fake_github: FakeGitHub, no_errors_logged: None
) -> None:
    cases = list(malformed_payloads(fake_github))
    for number, (event, payload, reason) in enumerate(cases):
        status, message = await post_signed(
            client, event, json.dumps(payload).encode(), delivery=f"m-{number}"
        )
        assert (status, message.startswith(reason)) == (400, True), (reason, message)
        assert "\n" not in message
    await settled(client)
    assert fake_github.requests == []  # nothing started
    assert outcomes(client) == []


async def test_a_malformed_payload_can_be_delivered_again_once_fixed(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    # A 400 is not remembered: the same id with a well-formed payload is handled.
    repo, pull = make_pr(fake_github)
    payload = fake_github.pull_request_event(repo, pull, "opened")
    broken = json.dumps(_with(payload, None, "installation")).encode()
    assert (await post_signed(client, "pull_request", broken, "same"))[0] == 400
    response = await deliver(client, "pull_request", payload, delivery_id="same")
    assert response.status == 202
    assert [outcome.outcome for outcome in outcomes(client)] == ["reviewed"]


@pytest.mark.parametrize("action", [["opened"], {"a": 1}, 3, True])
async def test_an_action_that_is_not_a_string_is_400(
    client: TestClient[Any, Any], action: Any, no_errors_logged: None
) -> None:
    body = json.dumps({"action": action}).encode()
    for event in ("pull_request", "issues"):  # routed or not, it is checked before routing
        assert await post_signed(client, event, body) == (400, "action: expected a string")


async def test_deeply_nested_json_is_400(
    client: TestClient[Any, Any], no_errors_logged: None
) -> None:
    depth = 100_000
    for body in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth):
        assert await post_signed(client, "pull_request", body) == (400, "body is nested too deeply")


async def test_events_not_routed_are_not_checked(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    # Only the fields a handler reads are required: an ignored action needs none.
    body = json.dumps({"action": "closed", "pull_request": []}).encode()
    assert await post_signed(client, "pull_request", body) == (200, "ignored pull_request.closed")


# --------------------------------------------------------------------------- size


async def open_raw(
    client: TestClient[Any, Any],
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    url = client.make_url("/")
    assert url.host is not None and url.port is not None
    return await asyncio.open_connection(url.host, url.port)


def request_head(headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {WEBHOOK} HTTP/1.1",
        "Host: localhost",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def status_of(reader: asyncio.StreamReader) -> int:
    line = await asyncio.wait_for(reader.readline(), timeout=20)
    assert line.startswith(b"HTTP/1.1 "), line
    return int(line.split()[1])


async def test_a_body_of_exactly_the_limit_is_accepted(client: TestClient[Any, Any]) -> None:
    prefix, suffix = b'{"zen": "', b'"}'
    body = prefix + b"x" * (MAX_PAYLOAD_BYTES - len(prefix) - len(suffix)) + suffix
    assert len(body) == MAX_PAYLOAD_BYTES
    assert await post_signed(client, "ping", body) == (200, "pong")
    assert (await post_signed(client, "ping", body[:-1] + b' "}'))[0] == 413


async def test_a_declared_length_over_the_limit_is_413_before_any_body_is_sent(
    client: TestClient[Any, Any],
) -> None:
    reader, writer = await open_raw(client)
    headers = signed_headers(b"{}")
    headers["Content-Length"] = str(MAX_PAYLOAD_BYTES + 1)
    writer.write(request_head(headers))  # and not one byte of the body
    assert await status_of(reader) == 413
    writer.close()


async def test_a_missing_signature_is_401_before_any_body_is_sent(
    client: TestClient[Any, Any],
) -> None:
    reader, writer = await open_raw(client)
    headers = signed_headers(b"{}")
    del headers["X-Hub-Signature-256"]
    headers["Content-Length"] = str(MAX_PAYLOAD_BYTES)
    writer.write(request_head(headers))
    assert await status_of(reader) == 401
    writer.close()


async def test_an_oversized_body_with_a_wrong_signature_is_not_read_to_its_end(
    client: TestClient[Any, Any],
) -> None:
    """The client offers ten times the limit, chunked (no length declared); the server
    answers 413 once the limit is passed, while most of the body is still unsent."""
    reader, writer = await open_raw(client)
    headers = {**signed_headers(b"something else"), "Transfer-Encoding": "chunked"}
    writer.write(request_head(headers))
    answer = asyncio.ensure_future(status_of(reader))
    planned = 10 * MAX_PAYLOAD_BYTES
    block = b" " * 65_536
    sent = 0
    try:
        while sent < planned and not answer.done():
            writer.write(b"%x\r\n%s\r\n" % (len(block), block))
            await writer.drain()
            sent += len(block)
    except ConnectionError:
        pass  # the server closed once it had answered
    assert await answer == 413
    assert sent < planned
    writer.close()


async def test_a_compressed_body_is_415(client: TestClient[Any, Any]) -> None:
    body = b"{}"
    headers = {**signed_headers(body), "Content-Encoding": "gzip"}
    response = await client.post(WEBHOOK, data=body, headers=headers)
    assert response.status == 415


async def test_an_undeclared_length_over_the_limit_is_413(client: TestClient[Any, Any]) -> None:
    async def stream() -> AsyncIterator[bytes]:
        for _ in range(MAX_PAYLOAD_BYTES // 65_536 + 2):
            yield b" " * 65_536

    response = await client.post(WEBHOOK, data=stream(), headers=signed_headers(b"{}"))
    assert response.status == 413


# --------------------------------------------------------------------------- slow clients


def quick(settings: ServerSettings, *, header: float = 30.0, body: float = 30.0) -> ServerSettings:
    """Settings with one bound short (0.3 s) and the other far out of the way, so a
    loaded machine cannot trip the one the test is not about."""
    return dataclasses.replace(settings, header_timeout_seconds=header, body_timeout_seconds=body)


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    # The watchdog only stops a broken test from hanging; the server's bound is 0.3 s.
    return await asyncio.wait_for(reader.read(), timeout=20)


async def test_a_connection_dribbling_headers_is_closed(
    aiohttp_client: Any, server_settings: ServerSettings
) -> None:
    client = await aiohttp_client(
        create_app(quick(server_settings, header=0.3), engine=stub_engine)
    )
    reader, writer = await open_raw(client)
    writer.write(b"POST " + WEBHOOK.encode() + b" HTTP/1.1\r\nHost: localhost\r\n")
    closed = asyncio.ensure_future(read_until_closed(reader))
    # Keep dribbling: bytes arriving do not extend the bound.
    while not closed.done():
        writer.write(b"X-Slow: 1\r\n")
        await asyncio.sleep(0.05)
    assert await closed == b""  # closed without an answer: no request ever came
    writer.close()


async def test_a_connection_dribbling_its_body_is_answered_408_and_closed(
    aiohttp_client: Any, server_settings: ServerSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = await aiohttp_client(create_app(quick(server_settings, body=0.3), engine=stub_engine))
    reader, writer = await open_raw(client)
    headers = {**signed_headers(b"{}"), "Content-Length": "1000"}
    writer.write(request_head(headers) + b"{")
    closed = asyncio.ensure_future(read_until_closed(reader))
    while not closed.done():
        writer.write(b" ")
        await asyncio.sleep(0.05)
    answer = await closed
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"body not received in time" in answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    writer.close()


async def test_a_body_slower_than_the_minimum_rate_frees_its_slot_early(
    aiohttp_client: Any, server_settings: ServerSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The total bound is far away (30 s); the grace period is made short here, and
    # the body keeps coming at ~20 bytes/s, far under the minimum rate.
    monkeypatch.setattr(server, "BODY_GRACE_SECONDS", 0.3)
    client = await aiohttp_client(create_app(quick(server_settings), engine=stub_engine))
    reader, writer = await open_raw(client)
    headers = {**signed_headers(b"{}"), "Content-Length": "100000"}
    writer.write(request_head(headers) + b"{")
    closed = asyncio.ensure_future(read_until_closed(reader))
    while not closed.done():
        writer.write(b" ")
        await asyncio.sleep(0.05)
    answer = await closed
    assert answer.startswith(b"HTTP/1.1 408 ")
    writer.close()


async def test_a_client_leaving_mid_body_is_one_info_line(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, writer = await open_raw(client)
    headers = {**signed_headers(b"{}"), "Content-Length": "100000"}
    writer.write(request_head(headers) + b'{"action": ')
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.close()
    await wait_until(lambda: "client went away" in caplog.text)
    health = await client.get("/healthz")
    assert health.status == 200
    assert [r.levelname for r in caplog.records if "client went away" in r.getMessage()] == ["INFO"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "Traceback" not in caplog.text


async def test_busy_read_slots_answer_503_with_retry_after(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "READ_SLOT_WAIT_SECONDS", 0.05)
    client = await make_client(max_concurrent_reads=1)
    _, writer = await open_raw(client)
    headers = {**signed_headers(b"{}"), "Content-Length": "1000"}
    writer.write(request_head(headers) + b"{")  # holds the one slot
    await writer.drain()
    await wait_until(lambda: client.app[server.READ_SLOTS_KEY].locked())
    response = await client.post(WEBHOOK, data=b"{}", headers=signed_headers(b"{}", "ping"))
    assert response.status == 503
    assert response.headers["Retry-After"] == str(server.RETRY_AFTER_SECONDS)
    writer.close()
    # The slot is given back when that client goes: the next delivery is read.
    await wait_until(lambda: not client.app[server.READ_SLOTS_KEY].locked())
    assert await post_signed(client, "ping", b"{}") == (200, "pong")
    assert (await client.get("/healthz")).status == 200


# --------------------------------------------------------------------------- redelivery


async def test_a_redelivery_after_a_failed_review_reviews_again_without_repeating_questions(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    """The review is posted, then completing the check fails (the fake answers 500
    to every attempt): the delivery failed. GitHub's "Redeliver" (same id) reviews
    again, and the earlier review's fingerprints keep its questions from repeating."""
    repo, pull = make_pr(fake_github)
    payload = fake_github.pull_request_event(repo, pull, "opened")
    fake_github.fail("PATCH", r"/check-runs/\d+$", status=500, times=4)
    first = await deliver(client, "pull_request", payload, delivery_id="delivery-1")
    assert first.status == 202
    assert [outcome.outcome for outcome in outcomes(client)] == ["failed"]
    assert len(pull.reviews) == 1  # its questions were posted before the failure

    again = await deliver(client, "pull_request", payload, delivery_id="delivery-1")
    assert again.status == 202, await again.text()
    assert [outcome.outcome for outcome in outcomes(client)] == ["failed", "reviewed"]
    latest = max(repo.check_runs.values(), key=lambda run: int(run["id"]))
    assert latest["status"] == "completed"
    assert "could not complete" not in latest["output"]["title"]
    asked = [asked_fingerprints([review["body"]]) for review in pull.reviews]
    assert sum(len(fingerprints) for fingerprints in asked) == len(frozenset().union(*asked))
    assert len(pull.reviews) == 1  # nothing new to ask

    # Now it completed: a third delivery of the same id is a duplicate.
    third = await deliver(client, "pull_request", payload, delivery_id="delivery-1")
    assert "already handled" in (await third.json())["message"]
    assert len(outcomes(client)) == 2


async def test_after_a_failed_review_the_heads_next_event_reviews_it(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    """The push's second event (`check_suite.requested`, same head) used to be
    dropped as "head already reviewed" even though that review had failed."""
    repo, pull = make_pr(fake_github)
    fake_github.fail("POST", r"/reviews$", status=502)  # not retried: it may have posted
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert [outcome.outcome for outcome in outcomes(client)] == ["failed"]
    assert pull.reviews == []
    await deliver(client, "check_suite", fake_github.check_suite_event(repo, pull, "requested"))
    assert [outcome.outcome for outcome in outcomes(client)] == ["failed", "reviewed"]
    assert len(pull.reviews) == 1
    # That one completed: the head is now remembered.
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))
    assert len(outcomes(client)) == 2


async def test_a_duplicate_while_the_delivery_is_in_flight_is_acknowledged_once(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    payload = fake_github.pull_request_event(repo, pull, "opened")
    gate = fake_github.stall("POST", r"/reviews$")
    first = await deliver(client, "pull_request", payload, delivery_id="in-flight", settle=False)
    assert first.status == 202
    await wait_until(lambda: bool(fake_github.calls("POST", "/reviews")))
    second = await deliver(client, "pull_request", payload, delivery_id="in-flight", settle=False)
    assert second.status == 200
    assert (await second.json())["message"] == "duplicate delivery, being handled"
    gate.set()
    await settled(client)
    assert [outcome.outcome for outcome in outcomes(client)] == ["reviewed"]
    assert len(pull.reviews) == 1


async def test_a_failed_command_can_be_redelivered(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    payload = fake_github.issue_comment_event(repo, pull, "/product-review help")
    fake_github.fail("POST", r"/issues/\d+/comments$", status=422, message="Validation Failed")
    await deliver(client, "issue_comment", payload, delivery_id="command-1")
    assert pull.issue_comments == []  # the reply was refused
    again = await deliver(client, "issue_comment", payload, delivery_id="command-1")
    assert again.status == 202
    assert len(pull.issue_comments) == 1
