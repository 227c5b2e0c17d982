"""Probot's ways of running an app: the start-up credential check against the fake
GitHub, JSON and silent logs, the key file found in the working directory, the
smee relay refused, Enterprise Server by GHE_HOST, and `receive`."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ghapp import logcontext, server
from ghapp.github import (
    AppIdentity,
    CredentialsRejected,
    GitHubApp,
    GitHubUnreachable,
    RetryPolicy,
)
from ghapp.server import create_app
from ghapp.settings import ServerSettings, load_server_settings
from localreview.main import main as cli
from tests.support.apptools import (
    APP_ID,
    WEBHOOK_SECRET,
    KeyPair,
    deliver,
    free_port,
    wait_until,
)
from tests.support.builders import stub_engine
from tests.support.fakegithub import FakeGitHub

DOC = "docs/rfcs/0001-x.md"
# Variables the tests set themselves: one left in the caller's environment must not leak in.
_OWN_VARIABLES = (
    "APP_ID",
    "PRIVATE_KEY",
    "PRIVATE_KEY_PATH",
    "WEBHOOK_SECRET",
    "GITHUB_API_URL",
    "GHE_HOST",
    "GHE_PROTOCOL",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "WEBHOOK_PROXY_URL",
    "REDIS_URL",
    "STATE_DIR",
    "PORT",
    "HOST",
)
START_BOUND_SECONDS = 30.0


def serve_env(key_pair: KeyPair, **settings: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in _OWN_VARIABLES}
    env.update(
        APP_ID=APP_ID,
        PRIVATE_KEY=key_pair.private_pem,
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        HOST="127.0.0.1",
        REVIEW_WORKERS="1",
    )
    env.update(settings)
    return env


async def serve_until_exit(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """`python -m ghapp` expected to refuse to start: its exit code and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ghapp", env=env, cwd=cwd, stderr=asyncio.subprocess.PIPE
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), START_BOUND_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, stderr.decode()


@dataclass
class Served:
    url: str
    log: Path

    def lines(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if line.strip()]


@asynccontextmanager
async def serving(env: dict[str, str], cwd: Path) -> AsyncIterator[Served]:
    """`python -m ghapp` listening on a free loopback port until the block ends."""
    port = free_port()
    env = {**env, "PORT": str(port)}
    log = cwd / "stderr.log"
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ghapp", env=env, cwd=cwd, stderr=stderr
        )
    served = Served(f"http://127.0.0.1:{port}", log)
    try:
        deadline = asyncio.get_running_loop().time() + START_BOUND_SECONDS
        while True:
            assert process.returncode is None, log.read_text()
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                assert asyncio.get_running_loop().time() < deadline, "did not start"
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            break
        yield served
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


