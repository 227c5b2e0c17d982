"""The app manifest and the container image say what the README promises."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from tests.ghapp.test_docker_image import KEY_IN_CONTAINER, STATE_IN_CONTAINER

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
    # Docker Hub's Python image unless the build names another base (the smoke test's).
    assert re.search(r"^ARG BASE_IMAGE=python:3\.\d+-slim$", dockerfile, re.MULTILINE)
    assert re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE) == ["${BASE_IMAGE}"] * 2
    final_stage = dockerfile.split("\nFROM ")[-1]
    assert re.search(r"^USER (?!root)\w+", final_stage, re.MULTILINE)
    assert "HEALTHCHECK" in final_stage and "/healthz" in final_stage
    assert 'CMD ["product-review", "serve"]' in final_stage
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored and ".git" in ignored


def test_the_final_stage_takes_only_the_built_virtual_environment() -> None:
    """No wheel, pip cache or source tree left in a layer of the final image."""
    final_stage = (ROOT / "Dockerfile").read_text(encoding="utf-8").split("\nFROM ")[-1]
    copied = [line.split() for line in final_stage.splitlines() if line.startswith("COPY ")]
    assert copied == [["COPY", "--from=build", "/opt/product-review", "/opt/product-review"]]
    assert "pip" not in final_stage and ".whl" not in final_stage
    assert re.search(r"^\s+PATH=/opt/product-review/bin:\$PATH", final_stage, re.MULTILINE)


def test_the_image_build_copies_everything_pip_install_needs() -> None:
    """`pip install .` in the build stage sees only what it copies: the packages and the
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


def _final_stage_instruction(name: str) -> str:
    final_stage = (ROOT / "Dockerfile").read_text(encoding="utf-8").split("\nFROM ")[-1]
    match = re.search(rf"^{name} (.+)$", final_stage, re.MULTILINE)
    assert match, name
    return match.group(1)


def test_the_readme_runs_the_image_as_the_dockerfile_builds_it() -> None:
    """The deployment section's `docker run` and Compose file, and the smoke test that
    runs the image, mount things where the image looks for them."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    deploy = readme.split("<!-- SECTION:deploy -->")[1].split("<!-- SECTION:")[0]
    run = re.search(r"^docker run (?:.*\\\n)*.*$", deploy, re.MULTILINE)
    assert run, "the deployment section lost its docker run example"
    workdir = _final_stage_instruction("WORKDIR")
    (state_volume,) = json.loads(_final_stage_instruction("VOLUME"))
    assert f":{workdir}/.env:ro" in run.group(0)  # where the server reads .env
    assert f":{state_volume} " in run.group(0)
    assert f":{KEY_IN_CONTAINER}:ro" in run.group(0)
    assert state_volume == STATE_IN_CONTAINER
    compose = re.search(r"```yaml\n# docker-compose.yml\n(.*?)```", deploy, re.DOTALL)
    assert compose, "the deployment section lost its Compose example"
    services = yaml.safe_load(compose.group(1))["services"]
    assert services["web"]["command"] == json.loads(_final_stage_instruction("CMD"))
    assert services["worker"]["command"] == ["product-review", "worker"]
    assert {services[name]["image"] for name in ("web", "worker")} == {"product-review"}
    # Each worker's own metrics port is reachable by the scraper.
    worker = services["worker"]
    assert worker["environment"]["METRICS_PORT"] in worker["expose"]
