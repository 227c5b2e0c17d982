"""Hostile inputs through the real command line and the real server: time, peak memory,
and what the user (or GitHub) ends up seeing.

    python bench/adversarial.py                 # every input, CLI and server
    python bench/adversarial.py --cli-only      # the command line only
    python bench/adversarial.py --only cr-only --only utf16-bom
    python bench/adversarial.py --project /path/to/another/checkout   # measure other code

Every input is generated here; nothing large is stored in the repository. Each CLI run
is a fresh process, capped (`--memory-cap-mb`, `--timeout`) so that an input that still
explodes cannot take the machine down; its peak RSS is the child's `ru_maxrss`.

The server part starts the fake GitHub of the test suite on loopback and the real
`product-review serve` as a subprocess pointed at it, opens one pull request per
document input, and polls `/healthz` every 20 ms while the review runs. It reports the
slowest health answer, the peak RSS of the server with its worker processes, and the
Check Run GitHub ends up with.

Targets: every input under 2 s and 300 MB in the CLI; `/healthz` answered within
100 ms throughout. Exit code 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import importlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLI_SECONDS = 2.0
CLI_MEGABYTES = 300.0
HEALTH_MILLISECONDS = 100.0
HEALTH_INTERVAL = 0.02
WEBHOOK_SECRET = "adversarial-bench"
APP_ID = "4242"

NORMAL_DOC = (
    "# Faster search\n\n## Problem\n\nSearch takes 4 s for support agents today, "
    "and 30% of tickets mention it.\n\n## Alternatives\n\nTBD\n"
)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    make: Callable[[], bytes]
    config: Callable[[], bytes] | None = None  # a config file instead of a document
    # GitHub serves a pull request's files as text; byte-level encodings are a CLI matter.
    via_server: bool = True
    # Inputs over the default 1 MB cap are reviewed with a raised one, so they measure
    # the engine rather than the cap (`document-5mb` measures the cap).
    max_document_kb: int | None = None


def _text(value: str) -> bytes:
    return value.encode("utf-8")


def _alias_bomb_front_matter() -> bytes:
    items = ", ".join(["lol"] * 9)
    lines = ["---", f"a: &a [{items}]"]
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ", ".join(f"*{previous}" for _ in range(9)) + "]")
        previous = name
    lines.append("product_review: {disable: [*i]}")
    lines.append("---")
    return _text("\n".join(lines) + "\n\n# Title\n\nSome text.\n")


def _deep_front_matter() -> bytes:
    return _text("---\nx: " + "[" * 500 + "]" * 500 + "\n---\n\n# Title\n\nText.\n")


def _repeat(unit: str, target_bytes: int) -> bytes:
    return _text(unit * max(1, target_bytes // len(unit.encode("utf-8"))))


def _tbd_paragraphs(kilobytes: int) -> bytes:
    return _repeat("TBD\n\n", kilobytes * 1024)


def _disable_comments() -> bytes:
    return _text("# Doc\n\n" + "<!-- product-review disable -->\nText TBD.\n\n" * 40_000)


def _off_on_pairs() -> bytes:
    pair = "<!-- product-review off -->\n\n<!-- product-review on -->\n\n"
    return _text("# Doc\n\n" + pair * 50_000)


def _repeated_sentence() -> bytes:
    return _text("# Doc\n\n" + "We must support all users in real-time. " * 60_000 + "\n")


def _lone_cr() -> bytes:
    return _text("# Title\r\rTBD here.\r\r## Goals\r\rWe must be real-time.\r" * 2000)


def _utf16_bom() -> bytes:
    return (NORMAL_DOC * 100).encode("utf-16")


def _utf16_no_bom() -> bytes:
    return (NORMAL_DOC * 100).encode("utf-16-le")


def _big_document() -> bytes:
    return _repeat("Some prose about the design, with a TBD in it.\n\n", 5 * 1024 * 1024)


def _bad_glob_config() -> bytes:
    return _text("paths:\n  include:\n    - 'docs/[z-a]/*.md'\n")


def _huge_int_config() -> bytes:
    return _text("comments:\n  max_inline: " + "9" * 5000 + "\n")


def _alias_bomb_config() -> bytes:
    items = ", ".join(["lol"] * 9)
    lines = [f"a: &a [{items}]"]
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ", ".join(f"*{previous}" for _ in range(9)) + "]")
        previous = name
    lines.append("paths: {include: [*i]}")
    return _text("\n".join(lines) + "\n")


CASES = [
    Case("front-matter-alias-bomb", "front matter: 9 levels of YAML aliases (442 bytes)",
         _alias_bomb_front_matter),
    Case("front-matter-500-deep", "front matter nested 500 levels", _deep_front_matter),
    Case("brackets-60k", "60 KB of `[`", lambda: _repeat("[", 60 * 1024)),
    Case("open-directives-8k", "`<!-- product-review x ` x 8,000",
         lambda: _text("<!-- product-review x " * 8000)),
    Case("tbd-100k", "100 KB of `TBD` paragraphs", lambda: _tbd_paragraphs(100)),
    Case("tbd-500k", "500 KB of `TBD` paragraphs", lambda: _tbd_paragraphs(500)),
    Case("disable-40k", "40k `disable` comments", _disable_comments, max_document_kb=4096),
    Case("off-on-50k", "50k off/on pairs", _off_on_pairs, max_document_kb=4096),
    Case(
        "sentence-60k",
        "one sentence repeated 60k times",
        _repeated_sentence,
        max_document_kb=4096,
    ),
    Case("cr-only", "lone CR line endings", _lone_cr),
    Case("utf16-bom", "UTF-16 with a byte-order mark", _utf16_bom, via_server=False),
    Case("utf16-no-bom", "UTF-16 LE without a byte-order mark", _utf16_no_bom, via_server=False),
    Case("document-5mb", "a 5 MB document", _big_document),
    Case("config-bad-glob", "config: glob `docs/[z-a]/*.md`", lambda: _text(NORMAL_DOC),
         _bad_glob_config),
    Case("config-huge-int", "config: an integer of 5,000 digits", lambda: _text(NORMAL_DOC),
         _huge_int_config),
    Case("config-alias-bomb", "config: 9 levels of YAML aliases", lambda: _text(NORMAL_DOC),
         _alias_bomb_config),
]


# ------------------------------------------------------------------------------ CLI


@dataclass
class CliResult:
    seconds: float
    megabytes: float
    exit_code: int | None  # None: killed at the timeout
    said: str


def _limit_memory(megabytes: int) -> Callable[[], None]:
    def apply() -> None:
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def _environment(project: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(project)
    env.pop("NO_COLOR", None)
    return env


def run_cli(case: Case, project: Path, *, timeout: float, memory_cap_mb: int) -> CliResult:
    """One `product-review check` process; peak RSS from `wait4`, which covers the
    process and the worker processes it waited for (the largest of them)."""
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        document = base / "docs" / "rfcs" / f"{case.name}.md"
        document.parent.mkdir(parents=True)
        document.write_bytes(case.make())
        command = [sys.executable, "-m", _cli_module(project), "check", str(document)]
        command += ["--format", "json"]
        if case.config is not None:
            config = base / "product-review.yml"
            config.write_bytes(case.config())
            command += ["--config", str(config)]
        if case.max_document_kb is not None and _knows_budget(project):
            command += ["--max-document-kb", str(case.max_document_kb)]
        out_path, err_path = base / "stdout", base / "stderr"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            started = time.monotonic()
            process = subprocess.Popen(
                command,
                cwd=folder,
                env=_environment(project),
                stdout=out,
                stderr=err,
                preexec_fn=_limit_memory(memory_cap_mb),
            )
            code: int | None = None
            while True:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    code = os.waitstatus_to_exitcode(status)
                    break
                if time.monotonic() - started > timeout:
                    process.kill()
                    _, _, usage = os.wait4(process.pid, 0)
                    break
                time.sleep(0.005)
            seconds = time.monotonic() - started
            process.returncode = code if code is not None else -9
        said = _what_cli_said(out_path.read_bytes(), err_path.read_bytes(), code)
    return CliResult(seconds, usage.ru_maxrss / 1024, code, said)


def _cli_module(project: Path) -> str:
    """The command's module in the measured checkout (older ones kept it in ghapp)."""
    return "ghapp.cli" if (project / "ghapp" / "cli.py").exists() else "localreview"


