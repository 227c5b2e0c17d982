"""The container image, run the ways the README's deployment section says: `.env`
mounted as a file or passed with `--env-file`, the key mounted readable by the
image's user, STATE_DIR on a named volume, stopped with `docker stop`.

`bash .ci/docker-smoke` builds the image and runs these with PRODUCT_REVIEW_IMAGE
naming it; without it they are skipped. Containers share the host's network, so
the server reaches the fake GitHub on loopback and the tests reach the server."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.ghapp.test_server_process import free_port
from tests.support.apptools import APP_ID, WEBHOOK_SECRET, KeyPair, sign, wait_until
from tests.support.fakegithub import FakeGitHub

IMAGE = os.environ.get("PRODUCT_REVIEW_IMAGE", "")
pytestmark = pytest.mark.skipif(
    not IMAGE, reason="PRODUCT_REVIEW_IMAGE unset: `bash .ci/docker-smoke` builds and runs these"
)

APP_UID = 10001  # the image's user
KEY_IN_CONTAINER = "/run/secrets/app.pem"
STATE_IN_CONTAINER = "/home/app/.product-review"
# The README's advice for `docker stop -t` / `--stop-timeout`.
STOP_TIMEOUT_SECONDS = 20
WATCHDOG_SECONDS = 90.0
DOC = "docs/rfcs/0001-offline-mode.md"
DOC_TEXT = (
    "# Offline mode\n\n## Problem\nField staff lose work when the network drops.\n\n"
    "## Proposal\nSync must be real-time across all devices.\n\n## Rollout\nTBD\n"
)


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


async def docker(*args: str) -> Completed:
    """Run the docker CLI without blocking the loop the fake GitHub answers on."""
    process = await asyncio.create_subprocess_exec(
        "docker", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), WATCHDOG_SECONDS)
    assert process.returncode is not None
    return Completed(process.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def readable_by_the_app_only(path: Path) -> Path:
    """As the README says to mount secrets: owned by uid 10001, mode 0400 (0444 when
    these run unprivileged and cannot give the file away)."""
    if os.geteuid() == 0:
        os.chown(path, APP_UID, APP_UID)
        path.chmod(0o400)
    else:
        path.chmod(0o444)
    return path


@dataclass
class Server:
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def logs(self) -> str:
        result = await docker("logs", self.name)
        return result.stdout + result.stderr

    async def state(self, template: str) -> str:
        result = await docker("inspect", "-f", template, self.name)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    async def healthy(self) -> None:
        """Wait until Docker's health check (the image's HEALTHCHECK) says healthy."""
        deadline = time.monotonic() + WATCHDOG_SECONDS
        while True:
            running = await self.state("{{.State.Running}}")
            health = await self.state("{{if .State.Health}}{{.State.Health.Status}}{{end}}")
            if health == "healthy":
                return
            assert running == "true", (
                f"the container exited before it was healthy:\n{await self.logs()}"
            )
            assert health != "unhealthy", f"the health check failed:\n{await self.logs()}"
            assert time.monotonic() < deadline, (
                f"the health check never passed (status {health!r}):\n{await self.logs()}"
            )
            await asyncio.sleep(0.5)

    async def deliver(
        self, event: str, payload: dict[str, object], *, secret: str = WEBHOOK_SECRET
    ) -> int:
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(body, secret),
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.url}/api/github/webhooks", data=body, headers=headers) as answer,
        ):
            return answer.status


@dataclass
class Containers:
    """Starts containers of the image; removes them, and their volumes, afterwards."""

    workdir: Path
    names: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)

    def new_name(self) -> str:
        name = f"product-review-smoke-{uuid.uuid4().hex[:12]}"
        self.names.append(name)
        return name

    async def serve(
        self, fake: FakeGitHub, key_file: Path, *, configured_by: list[str]
    ) -> Server:
        """`product-review serve` in a container, configured by `configured_by` (the
        `.env` mount or `--env-file`), its key mounted, STATE_DIR on a new volume;
        returned once Docker's health check says it is healthy."""
        name = self.new_name()
        volume = f"{name}-state"
        self.volumes.append(volume)
        port = free_port()
        started = await docker(
            "run", "--detach", "--name", name, "--network", "host",
            # The image's probe, run every second rather than every 30 s.
            "--health-interval", "1s",
            "--volume", f"{key_file}:{KEY_IN_CONTAINER}:ro",
            "--volume", f"{volume}:{STATE_IN_CONTAINER}",
            "--env", f"PORT={port}", "--env", "HOST=127.0.0.1",
            "--env", f"GITHUB_API_URL={fake.url}", "--env", "REVIEW_WORKERS=1",
            *configured_by,
            IMAGE,
        )
        assert started.returncode == 0, f"docker run failed: {started.stderr}"
        server = Server(name, port)
        await server.healthy()
        return server

    async def remove(self) -> None:
        if self.names:
            await docker("rm", "--force", "--volumes", *self.names)
        if self.volumes:
            await docker("volume", "rm", "--force", *self.volumes)