async def status_of(method: str, url: str) -> int:
    """The status of one request; a POST sends an unsigned JSON body."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            url,
            data=b"{}" if method == "POST" else None,
            headers={"Content-Type": "application/json"},
        ) as answer,
    ):
        return answer.status


# --- the start-up credential check -----------------------------------------------


@asynccontextmanager
async def app_client(
    fake_github: FakeGitHub, private_pem: str, app_id: str = APP_ID, api_url: str | None = None
) -> AsyncIterator[GitHubApp]:
    async with aiohttp.ClientSession() as session:
        yield GitHubApp(
            session=session,
            app_id=app_id,
            private_key=private_pem,
            api_url=api_url or fake_github.url,
            retry=RetryPolicy(max_attempts=1),
        )


async def test_identify_asks_get_app_with_the_jwt(
    fake_github: FakeGitHub, key_pair: KeyPair
) -> None:
    async with app_client(fake_github, key_pair.private_pem) as github:
        identity = await github.identify()
    assert identity == AppIdentity(id=int(APP_ID), slug="product-review", name="product-review")
    (call,) = fake_github.calls("GET", "/app")
    assert call.headers["authorization"].lower().startswith("bearer ey")


async def test_a_wrong_app_id_is_rejected(fake_github: FakeGitHub, key_pair: KeyPair) -> None:
    async with app_client(fake_github, key_pair.private_pem, app_id="999") as github:
        with pytest.raises(CredentialsRejected) as rejected:
            await github.identify()
    assert rejected.value.reason == "401 Integration not found"


async def test_another_apps_key_is_rejected(fake_github: FakeGitHub, key_pair: KeyPair) -> None:
    other = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    async with app_client(fake_github, other) as github:
        with pytest.raises(CredentialsRejected) as rejected:
            await github.identify()
    assert rejected.value.reason == "401 A JSON web token could not be decoded"


async def test_unreachable_and_broken_github_are_told_apart_from_a_refusal(
    fake_github: FakeGitHub, key_pair: KeyPair
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with app_client(fake_github, key_pair.private_pem, api_url=nowhere) as github:
        with pytest.raises(GitHubUnreachable) as unreachable:
            await github.identify()
    assert "127.0.0.1" in unreachable.value.reason
    fake_github.fail("GET", r"^/app$", status=502)
    async with app_client(fake_github, key_pair.private_pem) as github:
        with pytest.raises(GitHubUnreachable) as broken:
            await github.identify()
    assert broken.value.reason.startswith("GitHub answered 502")


async def test_check_credentials_logs_one_line(
    fake_github: FakeGitHub, key_pair: KeyPair, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ghapp.server")
    settings = ServerSettings(
        app_id=APP_ID,
        private_key=key_pair.private_pem,
        webhook_secret=WEBHOOK_SECRET,
        github_api_url=fake_github.url,
    )
    assert await server.check_credentials(settings) is None
    assert caplog.messages == ["credentials accepted: app product-review (id 4242)"]

    caplog.clear()
    wrong_id = ServerSettings(
        app_id="999",
        private_key=key_pair.private_pem,
        webhook_secret=WEBHOOK_SECRET,
        github_api_url=fake_github.url,
    )
    refusal = await server.check_credentials(wrong_id)
    assert refusal is not None and "\n" not in refusal
    assert "401 Integration not found" in refusal and "APP_ID (999)" in refusal

    unreachable = ServerSettings(
        app_id=APP_ID,
        private_key=key_pair.private_pem,
        webhook_secret=WEBHOOK_SECRET,
        github_api_url=f"http://127.0.0.1:{free_port()}",
    )
    assert await server.check_credentials(unreachable) is None
    (warning,) = caplog.records
    assert warning.levelno == logging.WARNING
    assert warning.getMessage().startswith("could not check the app's credentials at http://")


async def test_serve_exits_with_one_line_when_github_refuses_the_credentials(
    fake_github: FakeGitHub, key_pair: KeyPair, tmp_path: Path
) -> None:
    env = serve_env(key_pair, APP_ID="999", GITHUB_API_URL=fake_github.url)
    code, stderr = await serve_until_exit(env, tmp_path)
    assert code == 2
    (line,) = stderr.strip().splitlines()[-1:]
    assert line.startswith("product-review serve: GitHub refused the app's credentials (401")
    assert "Traceback" not in stderr
    assert fake_github.calls("GET", "/app")


async def test_serve_starts_when_github_is_unreachable_and_says_so_once(
    key_pair: KeyPair, tmp_path: Path
) -> None:
    env = serve_env(key_pair, GITHUB_API_URL=f"http://127.0.0.1:{free_port()}")
    async with serving(env, tmp_path) as served:
        assert await status_of("GET", served.url + "/healthz") == 200
    warnings = [line for line in served.lines() if "could not check" in line]
    assert len(warnings) == 1 and " WARNING " in warnings[0]
    assert "Traceback" not in served.log.read_text()


# --- logs ----------------------------------------------------------------------


@contextmanager
def json_lines() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tests.json")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    logcontext.install(logger, as_json=True)
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


async def test_json_lines_carry_the_review_fields_as_keys() -> None:
    with json_lines() as (logger, stream):
        logger.info("before %s", "the review")

        async def review() -> None:
            logcontext.bind_review(delivery="d-1", repo="acme/widgets", pr=7, head=None)
            logger.warning("no head yet")
            logcontext.bind_head("0123456789abcdef0123")
            try:
                raise ValueError("boom")
            except ValueError:
                logger.exception("failed")

        await asyncio.create_task(review())
        logger.info("after")
    first, no_head, failed, after = (json.loads(line) for line in stream.getvalue().splitlines())
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["message"] == "before the review" and first["level"] == "info"
    assert first["logger"] == "tests.json" and first["time"].endswith("+00:00")
    assert no_head["delivery"] == "d-1" and no_head["repo"] == "acme/widgets"
    assert no_head["pr"] == 7 and "head" not in no_head and no_head["level"] == "warning"
    assert no_head["message"] == "no head yet"  # the fields are keys, not appended text
    assert failed["head"] == "0123456789ab" and "ValueError: boom" in failed["exception"]
    assert "delivery" not in after


async def test_serve_logs_json_lines_and_no_health_checks(
    fake_github: FakeGitHub, key_pair: KeyPair, tmp_path: Path
) -> None:
    env = serve_env(key_pair, GITHUB_API_URL=fake_github.url, LOG_FORMAT="json", LOG_LEVEL="info")
    async with serving(env, tmp_path) as served:
        for _ in range(3):
            assert await status_of("GET", served.url + "/healthz") == 200
        assert await status_of("POST", served.url + "/api/github/webhooks") == 401
        await wait_until(
            lambda: any("POST /api/github/webhooks" in line for line in served.lines())
        )
    records = [json.loads(line) for line in served.lines()]
    assert all({"time", "level", "logger", "message"} <= set(record) for record in records)
    messages = [record["message"] for record in records]
    assert "credentials accepted: app product-review (id 4242)" in messages
    assert not [message for message in messages if "/healthz" in message]
    assert any(record["logger"] == "aiohttp.access" for record in records)


async def test_silent_serve_logs_nothing(
    fake_github: FakeGitHub, key_pair: KeyPair, tmp_path: Path
) -> None:
    env = serve_env(key_pair, GITHUB_API_URL=fake_github.url, LOG_LEVEL="silent")
    async with serving(env, tmp_path) as served:
        assert await status_of("POST", served.url + "/api/github/webhooks") == 401
    assert served.log.read_text() == ""


# --- the key file, the smee relay ------------------------------------------------


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """`server.main` in an empty working directory, GitHub and run_app stubbed out."""
    monkeypatch.chdir(tmp_path)
    for name in _OWN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ID", APP_ID)
    monkeypatch.setenv("WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "state"))
    calls: dict[str, Any] = {}

    async def accepted(settings: ServerSettings) -> None:
        calls["checked"] = settings

    def run_app(app: Any, **kwargs: Any) -> None:
        calls["app"] = app

    monkeypatch.setattr(server, "check_credentials", accepted)
    monkeypatch.setattr(server.web, "run_app", run_app)
    return calls


def test_serve_uses_the_lone_pem_file_of_the_working_directory(
    started: dict[str, Any], key_pair: KeyPair, tmp_path: Path
) -> None:
    (tmp_path / "product-review.2026-12-01.private-key.pem").write_text(key_pair.private_pem)
    assert server.main() == 0
    assert started["app"][server.SETTINGS_KEY].private_key == key_pair.private_pem


def test_serve_refuses_two_pem_files_naming_them(
    started: dict[str, Any],
    key_pair: KeyPair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("old.pem", "new.pem"):
        (tmp_path / name).write_text(key_pair.private_pem)
    assert server.main() == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "new.pem, old.pem" in line and "app" not in started


def test_serve_refuses_a_webhook_proxy_url_saying_what_to_run(
    started: dict[str, Any],
    key_pair: KeyPair,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PRIVATE_KEY", key_pair.private_pem)
    monkeypatch.setenv("WEBHOOK_PROXY_URL", "https://smee.io/abc123")
    assert server.main() == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("product-review serve: WEBHOOK_PROXY_URL: unsupported")
    assert (
        "`npx smee-client -u https://smee.io/abc123 -t http://localhost:3000/api/github/webhooks`"
        in line
    )
    assert "app" not in started and "checked" not in started


# --- Enterprise Server by GHE_HOST -------------------------------------------------


async def test_ghe_host_reaches_the_enterprise_rest_and_graphql_endpoints(
    aiohttp_server: Any, aiohttp_client: Any, key_pair: KeyPair, tmp_path: Path
) -> None:
    fake = FakeGitHub(app_id=APP_ID, public_key=key_pair.public_key)
    enterprise = await aiohttp_server(fake.enterprise_app())
    fake.url = str(enterprise.make_url("/api/v3")).rstrip("/")
    settings = load_server_settings(
        {
            "APP_ID": APP_ID,
            "PRIVATE_KEY": key_pair.private_pem,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "GHE_HOST": f"127.0.0.1:{enterprise.port}",
            "GHE_PROTOCOL": "http",
            "STATE_DIR": str(tmp_path / "state"),  # not the working directory's
        }
    )
    assert settings.github_api_url == fake.url
    assert await server.check_credentials(settings) is None
    client = await aiohttp_client(create_app(settings, engine=stub_engine))
    repo = fake.add_repo()
    pull = fake.add_pull(repo, added={DOC: "# X\nTBD\n"})
    payload = fake.pull_request_event(repo, pull, "opened")
    assert (await deliver(client, "pull_request", payload)).status == 202
    (prefetch,) = fake.calls("POST", "/graphql")  # recorded from /api/graphql
    assert prefetch.status == 200
    assert len(pull.reviews) == 1


# --- receive -------------------------------------------------------------------


@pytest.fixture
async def local_server(aiohttp_server: Any, server_settings: ServerSettings) -> Any:
    """The real app on loopback, as `receive` would find it."""
    return await aiohttp_server(create_app(server_settings, engine=stub_engine))


def write_payload(fake_github: FakeGitHub, tmp_path: Path) -> Path:
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={DOC: "# X\nTBD\n"})
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(fake_github.pull_request_event(repo, pull, "opened")))
    return path


async def receive(*argv: str) -> int:
    # The CLI runs its own event loop; the server answers on this one meanwhile.
    return await asyncio.to_thread(cli, ["receive", *argv])


async def test_receive_replays_a_signed_delivery_into_the_local_server(
    local_server: Any,
    fake_github: FakeGitHub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    payload = write_payload(fake_github, tmp_path)
    url = str(local_server.make_url("/api/github/webhooks"))
    code = await receive(
        "-e", "pull_request", "-p", str(payload), "--url", url, "--secret", WEBHOOK_SECRET
    )
    assert code == 0
    status, answer = capsys.readouterr().out.strip().splitlines()
    assert status.startswith("202 Accepted (delivery ")
    assert json.loads(answer) == {"message": "accepted"}
    await settled_app(local_server)
    (repo,) = fake_github.repos.values()
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed"


async def settled_app(local_server: Any) -> None:
    background = local_server.app[server.BACKGROUND_KEY]
    await background.join()


async def test_receive_with_a_given_delivery_id_is_a_redelivery_the_second_time(
    local_server: Any,
    fake_github: FakeGitHub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    payload = write_payload(fake_github, tmp_path)
    url = str(local_server.make_url("/api/github/webhooks"))
    argv = ("-e", "pull_request", "-p", str(payload), "--url", url, "--secret", WEBHOOK_SECRET)
    assert await receive(*argv, "--delivery-id", "fixed-1") == 0
    await settled_app(local_server)
    assert await receive(*argv, "--delivery-id", "fixed-1") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "202 Accepted (delivery fixed-1)"
    assert lines[2] == "200 OK (delivery fixed-1)"
    (repo,) = fake_github.repos.values()
    assert len(repo.check_runs) == 1


async def test_receive_reads_the_secret_from_dotenv_and_reports_a_refusal(
    local_server: Any,
    fake_github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    payload = write_payload(fake_github, tmp_path)
    url = str(local_server.make_url("/api/github/webhooks"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    (tmp_path / ".env").write_text("WEBHOOK_SECRET=not the server's\n")
    assert await receive("-e", "pull_request", "-p", str(payload), "--url", url) == 1
    assert capsys.readouterr().out.startswith("401 Unauthorized")
    monkeypatch.setenv("WEBHOOK_SECRET", WEBHOOK_SECRET)  # the environment wins over .env
    assert await receive("-e", "pull_request", "-p", str(payload), "--url", url) == 0
    await settled_app(local_server)


async def test_receive_says_in_one_line_what_went_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    payload = tmp_path / "payload.json"
    payload.write_text("{}")
    assert await receive("-e", "ping", "-p", str(payload)) == 2
    assert "no webhook secret" in capsys.readouterr().err
    assert await receive("-e", "ping", "-p", str(tmp_path / "absent.json"), "--secret", "s") == 2
    assert "cannot read" in capsys.readouterr().err
    nowhere = f"http://127.0.0.1:{free_port()}/api/github/webhooks"
    assert await receive("-e", "ping", "-p", str(payload), "--secret", "s", "--url", nowhere) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"product-review receive: could not reach {nowhere}: ")
