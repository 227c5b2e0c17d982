"""`product-review register` in a real browser: Debian's Chromium, headless, driven
by Playwright. The page shows the button; clicking it posts the manifest form to
the fake GitHub's new-app page, whose redirect brings the browser back to the
callback, which writes .env."""

from __future__ import annotations

import json
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright

from ghapp.settings import load_server_settings, read_environment
from tests.support.apptools import KeyPair
from tests.support.fakegithub import FakeGitHub
from tests.support.registering import (
    WEBHOOK_URL,
    enterprise_fake,
    register_environment,
    running_register,
)

# Debian's package (`apt-get install chromium`); Playwright's own download is never used.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # runs as root in CI
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Generous: only a hung page trips it.
PAGE_TIMEOUT_MS = 30_000


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=PAGE_TIMEOUT_MS
        )
        try:
            yield launched
        finally:
            await launched.close()


async def test_the_button_posts_the_manifest_and_the_callback_writes_dotenv(
    browser: Browser, aiohttp_server: Any, key_pair: KeyPair, tmp_path: Path
) -> None:
    fake: FakeGitHub = await enterprise_fake(aiohttp_server, key_pair)
    env = register_environment(fake)
    async with running_register(tmp_path, env, "--webhook-url", WEBHOOK_URL) as running:
        page = await browser.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        await page.goto(running.page_url)
        button = page.locator("button#create")
        assert await button.is_visible()
        assert WEBHOOK_URL in await page.locator("#webhook-url").inner_text()
        async with page.expect_navigation(url="**/callback?**"):
            await button.click()
        assert await page.title() == "App registered"
        shown_id = await page.locator("#app-id").inner_text()
        install_link = await page.locator("a#install").get_attribute("href")
        code, _, err = await running.finish()
    assert (code, err) == (0, "")
    # The browser posted the form: the manifest, as JSON, to the new-app page.
    (posted,) = fake.calls("POST", "/settings/apps/new")
    manifest = json.loads(posted.body["manifest"])
    assert manifest["redirect_url"] == running.page_url + "callback"
    assert manifest["hook_attributes"]["url"] == WEBHOOK_URL
    (app,) = fake.registered_apps.values()
    assert shown_id == str(app["id"])
    assert install_link == f"{app['html_url']}/installations/new"
    # The .env the callback wrote, read back as `serve` reads it.
    dotenv = tmp_path / ".env"
    assert stat.S_IMODE(dotenv.stat().st_mode) == 0o600
    settings = load_server_settings(read_environment({}, dotenv_path=dotenv), key_dir=tmp_path)
    assert settings.app_id == str(app["id"])
    assert settings.private_key.strip() == app["pem"].strip()
    assert settings.webhook_secret == app["webhook_secret"]