@pytest.fixture
async def containers(tmp_path: Path) -> AsyncIterator[Containers]:
    running = Containers(tmp_path)
    try:
        yield running
    finally:
        await running.remove()


@pytest.fixture
def key_file(tmp_path: Path, key_pair: KeyPair) -> Path:
    path = tmp_path / "app.pem"
    path.write_text(key_pair.private_pem)
    return readable_by_the_app_only(path)


def app_settings(webhook_secret: str) -> str:
    """A settings file's lines: the app, its mounted key, the secret as written."""
    lines = [f"APP_ID={APP_ID}", f"PRIVATE_KEY_PATH={KEY_IN_CONTAINER}"]
    return "\n".join([*lines, f"WEBHOOK_SECRET={webhook_secret}", ""])


def dotenv_mount(tmp_path: Path, webhook_secret: str) -> list[str]:
    """`.env` mounted as a file where the server reads it (its working directory)."""
    dotenv = tmp_path / ".env"
    dotenv.write_text(app_settings(webhook_secret))
    return ["--volume", f"{readable_by_the_app_only(dotenv)}:/home/app/.env:ro"]


async def test_configured_by_a_mounted_env_file_the_server_is_healthy_and_checks_signatures(
    containers: Containers, fake_github: FakeGitHub, key_file: Path, tmp_path: Path
) -> None:
    # Quoted as a `.env` file may be: the server's own reading strips the quotes.
    mount = dotenv_mount(tmp_path, f'"{WEBHOOK_SECRET}"')
    server = await containers.serve(fake_github, key_file, configured_by=mount)
    logs = await server.logs()
    assert "credentials accepted" in logs, f"GET /app with the mounted key did not pass:\n{logs}"
    assert fake_github.calls("GET", "/app"), "the server never checked its credentials"
    assert "WEBHOOK_SECRET starts and ends with a quote" not in logs

    status = await server.deliver("ping", {"zen": "Keep it logically awesome.", "hook_id": 1})
    assert 200 <= status < 300, f"a signed ping was answered {status}:\n{await server.logs()}"
    status = await server.deliver("ping", {"zen": "forged"}, secret="not the secret")
    assert status == 401, f"a ping with a bad signature was answered {status}, not 401"


async def test_docker_stop_lets_an_in_flight_review_finish_before_the_stop_timeout(
    containers: Containers, fake_github: FakeGitHub, key_file: Path, tmp_path: Path
) -> None:
    mount = dotenv_mount(tmp_path, WEBHOOK_SECRET)
    server = await containers.serve(fake_github, key_file, configured_by=mount)
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={DOC: DOC_TEXT})
    gate = fake_github.stall("POST", r"/pulls/\d+/reviews$")  # the review is held mid-way
    opened = fake_github.pull_request_event(repo, pull, "opened")
    status = await server.deliver("pull_request", opened)
    assert status == 202, f"the pull request delivery was answered {status}, not 202"
    await wait_until(lambda: bool(fake_github.calls("POST", "/reviews")), timeout=WATCHDOG_SECONDS)

    started = time.monotonic()
    stopping = asyncio.ensure_future(docker("stop", "-t", str(STOP_TIMEOUT_SECONDS), server.name))
    deadline = started + WATCHDOG_SECONDS
    while "shutting down: 1 review(s) in flight" not in (logs := await server.logs()):
        assert not stopping.done(), (
            f"the container stopped without draining (exit code "
            f"{await server.state('{{.State.ExitCode}}')}):\n{logs}"
        )
        assert time.monotonic() < deadline, f"the stop signal did not start the drain:\n{logs}"
        await asyncio.sleep(0.2)
    assert not stopping.done(), "the container stopped with a review still in flight"
    gate.set()  # the review goes on while the server waits for it
    stopped = await stopping
    elapsed = time.monotonic() - started
    assert stopped.returncode == 0, stopped.stderr

    # 137 would be SIGKILL: Docker's, once the stop timeout ran out.
    exit_code = int(await server.state("{{.State.ExitCode}}"))
    assert exit_code in (0, 143), (
        f"exit code {exit_code} after {elapsed:.1f} s of `docker stop -t "
        f"{STOP_TIMEOUT_SECONDS}`:\n{await server.logs()}"
    )
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed", "the check run was left in progress"
    assert "could not complete" not in run["output"]["title"], "the review was cut short"
    assert len(pull.reviews) == 1, "the held review was not posted"


