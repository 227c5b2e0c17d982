"""Server settings from the environment, and `main()` refusing to start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ghapp import server
from ghapp.settings import (
    DEFAULT_GITHUB_API_URL,
    DEFAULT_PORT,
    DEFAULT_WEBHOOK_PATH,
    SettingsError,
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

    monkeypatch.setattr(server.web, "run_app", fake_run_app)
    assert server.main() == 0
    assert started["port"] == 3999
    assert started["host"] == "0.0.0.0"
    assert started["app"][server.SETTINGS_KEY].app_id == "77"
