"""`product-review register`: the manifest flow end to end against the fake GitHub
(its "new app" page and its conversions endpoint), and each refusal on its own:
an existing .env, a callback without this run's state, a code GitHub does not take,
a manifest GitHub would not."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from dotenv import dotenv_values

from ghapp import register
from ghapp.github import (
    GitHubApp,
    ManifestConversionFailed,
    RegisteredApp,
    convert_app_manifest,
)
from ghapp.settings import GitHubHost, load_server_settings, read_environment
from localreview.main import main as cli
from tests.support.apptools import KeyPair, free_port
from tests.support.fakegithub import FakeGitHub
from tests.support.registering import (
    WEBHOOK_URL,
    enterprise_fake,
    read_form,
    registering,
)

ROOT = Path(__file__).resolve().parents[2]
TO_WEBHOOK = ("--webhook-url", WEBHOOK_URL)


@pytest.fixture
async def enterprise(aiohttp_server: Any, key_pair: KeyPair) -> FakeGitHub:
    return await enterprise_fake(aiohttp_server, key_pair)


async def click_through(session: aiohttp.ClientSession, page_url: str) -> tuple[int, str]:
    """What a browser does: load the page, submit its form to GitHub, follow GitHub's
    redirect back to the callback. The last page's status and text."""
    async with session.get(page_url) as response:
        assert response.status == 200
        form = read_form(await response.text())
    assert form.method == "post" and form.buttons == ["create"]
    async with session.post(form.action, data=form.fields) as response:
        return response.status, await response.text()


def loaded_settings(folder: Path) -> Any:
    """.env read back exactly as `serve` reads it."""
    env = read_environment({}, dotenv_path=folder / ".env")
    return load_server_settings(env, key_dir=folder)


# --- end to end ---------------------------------------------------------------------------


async def test_registers_the_app_and_writes_a_dotenv_serve_reads(
    enterprise: FakeGitHub, tmp_path: Path
) -> None:
    async with registering(enterprise, tmp_path, *TO_WEBHOOK) as (running, session):
        status, page = await click_through(session, running.page_url)
        code, out, err = await running.finish()
    assert (status, code, err) == (200, 0, "")
    (app,) = enterprise.registered_apps.values()
    # What GitHub received: app.yml, sent back here, webhooks to the given URL.
    (posted,) = enterprise.calls("POST", "/settings/apps/new")
    manifest = json.loads(posted.body["manifest"])
    assert manifest["redirect_url"] == running.page_url + "callback"
    assert manifest["hook_attributes"] == {"url": WEBHOOK_URL, "active": True}
    assert manifest["default_permissions"]["checks"] == "write"
    assert posted.query["state"] and posted.query["state"] not in page
    # The exchange carried the code alone.
    (conversion,) = enterprise.calls("POST", "/app-manifests/")
    assert conversion.status == 201 and "authorization" not in conversion.headers
    # .env: private to its owner, and what serve needs.
    dotenv = tmp_path / ".env"
    assert stat.S_IMODE(dotenv.stat().st_mode) == 0o600
    settings = loaded_settings(tmp_path)
    assert settings.app_id == str(app["id"])
    assert settings.private_key.strip() == app["pem"].strip()
    assert settings.webhook_secret == app["webhook_secret"]
    assert settings.github_api_url == enterprise.url  # GHE_HOST and GHE_PROTOCOL carried
    text = dotenv.read_text()
    install = f"{app['html_url']}/installations/new"
    assert app["slug"] in text and install in text
    assert install in page and str(app["id"]) in page and install in out
    # The credentials work: GitHub (the fake) takes the app's JWT.
    async with aiohttp.ClientSession() as session:
        github = GitHubApp(
            session=session,
            app_id=settings.app_id,
            private_key=settings.private_key,
            api_url=settings.github_api_url,
        )
        identity = await github.identify()
    assert (identity.id, identity.slug) == (app["id"], app["slug"])


async def test_an_organization_registers_on_its_own_page(
    enterprise: FakeGitHub, tmp_path: Path
) -> None:
    async with registering(enterprise, tmp_path, "--org", "acme", *TO_WEBHOOK) as (
        running,
        session,
    ):
        status, _ = await click_through(session, running.page_url)
        code, _, _ = await running.finish()
    assert (status, code) == (200, 0)
    assert enterprise.calls("POST", "/organizations/acme/settings/apps/new")
    (app,) = enterprise.registered_apps.values()
    assert app["owner"] == {"login": "acme", "type": "Organization"}


