"""Webhook acknowledgement latency while large reviews run, on the real server process.

    python bench/ack_latency.py [--seconds N] [--rate 200] [--in-flight 2] [--wait-idle SECONDS]
                                [--no-redis] [--only TEXT] [--json FILE]

The fake GitHub of the test suite serves on loopback from this process, and the
real server (`python -m ghapp`) runs as a child process with a temporary
`STATE_DIR`. Throughout each measurement, pull requests that each add 20
synthetic design docs of about 50 KB (generated here: headings, lists, tables,
TBDs; no corpus text) keep the review processes busy: a new pull request is
opened as soon as a review completes, so that `--in-flight` reviews per review
process are always running or queued.

Meanwhile a separate load process sends signed `issue_comment.created`
deliveries without a command (recorded durably and acknowledged, then handled
without any API call) on an open-loop schedule: send times are fixed in
advance at `--rate` per second, and each latency is measured from its
scheduled send time, so a stall of the server (or of the sender) counts in
full. The latency from the actual send is shown too, and the sender's own lag.
The sender is lean on purpose, since it shares the CPUs with what it measures:
requests are made in advance, written to keep-alive connections (a new one
whenever none is free, so a stalled server does not hold later sends back) and
their answers parsed by hand; its event loop waits with select(2), whose
timeout is in microseconds (epoll's millisecond timeouts made sends up to 1 ms
late). A closed-loop load generator (wrk, say) would not do: it sends the next
request only once an answer came, so a stall delays the sends instead of
showing in the latencies.

Configurations: the server alone without reviews (the baseline), then with
REVIEW_WORKERS=1 and =2 (its web process records deliveries in SQLite; its
review process reviews, with that many pool workers); then, when
`redis-server` is on PATH, scaled out: one web process with REDIS_URL that only
enqueues, and 1 or 2 `python -m localreview worker` processes
(REVIEW_WORKERS=1 each) that review. The workers share this machine with the
web process, so they run with WORKER_PRIORITY=idle, as the README says to
configure workers placed beside web processes.

Priorities: the processes measured run as a deployment runs them (the review
processes lower their own priority; nothing here raises the web process's).
The fake GitHub, which stands in for a service on other machines, runs on this
script's main thread as SCHED_IDLE, so that it does not take the CPU from the
web process or the sender (at nice 10 its slices still delayed them); the
processes measured are started from another thread, at this script's own
priority.

The target to compare against: acknowledgement p99 <= 5 ms at 200 deliveries/s.
The script reports whether it is met and always exits 0 when it could measure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import hmac
import importlib
import json
import math
import multiprocessing
import os
import platform
import random
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from perf import wait_for_idle

CHECKOUT = Path(__file__).resolve().parents[1]
APP_ID = "4242"
SECRET = "ack-latency-bench-secret"
WEBHOOK_PATH = "/api/github/webhooks"
TARGET_P99_MS = 5.0
TARGET_RATE = 200.0
DOCS_PER_PULL = 20
DOC_BYTES = 50 * 1024
# Distinct documents generated once; each pull request takes 20 of them, with a
# line of its own appended so that no two pull requests share a blob.
DOC_POOL = 40
# Deliveries sent before the measured ones, to open connections and warm caches.
WARM_UP_SECONDS = 1.0
# GitHub gives up on a delivery after 10 s.
DELIVERY_TIMEOUT_SECONDS = 10.0
STARTUP_TIMEOUT_SECONDS = 60.0
FIRST_REVIEW_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 20.0
POLL_SECONDS = 0.02
COMMENT_BODY = "Thanks, this reads well. I left a note on the rollout section offline."


# -- synthetic design documents ------------------------------------------------------

_COMPONENTS = (
    "sync service",
    "billing pipeline",
    "audit log",
    "notification fan-out",
    "search index",
    "session store",
    "export job",
    "permissions model",
    "rate limiter",
    "feature-flag client",
    "ingest queue",
    "schema registry",
    "offline cache",
    "webhook relay",
)
_USERS = (
    "field technicians",
    "workspace admins",
    "support agents",
    "mobile users on poor networks",
    "enterprise tenants",
    "on-call engineers",
    "partners using the public API",
    "finance analysts",
)
_VERBS = (
    "replicate",
    "batch",
    "retry",
    "invalidate",
    "shard",
    "compact",
    "throttle",
    "reconcile",
    "version",
    "encrypt",
)
_MANNERS = (
    "in the background",
    "without losing writes",
    "at peak load",
    "across regions",
    "within one request",
    "behind a feature flag",
)
_SENTENCES = (
    "Today the {c} handles every request synchronously, which costs {u} about {n} seconds "
    "per action.",
    "We propose that the {c} {v} changes {m}, and that the {c2} reads them on demand.",
    "This should make the {c} fast, simple and scalable for {u}.",
    "The {c} owns {n} tables and talks to the {c2} over gRPC with a {n2} ms deadline.",
    "During the last quarter, {n} support tickets from {u} mentioned the {c}.",
    "If the {c2} is unavailable, the {c} falls back to a cached copy for up to {n} minutes.",
    "Latency at p99 must stay under {n2} ms while the {c} {v}s {m}.",
    "Alternatively, the {c2} could {v} the data itself, but that moves the cost to {u}.",
    "Each {c} node keeps at most {n} entries in memory and spills the rest to disk.",
    "We measured {n} requests per second on the {c} in staging, with {n2} ms at p95.",
    "The migration runs {m} and can be paused by the on-call engineer at any time.",
    "Users expect the {c} to just work, and it will be seamless for {u}.",
    "The {c2} team reviewed this section and asked for a dry-run mode first.",
    "A failed {v} is retried {n} times with exponential back-off, then sent to a dead-letter "
    "queue.",
)
_GAPS = (
    "TBD: who owns the {c} after launch.",
    "TBD: the retention period for the {c} ({n} days is a placeholder).",
    "Open question: do {u} need an opt-out from the new {c}?",
    "TODO: confirm the {n2} ms budget with the {c2} team.",
    "TBD",
)


def _fill(template: str, rng: random.Random) -> str:
    first, second = rng.sample(_COMPONENTS, 2)
    return template.format(
        c=first,
        c2=second,
        u=rng.choice(_USERS),
        v=rng.choice(_VERBS),
        m=rng.choice(_MANNERS),
        n=rng.randint(2, 900),
        n2=rng.choice((50, 100, 150, 200, 250, 500, 800)),
    )


def _paragraph(rng: random.Random, sentences: int) -> str:
    picked = [_fill(rng.choice(_SENTENCES), rng) for _ in range(sentences)]
    if rng.random() < 0.25:
        picked.append(_fill(rng.choice(_GAPS), rng))
    return " ".join(picked)


def _bullets(rng: random.Random, count: int, *, numbered: bool = False) -> str:
    lines = []
    for index in range(1, count + 1):
        marker = f"{index}." if numbered else "-"
        text = _fill(rng.choice(_SENTENCES + _GAPS), rng)
        lines.append(f"{marker} {text}")
    return "\n".join(lines)


def _table(rng: random.Random) -> str:
    rows = ["| Component | Owner | Budget (ms) | Status |", "|---|---|---:|---|"]
    for component in rng.sample(_COMPONENTS, 4):
        owner = rng.choice(("platform", "payments", "mobile", "infra", "TBD"))
        status = rng.choice(("done", "in review", "not started", "TBD"))
        rows.append(f"| {component} | {owner} | {rng.choice((50, 120, 300))} | {status} |")
    return "\n".join(rows)


def _code_block(rng: random.Random) -> str:
    component = rng.choice(_COMPONENTS).replace(" ", "-")
    return (
        "```yaml\n"
        f"{component}:\n"
        f"  replicas: {rng.randint(2, 12)}\n"
        f"  timeout_ms: {rng.choice((200, 500, 1000))}\n"
        f"  retry: {{attempts: {rng.randint(1, 5)}, backoff: exponential}}\n"
        "```"
    )


def synthetic_design_doc(seed: int, *, size: int = DOC_BYTES) -> tuple[str, str]:
    """(path, text) of a design doc of about `size` bytes, made up from `seed`."""
    rng = random.Random(seed)
    component = rng.choice(_COMPONENTS)
    title = f"{rng.choice(_VERBS).capitalize()} the {component} {rng.choice(_MANNERS)}"
    head = [
        f"# {title}",
        "",
        "- Status: Draft",
        f"- Authors: @{rng.choice(('ana', 'bo', 'chen', 'dara', 'eli'))}",
        f"- Created: 2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "",
        "## Summary",
        "",
        _paragraph(rng, 4),
        "",
        "## Problem",
        "",
        _paragraph(rng, 6),
        "",
        _paragraph(rng, 5),
        "",
        "## Users",
        "",
        _bullets(rng, 4),
        "",
        "## Goals",
        "",
        _bullets(rng, 5),
        "",
        "## Non-goals",
        "",
        _bullets(rng, 3),
        "",
        "## Detailed design",
        "",
        _paragraph(rng, 5),
        "",
    ]
    tail = [
        "## Alternatives considered",
        "",
        "### Do nothing",
        "",
        _paragraph(rng, 3),
        "",
        f"### Move the work into the {rng.choice(_COMPONENTS)}",
        "",
        _paragraph(rng, 4),
        "",
        "## Risks",
        "",
        _bullets(rng, 5),
        "",
        "## Rollout",
        "",
        _bullets(rng, 4, numbered=True),
        "",
        "## Success metrics",
        "",
        _bullets(rng, 3),
        "",
        "## Open questions",
        "",
        "\n".join(f"- {_fill(rng.choice(_GAPS), rng)}" for _ in range(4)),
        "",
    ]
    body = head
    used = sum(len(line) + 1 for line in head + tail)
    section = 0
    while used < size:
        section += 1
        part = [f"### {section}. The {rng.choice(_COMPONENTS)}", "", _paragraph(rng, 6), ""]
        extra = rng.random()
        if extra < 0.3:
            part += [_bullets(rng, rng.randint(3, 6)), ""]
        elif extra < 0.45:
            part += [_table(rng), ""]
        elif extra < 0.6:
            part += [_code_block(rng), ""]
        elif extra < 0.75:
            part += [_bullets(rng, rng.randint(3, 5), numbered=True), ""]
        part += [_paragraph(rng, 4), ""]
        body += part
        used += sum(len(line) + 1 for line in part)
    slug = "-".join(title.lower().split()[:4])
    return f"docs/rfcs/{seed:04d}-{slug}.md", "\n".join(body + tail)


# -- the load process ----------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Sample:
    scheduled: float  # seconds after the schedule's start
    lag: float  # when the sender actually sent it, after its scheduled time
    latency: float  # from the scheduled time to the whole answer
    service: float  # from the actual send to the whole answer
    status: int  # 0: no answer (timeout or connection error)


@dataclass(frozen=True)
class LoadResult:
    started_monotonic: float  # the schedule's start, on the machine's monotonic clock
    samples: list[Sample]
    cpu_seconds: float  # the load process's own


def signed_delivery(event: str, payload: dict[str, Any]) -> Delivery:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signature,
    }
    return Delivery(headers, body)


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection of the sender: writes a request made in
    advance and notes, as the last byte of the answer arrives, when it did. No
    client library: the sender shares the 2 CPUs with what it measures, so it
    does as little as it can per request."""

    def __init__(self, loop: asyncio.AbstractEventLoop, idle: list[_Connection]) -> None:
        self._loop = loop
        self._idle = idle
        self._buffer = bytearray()
        self._answer: asyncio.Future[tuple[int, float]] | None = None
        self._transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def send(self, request: bytes) -> asyncio.Future[tuple[int, float]]:
        """(status, when the answer was complete); status 0 for a lost connection."""
        assert self._transport is not None
        self._answer = self._loop.create_future()
        self._transport.write(request)
        return self._answer

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0 or self._answer is None:
            return
        head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if len(self._buffer) < end + 4 + length:
            return
        done = self._loop.time()
        del self._buffer[: end + 4 + length]
        answer, self._answer = self._answer, None
        answer.set_result((int(head[0].split()[1]), done))
        if any(line.lower().startswith("connection: close") for line in head):
            self.closed = True
        else:
            self._idle.append(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self in self._idle:
            self._idle.remove(self)
        if self._answer is not None and not self._answer.done():
            self._answer.set_result((0, self._loop.time()))


def _request_bytes(url: str, delivery: Delivery) -> bytes:
    parts = urlsplit(url)
    lines = [
        f"POST {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        f"Content-Length: {len(delivery.body)}",
        *(f"{name}: {value}" for name, value in delivery.headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + delivery.body


async def _post(
    url: str,
    idle: list[_Connection],
    request: bytes,
    scheduled: float,
    start: float,
) -> Sample:
    loop = asyncio.get_running_loop()
    sent = loop.time()
    status, done = 0, sent
    try:
        async with asyncio.timeout(DELIVERY_TIMEOUT_SECONDS):
            # A new connection when none is free: when the server stalls, later
            # deliveries are not held back (GitHub does not wait for one answer
            # before sending the next).
            if idle:
                connection = idle.pop()
            else:
                parts = urlsplit(url)
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop, idle), parts.hostname or "", parts.port or 80
                )
            status, done = await connection.send(request)
    except (OSError, TimeoutError):
        done = loop.time()
    return Sample(
        scheduled=scheduled - start,
        lag=sent - scheduled,
        latency=done - scheduled,
        service=done - sent,
        status=status,
    )


async def _send_on_schedule(url: str, deliveries: Sequence[Delivery], rate: float) -> LoadResult:
    requests = [_request_bytes(url, delivery) for delivery in deliveries]
    idle: list[_Connection] = []
    # No collector pauses in the sender while it keeps time (the run is bounded;
    # its garbage is freed when it returns).
    gc.collect()
    gc.disable()
    cpu_before = time.process_time()
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.1
    started_monotonic = time.monotonic() + (start - loop.time())
    tasks: list[asyncio.Task[Sample]] = []
    for index, request in enumerate(requests):
        scheduled = start + index / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(loop.create_task(_post(url, idle, request, scheduled, start)))
    samples = await asyncio.gather(*tasks)
    gc.enable()
    for connection in idle:
        if connection._transport is not None:
            connection._transport.close()
    return LoadResult(started_monotonic, list(samples), time.process_time() - cpu_before)


def run_load(url: str, deliveries: list[Delivery], rate: float) -> LoadResult:
    """In the load process: send `deliveries` at `rate` per second from now. The
    event loop waits with select(2), whose timeout is in microseconds (epoll's is
    in milliseconds, which would make every send up to 1 ms late)."""
    loop = asyncio.SelectorEventLoop(selectors.SelectSelector())
    try:
        return loop.run_until_complete(_send_on_schedule(url, deliveries, rate))
    finally:
        loop.close()


def _ready() -> bool:
    """A no-op job: the load process starts before the first measurement, not in it."""
    return True


# -- processes -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Started before this process's main thread (the fake GitHub's) lowers its CPU
# priority: the processes measured are started from it, at the priority this
# script was given, as a deployment would start them.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spawner")
def lower_the_fake_githubs_priority() -> None:
    """Start the spawner's thread, then put the calling (main) thread, the fake
    GitHub's, in SCHED_IDLE: it stands in for a service on other machines, so it
    takes only CPU time that nothing measured wants (the review processes, also
    SCHED_IDLE, share with it). Linux keeps a policy per thread, and a new thread
    or child inherits its creator's."""
    _SPAWNER.submit(os.getpid).result()
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))


