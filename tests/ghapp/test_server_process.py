"""The real server process (`python -m ghapp`) on a free port, attacked from outside:
connections dribbling headers or bodies, large unsigned posts, a client leaving
mid-body, deep JSON and malformed signed payloads. Throughout, `/healthz` keeps
answering; slow connections are closed by the server; nothing logs a traceback.

The header and body bounds are set to 2 s and 1 s through the environment so the
tests are quick; the client-side timeouts below are watchdogs, far above them.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.support.apptools import WEBHOOK_SECRET, KeyPair, sign

WEBHOOK = "/api/github/webhooks"
HEADER_BOUND_SECONDS = 2.0
BODY_BOUND_SECONDS = 1.0
WATCHDOG_SECONDS = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def served(key_pair: KeyPair, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    workdir = tmp_path_factory.mktemp("server")  # no .env here
    port = free_port()
    env = {
        **os.environ,
        "APP_ID": "4242",
        "PRIVATE_KEY": key_pair.private_pem,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "GITHUB_API_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens there
        "HEADER_TIMEOUT_SECONDS": str(HEADER_BOUND_SECONDS),
        "BODY_TIMEOUT_SECONDS": str(BODY_BOUND_SECONDS),
        "LOG_LEVEL": "info",
    }
    log = workdir / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "ghapp"], cwd=workdir, env=env, stderr=stderr
        )
    server = RunningServer(process, port, log)
    deadline = time.monotonic() + WATCHDOG_SECONDS
    while True:
        assert process.poll() is None, server.log_text()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def no_traceback(served: RunningServer) -> Iterator[None]:
    yield
    text = served.log_text()
    assert "Traceback" not in text, text[-4000:]
    assert " ERROR " not in text, text[-4000:]


class HealthWatch:
    """Asks /healthz every 0.1 s, each with a 2 s client timeout (a behaviour bound:
    an answer at all, not a benchmark), and counts the misses."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answered = 0
        self.missed: list[str] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                try:
                    async with session.get(self.url + "/healthz") as response:
                        assert response.status == 200
                        await response.read()
                    self.answered += 1
                except (aiohttp.ClientError, TimeoutError, AssertionError) as error:
                    self.missed.append(repr(error))
                await asyncio.sleep(0.1)

    async def __aenter__(self) -> HealthWatch:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        assert self.missed == []
        assert self.answered > 0


async def connect(server: RunningServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port)


def head(headers: dict[str, str], *, path: str = WEBHOOK) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: localhost", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def webhook_headers(
    body: bytes, *, event: str = "pull_request", signed: bool = True
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": os.urandom(8).hex(),
        "X-Hub-Signature-256": sign(body) if signed else "sha256=" + "0" * 64,
    }


async def dribble_until_closed(server: RunningServer, *, body: bool) -> tuple[float, bytes]:
    """Send a byte every 0.1 s until the server closes; (seconds open, what it said)."""
    reader, writer = await connect(server)
    opened = time.monotonic()
    if body:
        headers = {**webhook_headers(b"{}"), "Content-Length": "100000"}
        writer.write(head(headers) + b"{")
    else:
        writer.write(b"POST " + WEBHOOK.encode() + b" HTTP/1.1\r\nHost: localhost\r\n")
    answer = asyncio.ensure_future(asyncio.wait_for(reader.read(), WATCHDOG_SECONDS))
    try:
        while not answer.done():
            writer.write(b" " if body else b"X-Slow: 1\r\n")
            await writer.drain()
            await asyncio.sleep(0.1)
    except ConnectionError:
        pass
    said = await answer
    writer.close()
    return time.monotonic() - opened, said


async def test_a_dribbling_connection_is_closed_at_the_configured_bound(
    served: RunningServer, no_traceback: None
) -> None:
    # One at a time, so the client's clock starts when the server's does.
    for body in (False, True):
        seconds, said = await dribble_until_closed(served, body=body)
        assert seconds >= 0.9 * (BODY_BOUND_SECONDS if body else HEADER_BOUND_SECONDS)
        assert said.startswith(b"HTTP/1.1 408 ") if body else said == b""