async def test_a_local_app_yml_is_the_manifest_and_force_replaces_dotenv(
    enterprise: FakeGitHub, tmp_path: Path
) -> None:
    shipped = (ROOT / "ghapp" / "app.yml").read_text()
    local = shipped.replace("name: product-review", "name: acme-review").replace(
        "https://product-review.example.com/api/github/webhooks", WEBHOOK_URL
    )
    (tmp_path / "app.yml").write_text(local)
    (tmp_path / ".env").write_text("APP_ID=1\n")
    (tmp_path / ".env").chmod(0o644)
    async with registering(enterprise, tmp_path, "--force") as (running, session):
        await click_through(session, running.page_url)
        code, _, _ = await running.finish()
    assert code == 0
    (app,) = enterprise.registered_apps.values()
    assert app["slug"] == "acme-review"
    assert loaded_settings(tmp_path).app_id == str(app["id"])
    assert stat.S_IMODE((tmp_path / ".env").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".env")] == [".env"]


async def test_a_code_github_refuses_is_one_line_and_exit_1(
    enterprise: FakeGitHub, tmp_path: Path
) -> None:
    async with registering(enterprise, tmp_path, *TO_WEBHOOK) as (running, session):
        async with session.get(running.page_url) as response:
            form = read_form(await response.text())
        state = form.action.split("state=", 1)[1]
        # A code GitHub never issued (or one already used), with the right state.
        callback = f"{running.page_url}callback?code=0123abcd&state={state}"
        async with session.get(callback) as response:
            status, page = response.status, await response.text()
        code, _, err = await running.finish()
    assert (status, code) == (502, 1)
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "GitHub refused the code (404" in err and "GitHub refused the code (404" in page
    assert not (tmp_path / ".env").exists()


def test_an_existing_dotenv_is_not_replaced_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no terminal to ask on
    (tmp_path / ".env").write_text("APP_ID=7\n")
    port = free_port()
    assert cli(["register", "--webhook-url", WEBHOOK_URL, "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ".env exists" in err and "--force" in err
    assert (tmp_path / ".env").read_text() == "APP_ID=7\n"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "replaced"), [("y\n", True), ("yes\n", True), ("\n", False)])
def test_on_a_terminal_replacing_dotenv_is_asked(
    tmp_path: Path, answer: str, replaced: bool
) -> None:
    (tmp_path / ".env").write_text("APP_ID=7\n")
    asked = io.StringIO()
    if replaced:
        assert register.may_overwrite(
            tmp_path / ".env", force=False, stdin=Terminal(answer), stdout=asked
        )
    else:
        with pytest.raises(register.RegisterError, match="left as it is"):
            register.may_overwrite(
                tmp_path / ".env", force=False, stdin=Terminal(answer), stdout=asked
            )
    assert asked.getvalue().endswith("[y/N] ")


def test_no_dotenv_means_nothing_to_ask(tmp_path: Path) -> None:
    assert not register.may_overwrite(
        tmp_path / ".env", force=False, stdin=io.StringIO(), stdout=io.StringIO()
    )


def test_a_dotenv_that_cannot_be_written_is_refused_before_starting(tmp_path: Path) -> None:
    (tmp_path / ".env").mkdir()
    with pytest.raises(register.RegisterError, match="is a folder"):
        register.may_overwrite(
            tmp_path / ".env", force=True, stdin=io.StringIO(), stdout=io.StringIO()
        )


# --- the callback, in process -----------------------------------------------------------


def registration(fake: FakeGitHub, folder: Path) -> register.Registration:
    manifest = register.load_manifest(None, folder)
    return register.Registration(
        host=GitHubHost(web_url=fake.web_url, api_url=fake.url),
        manifest=manifest,
        webhook_url=WEBHOOK_URL,
        env_path=folder / ".env",
        overwrite=False,
    )


async def local_page(aiohttp_client: Any, run: register.Registration) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = await aiohttp_client(register.create_app(run))
    run.base_url = str(client.make_url("")).rstrip("/")
    return client


@pytest.mark.parametrize("query", ["?code=abc", "?code=abc&state=", "?code=abc&state=guess"])
async def test_a_callback_without_this_runs_state_is_refused(
    enterprise: FakeGitHub, aiohttp_client: Any, tmp_path: Path, query: str
) -> None:
    run = registration(enterprise, tmp_path)
    client = await local_page(aiohttp_client, run)
    response = await client.get(register.CALLBACK_PATH + query)
    assert response.status == 400
    assert "did not come from the form this server showed" in await response.text()
    assert not enterprise.calls("POST", "/app-manifests/")  # nothing exchanged
    assert not run.finished.is_set() and not (tmp_path / ".env").exists()


