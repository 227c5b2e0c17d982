"""Helpers for the `product-review register` tests: the fake GitHub served as
Enterprise Server (so its web pages and its API share a host), the command run as
a process, and the page's form read as a browser reads it."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from tests.support.apptools import APP_ID, KeyPair
from tests.support.fakegithub import FakeGitHub

# Settings a caller's environment could hold that would point the command elsewhere.
_GITHUB_VARIABLES = ("GITHUB_API_URL", "GHE_HOST", "GHE_PROTOCOL")
# How long the command may take to start listening, or to exit once done; generous,
# so that only a hung command trips it.
BOUND_SECONDS = 30.0
WEBHOOK_URL = "https://review.acme.dev/api/github/webhooks"


async def enterprise_fake(aiohttp_server: Any, key_pair: KeyPair) -> FakeGitHub:
    fake = FakeGitHub(app_id=APP_ID, public_key=key_pair.public_key)
    server = await aiohttp_server(fake.enterprise_app())
    fake.url = str(server.make_url("/api/v3")).rstrip("/")
    return fake


def register_environment(fake: FakeGitHub) -> dict[str, str]:
    """The caller's environment, pointed at the fake as Probot names Enterprise Server."""
    env = {name: value for name, value in os.environ.items() if name not in _GITHUB_VARIABLES}
    env["GHE_HOST"] = f"127.0.0.1:{URL(fake.url).port}"
    env["GHE_PROTOCOL"] = "http"
    return env


@dataclass
class Running:
    process: asyncio.subprocess.Process
    page_url: str
    stdout: list[str] = field(default_factory=list)

    async def finish(self) -> tuple[int, str, str]:
        """Wait for the command to exit: its code, the rest of its output, its errors."""
        assert self.process.stdout is not None and self.process.stderr is not None
        out, err = await asyncio.wait_for(self.process.communicate(), BOUND_SECONDS)
        assert self.process.returncode is not None
        return self.process.returncode, "".join(self.stdout) + out.decode(), err.decode()


@asynccontextmanager
async def running_register(
    cwd: Path, env: dict[str, str], *arguments: str
) -> AsyncIterator[Running]:
    """`product-review register --port 0 ...` running in `cwd` until the block ends
    (killed then if it has not exited): its page's URL, read from what it prints."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "localreview",
        "register",
        "--port",
        "0",
        *arguments,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        lines: list[str] = []
        while True:
            line = (await asyncio.wait_for(process.stdout.readline(), BOUND_SECONDS)).decode()
            if not line:
                errors = (await process.stderr.read()).decode()
                raise AssertionError(f"register exited before serving: {errors}")
            lines.append(line)
            found = re.search(r"Open (http://127\.0\.0\.1:\d+/) ", line)
            if found:
                yield Running(process=process, page_url=found.group(1), stdout=lines)
                break
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@asynccontextmanager
async def registering(
    fake: FakeGitHub, cwd: Path, *arguments: str
) -> AsyncIterator[tuple[Running, aiohttp.ClientSession]]:
    """`register` pointed at `fake`, and an HTTP session to act as the browser."""
    async with (
        running_register(cwd, register_environment(fake), *arguments) as running,
        aiohttp.ClientSession() as session,
    ):
        yield running, session


@dataclass
class Form:
    action: str = ""
    method: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[str] = field(default_factory=list)


class _FormReader(HTMLParser):
    """The page's one form: where it posts, its hidden fields, its submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            form = Form(action=values.get("action", ""), method=values.get("method", ""))
            self.forms.append(form)
        elif self.forms and tag == "input" and values.get("type") == "hidden":
            self.forms[-1].fields[values.get("name", "")] = values.get("value", "")
        elif self.forms and tag == "button" and values.get("type", "submit") == "submit":
            self.forms[-1].buttons.append(values.get("id", ""))


def read_form(page: str) -> Form:
    reader = _FormReader()
    reader.feed(page)
    (form,) = reader.forms
    return form
