"""`product-review register`: register the GitHub App from its manifest, from localhost.

GitHub's manifest flow, as Probot runs it: a page on 127.0.0.1 holds a form that
posts the manifest (app.yml, with `redirect_url` pointing back to this server and
the webhook URL filled in) to GitHub's "new app" page. Once the user has named the
app and clicked Create, GitHub sends the browser back with a one-time code, which
POST /app-manifests/{code}/conversions exchanges for the app's id, private key and
webhook secret; they are written to `.env`, readable by its owner only.

The form carries a random `state` that GitHub hands back with the code: a callback
without it is refused, so no other page can make this one write an app of its
choosing. Requests naming another host are refused too (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import base64
import html
import io
import json
import os
import re
import secrets
import socket
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from dotenv import dotenv_values
from jsonschema import Draft202012Validator
from yarl import URL

from checks import boundedyaml
from ghapp.github import ManifestConversionFailed, RegisteredApp, convert_app_manifest
from ghapp.settings import (
    DEFAULT_GITHUB_API_URL,
    DEFAULT_PORT,
    GitHubHost,
    SettingsError,
    load_app_credentials,
    load_github_host,
    read_environment,
)

MANIFEST_NAME = "app.yml"
ENV_NAME = ".env"
CALLBACK_PATH = "/callback"
LISTEN_HOST = "127.0.0.1"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10)
# A manifest is a few dozen lines; these bounds only stop a hostile file early.
MANIFEST_LIMITS = boundedyaml.YamlLimits(max_bytes=64 * 1024, max_nodes=2_000, max_depth=8)
# GitHub's own limits: an organization's login, an app's name.
_ORG_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?")
APP_NAME_LIMIT = 34
# Domains reserved for examples (RFC 2606): a webhook there reaches nobody.
_PLACEHOLDER_DOMAINS = ("example.com", "example.net", "example.org")
_PLACEHOLDER_SUFFIXES = (".example", ".invalid", ".test")
# A .env value written as is: python-dotenv, Probot's dotenv and `docker --env-file`
# all read these characters literally (no quotes, no `$` to interpolate).
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_./:+=@%,-]*")

_URL_SCHEMA = {"type": "string", "pattern": r"^https?://[^\s/?#]+[^\s]*$"}
_BOOLEAN = {"type": "boolean"}
# GitHub's manifest parameters; anything else is a typo GitHub would not act on.
MANIFEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["url"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": APP_NAME_LIMIT},
        "url": _URL_SCHEMA,
        "description": {"type": "string"},
        "hook_attributes": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"url": _URL_SCHEMA, "active": _BOOLEAN},
        },
        "redirect_url": _URL_SCHEMA,
        "callback_urls": {"type": "array", "maxItems": 10, "items": _URL_SCHEMA},
        "setup_url": _URL_SCHEMA,
        "public": _BOOLEAN,
        "default_events": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "default_permissions": {
            "type": "object",
            "additionalProperties": {"enum": ["read", "write", "admin"]},
        },
        "request_oauth_on_install": _BOOLEAN,
        "setup_on_update": _BOOLEAN,
    },
}


class RegisterError(Exception):
    """Registration cannot go on; the message is one line for the person running it."""


# --- the manifest ----------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    data: dict[str, Any]
    source: str  # where it was read, for messages


def _read_bounded(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MANIFEST_LIMITS.max_bytes + 1)
    except OSError as error:
        raise RegisterError(
            f"cannot read {path}: {error.strerror or error.__class__.__name__}"
        ) from None
    if len(raw) > MANIFEST_LIMITS.max_bytes:
        raise RegisterError(f"{path}: larger than {MANIFEST_LIMITS.max_bytes} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RegisterError(f"{path}: not UTF-8 text") from None


def _unreadable_part(value: object, where: str) -> str | None:
    """Where the loaded YAML holds something a JSON manifest cannot: a value PyYAML
    could not build, a key that is not text, a date."""
    if isinstance(value, boundedyaml.Unreadable):
        return f"{where or 'the manifest'}: {value} at line {value.line}"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{where or 'the manifest'}: the key {key!r} is not text"
            found = _unreadable_part(item, f"{where}.{key}" if where else key)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _unreadable_part(item, f"{where}[{index}]")
            if found is not None:
                return found
    elif value is not None and not isinstance(value, str | int | float | bool):
        return f"{where or 'the manifest'}: {type(value).__name__} is not a JSON value"
    return None


def parse_manifest(text: str, source: str) -> Manifest:
    """app.yml's text as a manifest GitHub takes, or RegisterError saying what is wrong."""
    loaded = boundedyaml.load(text, MANIFEST_LIMITS, what="the manifest")
    if loaded.refusal is not None:
        line = f" (line {loaded.refusal.line})" if loaded.refusal.line else ""
        raise RegisterError(f"{source}: {loaded.refusal.message}{line}")
    data = loaded.data
    if not isinstance(data, dict):
        raise RegisterError(f"{source}: expected a mapping of manifest keys (name, url, ...)")
    unreadable = _unreadable_part(data, "")
    if unreadable is not None:
        raise RegisterError(f"{source}: {unreadable}")
    errors = sorted(
        Draft202012Validator(MANIFEST_SCHEMA).iter_errors(data),
        key=lambda error: list(map(str, error.absolute_path)),
    )
    if errors:
        first = errors[0]
        where = ".".join(map(str, first.absolute_path)) or "the manifest"
        message = first.message if len(first.message) <= 200 else first.message[:199] + "…"
        raise RegisterError(f"{source}: {where}: {message}")
    return Manifest(data=data, source=source)


