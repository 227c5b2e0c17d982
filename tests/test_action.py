"""The GitHub Action: action.yml's steps, run with bash as the runner runs them, on a
git repository whose head commit changes a design doc."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import localreview

REPOSITORY = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((REPOSITORY / "action.yml").read_text(encoding="utf-8"))

CHANGED_DOC = "docs/design/0001-cache.md"
UNCHANGED_DOC = "docs/design/0002-queue.md"

BASE_TEXT = """\
# RFC: Response cache

Status: Draft
Authors: Ada

## Motivation

The API is slow for repeated reads.

## Design

We add a cache in front of the API.
"""
# Line 12 gains a placeholder (a warning); the problem section (line 8) stays weak.
HEAD_TEXT = BASE_TEXT.replace(
    "We add a cache in front of the API.\n",
    "We add a cache in front of the API. TBD.\nEntries expire after a minute.\n",
)
CHANGED_LINE = 12
# Unchanged by the pull request, with a placeholder of its own.
UNCHANGED_TEXT = """\
# RFC: Work queue

Status: Draft
Authors: Grace

## Motivation

Jobs are lost when a worker restarts.

## Design

Jobs go to a durable queue. TODO: pick one.
"""

_EXPRESSION = re.compile(r"\$\{\{\s*(inputs|github)\.([A-Za-z0-9_-]+)\s*\}\}")


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@dataclass(frozen=True)
class PullRequest:
    workspace: Path
    event: Path
    base: str
    head: str


@pytest.fixture
def pull_request(tmp_path: Path) -> PullRequest:
    workspace = tmp_path / "repo"
    (workspace / "docs" / "design").mkdir(parents=True)
    _git(workspace, "init", "-q", "-b", "main")
    (workspace / "README.md").write_text("# Project\n\nSome project.\n", encoding="utf-8")
    (workspace / CHANGED_DOC).write_text(BASE_TEXT, encoding="utf-8")
    (workspace / UNCHANGED_DOC).write_text(UNCHANGED_TEXT, encoding="utf-8")
    _git(workspace, "add", ".")
    _git(workspace, "commit", "-q", "-m", "base")
    base = _git(workspace, "rev-parse", "HEAD")
    _git(workspace, "checkout", "-q", "-b", "feature")
    (workspace / CHANGED_DOC).write_text(HEAD_TEXT, encoding="utf-8")
    _git(workspace, "commit", "-q", "-am", "head")
    head = _git(workspace, "rev-parse", "HEAD")
    # The shape of the runner's event file, reduced to what the action reads.
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "action": "synchronize",
                "number": 7,
                "pull_request": {
                    "number": 7,
                    "base": {"ref": "main", "sha": base},
                    "head": {"ref": "feature", "sha": head},
                },
            }
        ),
        encoding="utf-8",
    )
    return PullRequest(workspace, event, base, head)


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    summary: str
    outputs: dict[str, str]
    workspace: Path

    @property
    def annotations(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith("::")]

    def sarif(self) -> dict[str, object]:
        log: dict[str, object] = json.loads(
            (self.workspace / self.outputs["sarif-file"]).read_text(encoding="utf-8")
        )
        return log


def run_action(pull: PullRequest, tmp_path: Path, **given: str) -> Run:
    """Every step of action.yml, as the runner would run it: its expressions filled in
    from the inputs' defaults and `given` (input names with `_` for `-`), its `run:`
    script run by bash with its `env:`, in its working directory, stopping at the first
    step that fails."""
    if not Path(localreview.__file__).resolve().is_relative_to(REPOSITORY):
        pytest.skip("`install-from: checkout` would pip install: the package is not this checkout")
    inputs = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    inputs["install-from"] = "checkout"  # the package under test, not the released one
    for name, value in given.items():
        assert name.replace("_", "-") in inputs, name
        inputs[name.replace("_", "-")] = value
    github = {"action_path": str(REPOSITORY), "workspace": str(pull.workspace)}

    def fill(text: str) -> str:
        return _EXPRESSION.sub(
            lambda match: (inputs if match[1] == "inputs" else github)[match[2]], text
        )

    summary_file = tmp_path / "step_summary.md"
    output_file = tmp_path / "github_output"
    base_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GITHUB_", "PRODUCT_REVIEW_", "INPUT_"))
    }
    base_env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        GITHUB_ACTIONS="true",
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_EVENT_PATH=str(pull.event),
        GITHUB_WORKSPACE=str(pull.workspace),
        GITHUB_STEP_SUMMARY=str(summary_file),
        GITHUB_OUTPUT=str(output_file),
        GITHUB_SHA=pull.head,
    )
    assert ACTION["runs"]["using"] == "composite"
    stdout = stderr = ""
    returncode = 0
    for step in ACTION["runs"]["steps"]:
        assert "run" in step, "every step of the composite action is a shell step"
        assert step["shell"] == "bash"
        env = {**base_env, **{key: fill(str(value)) for key, value in step.get("env", {}).items()}}
        cwd = fill(step.get("working-directory", "${{ github.workspace }}"))
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", fill(step["run"])],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        stdout += done.stdout
        stderr += done.stderr
        returncode = done.returncode
        if returncode:
            break
    outputs = {}
    if output_file.exists():
        for line in output_file.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            outputs[key] = value
    summary = summary_file.read_text(encoding="utf-8") if summary_file.exists() else ""
    return Run(returncode, stdout, stderr, summary, outputs, pull.workspace)


def _sarif_files(log: dict[str, object]) -> set[str]:
    runs = log["runs"]
    assert isinstance(runs, list)
    return {
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for run in runs
        for result in run["results"]
    }


def test_the_action_is_pinned_to_the_version_in_pyproject() -> None:
    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))
    install = ACTION["runs"]["steps"][0]
    assert install["env"]["PRODUCT_REVIEW_VERSION"] == project["project"]["version"]
    assert '"product-review==$PRODUCT_REVIEW_VERSION"' in install["run"]
    assert ACTION["inputs"]["install-from"]["default"] == "pypi"


def test_changed_mode_reviews_the_changed_doc_and_annotates_only_changed_lines(
    pull_request: PullRequest, tmp_path: Path
) -> None:
    run = run_action(pull_request, tmp_path)

    assert run.returncode == 0, run.stderr  # fail-on defaults to error; the doc has warnings
    assert "## Product review" in run.summary
    assert "| Document | Kind |" in run.summary  # the Check Run's scorecard
    assert f"`{CHANGED_DOC}`" in run.summary
    assert UNCHANGED_DOC not in run.summary
    assert run.annotations, run.stdout
    for annotation in run.annotations:
        assert f"file={CHANGED_DOC}," in annotation
        assert f",line={CHANGED_LINE}," in annotation
    assert any("placeholder" in annotation for annotation in run.annotations)

    log = run.sarif()
    assert log["version"] == "2.1.0"
    assert _sarif_files(log) == {CHANGED_DOC}
    assert run.outputs["sarif-file"] == "product-review.sarif"
    assert run.outputs["conclusion"] == "neutral"
    assert int(run.outputs["questions"]) > 0


def test_a_merge_checkout_is_judged_on_its_own_lines_after_the_base_moved(
    pull_request: PullRequest, tmp_path: Path
) -> None:
    # The base branch gains lines above the pull request's change, and the runner
    # checks out the merge of the pull request into it, as actions/checkout does.
    workspace = pull_request.workspace
    _git(workspace, "checkout", "-q", "main")
    text = (workspace / CHANGED_DOC).read_text(encoding="utf-8")
    moved = text.replace("Status: Draft\n", "Status: Draft\nReviewers: Lin\nTeam: Web\n")
    (workspace / CHANGED_DOC).write_text(moved, encoding="utf-8")
    _git(workspace, "commit", "-q", "-am", "base moves on")
    moved_base = _git(workspace, "rev-parse", "HEAD")
    _git(workspace, "checkout", "-q", "--detach")
    _git(workspace, "merge", "-q", "--no-edit", "feature")
    event = json.loads(pull_request.event.read_text(encoding="utf-8"))
    event["pull_request"]["base"]["sha"] = moved_base
    pull_request.event.write_text(json.dumps(event), encoding="utf-8")

    run = run_action(pull_request, tmp_path)

    assert run.returncode == 0, run.stderr
    assert run.annotations, run.stdout
    # The placeholder is two lines lower in the file reviewed; the base's own new
    # lines are not the pull request's.
    assert all(f",line={CHANGED_LINE + 2}," in a for a in run.annotations), run.annotations
    assert any("placeholder" in annotation for annotation in run.annotations)


@pytest.mark.parametrize(("fail_on", "expected"), [("warning", 1), ("error", 0), ("never", 0)])
def test_the_exit_code_follows_fail_on(
    pull_request: PullRequest, tmp_path: Path, fail_on: str, expected: int
) -> None:
    run = run_action(pull_request, tmp_path, fail_on=fail_on)

    assert run.returncode == expected, run.stderr
    assert run.sarif()["version"] == "2.1.0"  # written whatever the exit code


@pytest.mark.parametrize(
    ("config_text", "expected"),
    [
        # The doc's findings are warnings: the file's fail_on reaches them.
        pytest.param("fail_on: warning\n", 1, id="the-file-sets-fail-on"),
        pytest.param("fail_on: never\nchecks:\n  placeholder: error\n", 0, id="never"),
        # Left out, the level is error, as without a file: the placeholder reaches it.
        pytest.param("checks:\n  placeholder: error\n", 1, id="the-file-leaves-it-out"),
    ],
)
def test_fail_on_comes_from_the_config_when_the_input_is_empty_and_the_file_sets_it(
    pull_request: PullRequest, tmp_path: Path, config_text: str, expected: int
) -> None:
    config = pull_request.workspace / "review.yml"
    config.write_text(config_text, encoding="utf-8")

    run = run_action(pull_request, tmp_path, config="review.yml")

    assert run.returncode == expected, run.stderr


def test_all_mode_reviews_the_whole_repository(pull_request: PullRequest, tmp_path: Path) -> None:
    run = run_action(pull_request, tmp_path, mode="all", sarif_file="out/review.sarif")

    assert f"`{CHANGED_DOC}`" in run.summary
    assert f"`{UNCHANGED_DOC}`" in run.summary
    assert "README.md" not in _sarif_files(run.sarif())
    assert _sarif_files(run.sarif()) == {CHANGED_DOC, UNCHANGED_DOC}
    assert (pull_request.workspace / "out" / "review.sarif").is_file()
    # The annotations still sit only on the lines the pull request changes.
    assert run.annotations
    assert all(f"file={CHANGED_DOC}," in annotation for annotation in run.annotations)


def test_min_severity_leaves_out_the_findings_below_it(
    pull_request: PullRequest, tmp_path: Path
) -> None:
    run = run_action(pull_request, tmp_path, min_severity="error", fail_on="warning")

    assert run.returncode == 0, run.stderr
    assert run.annotations == []
    assert _sarif_files(run.sarif()) == set()


def test_paths_limit_the_review_to_their_globs(pull_request: PullRequest, tmp_path: Path) -> None:
    run = run_action(pull_request, tmp_path, mode="all", paths="docs/design/0002-*.md")

    assert _sarif_files(run.sarif()) == {UNCHANGED_DOC}


def test_a_pull_request_without_design_docs_says_so(
    pull_request: PullRequest, tmp_path: Path
) -> None:
    workspace = pull_request.workspace
    (workspace / "README.md").write_text("# Project\n\nMore words.\n", encoding="utf-8")
    _git(workspace, "commit", "-q", "-am", "readme")
    head = _git(workspace, "rev-parse", "HEAD")
    event = json.loads(pull_request.event.read_text(encoding="utf-8"))
    event["pull_request"]["base"]["sha"] = pull_request.head
    event["pull_request"]["head"]["sha"] = head
    pull_request.event.write_text(json.dumps(event), encoding="utf-8")

    run = run_action(pull_request, tmp_path, fail_on="suggestion")

    assert run.returncode == 0, run.stderr
    assert "No design documents changed" in run.summary
    assert run.outputs["conclusion"] == "skipped"
    assert run.annotations == []


def test_a_base_missing_from_the_clone_is_explained(
    pull_request: PullRequest, tmp_path: Path
) -> None:
    event = json.loads(pull_request.event.read_text(encoding="utf-8"))
    event["pull_request"]["base"]["sha"] = "1" * 40
    pull_request.event.write_text(json.dumps(event), encoding="utf-8")

    run = run_action(pull_request, tmp_path)

    assert run.returncode == 2
    assert "fetch-depth: 0" in run.stdout


def test_the_readme_example_workflow_runs_the_action_and_uploads_its_sarif() -> None:
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The GitHub Action", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```yaml\n(# \.github/workflows/.*?)```", section, re.DOTALL)
    assert block, "the README lost its example workflow"
    workflow = yaml.safe_load(block[1])

    assert workflow["permissions"] == {
        "contents": "read",
        "pull-requests": "read",
        "security-events": "write",
    }
    steps = workflow["jobs"]["review"]["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"]
    assert steps[0]["with"]["fetch-depth"] == 0
    review = steps[2]
    assert review["uses"].split("@")[0].endswith("/product-review")
    assert set(review.get("with", {})) <= set(ACTION["inputs"])
    upload = steps[3]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == f"${{{{ steps.{review['id']}.outputs.sarif-file }}}}"
    assert "sarif-file" in ACTION["outputs"]
    assert "Advanced Security" in section
