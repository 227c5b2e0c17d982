"""A hostile config never silences the App or the CLI.

The App end to end (webhook → real app → fake GitHub): a repository or organisation
config that used to raise still gets every pull request a completed `Product review`
check that names the problem and its key path. The CLI: an unusable config is exit 2
with one line per problem for `check`, exit 1 for `config validate`, never a traceback.
The inputs are generated here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from checks import review_document
from ghapp.repoconfig import CONFIG_PATH
from localreview.main import EXIT_FINDINGS, EXIT_USAGE, main
from tests.ghapp.conftest import AppFactory
from tests.support.apptools import deliver
from tests.support.fakegithub import FakeGitHub
from tests.support.hostile import alias_bomb

DOC = "docs/rfcs/0001-faster-checkout.md"
DOC_TEXT = "# Faster checkout\n\nWe will make checkout real-time.\n\nTBD\n"
HUGE_NUMBER = "9" * 5000


def config_bomb() -> str:
    bomb, last = alias_bomb()
    return bomb + f"paths: {{include: *{last}}}\n"


# ------------------------------------------------------------------------- the App


async def review_once(
    client: TestClient[Any, Any],
    fake_github: FakeGitHub,
    *,
    repo_config: str | None = None,
    org_config: str | None = None,
) -> dict[str, Any]:
    if org_config is not None:
        org = fake_github.add_repo(name=".github")
        org.contents[("main", CONFIG_PATH)] = org_config
    repo = fake_github.add_repo()
    if repo_config is not None:
        repo.contents[("main", CONFIG_PATH)] = repo_config
    pull = fake_github.add_pull(repo, added={DOC: DOC_TEXT})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed" and run["name"] == "Product review"
    assert pull.reviews  # the questions were still posted
    return run


async def test_an_invalid_glob_in_the_repository_config_is_named_in_the_check(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    run = await review_once(
        client,
        fake_github,
        repo_config='fail_on: warning\npaths:\n  include: ["docs/[z-a]/*.md"]\n',
    )
    summary = run["output"]["summary"]
    assert "config has 1 problem" in run["output"]["title"]
    assert (
        'acme/widgets:.github/product-review.yml:3:13: paths.include[0]: found "docs/[z-a]/*.md"; '
        "not a valid glob"
    ) in summary
    # The default include globs apply instead, and the rest of the file too.
    assert run["conclusion"] == "failure"


async def test_a_huge_number_in_the_repository_config_is_named_in_the_check(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    run = await review_once(
        client, fake_github, repo_config=f"comments:\n  max_inline: {HUGE_NUMBER}\n"
    )
    summary = run["output"]["summary"]
    assert "Configuration problems" in summary
    assert "product-review.yml:2:15: comments.max_inline: the YAML value could not be read" in (
        summary
    )
    assert run["conclusion"] == "neutral"


async def test_an_alias_bomb_in_the_organisation_config_is_named_in_the_check(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    run = await review_once(
        client, fake_github, org_config=config_bomb(), repo_config="fail_on: warning\n"
    )
    summary = run["output"]["summary"]
    assert "acme/.github:.github/product-review.yml:" in summary
    assert "YAML refused: expands to more than 10000 YAML nodes" in summary
    assert run["conclusion"] == "failure"  # the repository's own file still applies


async def test_a_front_matter_bomb_is_reviewed_with_a_note_in_the_check(
    make_client: AppFactory, fake_github: FakeGitHub
) -> None:
    client = await make_client(engine=review_document)  # the real engine reads front matter
    repo = fake_github.add_repo()
    bomb, last = alias_bomb()
    text = f"---\n{bomb}product_review: {{disable: [*{last}]}}\n---\n{DOC_TEXT}"
    pull = fake_github.add_pull(repo, added={DOC: text})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed"
    assert "front matter ignored: expands to more than 2000 YAML nodes" in run["output"]["text"]


# ------------------------------------------------------------------------- the CLI


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "docs" / "rfcs").mkdir(parents=True)
    (tmp_path / DOC).write_text(DOC_TEXT, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


UNUSABLE = {
    "syntax": ("a: b: c\n", "YAML syntax error"),
    "bomb": (config_bomb(), "YAML refused: expands to more than 10000 YAML nodes"),
    "nesting": ("paths: " + "[" * 500 + "]" * 500 + "\n", "nested deeper than 32 levels"),
    "too large": ("# " + "x" * 70_000 + "\n", "larger than the limit"),
    "not a mapping": ("- a\n- b\n", "must be a mapping"),
}
PER_KEY = {
    "glob": ('paths:\n  include: ["docs/[z-a]/*.md"]\n', "paths.include[0]", 2),
    "category glob": ('categories:\n  "[b-a]": platform\n', 'categories."[b-a]"', 2),
    "huge number": (f"comments:\n  max_inline: {HUGE_NUMBER}\n", "comments.max_inline", 2),
    "bad date": ("fail_on: 2024-02-30\n", "fail_on", 1),
}


@pytest.mark.parametrize("case", list(UNUSABLE))
def test_check_with_an_unusable_config_exits_2_with_one_line(
    case: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, words = UNUSABLE[case]
    # A name per case: the CLI caches settings per config path, within one process.
    config = f"{case.replace(' ', '-')}.yml"
    (workdir / config).write_text(text, encoding="utf-8")
    code = main(["check", "--no-progress", "--config", config, "docs"])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: {config}") and words in line


@pytest.mark.parametrize("case", list(PER_KEY))
def test_check_with_a_bad_key_reviews_with_the_rest_and_exits_2(
    case: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, key_path, line_number = PER_KEY[case]
    # A name per case: the CLI caches settings per config path, within one process.
    config = f"{case.replace(' ', '-')}.yml"
    (workdir / config).write_text(text, encoding="utf-8")
    code = main(["check", "--no-progress", "--config", config, "docs"])
    captured = capsys.readouterr()
    assert code == EXIT_USAGE
    assert "Traceback" not in captured.err
    assert f"error: {config}:{line_number}:" in captured.err and key_path in captured.err
    assert "1 document reviewed" in captured.out


@pytest.mark.parametrize("case", [*UNUSABLE, *PER_KEY])
def test_config_validate_exits_1_and_names_the_problem(
    case: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = UNUSABLE[case][0] if case in UNUSABLE else PER_KEY[case][0]
    (workdir / "config.yml").write_text(text, encoding="utf-8")
    code = main(["config", "validate", "config.yml"])
    err = capsys.readouterr().err
    assert code == EXIT_FINDINGS
    assert "Traceback" not in err and err.startswith("error: config.yml")
    if case in PER_KEY:
        _, key_path, line_number = PER_KEY[case]
        assert f"config.yml:{line_number}:" in err and f" {key_path}: " in err


def test_a_real_process_with_a_config_bomb_finishes_and_exits_2(workdir: Path) -> None:
    (workdir / "config.yml").write_text(config_bomb(), encoding="utf-8")
    bomb, last = alias_bomb()
    (workdir / "docs/rfcs/0002-bomb.md").write_text(
        f"---\n{bomb}product_review: {{disable: [*{last}]}}\n---\n{DOC_TEXT}", encoding="utf-8"
    )
    done = subprocess.run(
        [sys.executable, "-m", "localreview", "check", "--config", "config.yml", "docs"],
        capture_output=True,
        text=True,
        timeout=60,  # a watchdog: the unbounded version never finishes
        check=False,
    )
    assert done.returncode == EXIT_USAGE, done.stderr
    assert "Traceback" not in done.stderr
    assert "YAML refused" in done.stderr
    assert "note: front matter ignored" in done.stdout