def load_manifest(explicit: Path | None, folder: Path) -> Manifest:
    """`explicit`, else app.yml in `folder`, else the one shipped with the package."""
    if explicit is not None:
        return parse_manifest(_read_bounded(explicit), str(explicit))
    local = folder / MANIFEST_NAME
    if local.is_file():
        return parse_manifest(_read_bounded(local), str(local))
    shipped = resources.files("ghapp").joinpath(MANIFEST_NAME).read_text(encoding="utf-8")
    return parse_manifest(shipped, f"the packaged {MANIFEST_NAME}")


def _is_placeholder(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host.endswith(_PLACEHOLDER_SUFFIXES):
        return True
    return any(host == domain or host.endswith("." + domain) for domain in _PLACEHOLDER_DOMAINS)


def webhook_url_of(manifest: Manifest, given: str | None) -> str:
    """The webhook URL to register: `given` (--webhook-url), else the manifest's."""
    hook = manifest.data.get("hook_attributes") or {}
    url = given if given is not None else hook.get("url")
    origin = "--webhook-url" if given is not None else f"{manifest.source}'s hook_attributes.url"
    if not url:
        raise RegisterError(
            "no webhook URL: pass --webhook-url https://YOUR-HOST/api/github/webhooks"
        )
    try:
        parsed = URL(url)
    except ValueError:
        parsed = URL()
    if parsed.scheme not in ("http", "https") or not parsed.host or any(c.isspace() for c in url):
        raise RegisterError(f"{origin}: {url!r} is not an http(s) URL")
    if _is_placeholder(parsed.host):
        raise RegisterError(
            f"{origin}: {url} is a placeholder GitHub cannot deliver to: pass "
            "--webhook-url https://YOUR-HOST/api/github/webhooks"
        )
    return url


def registration_manifest(
    manifest: Manifest, *, webhook_url: str, redirect_url: str
) -> dict[str, Any]:
    """The manifest as posted: GitHub sends the browser back to `redirect_url`."""
    hook = dict(manifest.data.get("hook_attributes") or {})
    hook["url"] = webhook_url
    hook.setdefault("active", True)
    return {**manifest.data, "hook_attributes": hook, "redirect_url": redirect_url}


def new_app_page(web_url: str, org: str | None) -> str:
    """GitHub's "Register new GitHub App" page, for the user or for `org`."""
    if org is None:
        return f"{web_url}/settings/apps/new"
    return f"{web_url}/organizations/{org}/settings/apps/new"


# --- the .env file ---------------------------------------------------------------------


def dotenv_line(name: str, value: str) -> str:
    """`NAME=value` as every .env reader takes it back unchanged; RegisterError when
    no quoting would (a newline or both kinds of quote)."""
    if _PLAIN_VALUE.fullmatch(value):
        return f"{name}={value}"
    if "'" not in value and value.isprintable():
        return f"{name}='{value}'"  # single quotes: no escapes, no interpolation
    raise RegisterError(f"{name}: GitHub's value has characters a .env file cannot hold")


def _comment_text(text: str) -> str:
    """`text` on one comment line: control characters would start a line of their own."""
    return "".join(c if c.isprintable() else "?" for c in text)[:200]


def check_app_page(app: RegisteredApp, host: GitHubHost) -> None:
    """The app's page must be on the GitHub it was registered on: the page links to
    it, and .env names it."""
    try:
        page, web = URL(app.html_url), URL(host.web_url)
    except ValueError:
        page = URL()
    if (
        (page.scheme, page.host, page.port) != (web.scheme, web.host, web.port)
        or not app.html_url.isprintable()
        or any(c.isspace() for c in app.html_url)
    ):
        raise RegisterError(f"GitHub's answer names an app page off {host.web_url}")


def installation_url(app: RegisteredApp) -> str:
    return f"{app.html_url.rstrip('/')}/installations/new"


def dotenv_text(app: RegisteredApp, *, host_settings: Mapping[str, str]) -> str:
    """The .env for `app`: its credentials, the GitHub it lives on, and where to
    install it. The key is base64 on one line: `serve`, Probot and `docker
    --env-file` all read that form (a multi-line PEM breaks the last)."""
    pem = app.pem.strip() + "\n"
    lines = [
        f"# The GitHub App {_comment_text(app.name)!r} ({app.slug}), written by "
        "`product-review register`.",
        f"# Its page: {_comment_text(app.html_url)}",
        f"# Install it on repositories: {_comment_text(installation_url(app))}",
        dotenv_line("APP_ID", str(app.id)),
        "# The private key: the PEM GitHub generated, base64-encoded on one line.",
        dotenv_line("PRIVATE_KEY", base64.b64encode(pem.encode()).decode("ascii")),
        dotenv_line("WEBHOOK_SECRET", app.webhook_secret),
    ]
    if host_settings:
        lines.append("# The GitHub Enterprise Server the app was registered on.")
        lines.extend(dotenv_line(name, value) for name, value in host_settings.items())
    return "\n".join(lines) + "\n"


def check_dotenv(text: str, app: RegisteredApp) -> None:
    """Read `text` back as `serve` will; RegisterError if it does not give `app`."""
    values = {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}
    try:
        app_id, private_key = load_app_credentials(values)
    except SettingsError as error:
        raise RegisterError(f"GitHub's answer cannot be used: {error.problems[0]}") from None
    if app_id != str(app.id) or values.get("WEBHOOK_SECRET") != app.webhook_secret:
        raise RegisterError("the .env written would not read back as GitHub's answer")
    if private_key.strip() != app.pem.strip():
        raise RegisterError("the private key would not read back as GitHub's")


def write_dotenv(path: Path, text: str, *, overwrite: bool) -> None:
    """Write `path` with mode 0600. Without `overwrite`, a file that appeared since the
    question was asked is left alone; with it, the old file is replaced whole, never
    left half-written."""
    target = path
    if overwrite:
        target = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise RegisterError(
            f"{path} appeared meanwhile and was left alone; in the app's settings on GitHub, "
            "generate a private key and set a webhook secret, then write .env by hand"
        ) from None
    except OSError as error:
        raise RegisterError(
            f"cannot write {path}: {error.strerror or error.__class__.__name__}"
        ) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), 0o600)  # whatever the umask
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(target, path)
    except OSError as error:
        if overwrite:
            target.unlink(missing_ok=True)
        raise RegisterError(
            f"cannot write {path}: {error.strerror or error.__class__.__name__}"
        ) from None