def _knows_budget(project: Path) -> bool:
    """Whether the measured checkout has the per-document budget (older ones don't)."""
    return any((project / package / "budget.py").exists() for package in ("localreview", "ghapp"))


def _what_cli_said(stdout: bytes, stderr: bytes, code: int | None) -> str:
    if code is None:
        return "killed at the timeout"
    if code < 0:
        return f"died of signal {-code}"
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    if any(line.startswith("Traceback") for line in lines):
        return "traceback: " + (lines[-1][:100] if lines else "")
    try:
        data = json.loads(stdout)
    except ValueError:
        return lines[0][:110] if lines else "no output"
    documents = data.get("documents") or []
    errors = data.get("errors") or []
    parts = []
    if documents:
        findings = sum(len(d.get("findings") or []) for d in documents)
        notes = [n for d in documents for n in d.get("notes") or []]
        note = f"; note: {notes[0][:60]}" if notes else ""
        parts.append(f"reviewed, {findings} findings{note}")
    parts.extend(str(error.get("message", error))[:90] for error in errors)
    config_lines = [line for line in lines if line.startswith("error:")]
    if config_lines:
        parts.append(config_lines[0][:90])
    return "; ".join(parts) or (lines[0][:110] if lines else "nothing")


# --------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tree_rss_mb(pid: int) -> float:
    """RSS of a process and its descendants (worker processes included)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            # Children are listed per thread; pools start theirs from other threads.
            children = [
                child
                for task in Path(f"/proc/{current}/task").iterdir()
                for child in (task / "children").read_text().split()
            ]
        except OSError:
            continue
        pending.extend(int(child) for child in children)
    return total / 1024


@dataclass
class ServerResult:
    seconds: float
    slowest_health_ms: float
    health_failures: int
    peak_mb: float
    shown: str


async def _server_run(
    cases: list[Case], project: Path, *, timeout: float, memory_cap_mb: int
) -> dict[str, ServerResult]:
    import aiohttp
    from aiohttp import web
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    sys.path.insert(0, str(ROOT))
    fakegithub: Any = importlib.import_module("tests.support.fakegithub")

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    fake = fakegithub.FakeGitHub(app_id=APP_ID, public_key=key.public_key())
    fake_port = _free_port()
    fake.url = f"http://127.0.0.1:{fake_port}"
    # The fake serves from a thread and loop of its own, so its work (validating a
    # 65 KB review, answering GraphQL) never delays the health probes measured here.
    fake_loop = asyncio.new_event_loop()
    runner = web.AppRunner(fake.app)

    async def start_fake() -> None:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", fake_port).start()

    fake_thread = threading.Thread(target=fake_loop.run_forever, daemon=True)
    fake_thread.start()
    asyncio.run_coroutine_threadsafe(start_fake(), fake_loop).result(timeout=30)

    env = _environment(project)
    env.update(
        APP_ID=APP_ID,
        PRIVATE_KEY=pem,
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        HOST="127.0.0.1",
        GITHUB_API_URL=fake.url,
        LOG_LEVEL="warning",
    )
    results: dict[str, ServerResult] = {}
    try:
        async with aiohttp.ClientSession() as session:
            for number, case in enumerate(cases, start=1):
                # A server of its own per input: one input's damage must not be
                # counted against the next.
                results[case.name] = await _serve_one(
                    session, env, fake, case, number, timeout=timeout, memory_cap_mb=memory_cap_mb
                )
                print(f"  server {case.name}: {_server_line(results[case.name])}", flush=True)
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), fake_loop).result(timeout=30)
        fake_loop.call_soon_threadsafe(fake_loop.stop)
        fake_thread.join(timeout=10)
    return results


async def _serve_one(
    session: Any,
    env: dict[str, str],
    fake: Any,
    case: Case,
    number: int,
    *,
    timeout: float,
    memory_cap_mb: int,
) -> ServerResult:
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        log_path = Path(folder) / "server.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "ghapp"],
                cwd=folder,
                env={**env, "PORT": str(port), **_server_limits(case)},
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_limit_memory(memory_cap_mb),
                start_new_session=True,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            await _wait_for_health(session, base)
            result = await _review_once(session, base, fake, case, number, server, timeout=timeout)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, 9)
                server.wait()
        log_text = log_path.read_text(errors="replace")
    tracebacks = log_text.count("Traceback")
    if tracebacks:
        result.shown += f" [{tracebacks} traceback(s) logged]"
    return result


def _server_limits(case: Case) -> dict[str, str]:
    if case.max_document_kb is None:
        return {}
    return {"MAX_DOCUMENT_KB": str(case.max_document_kb)}


async def _wait_for_health(session: Any, base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            async with session.get(f"{base}/healthz") as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("the server did not start")


async def _review_once(
    session: Any,
    base: str,
    fake: Any,
    case: Case,
    number: int,
    server: subprocess.Popen[bytes],
    *,
    timeout: float,
) -> ServerResult:
    import aiohttp

    repo = fake.add_repo("acme", f"repo-{number}")
    if case.config is not None:
        repo.contents[("main", ".github/product-review.yml")] = case.config().decode(
            "utf-8", "replace"
        )
    document = case.make().decode("utf-8", "surrogateescape")
    pull = fake.add_pull(repo, number=1, added={f"docs/rfcs/{case.name}.md": document})
    payload = fake.pull_request_event(repo, pull, "opened")
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    started = time.monotonic()
    async with session.post(
        f"{base}/api/github/webhooks",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": signature,
        },
    ) as response:
        accepted = response.status
    slowest = 0.0
    failures = 0
    peak = 0.0
    while time.monotonic() - started < timeout:
        asked = time.monotonic()
        try:
            async with session.get(
                f"{base}/healthz", timeout=aiohttp.ClientTimeout(total=5)
            ) as health:
                await health.read()
        except (aiohttp.ClientError, TimeoutError):
            failures += 1
        slowest = max(slowest, (time.monotonic() - asked) * 1000)
        peak = max(peak, _tree_rss_mb(server.pid))
        if server.poll() is not None:
            return ServerResult(
                time.monotonic() - started, slowest, failures, peak,
                f"the server died (exit {server.returncode})",
            )
        runs = list(repo.check_runs.values())
        if runs and all(run.get("status") == "completed" for run in runs):
            break
        await asyncio.sleep(HEALTH_INTERVAL)
    seconds = time.monotonic() - started
    runs = list(repo.check_runs.values())
    if not runs:
        shown = f"no check run (webhook answered {accepted})"
    else:
        run = runs[-1]
        output = run.get("output") or {}
        shown = f"{run.get('status')}/{run.get('conclusion') or '-'}: {output.get('title', '')}"
    return ServerResult(seconds, slowest, failures, peak, shown[:100])


def _server_line(result: ServerResult) -> str:
    return (
        f"{result.seconds:6.2f} s  healthz max {result.slowest_health_ms:7.1f} ms"
        f" ({result.health_failures} unanswered)  peak {result.peak_mb:7.1f} MB  {result.shown}"
    )


# ----------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=ROOT, help="checkout to measure")
    parser.add_argument("--only", action="append", help="run only these inputs")
    parser.add_argument("--cli-only", action="store_true")
    parser.add_argument("--server-only", action="store_true")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run")
    parser.add_argument("--memory-cap-mb", type=int, default=6000, help="address-space cap")
    args = parser.parse_args()
    cases = [case for case in CASES if not args.only or case.name in args.only]
    project = args.project.resolve()
    missed: list[str] = []

    if not args.server_only:
        print(f"CLI ({project}): seconds, peak RSS, exit code, what it said")
        for case in cases:
            result = run_cli(case, project, timeout=args.timeout, memory_cap_mb=args.memory_cap_mb)
            peak = result.megabytes
            code = "killed" if result.exit_code is None else str(result.exit_code)
            print(
                f"  {case.name:24} {result.seconds:7.2f} s {peak:8.1f} MB  exit {code:6}"
                f" {result.said}",
                flush=True,
            )
            if result.seconds > CLI_SECONDS or not peak < CLI_MEGABYTES:
                missed.append(f"cli {case.name}")
            if result.exit_code is None or "traceback" in result.said:
                missed.append(f"cli {case.name} (no clear result)")

    if not args.cli_only:
        print(f"server ({project}): seconds to a completed check, slowest /healthz, peak RSS")
        served_cases = [case for case in cases if case.via_server]
        served = asyncio.run(
            _server_run(
                served_cases, project, timeout=args.timeout, memory_cap_mb=args.memory_cap_mb
            )
        )
        for name, outcome in served.items():
            if outcome.slowest_health_ms > HEALTH_MILLISECONDS or outcome.health_failures:
                missed.append(f"server {name} (healthz)")
            if not outcome.shown.startswith("completed"):
                missed.append(f"server {name} (check not completed)")

    if missed:
        print("targets missed: " + ", ".join(missed))
        return 1
    print(
        f"all targets met: CLI under {CLI_SECONDS:g} s and {CLI_MEGABYTES:g} MB per input, "
        f"/healthz within {HEALTH_MILLISECONDS:g} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