@dataclass
class Processes:
    workdir: Path
    running: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with (self.workdir / f"{name}.log").open("wb") as log:
            process = _SPAWNER.submit(
                subprocess.Popen,
                command,
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            ).result()
        self.running.append((name, process))
        return process

    def log_tail(self, chars: int = 3000) -> str:
        return "\n".join(
            f"--- {name}\n" + (self.workdir / f"{name}.log").read_text(errors="replace")[-chars:]
            for name, _ in self.running
        )

    def check_alive(self) -> None:
        for name, process in self.running:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited ({process.returncode}):\n{self.log_tail()}")

    async def stop(self) -> None:
        """SIGTERM, newest first (workers, the web process, Redis), then SIGKILL what
        is left after the timeout. Waits on the event loop: the fake GitHub it runs
        must keep answering while the server drains its reviews."""
        for _, process in reversed(self.running):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while any(process.poll() is None for _, process in self.running):
            if time.monotonic() > deadline:
                for _, process in self.running:
                    if process.poll() is None:
                        process.kill()
                        process.wait()
                break
            await asyncio.sleep(0.05)


@dataclass(frozen=True)
class ProcessCpu:
    parent: int
    own: float  # CPU seconds of the process itself so far
    reaped: float  # and of its children that ended and were waited for


