"""Server settings: read from the environment (and `.env`), validated all at once.

Names follow Probot where it has them, so an app registered for Probot can be
pointed at this server unchanged. Validation reports every problem in one go:
fixing one setting at a time across restarts is a poor first-run experience.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from dotenv import dotenv_values

from localreview.budget import (
    DEFAULT_DOCUMENT_MEMORY_MB,
    DEFAULT_DOCUMENT_TIMEOUT_SECONDS,
    DEFAULT_MAX_DOCUMENT_KB,
    Budget,
    default_workers,
)

DEFAULT_WEBHOOK_PATH = "/api/github/webhooks"
DEFAULT_PORT = 3000
DEFAULT_HOST = "0.0.0.0"  # inside a container the server must listen on all interfaces
DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_LOG_LEVEL = "INFO"
DEFAULT_GHE_PROTOCOL = "https"
LOG_FORMATS = ("text", "json")
# How `product-review worker` yields the CPU: `nice` (weighed, never starved: a
# machine of its own) or `idle` (SCHED_IDLE, pool included: only what web
# processes on the same machine leave over).
WORKER_PRIORITIES = ("nice", "idle")
# Probot's `LOG_LEVEL=silent`: a level above every record's, so nothing is logged.
SILENT = "SILENT"
SILENT_LEVEL_NUMBER = logging.CRITICAL + 10
# A connection has this long to send a request's headers (from opening, or from the
# previous answer), and a webhook then this long to send its body.
DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0
DEFAULT_BODY_TIMEOUT_SECONDS = 20.0
# Where the durable queue keeps its SQLite database, relative to the working directory.
DEFAULT_STATE_DIR = ".product-review"
DEFAULT_JOB_LEASE_SECONDS = 30.0
# Scaled out (REDIS_URL): a review's job gets this long, then is tried again; a dead
# worker's job is taken again this long (plus 15 s) after it started.
DEFAULT_JOB_TIMEOUT_SECONDS = 300.0
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", SILENT)
# Probot's level names, so a Probot `.env` works as is.
_LOG_LEVEL_ALIASES = {"TRACE": "DEBUG", "WARN": "WARNING", "FATAL": "CRITICAL"}
_PROBOT_LOG_LEVELS = ("trace", "debug", "info", "warn", "error", "fatal", "silent")
_PEM_BEGIN = "-----BEGIN"
# No budget setting needs more; the cap keeps a typo from meaning "no limit at all".
_MAX_LIMIT = 1_000_000
_MAX_WORKERS = 256


class SettingsError(Exception):
    """The environment cannot run the server; `problems` has one line per setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class ServerSettings:
    app_id: str
    private_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    webhook_path: str = DEFAULT_WEBHOOK_PATH
    port: int = DEFAULT_PORT
    host: str = DEFAULT_HOST
    github_api_url: str = DEFAULT_GITHUB_API_URL
    log_level: str = DEFAULT_LOG_LEVEL
    log_format: str = "text"
    # Probot's smee.io relay; `serve` refuses it (no maintained Python client).
    webhook_proxy_url: str | None = None
    header_timeout_seconds: float = DEFAULT_HEADER_TIMEOUT_SECONDS
    body_timeout_seconds: float = DEFAULT_BODY_TIMEOUT_SECONDS
    # The budget each document is reviewed within (see localreview.budget).
    max_document_kb: int = DEFAULT_MAX_DOCUMENT_KB
    document_timeout_seconds: float = DEFAULT_DOCUMENT_TIMEOUT_SECONDS
    document_memory_mb: int = DEFAULT_DOCUMENT_MEMORY_MB
    review_workers: int = field(default_factory=default_workers)
    # The durable queue's folder; None keeps deliveries in memory only (embedding, tests).
    state_dir: Path | None = None
    job_lease_seconds: float = DEFAULT_JOB_LEASE_SECONDS
    # Probot's name: with it, deliveries are queued on Redis for `product-review worker`.
    redis_url: str | None = field(default=None, repr=False)
    job_timeout_seconds: float = DEFAULT_JOB_TIMEOUT_SECONDS
    worker_priority: str = "nice"
    # `product-review worker`'s /metrics and /healthz; None: not served (several
    # workers on one host each need a port of their own).
    metrics_port: int | None = None

    @property
    def log_level_number(self) -> int:
        if self.log_level == SILENT:
            return SILENT_LEVEL_NUMBER
        return logging.getLevelNamesMapping()[self.log_level]

    @property
    def budget(self) -> Budget:
        return Budget(
            max_document_kb=self.max_document_kb,
            timeout_seconds=self.document_timeout_seconds,
            memory_mb=self.document_memory_mb,
        )


