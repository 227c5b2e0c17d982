"""The app manifest and the container image say what the README promises."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_app_manifest_events_and_permissions() -> None:
    manifest = yaml.safe_load((ROOT / "app.yml").read_text(encoding="utf-8"))
    assert {"name", "description", "url", "hook_attributes"} <= set(manifest)
    assert manifest["hook_attributes"]["url"].endswith("/api/github/webhooks")
    assert sorted(manifest["default_events"]) == [
        "check_run",
        "check_suite",
        "issue_comment",
        "pull_request",
    ]
    assert manifest["default_permissions"] == {
        "checks": "write",
        "pull_requests": "write",
        "contents": "read",
        "issues": "write",
        "metadata": "read",
    }


def test_dockerfile_runs_the_server_as_a_non_root_user_with_a_healthcheck() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    final_stage = dockerfile.split("\nFROM ")[-1]
    assert re.match(r"python:3\.\d+-slim", final_stage)
    assert re.search(r"^USER (?!root)\w+", final_stage, re.MULTILINE)
    assert "HEALTHCHECK" in final_stage and "/healthz" in final_stage
    assert 'CMD ["product-review", "serve"]' in final_stage
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored and ".git" in ignored


def test_the_image_build_copies_everything_pip_install_needs() -> None:
    """`pip wheel .` in the build stage sees only what it copies: the packages and the
    readme pyproject.toml names, none of them dropped by .dockerignore."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    needed = {"pyproject.toml", project["project"]["readme"]}
    # A subpackage is copied with the directory of its top-level package.
    needed |= {name.split(".")[0] for name in project["tool"]["setuptools"]["packages"]}
    build_stage = (ROOT / "Dockerfile").read_text(encoding="utf-8").split("\nFROM ")[1]
    copied = {
        source.removeprefix("./").rstrip("/")
        for line in build_stage.splitlines()
        if line.startswith("COPY ") and "--from" not in line
        for source in line.split()[1:-1]
    }
    assert needed <= copied, needed - copied
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert not needed & set(ignored)
    assert all((ROOT / path).exists() for path in needed)