async def test_a_conversion_github_fails_is_reported_and_nothing_written(
    enterprise: FakeGitHub, aiohttp_client: Any, tmp_path: Path
) -> None:
    run = registration(enterprise, tmp_path)
    client = await local_page(aiohttp_client, run)
    enterprise.fail("POST", "/app-manifests/", status=500, message="Server Error")
    response = await client.get(f"{register.CALLBACK_PATH}?code=abc&state={run.state}")
    assert response.status == 502
    assert "GitHub refused the code (500" in await response.text()
    assert len(enterprise.calls("POST", "/app-manifests/")) == 1  # a code is tried once
    assert isinstance(run.outcome, register.RegisterError) and run.finished.is_set()
    assert not (tmp_path / ".env").exists()


async def test_a_second_callback_is_refused(
    enterprise: FakeGitHub, aiohttp_client: Any, tmp_path: Path
) -> None:
    run = registration(enterprise, tmp_path)
    client = await local_page(aiohttp_client, run)
    run.claimed = True  # the first one is being handled
    response = await client.get(f"{register.CALLBACK_PATH}?code=abc&state={run.state}")
    assert response.status == 409


async def test_the_page_answers_on_its_own_address_only(
    enterprise: FakeGitHub, aiohttp_client: Any, tmp_path: Path
) -> None:
    run = registration(enterprise, tmp_path)
    client = await local_page(aiohttp_client, run)
    assert (await client.get("/")).status == 200
    rebound = await client.get("/", headers={"Host": "attacker.example:80"})
    assert rebound.status == 421 and run.state not in await rebound.text()


async def test_unreachable_github_is_one_line(tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ManifestConversionFailed, match="could not reach GitHub") as failed:
            await convert_app_manifest(
                session, api_url=f"http://127.0.0.1:{free_port()}/api/v3", code="abc"
            )
    assert "\n" not in failed.value.reason


async def test_a_malformed_code_is_not_sent(enterprise: FakeGitHub) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ManifestConversionFailed, match="malformed"):
            await convert_app_manifest(session, api_url=enterprise.url, code="../../app")
    assert not enterprise.requests


async def test_a_used_code_is_refused_the_second_time(enterprise: FakeGitHub) -> None:
    enterprise.manifest_codes["c0de"] = {
        "manifest": {"url": "https://acme.dev", "name": "x"},
        "owner": {"login": "octocat", "type": "User"},
    }
    async with aiohttp.ClientSession() as session:
        app = await convert_app_manifest(session, api_url=enterprise.url, code="c0de")
        assert app.id in enterprise.registered_apps
        with pytest.raises(ManifestConversionFailed, match="404"):
            await convert_app_manifest(session, api_url=enterprise.url, code="c0de")


# --- the manifest ---------------------------------------------------------------------


def test_the_packaged_manifest_is_used_without_a_local_one(tmp_path: Path) -> None:
    manifest = register.load_manifest(None, tmp_path)
    assert manifest.source == "the packaged app.yml"
    assert manifest.data == register.load_manifest(ROOT / "app.yml", tmp_path).data


def test_the_placeholder_webhook_url_is_refused_naming_the_option(tmp_path: Path) -> None:
    manifest = register.load_manifest(None, tmp_path)
    with pytest.raises(register.RegisterError, match=r"placeholder.*--webhook-url"):
        register.webhook_url_of(manifest, None)
    assert register.webhook_url_of(manifest, WEBHOOK_URL) == WEBHOOK_URL
    with pytest.raises(register.RegisterError, match="not an http"):
        register.webhook_url_of(manifest, "ftp://hooks.acme.dev/")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- just\n- a list\n", "expected a mapping"),
        ("url: https://acme.dev\nhook_atributes: {}\n", "hook_atributes"),
        ("name: x\n", "'url' is a required property"),
        ("url: https://acme.dev\nname: " + "n" * 40 + "\n", "name"),
        ("url: https://acme.dev\ndefault_permissions: {checks: everything}\n", "checks"),
        ("url: https://acme.dev\npublic: 2024-01-01\n", "public"),
        ("url: https://acme.dev\n1: one\n", "not text"),
        ("url: [https://acme.dev\n", "YAML syntax error"),
        # An alias bomb: small on disk, billions of nodes expanded.
        (
            "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
            "url: [*d, *d, *d, *d, *d, *d, *d, *d]\n",
            "YAML refused",
        ),
    ],
)
def test_a_manifest_github_would_refuse_is_named(text: str, problem: str) -> None:
    with pytest.raises(register.RegisterError, match=r"^app\.yml: ") as refused:
        register.parse_manifest(text, "app.yml")
    assert problem in str(refused.value) and "\n" not in str(refused.value)