async def test_a_key_file_only_its_owner_can_read_is_refused_in_one_line(
    containers: Containers, tmp_path: Path, key_pair: KeyPair
) -> None:
    private = tmp_path / "root-only.pem"
    private.write_text(key_pair.private_pem)
    private.chmod(0o600)  # owned by whoever runs the tests, not by uid 10001
    result = await docker(
        "run", "--rm", "--name", containers.new_name(), "--network", "none",
        "--volume", f"{private}:{KEY_IN_CONTAINER}:ro",
        "--env", f"APP_ID={APP_ID}", "--env", f"PRIVATE_KEY_PATH={KEY_IN_CONTAINER}",
        "--env", f"WEBHOOK_SECRET={WEBHOOK_SECRET}",
        IMAGE,
    )
    assert result.returncode == 2, f"exit code {result.returncode}:\n{result.stderr}"
    assert result.stderr.strip() == (
        f"product-review serve: PRIVATE_KEY_PATH: cannot read {KEY_IN_CONTAINER}: "
        "PermissionError"
    ), result.stderr


@pytest.mark.parametrize("quoted", [False, True], ids=["unquoted", "quoted"])
async def test_env_file_values_reach_the_server_as_written(
    containers: Containers, fake_github: FakeGitHub, key_file: Path, tmp_path: Path, quoted: bool
) -> None:
    """`docker run --env-file` keeps quotes: the README says to write values bare there."""
    written = f'"{WEBHOOK_SECRET}"' if quoted else WEBHOOK_SECRET
    env_file = tmp_path / "app.env"
    env_file.write_text(app_settings(written))
    server = await containers.serve(
        fake_github, key_file, configured_by=["--env-file", str(env_file)]
    )
    logs = await server.logs()
    assert ("WEBHOOK_SECRET starts and ends with a quote" in logs) is quoted, logs
    status = await server.deliver("ping", {"zen": "Design for failure.", "hook_id": 1})
    expected = 401 if quoted else 200
    assert status == expected, f"a ping signed with the bare secret was answered {status}"
    if quoted:  # the quotes became part of the secret
        assert await server.deliver("ping", {"hook_id": 1}, secret=written) == 200


async def test_the_cli_in_the_image_reviews_a_mounted_folder(
    containers: Containers, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    (docs / "rfcs").mkdir(parents=True)
    (docs / "rfcs" / "0001-search.md").write_text(
        "# RFC: Faster search\n\n## Summary\n\n"
        "We will rewrite the search service because it will be faster.\n\n"
        "## Design\n\nThe new service replaces the old one.\n"
    )
    (docs / "README.md").write_text("# Docs\n\nThe team's design documents.\n")
    result = await docker(
        "run", "--rm", "--name", containers.new_name(), "--network", "none",
        "--volume", f"{docs}:/docs:ro",
        IMAGE, "product-review", "check", "--fail-on", "warning", "/docs",
    )
    assert result.returncode == 1, (
        f"exit code {result.returncode}, not 1 (a warning at --fail-on warning):\n"
        f"{result.stdout}{result.stderr}"
    )
    assert "/docs/rfcs/0001-search.md" in result.stdout, result.stdout
    assert "warning alternatives" in result.stdout, f"no alternatives gap:\n{result.stdout}"
    assert "README.md" not in result.stdout, "a project README was reviewed"
