"""The budget per document on the command line: a file over the size cap, one that
runs past the time limit and one that exhausts the memory limit are each reported
as a per-file error in every format, the other files are still reviewed, and the
run completes with exit code 2.

The slow and the greedy engine reach the worker processes through fork (the
command line's start method), so monkeypatching the engine is enough."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from checks import review_document
from checks.options import ReviewOptions
from checks.report import DocumentReport
from localreview import files as localfiles
from localreview.main import main

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="workers start with fork")

NORMAL_TEXT = "# Search\n\n## Problem\n\nSearch is slow. The rollout is TBD.\n"
SPIN = "SPIN-UNTIL-STOPPED"
ALLOCATE = "ALLOCATE-UNTIL-STOPPED"
NORMAL = os.path.normpath("rfcs/0001-normal.md")
LARGE = os.path.normpath("rfcs/0002-large.md")
SLOW = os.path.normpath("rfcs/0003-slow.md")
BOMB = os.path.normpath("rfcs/0004-bomb.md")
# The time limit leaves the bomb (stopped by the memory limit in milliseconds) ample
# room on a loaded machine.
LIMITS = ["--max-document-kb", "2", "--document-timeout", "1.5", "--document-memory-mb", "64"]
REASONS = {
    LARGE: "not reviewed: larger than 2 KB (raise the limit with --max-document-kb)",
    SLOW: "not reviewed: took longer than 1.5 s (raise the limit with --document-timeout)",
    BOMB: "not reviewed: needed more than 64 MB (raise the limit with --document-memory-mb)",
}


def greedy_engine(text: str, path: str, options: ReviewOptions) -> DocumentReport:
    if SPIN in text:
        while True:  # holds the GIL, as a slow regex in the engine would
            re.match(r"(a+)+$", "a" * 24 + "b")
    if ALLOCATE in text:
        # 4 GB in 16 MB steps: fine on this machine without a limit.
        held = [bytearray(16 * 1024 * 1024) for _ in range(256)]
        raise AssertionError(f"allocated {len(held)} blocks: no memory limit applied")
    return review_document(text, path, options)


@pytest.fixture
def four_docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(localfiles, "review_document", greedy_engine)
    folder = tmp_path / "rfcs"
    folder.mkdir()
    (tmp_path / NORMAL).write_text(NORMAL_TEXT)
    (tmp_path / LARGE).write_text("# Large\n\n" + "A long paragraph. " * 200)
    (tmp_path / SLOW).write_text(f"# Slow\n\n{SPIN}\n")
    (tmp_path / BOMB).write_text(f"# Bomb\n\n{ALLOCATE}\n")
    yield tmp_path


def _check(
    output_format: str, capsys: pytest.CaptureFixture[str], paths: tuple[str, ...] = ("rfcs",)
) -> tuple[int, str, str]:
    argv = ["check", "--format", output_format, "--no-progress", "--fail-on", "never"]
    code = main([*argv, *LIMITS, *paths])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# Every limit ends in the same kind of per-file error, so the other formats are
# shown the fast ones (the slow document costs its whole time limit).
FAST = (NORMAL, LARGE, BOMB)
FAST_REASONS = {path: REASONS[path] for path in FAST if path in REASONS}


def _stderr_lines(err: str) -> set[str]:
    return {line for line in err.splitlines() if ": error: " in line}


@pytest.mark.usefixtures("four_docs")
def test_json_reports_each_document_over_a_limit_and_reviews_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _check("json", capsys)
    payload = json.loads(out)
    assert code == 2
    assert [document["path"] for document in payload["documents"]] == [NORMAL]
    assert payload["documents"][0]["findings"]
    assert {error["path"]: error["message"] for error in payload["errors"]} == REASONS
    assert _stderr_lines(err) == {f"{path}: error: {why}" for path, why in REASONS.items()}
    assert "Traceback" not in err


@pytest.mark.usefixtures("four_docs")
def test_text_reports_each_document_over_a_limit(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _check("text", capsys, FAST)
    assert code == 2
    assert NORMAL in out
    assert out.rstrip().splitlines()[-1].startswith("1 document reviewed")
    assert out.rstrip().endswith("; 2 files could not be reviewed")
    assert _stderr_lines(err) == {f"{path}: error: {why}" for path, why in FAST_REASONS.items()}


@pytest.mark.usefixtures("four_docs")
def test_sarif_reports_each_document_over_a_limit(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _check("sarif", capsys, FAST)
    (run,) = json.loads(out)["runs"]
    (invocation,) = run["invocations"]
    assert code == 2
    assert invocation["executionSuccessful"] is False
    notified = {
        note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: note["message"]["text"]
        for note in invocation["toolExecutionNotifications"]
    }
    assert notified == {path.replace(os.sep, "/"): why for path, why in FAST_REASONS.items()}
    assert {
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for result in run["results"]
    } == {NORMAL.replace(os.sep, "/")}


@pytest.mark.usefixtures("four_docs")
def test_github_annotates_each_document_over_a_limit(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _check("github", capsys, FAST)
    assert code == 2
    errors = [line for line in out.splitlines() if line.startswith("::error ")]
    assert {line.split("file=", 1)[1].split(",", 1)[0] for line in errors} == {
        path.replace(os.sep, "/") for path in FAST_REASONS
    }
    assert all("title=product-review%3A not reviewed::not reviewed: " in line for line in errors)
    assert any(f"file={NORMAL.replace(os.sep, '/')}," in line for line in out.splitlines())


def test_a_single_file_runs_within_the_budget_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(localfiles, "review_document", greedy_engine)
    # Named, so decided here by its content (the headings of an RFC), then reviewed.
    headings = "## Motivation\n\n## Drawbacks\n\n## Alternatives\n\n"
    Path("slow.md").write_text(f"# Slow\n\n{headings}{SPIN}\n")
    code = main(["check", "--format", "json", "--document-timeout", "1.5", "slow.md"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 2
    assert payload["errors"] == [
        {"path": "slow.md", "message": REASONS[SLOW]},
    ]


def test_a_file_that_never_ends_is_read_only_up_to_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not os.path.exists("/dev/zero"):
        pytest.skip("needs /dev/zero")
    monkeypatch.chdir(tmp_path)
    # A device reports size 0 and never ends: only a bounded read can tell.
    Path("endless.md").symlink_to("/dev/zero")
    code = main(["check", "--format", "json", "--max-document-kb", "64", "endless.md"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 2
    assert payload["errors"] == [
        {
            "path": "endless.md",
            "message": "not reviewed: larger than 64 KB (raise the limit with --max-document-kb)",
        }
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["--max-document-kb", "0"],
        ["--max-document-kb", "big"],
        ["--document-timeout", "0"],
        ["--document-timeout", "nan"],
        ["--document-memory-mb", "-1"],
    ],
)
def test_a_bad_limit_is_a_usage_error(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", *argv, str(tmp_path)]) == 2
    assert argv[0] in capsys.readouterr().err
