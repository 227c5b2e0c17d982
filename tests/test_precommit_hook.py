"""The pre-commit hook as pre-commit runs it, and `check --changed-lines` in a real
git repository: a strict hook fails a commit for what it changes, not old text."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from localreview.main import main

HOOKS_FILE = Path(__file__).parent.parent / ".pre-commit-hooks.yaml"
DOC_PATH = "rfcs/0001-search.md"
OLD_DOC = """\
# Search everywhere

We need to build a real-time search service that indexes all documents.

## Alternatives

TBD
"""
STRICT = ["--fail-on", "warning", "--changed-lines"]

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def hook_command() -> list[str]:
    """The hook's command line, less the file names pre-commit appends."""
    (hook,) = yaml.safe_load(HOOKS_FILE.read_text())
    return [*shlex.split(hook["entry"]), *hook.get("args", [])]


def test_the_hook_shows_what_it_asked_when_it_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (hook,) = yaml.safe_load(HOOKS_FILE.read_text())
    # pre-commit prints a passing hook's output only for a verbose hook.
    assert hook["verbose"] is True
    command = hook_command()
    assert command[0] == "product-review"
    (tmp_path / ".git").mkdir()  # the search for a repository config stops here
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rfcs").mkdir()
    (tmp_path / DOC_PATH).write_text(OLD_DOC)
    code = main([*command[1:], DOC_PATH])
    out = capsys.readouterr().out
    assert code == 0  # warnings do not reach the default --fail-on error
    assert DOC_PATH in out
    assert "? What problem do people have today" in out
    assert "placeholder" in out
    assert out.rstrip().splitlines()[-1].startswith("1 document reviewed: ")


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
         "-c", "commit.gpgsign=false", *args],
        cwd=repo, check=True, capture_output=True, timeout=60,
    )  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    git(tmp_path, "init", "-q")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rfcs").mkdir()
    (tmp_path / DOC_PATH).write_text(OLD_DOC)
    git(tmp_path, "add", DOC_PATH)
    git(tmp_path, "commit", "-q", "-m", "old doc")
    return tmp_path


def findings(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[Any]]:
    code = main(["check", "--no-progress", "--format", "json", *argv])
    documents = json.loads(capsys.readouterr().out)["documents"]
    return code, [(f["check"], f["kind"], f["line"]) for doc in documents for f in doc["findings"]]


@needs_git
def test_old_text_nobody_touched_does_not_fail_a_strict_commit(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without --changed-lines the old TBD and the gaps fail it.
    code, everything = findings(capsys, "--fail-on", "warning", DOC_PATH)
    assert code == 1
    assert ("placeholder", "line", 7) in everything
    # Another line is staged: the old TBD is neither shown nor counted; gaps are shown.
    (repo / DOC_PATH).write_text(OLD_DOC + "\nSearch results come back sorted by date.\n")
    git(repo, "add", DOC_PATH)
    code, shown = findings(capsys, *STRICT, DOC_PATH)
    assert code == 0
    assert all(kind == "gap" for _, kind, _ in shown)
    assert any(check == "problem" for check, _, _ in shown)
    # The text output says what it left out.
    assert main(["check", "--no-progress", *STRICT, DOC_PATH]) == 0
    assert "on unchanged lines not shown" in capsys.readouterr().err


@needs_git
def test_a_staged_new_line_fails_a_strict_commit(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / DOC_PATH).write_text(OLD_DOC + "\nRanking: TBD\n")
    # Only what is staged counts: the change is still in the work tree alone.
    assert findings(capsys, *STRICT, DOC_PATH)[0] == 0
    git(repo, "add", DOC_PATH)
    code, shown = findings(capsys, *STRICT, DOC_PATH)
    assert code == 1
    placeholders = [line for check, _, line in shown if check == "placeholder"]
    assert placeholders == [9]


@needs_git
def test_a_newly_added_document_counts_whole(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "rfcs/0002-new.md").write_text(OLD_DOC)
    # Not yet tracked, then staged as a new file: every finding counts, gaps too.
    for stage in (False, True):
        if stage:
            git(repo, "add", "rfcs/0002-new.md")
        code, shown = findings(capsys, *STRICT, "rfcs/0002-new.md")
        assert code == 1
        assert ("placeholder", "line", 7) in shown
        assert any(kind == "gap" for _, kind, _ in shown)


def test_changed_lines_outside_a_git_work_tree_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rfcs").mkdir()
    (tmp_path / DOC_PATH).write_text(OLD_DOC)
    assert main(["check", "--no-progress", "--changed-lines", DOC_PATH]) == 2
    assert f"{DOC_PATH}: error: --changed-lines: " in capsys.readouterr().err


def test_changed_lines_refuses_standard_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--changed-lines", "-"]) == 2
    assert "--changed-lines reads the staged diff of files" in capsys.readouterr().err