def _process_table() -> dict[int, ProcessCpu]:
    tick = os.sysconf("SC_CLK_TCK")
    table: dict[int, ProcessCpu] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it ended meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
        table[int(entry.name)] = ProcessCpu(
            int(fields[1]), (utime + stime) / tick, (cutime + cstime) / tick
        )
    return table


def _tree_cpu(table: dict[int, ProcessCpu], root: int) -> float:
    """CPU seconds of a process and all its descendants, those that ended included
    (pool workers are replaced every 100 jobs: their time is in their parent's)."""
    children: dict[int, list[int]] = {}
    for pid, process in table.items():
        children.setdefault(process.parent, []).append(pid)
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            total += table[pid].own + table[pid].reaped
            stack += children.get(pid, [])
    return total


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick


# Where the machine's CPU goes during a measurement, in this order.
CPU_GROUPS = ("web", "reviews", "redis", "fake GitHub", "sender", "other")


def cpu_snapshot(processes: Processes, sender_seconds: float = 0.0) -> dict[str, float]:
    """CPU seconds so far per group of CPU_GROUPS ("other": the rest of the machine,
    with the machine's total busy time under "busy")."""
    table = _process_table()
    by_name = {name: process.pid for name, process in processes.running}
    web = table.get(by_name.get("web", -1))
    workers = [pid for name, pid in by_name.items() if name.startswith("worker-")]
    groups = {
        "web": web.own if web else 0.0,
        "reviews": sum(_tree_cpu(table, pid) for pid in workers)
        if workers
        else _tree_cpu(table, by_name.get("web", -1)) - (web.own if web else 0.0),
        "redis": _tree_cpu(table, by_name.get("redis", -1)),
        "fake GitHub": time.process_time(),
        "sender": sender_seconds,
    }
    busy, total = _machine_cpu()
    groups["other"] = busy - sum(groups.values())
    groups["busy"] = busy
    groups["total"] = total
    return groups