async def test_many_dribbling_connections_are_closed_while_health_answers(
    served: RunningServer, no_traceback: None
) -> None:
    async with HealthWatch(served.url):
        header_dribblers = [dribble_until_closed(served, body=False) for _ in range(150)]
        # Fewer than the read slots: each gets its own and meets the body bound.
        body_dribblers = [dribble_until_closed(served, body=True) for _ in range(10)]
        results = await asyncio.gather(*header_dribblers, *body_dribblers)
    headers_done, bodies_done = results[:150], results[150:]
    # No complete request head ever came: closed without an answer.
    assert {said for _, said in headers_done} == {b""}
    for _, said in bodies_done:
        assert said.startswith(b"HTTP/1.1 408 "), said[:200]
    assert "webhook body too slow" in served.log_text()


async def big_unsigned_post(server: RunningServer, size: int, *, chunked: bool) -> int | None:
    """POST `size` bytes with a wrong signature; the status the server answered (None
    when it closed first, which a client sending fast into a closed socket may see)."""
    reader, writer = await connect(server)
    headers = webhook_headers(b"", signed=False)
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
    else:
        headers["Content-Length"] = str(size)
    writer.write(head(headers))
    status = asyncio.ensure_future(asyncio.wait_for(reader.readline(), WATCHDOG_SECONDS))
    block = b" " * 65_536
    sent = 0
    try:
        while sent < size and not status.done():
            writer.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
            await writer.drain()
            sent += len(block)
            # drain() does not yield while the server keeps reading (it discards the
            # rest of a refused body for a while): let the status reader run.
            await asyncio.sleep(0)
        line = await status
    except ConnectionError:
        line = b""
    writer.close()
    assert sent < size  # the server answered before the body was all sent
    return int(line.split()[1]) if line.startswith(b"HTTP/1.1 ") else None


async def test_large_unsigned_posts_are_refused_early_and_memory_stays_bounded(
    served: RunningServer, no_traceback: None
) -> None:
    size = 24 * 1024 * 1024
    baseline = served.rss_kb()
    peak = baseline
    async with HealthWatch(served.url):
        posts = asyncio.gather(
            *(big_unsigned_post(served, size, chunked=False) for _ in range(10)),
            *(big_unsigned_post(served, size, chunked=True) for _ in range(6)),
        )
        while not posts.done():
            peak = max(peak, served.rss_kb())
            await asyncio.sleep(0.05)
        statuses = await posts
    assert set(statuses) <= {413, None}
    assert 413 in statuses
    # 16 bodies of 24 MB read whole would be 384 MB; each read stops at the 4 MB limit.
    assert peak - baseline < 150 * 1024, (baseline, peak)


async def test_a_client_leaving_mid_body_is_logged_as_one_info_line(
    served: RunningServer, no_traceback: None
) -> None:
    _, writer = await connect(served)
    headers = {**webhook_headers(b"{}"), "Content-Length": "100000"}
    writer.write(head(headers) + b'{"action": ')
    await writer.drain()
    await asyncio.sleep(0.2)
    writer.close()
    deadline = time.monotonic() + WATCHDOG_SECONDS
    while "client went away" not in served.log_text():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    (line,) = [line for line in served.log_text().splitlines() if "client went away" in line]
    assert " INFO " in line


async def test_deep_and_malformed_signed_payloads_get_400(
    served: RunningServer, no_traceback: None
) -> None:
    repository = {"name": "w", "owner": {"login": "a"}, "url": "http://x/repos/a/w"}
    pull = {"number": 7, "url": "http://x/repos/a/w/pulls/7", "head": {"sha": "a" * 40}}
    good = {"action": "opened", "pull_request": pull, "repository": repository}
    cases = [
        (b"[" * 100_000 + b"]" * 100_000, "body is nested too deeply"),
        (json.dumps({**good, "action": ["opened"]}).encode(), "action: expected a string"),
        (json.dumps({**good, "action": {"x": 1}}).encode(), "action: expected a string"),
        (json.dumps(good).encode(), "installation: expected an object"),
        (json.dumps({**good, "repository": None}).encode(), "repository: expected an object"),
        (json.dumps({**good, "pull_request": []}).encode(), "pull_request: expected an object"),
        (
            json.dumps({**good, "pull_request": {**pull, "number": "seven"}}).encode(),
            "pull_request.number: expected a positive integer",
        ),
    ]
    async with HealthWatch(served.url), aiohttp.ClientSession() as session:
        for body, reason in cases:
            async with session.post(
                served.url + WEBHOOK, data=body, headers=webhook_headers(body)
            ) as response:
                assert response.status == 400
                assert (await response.json())["message"] == reason
    await asyncio.sleep(0.2)  # anything a background task would log, it has logged