def read_environment(
    environ: Mapping[str, str], *, dotenv_path: Path | None = None
) -> dict[str, str]:
    """The effective environment: `.env` values, overridden by real variables."""
    merged: dict[str, str] = {}
    if dotenv_path is not None and dotenv_path.is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    merged.update(environ)
    return merged


def _is_rsa_private_key(pem: str) -> bool:
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        return False
    return isinstance(key, RSAPrivateKey)


def _decoded_inline_key(inline: str) -> str:
    """PRIVATE_KEY as given: PEM text (literal `\\n` escapes allowed, Probot's one-line
    form), or the PEM base64-encoded once more, which Probot accepts too."""
    if _PEM_BEGIN in inline:
        return inline.replace("\\n", "\n")
    try:
        decoded = base64.b64decode("".join(inline.split()), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return inline
    return decoded if _PEM_BEGIN in decoded else inline


def _read_key_file(path: Path, source: str, problems: list[str]) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(f"{source}: cannot read {path}: {error.__class__.__name__}")
        return None


def _private_key(env: Mapping[str, str], problems: list[str], key_dir: Path | None) -> str:
    inline = env.get("PRIVATE_KEY", "").strip()
    path = env.get("PRIVATE_KEY_PATH", "").strip()
    pem: str | None
    if inline:
        pem = _decoded_inline_key(inline)
        source = "PRIVATE_KEY"
    elif path:
        source = f"PRIVATE_KEY_PATH ({path})"
        pem = _read_key_file(Path(path), "PRIVATE_KEY_PATH", problems)
    else:
        # Probot's fallback: the one key file GitHub's download left in the folder.
        found = sorted(key_dir.glob("*.pem")) if key_dir is not None else []
        if not found:
            problems.append("PRIVATE_KEY or PRIVATE_KEY_PATH: missing (the app's PEM private key)")
            return ""
        if len(found) > 1:
            names = ", ".join(candidate.name for candidate in found)
            problems.append(
                f"PRIVATE_KEY or PRIVATE_KEY_PATH: missing, and {len(found)} .pem files in "
                f"{key_dir} ({names}): set PRIVATE_KEY_PATH to the app's"
            )
            return ""
        source = f"the key file {found[0].name}"
        pem = _read_key_file(found[0], "the key file", problems)
    if pem is None:
        return ""
    if not _is_rsa_private_key(pem):
        problems.append(f"{source}: malformed (expected an RSA private key in PEM format)")
        return ""
    return pem


def _api_url(env: Mapping[str, str], problems: list[str]) -> str:
    """GITHUB_API_URL, or Probot's GHE_HOST and GHE_PROTOCOL for Enterprise Server."""
    given = env.get("GITHUB_API_URL", "").strip().rstrip("/")
    ghe_host = env.get("GHE_HOST", "").strip().rstrip("/")
    protocol = env.get("GHE_PROTOCOL", "").strip().lower() or DEFAULT_GHE_PROTOCOL
    if ghe_host:
        if protocol not in ("http", "https"):
            problems.append(f"GHE_PROTOCOL: malformed {protocol!r} (expected https or http)")
            return given or DEFAULT_GITHUB_API_URL
        if "/" in ghe_host or not urlsplit(f"{protocol}://{ghe_host}").hostname:
            problems.append(
                f"GHE_HOST: malformed {ghe_host!r} (expected a host name such as "
                "github.example.com, without scheme or path)"
            )
            return given or DEFAULT_GITHUB_API_URL
        enterprise = f"{protocol}://{ghe_host}/api/v3"
        if given and given != enterprise:
            problems.append(
                f"GHE_HOST and GITHUB_API_URL: conflicting ({enterprise} and {given}); "
                "set only one"
            )
        return enterprise
    api_url = given or DEFAULT_GITHUB_API_URL
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(
            f"GITHUB_API_URL: malformed {api_url!r} (expected e.g. https://api.github.com "
            "or https://HOST/api/v3)"
        )
    return api_url


@dataclass(frozen=True)
class GitHubHost:
    """Where GitHub is: its web pages (`web_url`) and its REST API (`api_url`)."""

    web_url: str
    api_url: str


DEFAULT_GITHUB_WEB_URL = "https://github.com"
_ENTERPRISE_API_PATH = "/api/v3"


def load_github_host(env: Mapping[str, str]) -> GitHubHost:
    """The GitHub `serve` talks to (GITHUB_API_URL, or GHE_HOST and GHE_PROTOCOL), with
    its web address: github.com for api.github.com, PROTOCOL://HOST on Enterprise
    Server. Raise SettingsError when either is malformed or the web address is unknown."""
    problems: list[str] = []
    api_url = _api_url(env, problems)
    if problems:
        raise SettingsError(problems)
    if api_url == DEFAULT_GITHUB_API_URL:
        return GitHubHost(web_url=DEFAULT_GITHUB_WEB_URL, api_url=api_url)
    if api_url.endswith(_ENTERPRISE_API_PATH):
        return GitHubHost(web_url=api_url.removesuffix(_ENTERPRISE_API_PATH), api_url=api_url)
    raise SettingsError(
        [
            f"GITHUB_API_URL: {api_url} is neither https://api.github.com nor an Enterprise "
            "Server's https://HOST/api/v3, so its web pages are unknown: set GHE_HOST instead"
        ]
    )


def _whole_number(
    env: Mapping[str, str],
    name: str,
    default: int,
    problems: list[str],
    *,
    maximum: int = _MAX_LIMIT,
) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if text.isascii() and text.isdigit() and 0 < int(text) <= maximum:
        return int(text)
    problems.append(f"{name}: malformed {text!r} (expected a whole number from 1 to {maximum})")
    return default


def _seconds(env: Mapping[str, str], name: str, default: float, problems: list[str]) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if 0 < seconds <= _MAX_LIMIT:  # also refuses nan and inf
        return seconds
    problems.append(f"{name}: malformed {text!r} (expected a number of seconds above 0)")
    return default


def _app_id(env: Mapping[str, str], problems: list[str]) -> str:
    app_id = env.get("APP_ID", "").strip()
    if not app_id:
        problems.append("APP_ID: missing (the numeric ID on the app's settings page)")
    elif not app_id.isdigit():
        problems.append(f"APP_ID: malformed {app_id!r} (expected a number)")
    return app_id


def load_app_credentials(
    env: Mapping[str, str], *, key_dir: Path | None = None
) -> tuple[str, str]:
    """The app's ID and PEM private key from `env`, as `serve` reads them; raise
    SettingsError naming what is missing or malformed."""
    problems: list[str] = []
    app_id = _app_id(env, problems)
    private_key = _private_key(env, problems, key_dir)
    if problems:
        raise SettingsError(problems)
    return app_id, private_key


def load_server_settings(
    env: Mapping[str, str], *, key_dir: Path | None = None
) -> ServerSettings:
    """Validate `env`; raise SettingsError naming every missing or malformed setting.

    With neither PRIVATE_KEY nor PRIVATE_KEY_PATH set, a lone `*.pem` file in
    `key_dir` (the working directory, for the commands) is the key, as in Probot."""
    problems: list[str] = []

    app_id = _app_id(env, problems)
    private_key = _private_key(env, problems, key_dir)

    webhook_secret = env.get("WEBHOOK_SECRET", "")
    if not webhook_secret:
        problems.append("WEBHOOK_SECRET: missing (the secret set on the app's webhook)")

    webhook_path = env.get("WEBHOOK_PATH", "").strip() or DEFAULT_WEBHOOK_PATH
    if not webhook_path.startswith("/"):
        problems.append(f"WEBHOOK_PATH: malformed {webhook_path!r} (must start with /)")

    port = DEFAULT_PORT
    port_text = env.get("PORT", "").strip()
    if port_text:
        if port_text.isdigit() and 0 < int(port_text) < 65536:
            port = int(port_text)
        else:
            problems.append(f"PORT: malformed {port_text!r} (expected 1-65535)")

    host = env.get("HOST", "").strip() or DEFAULT_HOST

    api_url = _api_url(env, problems)

    log_level = (env.get("LOG_LEVEL", "").strip() or DEFAULT_LOG_LEVEL).upper()
    log_level = _LOG_LEVEL_ALIASES.get(log_level, log_level)
    if log_level not in _LOG_LEVELS:
        problems.append(
            f"LOG_LEVEL: malformed {log_level.lower()!r} (expected one of "
            f"{', '.join(_PROBOT_LOG_LEVELS)}, or warning, critical)"
        )
    log_format = env.get("LOG_FORMAT", "").strip().lower() or "text"
    if log_format not in LOG_FORMATS:
        problems.append(f"LOG_FORMAT: malformed {log_format!r} (expected text or json)")
    webhook_proxy_url = env.get("WEBHOOK_PROXY_URL", "").strip() or None

    header_timeout = _seconds(
        env, "HEADER_TIMEOUT_SECONDS", DEFAULT_HEADER_TIMEOUT_SECONDS, problems
    )
    body_timeout = _seconds(env, "BODY_TIMEOUT_SECONDS", DEFAULT_BODY_TIMEOUT_SECONDS, problems)

    max_document_kb = _whole_number(env, "MAX_DOCUMENT_KB", DEFAULT_MAX_DOCUMENT_KB, problems)
    document_timeout = _seconds(
        env, "DOCUMENT_TIMEOUT_SECONDS", DEFAULT_DOCUMENT_TIMEOUT_SECONDS, problems
    )
    document_memory_mb = _whole_number(
        env, "DOCUMENT_MEMORY_MB", DEFAULT_DOCUMENT_MEMORY_MB, problems
    )
    review_workers = _whole_number(
        env, "REVIEW_WORKERS", default_workers(), problems, maximum=_MAX_WORKERS
    )

    state_dir = Path(env.get("STATE_DIR", "").strip() or DEFAULT_STATE_DIR).absolute()
    job_lease = _seconds(env, "JOB_LEASE_SECONDS", DEFAULT_JOB_LEASE_SECONDS, problems)
    redis_url = env.get("REDIS_URL", "").strip() or None
    if redis_url is not None and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
        problems.append(
            "REDIS_URL: malformed (expected redis://[[user]:password@]host[:port][/db], "
            "rediss:// or unix://)"
        )
    job_timeout = _seconds(env, "JOB_TIMEOUT_SECONDS", DEFAULT_JOB_TIMEOUT_SECONDS, problems)
    worker_priority = env.get("WORKER_PRIORITY", "").strip().lower() or "nice"
    if worker_priority not in WORKER_PRIORITIES:
        problems.append(
            f"WORKER_PRIORITY: malformed {worker_priority!r} (expected nice or idle)"
        )

    metrics_port: int | None = None
    metrics_port_text = env.get("METRICS_PORT", "").strip()
    if metrics_port_text:
        digits = metrics_port_text.isascii() and metrics_port_text.isdigit()
        if digits and int(metrics_port_text) < 65536:
            metrics_port = int(metrics_port_text) or None
        else:
            problems.append(
                f"METRICS_PORT: malformed {metrics_port_text!r} (expected 1-65535, or 0 for none)"
            )

    if problems:
        raise SettingsError(problems)
    return ServerSettings(
        app_id=app_id,
        private_key=private_key,
        webhook_secret=webhook_secret,
        webhook_path=webhook_path,
        port=port,
        host=host,
        github_api_url=api_url,
        log_level=log_level,
        log_format=log_format,
        webhook_proxy_url=webhook_proxy_url,
        header_timeout_seconds=header_timeout,
        body_timeout_seconds=body_timeout,
        max_document_kb=max_document_kb,
        document_timeout_seconds=document_timeout,
        document_memory_mb=document_memory_mb,
        review_workers=review_workers,
        state_dir=state_dir,
        job_lease_seconds=job_lease,
        redis_url=redis_url,
        job_timeout_seconds=job_timeout,
        worker_priority=worker_priority,
        metrics_port=metrics_port,
    )


def settings_from_environment(command: str) -> ServerSettings | None:
    """The settings of the environment and ./.env, as `serve` and `worker` read them;
    None after printing one line per problem, each led by `command`."""
    env = read_environment(os.environ, dotenv_path=Path.cwd() / ".env")
    try:
        return load_server_settings(env, key_dir=Path.cwd())
    except SettingsError as error:
        for problem in error.problems:
            print(f"{command}: {problem}", file=sys.stderr)
        return None