def test_a_missing_manifest_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(register.RegisterError, match="cannot read"):
        register.load_manifest(tmp_path / "nope.yml", tmp_path)


def test_an_api_url_without_known_web_pages_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("GHE_HOST", "GHE_PROTOCOL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_API_URL", "https://git.acme.dev/rest")
    assert cli(["register", "--webhook-url", WEBHOOK_URL]) == 2
    assert "set GHE_HOST instead" in capsys.readouterr().err


def test_new_app_pages_for_a_user_an_organization_and_enterprise_server() -> None:
    assert register.new_app_page("https://github.com", None) == (
        "https://github.com/settings/apps/new"
    )
    assert register.new_app_page("https://github.com", "acme") == (
        "https://github.com/organizations/acme/settings/apps/new"
    )
    assert register.new_app_page("https://ghe.acme.dev", None) == (
        "https://ghe.acme.dev/settings/apps/new"
    )


def test_a_malformed_org_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["register", "--org", "acme/../x", "--webhook-url", WEBHOOK_URL]) == 2
    assert "is not an organization's login" in capsys.readouterr().err


# --- the .env file ---------------------------------------------------------------------


def _app(key_pair: KeyPair, **fields: Any) -> RegisteredApp:
    values: dict[str, Any] = {
        "id": 77,
        "slug": "acme-review",
        "name": "acme review",
        "html_url": "https://github.com/apps/acme-review",
        "pem": key_pair.private_pem,
        "webhook_secret": "0f" * 20,
    }
    values.update(fields)
    return RegisteredApp(**values)


@pytest.mark.parametrize("secret", ["0f" * 20, "a$b c#d", 'say "hi"', "back\\slash"])
def test_dotenv_reads_back_as_written(key_pair: KeyPair, secret: str) -> None:
    app = _app(key_pair, webhook_secret=secret)
    text = register.dotenv_text(app, host_settings={})
    register.check_dotenv(text, app)  # raises if it does not
    values = dotenv_values(stream=io.StringIO(text))
    assert values["WEBHOOK_SECRET"] == secret and values["APP_ID"] == "77"
    assert all("\n" not in line for line in text.splitlines())


def test_a_name_with_a_newline_stays_a_comment(key_pair: KeyPair) -> None:
    app = _app(key_pair, name="x\nAPP_ID=1")
    values = dotenv_values(stream=io.StringIO(register.dotenv_text(app, host_settings={})))
    assert values["APP_ID"] == "77"


@pytest.mark.parametrize("secret", ["line\nbreak", 'it\'s "both"'])
def test_a_value_no_dotenv_can_hold_is_refused(key_pair: KeyPair, secret: str) -> None:
    with pytest.raises(register.RegisterError, match="cannot hold"):
        register.dotenv_text(_app(key_pair, webhook_secret=secret), host_settings={})


def test_a_key_that_is_not_rsa_is_refused(key_pair: KeyPair) -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nbm9wZQ==\n-----END RSA PRIVATE KEY-----"
    app = _app(key_pair, pem=pem)
    with pytest.raises(register.RegisterError, match="cannot be used"):
        register.check_dotenv(register.dotenv_text(app, host_settings={}), app)


def test_an_app_page_off_the_github_host_is_refused(key_pair: KeyPair) -> None:
    host = GitHubHost(web_url="https://github.com", api_url="https://api.github.com")
    register.check_app_page(_app(key_pair), host)
    with pytest.raises(register.RegisterError, match=r"off https://github\.com"):
        register.check_app_page(_app(key_pair, html_url="https://evil.example/apps/x"), host)


def test_writing_never_leaves_a_file_others_can_read(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        register.write_dotenv(tmp_path / ".env", "APP_ID=1\n", overwrite=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / ".env").stat().st_mode) == 0o600
    with pytest.raises(register.RegisterError, match="appeared meanwhile"):
        register.write_dotenv(tmp_path / ".env", "APP_ID=2\n", overwrite=False)
    assert (tmp_path / ".env").read_text() == "APP_ID=1\n"