def may_overwrite(path: Path, *, force: bool, stdin: TextIO, stdout: TextIO) -> bool:
    """Whether `path` is to be replaced: False when there is none; True with `force`
    or a yes on a terminal; RegisterError otherwise."""
    # Found out now, not once GitHub has handed over credentials it gives only once.
    if not os.access(path.parent, os.W_OK):
        raise RegisterError(f"cannot write {path}: its folder is not writable")
    if path.is_dir():
        raise RegisterError(f"{path} is a folder")
    if not path.exists() and not path.is_symlink():
        return False
    if force:
        return True
    if not stdin.isatty():
        raise RegisterError(f"{path} exists: not overwriting it (pass --force to replace it)")
    stdout.write(f"{path} exists. Replace it with the new app's settings? [y/N] ")
    stdout.flush()
    answer = stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise RegisterError(f"{path} left as it is")
    return True


# --- the local server --------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    app: RegisteredApp
    path: Path


@dataclass
class Registration:
    """One run of `register`: what it posts, where it writes, and how it ended."""

    host: GitHubHost
    manifest: Manifest
    webhook_url: str
    env_path: Path
    overwrite: bool
    org: str | None = None
    # Settings naming the GitHub the app lives on, carried into .env (Enterprise Server).
    host_settings: dict[str, str] = field(default_factory=dict)
    state: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    base_url: str = ""  # http://127.0.0.1:PORT, once listening
    outcome: Written | RegisterError | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    claimed: bool = False  # a callback with the right state is being handled

    @property
    def redirect_url(self) -> str:
        return self.base_url + CALLBACK_PATH

    @property
    def form_action(self) -> str:
        return new_app_page(self.host.web_url, self.org) + "?" + urlencode({"state": self.state})

    @property
    def posted_manifest(self) -> dict[str, Any]:
        return registration_manifest(
            self.manifest, webhook_url=self.webhook_url, redirect_url=self.redirect_url
        )

    @property
    def where(self) -> str:
        """On which GitHub, for whom: "on github.com", "for the organization acme on ..."."""
        web = URL(self.host.web_url)
        site = f"{web.host}:{web.explicit_port}" if web.explicit_port else str(web.host)
        return f"for the organization {self.org} on {site}" if self.org else f"on {site}"


