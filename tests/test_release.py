"""The release workflow: the tag gate refuses a mismatched tag, and what it builds
holds every file the installed package reads."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
PACKAGES = ("checks", "ghapp", "localreview")


def _workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return loaded


def _step(job: str, name: str) -> dict[str, Any]:
    for step in _workflow()["jobs"][job]["steps"]:
        if step.get("name") == name:
            found: dict[str, Any] = step
            return found
    raise AssertionError(f"no step {name!r} in job {job!r}")


def _run_tag_gate(
    tmp_path: Path, tag: str, action_version: str | None = None
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pyproject.toml").write_text(
        (ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    action = (ROOT / "action.yml").read_text(encoding="utf-8")
    if action_version is not None:
        version = _project_version()
        action = action.replace(
            f'PRODUCT_REVIEW_VERSION: "{version}"', f'PRODUCT_REVIEW_VERSION: "{action_version}"'
        )
    (tmp_path / "action.yml").write_text(action, encoding="utf-8")
    script = _step("build", "The tag names the version in pyproject.toml and action.yml")["run"]
    environment = {
        **os.environ,
        "GITHUB_REF_NAME": tag,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    return subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def _project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        version: str = tomllib.load(handle)["project"]["version"]
    return version


def test_runs_on_version_tags_only_and_publishes_without_a_stored_token() -> None:
    workflow = _workflow()
    # PyYAML reads the bare key `on` as True.
    trigger = workflow.get("on", workflow.get(True))
    assert trigger == {"push": {"tags": ["v*"]}}
    assert workflow["permissions"] == {"contents": "read"}
    pypi = workflow["jobs"]["pypi"]
    assert pypi["needs"] == "build"
    assert pypi["permissions"] == {"id-token": "write"}
    assert pypi["environment"]["name"] == "pypi"
    publish = [
        step
        for step in pypi["steps"]
        if step.get("uses", "").startswith("pypa/gh-action-pypi-publish@")
    ]
    assert len(publish) == 1 and "with" not in publish[0]  # no password: trusted publishing
    image = workflow["jobs"]["image"]
    assert image["permissions"]["packages"] == "write"
    push = next(
        step
        for step in image["steps"]
        if step.get("uses", "").startswith("docker/build-push-action@")
    )
    assert push["with"]["push"] is True
    meta = next(step for step in image["steps"] if step.get("id") == "meta")
    assert meta["with"]["images"] == "ghcr.io/${{ github.repository }}"


def test_the_tag_gate_passes_the_matching_tag(tmp_path: Path) -> None:
    result = _run_tag_gate(tmp_path, f"v{_project_version()}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_tag_gate_refuses_a_tag_that_is_not_the_version(tmp_path: Path) -> None:
    result = _run_tag_gate(tmp_path, "v99.0.0")
    assert result.returncode == 1
    assert f"tag v99.0.0 does not match version {_project_version()}" in result.stdout


def test_the_tag_gate_refuses_an_action_pinned_to_another_version(tmp_path: Path) -> None:
    result = _run_tag_gate(tmp_path, f"v{_project_version()}", action_version="0.0.9")
    assert result.returncode == 1
    assert "action.yml installs 0.0.9" in result.stdout


def _package_files() -> set[str]:
    files = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                files.add(path.relative_to(ROOT).as_posix())
    return files


@pytest.fixture(scope="module")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("dist")
    # What `python -m build` does in the workflow, without fetching a build environment.
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(outdir), str(ROOT)],
        check=True,
        capture_output=True,
    )
    return outdir


def test_the_wheel_holds_every_file_of_the_packages_and_the_command(distributions: Path) -> None:
    (wheel,) = distributions.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(name for name in names if name.endswith(".dist-info/entry_points.txt"))
        commands = archive.read(entry_points).decode()
    missing = _package_files() - names
    assert not missing, f"left out of the wheel: {sorted(missing)}"
    assert "checks/model.json" in names  # the learned layer's data, read at run time
    assert "product-review = localreview.main:main" in commands


def test_the_sdist_holds_every_file_of_the_packages(distributions: Path) -> None:
    (sdist,) = distributions.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        top = sdist.name.removesuffix(".tar.gz")
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
    missing = _package_files() - names
    assert not missing, f"left out of the sdist: {sorted(missing)}"
    assert {"pyproject.toml", "README.md"} <= names