async def _wait_healthy(url: str, processes: Processes) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    async with aiohttp.ClientSession() as session:
        while True:
            processes.check_alive()
            try:
                async with session.get(url + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{processes.log_tail()}")
            await asyncio.sleep(0.05)


async def _wait_redis(port: int, processes: Processes) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while True:
        processes.check_alive()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"PING\r\n")
            await writer.drain()
            answer = await reader.readline()
            writer.close()
            await writer.wait_closed()
            if answer.startswith(b"+PONG"):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not start:\n{processes.log_tail()}")
        await asyncio.sleep(0.05)


# -- one configuration ---------------------------------------------------------------


@dataclass(frozen=True)
class Configuration:
    label: str
    review_workers: int  # in the server's pool, or in each arq worker
    arq_workers: int  # 0: not scaled out
    reviews: bool = True  # False: the server only acknowledges (the baseline)

    @property
    def review_processes(self) -> int:
        return self.review_workers * max(1, self.arq_workers)


@dataclass
class Figures:
    label: str
    deliveries: int
    acknowledged: int
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    service_p99_ms: float
    sender_lag_p99_ms: float
    reviews_completed: int
    reviews_failed: int
    reviews_per_second: float
    # Per group of CPU_GROUPS, and "busy" for the whole machine: % of one CPU.
    cpu_percent: dict[str, float]
    statuses: dict[str, int]

    @property
    def meets_target(self) -> bool:
        return self.errors == 0 and self.p99_ms <= TARGET_P99_MS


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class ReviewFeeder:
    """Keeps `in_flight` pull requests being reviewed: opens one as each completes."""

    fake: Any
    repo: Any
    docs: list[tuple[str, str]]
    server_url: str
    in_flight: int
    completed: list[float] = field(default_factory=list)  # monotonic times
    failures: list[str] = field(default_factory=list)
    _next_number: int = 1000

    async def run(self, stop: asyncio.Event) -> None:
        pending: dict[int, Any] = {}
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                self._settle(pending)
                while len(pending) < self.in_flight:
                    pull = self._open_pull()
                    pending[pull.number] = pull
                    opened = signed_delivery(
                        "pull_request", self.fake.pull_request_event(self.repo, pull, "opened")
                    )
                    async with session.post(
                        self.server_url + WEBHOOK_PATH, data=opened.body, headers=opened.headers
                    ) as response:
                        if response.status != 202:
                            raise RuntimeError(f"pull_request.opened answered {response.status}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), POLL_SECONDS)

    def _open_pull(self) -> Any:
        number = self._next_number
        self._next_number += 1
        first = number % len(self.docs)
        chosen = [self.docs[(first + n) % len(self.docs)] for n in range(DOCS_PER_PULL)]
        added = {
            path: f"{text}\nRevised for change {number}-{n}.\n"
            for n, (path, text) in enumerate(chosen)
        }
        return self.fake.add_pull(self.repo, number=number, added=added)

    def _settle(self, pending: dict[int, Any]) -> None:
        runs_by_head: dict[str, list[dict[str, Any]]] = {}
        for run in self.repo.check_runs.values():
            runs_by_head.setdefault(run["head_sha"], []).append(run)
        for number, pull in list(pending.items()):
            runs = runs_by_head.get(pull.head_sha, [])
            if not runs or any(run["status"] != "completed" for run in runs):
                continue
            del pending[number]
            title = str(runs[-1].get("output", {}).get("title", ""))
            if title.startswith(f"{DOCS_PER_PULL} documents"):
                self.completed.append(time.monotonic())
            else:
                self.failures.append(title)
            # The texts are no longer needed: keeps the fake's memory flat.
            for key in [key for key in self.repo.contents if key[0] == pull.head_sha]:
                del self.repo.contents[key]


def _fake_github_module() -> Any:
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    return importlib.import_module("tests.support.fakegithub")


async def measure(
    configuration: Configuration,
    *,
    seconds: float,
    rate: float,
    in_flight_per_process: int,
    key: rsa.RSAPrivateKey,
    docs: list[tuple[str, str]],
    load_pool: ProcessPoolExecutor,
) -> Figures:
    fake = _fake_github_module().FakeGitHub(app_id=APP_ID, public_key=key.public_key())
    fake_runner = web.AppRunner(fake.app, access_log=None)
    await fake_runner.setup()
    site = web.TCPSite(fake_runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"http://127.0.0.1:{fake_runner.addresses[0][1]}"
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()

    with tempfile.TemporaryDirectory(prefix="ack-latency-") as scratch:
        workdir = Path(scratch)
        processes = Processes(workdir)
        web_port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
            "APP_ID": APP_ID,
            "PRIVATE_KEY": pem,
            "WEBHOOK_SECRET": SECRET,
            "HOST": "127.0.0.1",
            "PORT": str(web_port),
            "GITHUB_API_URL": fake.url,
            "STATE_DIR": str(workdir / "state"),
            "LOG_LEVEL": "info",
            "REVIEW_WORKERS": str(configuration.review_workers),
        }
        stop_feeding = asyncio.Event()
        feeder_task: asyncio.Task[None] | None = None
        try:
            if configuration.arq_workers:
                redis_port = free_port()
                redis_dir = workdir / "redis"
                redis_dir.mkdir()
                processes.start(
                    "redis",
                    [
                        shutil.which("redis-server") or "redis-server",
                        "--bind",
                        "127.0.0.1",
                        "--port",
                        str(redis_port),
                        "--dir",
                        str(redis_dir),
                        "--save",
                        "",
                        # As the README asks of a production Redis: the queue survives a restart.
                        "--appendonly",
                        "yes",
                    ],
                    env,
                )
                await _wait_redis(redis_port, processes)
                env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
                # The web process only enqueues (it starts no review pool).
                processes.start("web", [sys.executable, "-m", "ghapp"], env)
                # Workers on the web process's machine, configured as the README says
                # for that: they take only the CPU time web processes leave over.
                worker_env = {**env, "WORKER_PRIORITY": "idle"}
                for index in range(configuration.arq_workers):
                    processes.start(
                        f"worker-{index}",
                        [sys.executable, "-m", "localreview", "worker"],
                        worker_env,
                    )
            else:
                processes.start("web", [sys.executable, "-m", "ghapp"], env)
            server_url = f"http://127.0.0.1:{web_port}"
            await _wait_healthy(server_url, processes)

            repo = fake.add_repo(owner="acme", name="designs")
            in_flight = in_flight_per_process * configuration.review_processes
            feeder = ReviewFeeder(
                fake, repo, docs, server_url, in_flight=in_flight if configuration.reviews else 0
            )
            feeder_task = asyncio.create_task(feeder.run(stop_feeding))
            deadline = time.monotonic() + FIRST_REVIEW_TIMEOUT_SECONDS
            while configuration.reviews and not feeder.completed:
                processes.check_alive()
                if feeder_task.done():
                    feeder_task.result()
                if feeder.failures or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"no review completed: {feeder.failures[:3]}\n{processes.log_tail()}"
                    )
                await asyncio.sleep(0.1)

            # The comments land on a pull request of their own, which is never reviewed.
            discussion = fake.add_pull(repo, number=1)
            warm_up = int(WARM_UP_SECONDS * rate)
            total = warm_up + int(seconds * rate)
            deliveries = [
                signed_delivery(
                    "issue_comment", fake.issue_comment_event(repo, discussion, COMMENT_BODY)
                )
                for _ in range(total)
            ]
            cpu_before = cpu_snapshot(processes)
            result: LoadResult = await asyncio.get_running_loop().run_in_executor(
                load_pool, run_load, server_url + WEBHOOK_PATH, deliveries, rate
            )
            cpu_after = cpu_snapshot(processes, result.cpu_seconds)
            processes.check_alive()
        finally:
            stop_feeding.set()
            if feeder_task is not None:
                await asyncio.gather(feeder_task, return_exceptions=True)
            await processes.stop()
            await fake_runner.cleanup()

    elapsed = total / rate
    window_start = result.started_monotonic + warm_up / rate
    window_end = result.started_monotonic + elapsed
    reviews = sum(1 for moment in feeder.completed if window_start <= moment < window_end)
    measured = result.samples[warm_up:]
    accepted = [s for s in measured if s.status == 202]
    latencies = sorted(s.latency * 1000 for s in measured)
    statuses: dict[str, int] = {}
    for sample in measured:
        statuses[str(sample.status)] = statuses.get(str(sample.status), 0) + 1
    return Figures(
        label=configuration.label,
        deliveries=len(measured),
        acknowledged=len(accepted),
        errors=len(measured) - len(accepted),
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        max_ms=latencies[-1],
        service_p99_ms=percentile(sorted(s.service * 1000 for s in measured), 0.99),
        sender_lag_p99_ms=percentile(sorted(s.lag * 1000 for s in measured), 0.99),
        reviews_completed=reviews,
        reviews_failed=len(feeder.failures),
        reviews_per_second=reviews / (window_end - window_start),
        cpu_percent=_cpu_percent(cpu_before, cpu_after),
        statuses=statuses,
    )