REGISTRATION_KEY = web.AppKey("registration", Registration)
SESSION_KEY = web.AppKey("session", aiohttp.ClientSession)

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;"
    "line-height:1.5}code{background:#f3f3f3;padding:0 .2em}button{font-size:1.1rem;"
    "padding:.5rem 1rem}.error{color:#a40000}"
)


def _page(title: str, body: str, *, status: int = 200) -> web.Response:
    document = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(
        text=document,
        status=status,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


_START_AGAIN = "<p>Start again from the page <code>product-review register</code> printed.</p>"
_RUN_AGAIN = (
    "<p>This page's server has stopped: run <code>product-review register</code> again.</p>"
)


def _refusal(message: str, *, status: int = 400, hint: str = _START_AGAIN) -> web.Response:
    return _page(
        "Registration refused",
        f"<p class=error id=problem>{html.escape(message)}</p>{hint}",
        status=status,
    )


def _local_host(request: web.Request, registration: Registration) -> bool:
    port = URL(registration.base_url).port
    return request.host in (f"{LISTEN_HOST}:{port}", f"localhost:{port}")


async def handle_start(request: web.Request) -> web.Response:
    registration = request.app[REGISTRATION_KEY]
    if not _local_host(request, registration):
        return _refusal("this page answers on its own address only", status=421)
    name = registration.manifest.data.get("name") or "the app"
    manifest_json = json.dumps(registration.posted_manifest)
    body = (
        f"<p>This registers <strong>{html.escape(str(name))}</strong> as a GitHub App "
        f"{html.escape(registration.where)}, from {html.escape(registration.manifest.source)}. "
        "On GitHub you can rename it, then click <em>Create GitHub App</em>; GitHub sends "
        "you back here and its settings are written to "
        f"<code>{html.escape(str(registration.env_path))}</code>.</p>"
        "<p>GitHub will send webhooks to "
        f"<code id=webhook-url>{html.escape(registration.webhook_url)}</code>: it must be "
        "reachable from GitHub (publicly, for github.com), where "
        "<code>product-review serve</code> runs.</p>"
        f'<form id=register method=post action="{html.escape(registration.form_action)}">'
        f'<input type=hidden name=manifest value="{html.escape(manifest_json)}">'
        f"<button type=submit id=create>Register {html.escape(registration.where)}</button>"
        "</form>"
    )
    return _page(f"Register {name}", body)


async def _finish(
    request: web.Request, registration: Registration, response: web.Response
) -> web.Response:
    """Send the last page in full, then let the command stop."""
    await response.prepare(request)
    await response.write_eof()
    registration.finished.set()
    return response


async def handle_callback(request: web.Request) -> web.Response:
    registration = request.app[REGISTRATION_KEY]
    if not _local_host(request, registration):
        return _refusal("this page answers on its own address only", status=421)
    state = request.query.get("state", "")
    if not secrets.compare_digest(state.encode(), registration.state.encode()):
        return _refusal(
            "this redirect does not carry this registration's state: it did not come from "
            "the form this server showed"
        )
    if registration.claimed:
        return _refusal("this registration has already been completed", status=409)
    code = request.query.get("code", "")
    if not code:
        return _refusal("GitHub's redirect carries no code")
    registration.claimed = True
    try:
        app = await convert_app_manifest(
            request.app[SESSION_KEY], api_url=registration.host.api_url, code=code
        )
        check_app_page(app, registration.host)
        text = dotenv_text(app, host_settings=registration.host_settings)
        check_dotenv(text, app)
        write_dotenv(registration.env_path, text, overwrite=registration.overwrite)
    except (ManifestConversionFailed, RegisterError) as error:
        failure = RegisterError(str(error))
        registration.outcome = failure
        page = _refusal(str(failure), status=502, hint=_RUN_AGAIN)
        return await _finish(request, registration, page)
    registration.outcome = Written(app=app, path=registration.env_path)
    link = installation_url(app)
    body = (
        f"<p>GitHub registered <strong>{html.escape(app.name)}</strong> "
        f'(<a href="{html.escape(app.html_url)}">{html.escape(app.slug)}</a>, '
        f"id <span id=app-id>{app.id}</span>).</p>"
        f"<p>Wrote <code id=env-path>{html.escape(str(registration.env_path))}</code> "
        "(readable by you only): <code>APP_ID</code>, <code>PRIVATE_KEY</code>, "
        "<code>WEBHOOK_SECRET</code>.</p>"
        f'<p>Next, <a id=install href="{html.escape(link)}">install the app</a> on the '
        "repositories whose design docs it should review, and run "
        "<code>product-review serve</code> where the webhook URL points.</p>"
        "<p>This page's server has stopped; you can close it.</p>"
    )
    return await _finish(request, registration, _page("App registered", body))


def create_app(registration: Registration) -> web.Application:
    app = web.Application()
    app[REGISTRATION_KEY] = registration

    async def github_session(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
            app[SESSION_KEY] = session
            yield

    app.cleanup_ctx.append(github_session)
    app.router.add_get("/", handle_start)
    app.router.add_get(CALLBACK_PATH, handle_callback)
    return app


async def serve(
    registration: Registration, *, port: int, announce: Callable[[Registration], None]
) -> Written:
    """Serve the page on 127.0.0.1:`port` (0: any free port) until a callback ends the
    registration; the written .env, or RegisterError."""
    try:
        listener = socket.create_server((LISTEN_HOST, port))
    except OSError as error:
        raise RegisterError(
            f"cannot listen on {LISTEN_HOST}:{port}: {error.strerror or error}; pass another --port"
        ) from None
    registration.base_url = f"http://{LISTEN_HOST}:{listener.getsockname()[1]}"
    runner = web.AppRunner(create_app(registration), access_log=None)
    await runner.setup()
    try:
        await web.SockSite(runner, listener).start()
        announce(registration)
        await registration.finished.wait()
    finally:
        await runner.cleanup()
        listener.close()
    outcome = registration.outcome
    if isinstance(outcome, Written):
        return outcome
    raise outcome if outcome is not None else RegisterError("stopped before GitHub's redirect")


# --- the command ---------------------------------------------------------------------------


def _host_settings(env: Mapping[str, str]) -> dict[str, str]:
    """The settings that name an Enterprise Server, as given, to carry into .env."""
    carried: dict[str, str] = {}
    if env.get("GHE_HOST", "").strip():
        carried["GHE_HOST"] = env["GHE_HOST"].strip()
        if env.get("GHE_PROTOCOL", "").strip():
            carried["GHE_PROTOCOL"] = env["GHE_PROTOCOL"].strip().lower()
    elif env.get("GITHUB_API_URL", "").strip().rstrip("/") not in ("", DEFAULT_GITHUB_API_URL):
        carried["GITHUB_API_URL"] = env["GITHUB_API_URL"].strip().rstrip("/")
    return carried


def _announce(registration: Registration) -> None:
    print(f"Registering a GitHub App {registration.where}, from {registration.manifest.source}.")
    print(
        f"Webhooks will go to {registration.webhook_url}: it must be reachable from GitHub "
        "(publicly, for github.com)."
    )
    print(f"Open {registration.base_url}/ in a browser and click the button (Ctrl-C to stop).")
    sys.stdout.flush()


def run(
    *,
    org: str | None = None,
    webhook_url: str | None = None,
    manifest: str | None = None,
    port: int = DEFAULT_PORT,
    force: bool = False,
    folder: Path | None = None,
) -> int:
    """`product-review register`: 0 once .env is written, 1 when GitHub did not give
    the app, 2 when it could not start (settings, manifest, an existing .env)."""
    folder = folder if folder is not None else Path.cwd()
    env_path = folder / ENV_NAME
    try:
        if org is not None and not _ORG_LOGIN.fullmatch(org):
            raise RegisterError(f"--org: {org!r} is not an organization's login")
        try:
            env = read_environment(os.environ, dotenv_path=env_path)
        except (OSError, UnicodeDecodeError) as error:
            raise RegisterError(f"cannot read {env_path}: {error}") from None
        try:
            host = load_github_host(env)
        except SettingsError as error:
            raise RegisterError(error.problems[0]) from None
        loaded = load_manifest(Path(manifest) if manifest is not None else None, folder)
        registration = Registration(
            host=host,
            manifest=loaded,
            webhook_url=webhook_url_of(loaded, webhook_url),
            env_path=env_path,
            overwrite=may_overwrite(env_path, force=force, stdin=sys.stdin, stdout=sys.stdout),
            org=org,
            host_settings=_host_settings(env),
        )
    except RegisterError as error:
        print(f"product-review register: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        written = asyncio.run(serve(registration, port=port, announce=_announce))
    except RegisterError as error:
        print(f"product-review register: {error}", file=sys.stderr)
        return EXIT_FAILED
    app = written.app
    print(
        f"Registered the GitHub App {app.name!r} (id {app.id}); wrote {written.path} "
        "(APP_ID, PRIVATE_KEY, WEBHOOK_SECRET; readable by you only)."
    )
    print(f"Install it on your repositories: {installation_url(app)}")
    print("Then run `product-review serve` where the webhook URL points.")
    return EXIT_OK
