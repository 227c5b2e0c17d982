"""Server settings from the environment, and `main()` refusing to start."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ghapp import server
from ghapp.github import graphql_url
from ghapp.settings import (
    DEFAULT_GITHUB_API_URL,
    DEFAULT_PORT,
    DEFAULT_WEBHOOK_PATH,
    GitHubHost,
    SettingsError,
    load_github_host,
    load_server_settings,
    read_environment,
)
from tests.support.apptools import KeyPair


def valid_env(key_pair: KeyPair, **overrides: str) -> dict[str, str]:
    env = {"APP_ID": "123", "PRIVATE_KEY": key_pair.private_pem, "WEBHOOK_SECRET": "s"}
    env.update(overrides)
    return env


def problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as raised:
        load_server_settings(env)
    return raised.value.problems


def test_defaults(key_pair: KeyPair) -> None:
    settings = load_server_settings(valid_env(key_pair))
    assert settings.app_id == "123"
    assert settings.webhook_path == DEFAULT_WEBHOOK_PATH == "/api/github/webhooks"
    assert settings.port == DEFAULT_PORT == 3000
    assert settings.github_api_url == DEFAULT_GITHUB_API_URL
    assert settings.log_level == "INFO"
    assert "PRIVATE" not in repr(settings) and key_pair.private_pem not in repr(settings)


def test_every_missing_setting_is_named_at_once() -> None:
    found = problems({})
    assert [p.split(":")[0] for p in found] == [
        "APP_ID",
        "PRIVATE_KEY or PRIVATE_KEY_PATH",
        "WEBHOOK_SECRET",
    ]
    assert all("\n" not in p for p in found)


def test_malformed_values_are_named(key_pair: KeyPair) -> None:
    env = valid_env(
        key_pair,
        APP_ID="my-app",
        PORT="70000",
        WEBHOOK_PATH="hooks",
        GITHUB_API_URL="api.github.com",
        LOG_LEVEL="loud",
    )
    named = [p.split(":")[0] for p in problems(env)]
    assert named == ["APP_ID", "WEBHOOK_PATH", "PORT", "GITHUB_API_URL", "LOG_LEVEL"]


def test_private_key_with_escaped_newlines_is_accepted(key_pair: KeyPair) -> None:
    one_line = key_pair.private_pem.strip().replace("\n", "\\n")
    settings = load_server_settings(valid_env(key_pair, PRIVATE_KEY=one_line))
    assert settings.private_key.startswith("-----BEGIN PRIVATE KEY-----\n")


@pytest.mark.parametrize(
    "key_text",
    [
        "not a key",
        "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode(),
    ],
    ids=["garbage", "truncated-rsa", "ec-key"],
)
def test_a_key_that_is_not_an_rsa_pem_is_malformed(key_pair: KeyPair, key_text: str) -> None:
    (problem,) = problems(valid_env(key_pair, PRIVATE_KEY=key_text))
    assert problem.startswith("PRIVATE_KEY: malformed")


def test_private_key_path(key_pair: KeyPair, tmp_path: Path) -> None:
    key_file = tmp_path / "app.pem"
    key_file.write_text(key_pair.private_pem)
    env = valid_env(key_pair, PRIVATE_KEY_PATH=str(key_file))
    del env["PRIVATE_KEY"]
    assert load_server_settings(env).private_key == key_pair.private_pem

    env["PRIVATE_KEY_PATH"] = str(tmp_path / "missing.pem")
    (problem,) = problems(env)
    assert problem.startswith("PRIVATE_KEY_PATH: cannot read")


def test_probot_log_levels_and_enterprise_url(key_pair: KeyPair) -> None:
    settings = load_server_settings(
        valid_env(key_pair, LOG_LEVEL="warn", GITHUB_API_URL="https://ghe.example.com/api/v3/")
    )
    assert settings.log_level == "WARNING"
    assert settings.github_api_url == "https://ghe.example.com/api/v3"


def test_dotenv_is_read_and_real_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("APP_ID=1\nWEBHOOK_SECRET=from-file\nPORT=8080\n")
    merged = read_environment({"APP_ID": "2"}, dotenv_path=dotenv)
    assert merged["APP_ID"] == "2"
    assert merged["WEBHOOK_SECRET"] == "from-file"
    assert merged["PORT"] == "8080"
    assert read_environment({"X": "1"}, dotenv_path=tmp_path / "absent") == {"X": "1"}


def test_main_refuses_to_start_with_one_line_per_problem(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORT", "http")

    def must_not_run(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the server must not start")

    monkeypatch.setattr(server.web, "run_app", must_not_run)
    assert server.main() == 2
    lines = capsys.readouterr().err.strip().split("\n")
    assert len(lines) == 4
    assert all(line.startswith("product-review serve: ") for line in lines)
    assert any("PORT: malformed" in line for line in lines)


def test_main_serves_with_a_valid_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key_pair: KeyPair
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "APP_ID=77\nWEBHOOK_SECRET=s\nPORT=3999\nPRIVATE_KEY="
        + key_pair.private_pem.strip().replace("\n", "\\n")
        + "\n"
    )
    for name in ("APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "PORT", "HOST"):
        monkeypatch.delenv(name, raising=False)
    started: dict[str, Any] = {}

    def fake_run_app(app: Any, **kwargs: Any) -> None:
        started.update(kwargs, app=app)

    async def credentials_accepted(settings: Any) -> None:
        return None

    monkeypatch.setattr(server.web, "run_app", fake_run_app)
    # The default API is github.com, which this test must not reach.
    monkeypatch.setattr(server, "check_credentials", credentials_accepted)
    assert server.main() == 0
    assert started["port"] == 3999
    assert started["host"] == "0.0.0.0"
    assert started["app"][server.SETTINGS_KEY].app_id == "77"


@pytest.mark.parametrize(
    ("dotenv_secret", "environ_secret", "warned"),
    [
        # A real variable keeps its quotes: what `docker run --env-file` passes on.
        (None, '"s3cret"', True),
        (None, "'s3cret'", True),
        (None, "s3cret", False),
        (None, '"s3cret', False),
        # The server's own reading of `.env` strips them.
        ('"s3cret"', None, False),
    ],
)
def test_main_warns_of_a_webhook_secret_wrapped_in_quotes(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    key_pair: KeyPair,
    caplog: pytest.LogCaptureFixture,
    dotenv_secret: str | None,
    environ_secret: str | None,
    warned: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ID", "77")
    monkeypatch.setenv("PRIVATE_KEY", key_pair.private_pem)
    if dotenv_secret is not None:
        (tmp_path / ".env").write_text(f"WEBHOOK_SECRET={dotenv_secret}\n")
    if environ_secret is not None:
        monkeypatch.setenv("WEBHOOK_SECRET", environ_secret)
    started: dict[str, Any] = {}

    def fake_run_app(app: Any, **kwargs: Any) -> None:
        started["secret"] = app[server.SETTINGS_KEY].webhook_secret

    async def credentials_accepted(settings: Any) -> None:
        return None

    monkeypatch.setattr(server.web, "run_app", fake_run_app)
    monkeypatch.setattr(server, "check_credentials", credentials_accepted)
    caplog.set_level(logging.WARNING, logger="ghapp.server")
    assert server.main() == 0
    assert started["secret"] == (environ_secret or "s3cret")
    assert ("WEBHOOK_SECRET starts and ends with a quote" in caplog.text) is warned


# --- Probot's settings ----------------------------------------------------------


def test_a_base64_encoded_private_key_is_decoded(key_pair: KeyPair) -> None:
    encoded = base64.b64encode(key_pair.private_pem.encode()).decode()
    assert load_server_settings(valid_env(key_pair, PRIVATE_KEY=encoded)).private_key == (
        key_pair.private_pem
    )
    # Wrapped at 76 characters, as `base64` prints it, works too.
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    assert load_server_settings(valid_env(key_pair, PRIVATE_KEY=wrapped)).private_key == (
        key_pair.private_pem
    )


@pytest.mark.parametrize(
    "key_text",
    [base64.b64encode(b"not a key at all").decode(), "bm90IGJhc2U2NA=!"],
    ids=["base64-of-garbage", "not-base64"],
)
def test_base64_that_is_not_a_pem_is_malformed(key_pair: KeyPair, key_text: str) -> None:
    (problem,) = problems(valid_env(key_pair, PRIVATE_KEY=key_text))
    assert problem.startswith("PRIVATE_KEY: malformed")


def without_key(key_pair: KeyPair, **overrides: str) -> dict[str, str]:
    env = valid_env(key_pair, **overrides)
    del env["PRIVATE_KEY"]
    return env


def test_a_lone_pem_file_in_the_key_folder_is_the_key(key_pair: KeyPair, tmp_path: Path) -> None:
    (tmp_path / "my-app.2026-01-01.private-key.pem").write_text(key_pair.private_pem)
    settings = load_server_settings(without_key(key_pair), key_dir=tmp_path)
    assert settings.private_key == key_pair.private_pem
    # Only when asked to look: the library call with no folder reads no file.
    (problem,) = problems(without_key(key_pair))
    assert problem.startswith("PRIVATE_KEY or PRIVATE_KEY_PATH: missing")


def test_a_set_key_wins_over_a_pem_file(key_pair: KeyPair, tmp_path: Path) -> None:
    (tmp_path / "other.pem").write_text("not a key")
    settings = load_server_settings(valid_env(key_pair), key_dir=tmp_path)
    assert settings.private_key == key_pair.private_pem.strip()


def test_several_pem_files_are_named_in_one_problem(key_pair: KeyPair, tmp_path: Path) -> None:
    for name in ("b.pem", "a.pem"):
        (tmp_path / name).write_text(key_pair.private_pem)
    with pytest.raises(SettingsError) as raised:
        load_server_settings(without_key(key_pair), key_dir=tmp_path)
    (problem,) = raised.value.problems
    assert "2 .pem files" in problem and "a.pem, b.pem" in problem
    assert "PRIVATE_KEY_PATH" in problem


def test_a_lone_pem_file_that_is_not_a_key_is_malformed(
    key_pair: KeyPair, tmp_path: Path
) -> None:
    (tmp_path / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n")
    with pytest.raises(SettingsError) as raised:
        load_server_settings(without_key(key_pair), key_dir=tmp_path)
    assert raised.value.problems == [
        "the key file cert.pem: malformed (expected an RSA private key in PEM format)"
    ]


@pytest.mark.parametrize(
    ("extra", "api_url"),
    [
        ({"GHE_HOST": "ghe.example.com"}, "https://ghe.example.com/api/v3"),
        ({"GHE_HOST": "ghe.example.com:8443", "GHE_PROTOCOL": "HTTP"}, "http://ghe.example.com:8443/api/v3"),
        (
            {"GHE_HOST": "ghe.example.com", "GITHUB_API_URL": "https://ghe.example.com/api/v3/"},
            "https://ghe.example.com/api/v3",
        ),
    ],
    ids=["host", "protocol-and-port", "agreeing-api-url"],
)
def test_ghe_host_sets_the_enterprise_api(
    key_pair: KeyPair, extra: dict[str, str], api_url: str
) -> None:
    settings = load_server_settings(valid_env(key_pair, **extra))
    assert settings.github_api_url == api_url
    assert graphql_url(settings.github_api_url) == api_url.removesuffix("/v3") + "/graphql"


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (
            {"GHE_HOST": "ghe.example.com", "GITHUB_API_URL": "https://api.github.com"},
            "GHE_HOST and GITHUB_API_URL: conflicting",
        ),
        ({"GHE_HOST": "https://ghe.example.com"}, "GHE_HOST: malformed"),
        ({"GHE_HOST": "ghe.example.com", "GHE_PROTOCOL": "ftp"}, "GHE_PROTOCOL: malformed"),
    ],
    ids=["conflict", "scheme-in-host", "protocol"],
)
def test_ghe_settings_that_cannot_work_are_named(
    key_pair: KeyPair, extra: dict[str, str], named: str
) -> None:
    (problem,) = problems(valid_env(key_pair, **extra))
    assert problem.startswith(named)
    assert "\n" not in problem


@pytest.mark.parametrize(
    ("given", "level"),
    [
        ("trace", "DEBUG"),
        ("debug", "DEBUG"),
        ("info", "INFO"),
        ("warn", "WARNING"),
        ("error", "ERROR"),
        ("fatal", "CRITICAL"),
        ("silent", "SILENT"),
    ],
)
def test_probot_log_level_names(key_pair: KeyPair, given: str, level: str) -> None:
    assert load_server_settings(valid_env(key_pair, LOG_LEVEL=given)).log_level == level


def test_silent_is_above_every_level(key_pair: KeyPair) -> None:
    settings = load_server_settings(valid_env(key_pair, LOG_LEVEL="silent"))
    assert settings.log_level_number > logging.CRITICAL


def test_log_format(key_pair: KeyPair) -> None:
    assert load_server_settings(valid_env(key_pair)).log_format == "text"
    assert load_server_settings(valid_env(key_pair, LOG_FORMAT="JSON")).log_format == "json"
    (problem,) = problems(valid_env(key_pair, LOG_FORMAT="pretty"))
    assert problem == "LOG_FORMAT: malformed 'pretty' (expected text or json)"


def test_worker_priority(key_pair: KeyPair) -> None:
    assert load_server_settings(valid_env(key_pair)).worker_priority == "nice"
    idle = load_server_settings(valid_env(key_pair, WORKER_PRIORITY="Idle"))
    assert idle.worker_priority == "idle"
    (problem,) = problems(valid_env(key_pair, WORKER_PRIORITY="high"))
    assert problem == "WORKER_PRIORITY: malformed 'high' (expected nice or idle)"


@pytest.mark.parametrize(
    ("value", "expected"), [("", None), ("9464", 9464), (" 9101 ", 9101), ("0", None)]
)
def test_metrics_port_of_a_worker(key_pair: KeyPair, value: str, expected: int | None) -> None:
    settings = load_server_settings(valid_env(key_pair, METRICS_PORT=value))
    assert settings.metrics_port == expected


@pytest.mark.parametrize("value", ["65536", "-1", "http", "9464x", "\u0663"])
def test_a_malformed_metrics_port_is_refused(key_pair: KeyPair, value: str) -> None:
    (problem,) = problems(valid_env(key_pair, METRICS_PORT=value))
    assert problem == f"METRICS_PORT: malformed {value!r} (expected 1-65535, or 0 for none)"


def test_webhook_proxy_url_is_read(key_pair: KeyPair) -> None:
    assert load_server_settings(valid_env(key_pair)).webhook_proxy_url is None
    settings = load_server_settings(
        valid_env(key_pair, WEBHOOK_PROXY_URL="https://smee.io/abc")
    )
    assert settings.webhook_proxy_url == "https://smee.io/abc"


def test_the_github_host_names_its_web_pages_and_its_api() -> None:
    assert load_github_host({}) == GitHubHost(
        web_url="https://github.com", api_url="https://api.github.com"
    )
    assert load_github_host({"GHE_HOST": "ghe.acme.dev"}) == GitHubHost(
        web_url="https://ghe.acme.dev", api_url="https://ghe.acme.dev/api/v3"
    )
    assert load_github_host({"GITHUB_API_URL": "http://ghe.acme.dev:8080/api/v3/"}) == (
        GitHubHost(web_url="http://ghe.acme.dev:8080", api_url="http://ghe.acme.dev:8080/api/v3")
    )
    with pytest.raises(SettingsError, match="GHE_PROTOCOL"):
        load_github_host({"GHE_HOST": "ghe.acme.dev", "GHE_PROTOCOL": "gopher"})