def _cpu_percent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU used between two snapshots, per group, in % of one CPU."""
    cpus = os.cpu_count() or 1
    wall = (after["total"] - before["total"]) / cpus
    return {
        group: 100 * (after[group] - before[group]) / wall
        for group in (*CPU_GROUPS, "busy")
        if wall > 0
    }


# -- report --------------------------------------------------------------------------


def configurations(with_redis: bool) -> list[Configuration]:
    chosen = [
        Configuration("server alone, no reviews", review_workers=1, arq_workers=0, reviews=False),
        Configuration("server alone, REVIEW_WORKERS=1", review_workers=1, arq_workers=0),
        Configuration("server alone, REVIEW_WORKERS=2", review_workers=2, arq_workers=0),
    ]
    if with_redis:
        chosen += [
            Configuration("Redis: web + 1 worker", review_workers=1, arq_workers=1),
            Configuration("Redis: web + 2 workers", review_workers=1, arq_workers=2),
        ]
    return chosen


def print_tables(figures: list[Figures]) -> None:
    print(
        f"{'configuration':<32} {'acks':>5} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}"
        f" {'errors':>6} {'p99 from send':>13} {'sender lag p99':>14} {'reviews/s':>9}"
    )
    for row in figures:
        print(
            f"{row.label:<32} {row.acknowledged:>5} {row.p50_ms:>7.2f} {row.p99_ms:>7.2f}"
            f" {row.max_ms:>7.1f} {row.errors:>6} {row.service_p99_ms:>13.2f}"
            f" {row.sender_lag_p99_ms:>14.2f} {row.reviews_per_second:>9.2f}"
        )
    print()
    print(
        f"CPU during the load, % of one CPU ({os.cpu_count()} CPUs: {100 * (os.cpu_count() or 1)}%)"
    )
    print(f"{'configuration':<32} " + " ".join(f"{group:>11}" for group in (*CPU_GROUPS, "busy")))
    for row in figures:
        print(
            f"{row.label:<32} "
            + " ".join(
                f"{row.cpu_percent.get(group, math.nan):>10.0f}%" for group in (*CPU_GROUPS, "busy")
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured per configuration")
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="deliveries per second")
    parser.add_argument(
        "--in-flight",
        type=int,
        default=2,
        help="pull requests being reviewed at once, per review process (default 2)",
    )
    parser.add_argument("--no-redis", action="store_true", help="skip the scaled-out runs")
    parser.add_argument(
        "--only", metavar="TEXT", help="run only the configurations whose label contains TEXT"
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each configuration, wait up to this long for other work to stop",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    with_redis = not args.no_redis and shutil.which("redis-server") is not None
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    docs = [synthetic_design_doc(seed) for seed in range(1, DOC_POOL + 1)]
    average_kb = sum(len(text.encode()) for _, text in docs) / len(docs) / 1024
    print(
        f"{args.rate:g} signed issue_comment.created deliveries/s (no command), open loop, "
        f"{args.seconds:g} s measured after {WARM_UP_SECONDS:g} s of warm-up; meanwhile "
        f"{args.in_flight} pull request(s) per review process in review, each adding "
        f"{DOCS_PER_PULL} synthetic design docs of {average_kb:.1f} KB on average"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.machine()}, Python "
        f"{platform.python_version()}; latency from the scheduled send time to the answer"
    )
    if not with_redis:
        print("scaled-out runs skipped: " + ("--no-redis" if args.no_redis else "no redis-server"))
    figures: list[Figures] = []
    # A process of its own, so the fake GitHub's work here does not delay the sends.
    with ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn")
    ) as load_pool:
        load_pool.submit(_ready).result()
        lower_the_fake_githubs_priority()
        for configuration in configurations(with_redis):
            if args.only and args.only.lower() not in configuration.label.lower():
                continue
            if args.wait_idle > 0 and not wait_for_idle(args.wait_idle):
                print(f"note: other work still running after {args.wait_idle:g} s of waiting")
            print(f"measuring: {configuration.label} ...", flush=True)
            figures.append(
                asyncio.run(
                    measure(
                        configuration,
                        seconds=args.seconds,
                        rate=args.rate,
                        in_flight_per_process=args.in_flight,
                        key=key,
                        docs=docs,
                        load_pool=load_pool,
                    )
                )
            )
    print()
    print_tables(figures)
    for row in figures:
        if row.reviews_failed:
            print(f"  {row.label}: {row.reviews_failed} review(s) did not complete as expected")
        if row.errors:
            print(f"  {row.label}: answers other than 202: {row.statuses}")
    missed = [row.label for row in figures if not row.meets_target]
    verdict = "met" if not missed else "MISSED by " + "; ".join(missed)
    print(
        f"target: acknowledgement p99 <= {TARGET_P99_MS:g} ms at {TARGET_RATE:g}/s "
        f"(measured at {args.rate:g}/s): {verdict}"
    )
    if args.json:
        args.json.write_text(
            json.dumps([asdict(row) for row in figures], indent=2) + "\n", encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
