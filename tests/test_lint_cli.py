"""The command line as linters have it: `--min-severity`, one failing level with and
without a config file, `config show`, and `--changed-since REF` in a real git
repository."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from checks.config import DEFAULT_SETTINGS, FailOn
from checks.configfile import parse_settings
from localreview.config import DEFAULT_FAIL_ON, effective_fail_on
from localreview.main import main

DOC_PATH = "rfcs/0001-search.md"
OLD_DOC = """\
# Search everywhere

We need to build a real-time search service that indexes all documents.

## Alternatives

TBD
"""
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()  # the search for a repository config stops here
    (tmp_path / "rfcs").mkdir()
    (tmp_path / DOC_PATH).write_text(OLD_DOC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def json_findings(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[Any]]:
    code = main(["check", "--no-progress", "--format", "json", *argv])
    documents = json.loads(capsys.readouterr().out)["documents"]
    found = [(d["path"], f["check"], f["severity"], f["line"]) for d in documents
             for f in d["findings"]]  # fmt: skip
    return code, found


# --- --min-severity -----------------------------------------------------------------


def test_min_severity_hides_what_is_below_it_in_every_format_and_in_the_exit_code(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, everything = json_findings(capsys, "--fail-on", "suggestion", DOC_PATH)
    severities = {severity for _, _, severity, _ in everything}
    assert code == 1 and {"warning", "suggestion"} <= severities
    code, shown = json_findings(capsys, "--min-severity", "warning", DOC_PATH)
    assert shown == [f for f in everything if f[2] != "suggestion"]
    # Nothing shown reaches error: what is hidden does not fail the run either.
    assert json_findings(capsys, "--fail-on", "warning", "--min-severity", "error", DOC_PATH) == (
        0,
        [],
    )
    assert main(["check", "--min-severity", "warning", DOC_PATH]) == 0
    captured = capsys.readouterr()
    assert " suggestion " not in captured.out
    hidden = len(everything) - len(shown)
    assert f"note: --min-severity warning: {hidden} findings below it not shown" in captured.err
    assert main(["check", "--format", "sarif", "--min-severity", "warning", DOC_PATH]) == 0
    levels = {r["level"] for r in json.loads(capsys.readouterr().out)["runs"][0]["results"]}
    assert levels == {"warning"}


# --- fail_on ------------------------------------------------------------------------


def test_the_failing_level_is_the_same_with_and_without_a_config_that_leaves_it_out(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The placeholder becomes an error; the first file says nothing of fail_on.
    (workdir / "silent.yml").write_text("checks:\n  placeholder: error\n", encoding="utf-8")
    (workdir / "never.yml").write_text(
        "checks:\n  placeholder: error\nfail_on: never\n", encoding="utf-8"
    )
    # The default level, error, is reached, as it would be with no file.
    assert json_findings(capsys, "--config", "silent.yml", DOC_PATH)[0] == 1
    assert json_findings(capsys, "--config", "never.yml", DOC_PATH)[0] == 0
    assert json_findings(capsys, "--config", "never.yml", "--fail-on", "error", DOC_PATH)[0] == 1


def test_effective_fail_on_says_where_it_came_from() -> None:
    assert effective_fail_on(DEFAULT_SETTINGS, None) == (DEFAULT_FAIL_ON, "default")
    silent = parse_settings("drafts: true\n", source="team.yml")
    assert effective_fail_on(silent, None) == (DEFAULT_FAIL_ON, "default")
    strict = parse_settings("fail_on: warning\n", source="team.yml")
    assert effective_fail_on(strict, None) == (FailOn.WARNING, "team.yml")
    assert effective_fail_on(strict, FailOn.NEVER) == (FailOn.NEVER, "--fail-on")
    # An invalid value is dropped with an error: the default applies, not a guess.
    broken = parse_settings("fail_on: sometimes\n", source="team.yml")
    assert broken.errors and effective_fail_on(broken, None) == (DEFAULT_FAIL_ON, "default")
    # The App's Check Run keeps the config's own default: informative only.
    assert DEFAULT_SETTINGS.fail_on is FailOn.NEVER


# --- config show --------------------------------------------------------------------


def test_config_show_prints_every_key_with_its_value_and_source(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "show"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("# no config file")
    assert any(line.split() == ["fail_on:", "error", "#", "default"] for line in lines)
    assert any(line.split() == ["comments.max_inline:", "10", "#", "default"] for line in lines)

    config = workdir / ".github/product-review.yml"
    config.parent.mkdir()
    config.write_text("fail_on: warning\nchecks:\n  placeholder: off\n", encoding="utf-8")
    assert main(["config", "show"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == f"# {config}"
    rows = {line.split()[0]: line.split("  # ") for line in text.splitlines()[1:]}
    assert rows["fail_on:"][1] == str(config)
    assert rows["checks.placeholder.enabled:"] == ["checks.placeholder.enabled: false", str(config)]
    assert rows["drafts:"][1] == "default"

    assert main(["config", "show", "--fail-on", "never", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["config_file"] == str(config)
    assert payload["keys"]["fail_on"] == {"value": "never", "source": "--fail-on"}
    assert payload["keys"]["paths.include"]["source"] == "default"
    assert "**/adr/**/*.md" in payload["keys"]["paths.include"]["value"]


def test_config_show_with_a_broken_or_missing_file_says_so_and_exits_2(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "show", "--config", "nowhere.yml"]) == 2
    assert capsys.readouterr().err == "nowhere.yml: error: config file not found\n"
    (workdir / "bad.yml").write_text("fail_on: sometimes\n", encoding="utf-8")
    assert main(["config", "show", "--config", "bad.yml"]) == 2
    captured = capsys.readouterr()
    assert "error: bad.yml:1:" in captured.err
    assert any(line.split()[:2] == ["fail_on:", "error"] for line in captured.out.splitlines())


# --- --changed-since ----------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
         "-c", "commit.gpgsign=false", *args],
        cwd=repo, check=True, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip


@pytest.fixture
def branch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose `main` has two design docs, checked out on a branch that
    changes one of them."""
    git(tmp_path, "init", "-q", "-b", "main")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rfcs").mkdir()
    (tmp_path / DOC_PATH).write_text(OLD_DOC, encoding="utf-8")
    (tmp_path / "rfcs/0002-other.md").write_text(OLD_DOC, encoding="utf-8")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "two docs")
    git(tmp_path, "checkout", "-q", "-b", "topic")
    (tmp_path / DOC_PATH).write_text(OLD_DOC + "\nRanking: TBD\n", encoding="utf-8")
    git(tmp_path, "commit", "-q", "-am", "ranking")
    return tmp_path


@needs_git
def test_changed_since_reviews_the_changed_docs_on_their_changed_lines(
    branch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, shown = json_findings(capsys, "--changed-since", "main", "--fail-on", "warning")
    assert {path for path, *_ in shown} == {DOC_PATH}  # 0002 did not change
    placeholders = [line for _, check, _, line in shown if check == "placeholder"]
    assert placeholders == [9]  # the TBD the branch added, not the old one on line 7
    assert code == 1

    # Uncommitted edits count too, and a new untracked doc counts whole.
    (branch / "rfcs/0003-new.md").write_text(OLD_DOC, encoding="utf-8")
    (branch / "rfcs/0002-other.md").write_text(OLD_DOC + "\nOwner: TBD\n", encoding="utf-8")
    code, shown = json_findings(capsys, "--changed-since", "main")
    by_path = {path: [(c, line) for p, c, _, line in shown if p == path] for path, *_ in shown}
    assert ("placeholder", 9) in by_path["rfcs/0002-other.md"]
    assert ("placeholder", 7) not in by_path["rfcs/0002-other.md"]
    assert ("placeholder", 7) in by_path["rfcs/0003-new.md"]
    assert any(check == "problem" for check, _ in by_path["rfcs/0003-new.md"])

    # PATH narrows the changed files to those under it.
    _, shown = json_findings(capsys, "--changed-since", "main", "rfcs/0003-new.md")
    assert {path for path, *_ in shown} == {"rfcs/0003-new.md"}


@needs_git
def test_changed_since_an_old_doc_shows_its_gaps_but_fails_only_on_changed_lines(
    branch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (branch / DOC_PATH).write_text(OLD_DOC + "\nResults come back sorted by date.\n")
    git(branch, "commit", "-q", "-am", "no new placeholder")
    code, shown = json_findings(capsys, "--changed-since", "main", "--fail-on", "warning")
    assert code == 0
    assert shown and all(check != "placeholder" for _, check, _, _ in shown)
    assert main(["check", "--changed-since", "main", "--fail-on", "warning"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"note: --changed-since: \d+ findings? on unchanged lines not shown", err)


@needs_git
def test_changed_since_with_nothing_changed_says_so_and_passes(
    branch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--changed-since", "HEAD"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "0 documents reviewed: no findings\n"
    assert "note: --changed-since HEAD: no Markdown file changed" in captured.err


@needs_git
@pytest.mark.parametrize("ref", ["no-such-branch", "--output=/tmp/x", ""])
def test_changed_since_an_unknown_revision_is_one_line_and_exit_2(
    branch: Path, capsys: pytest.CaptureFixture[str], ref: str
) -> None:
    assert main(["check", f"--changed-since={ref}"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("error: --changed-since: ")


def test_changed_since_outside_a_git_work_tree_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert main(["check", "--changed-since", "main"]) == 2
    assert capsys.readouterr().err.startswith("error: --changed-since: ")


@pytest.mark.parametrize(
    "argv",
    [
        ["--changed-since", "main", "-"],
        ["--changed-since", "main", "--changed-lines", "."],
    ],
)
def test_changed_since_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", *argv]) == 2
    assert "--changed-" in capsys.readouterr().err


def test_a_mistyped_id_in_a_suppression_comment_is_reported_with_a_guess(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / DOC_PATH).write_text(
        OLD_DOC.replace("TBD", "<!-- product-review disable=placeholdr -->\nTBD"),
        encoding="utf-8",
    )
    assert main(["check", DOC_PATH]) == 0
    expected = (
        f"{DOC_PATH}: note: unknown id 'placeholdr' in the suppression comment on line 7 "
        "(did you mean 'placeholder'?); it silences nothing"
    )
    out = capsys.readouterr().out.splitlines()
    assert expected in out
    assert any(" warning placeholder " in line for line in out)  # nothing was silenced


README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_block(after: str) -> list[str]:
    """The lines of the first code block of the README after the text `after`, less
    its `$ command` line and the `...` that stand for lines left out."""
    text = README.read_text(encoding="utf-8")
    rest = text[text.index(after) :]
    body = rest.split("\n```", 2)[1].split("\n", 1)[1]  # past the opening fence's line
    return [line for line in body.splitlines() if not line.startswith("$ ") and line != "..."]


@pytest.mark.parametrize(
    ("after", "output_format"),
    [
        ("The default output is one line per finding", "text"),
        ("`--format pretty` groups the same findings", "pretty"),
    ],
)
def test_the_readme_shows_the_real_output_for_the_examples(
    after: str,
    output_format: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(README.parent)
    main(["check", "--no-progress", "--format", output_format, "docs/examples"])
    shown = capsys.readouterr().out.splitlines()
    block = _readme_block(after)
    assert len(block) >= 3 and all(line in shown for line in block), block


def test_the_readme_shows_the_real_explain_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(README.parent)
    example = "docs/examples/rfcs/0042-enterprise-sso.md"
    main(["check", "--no-progress", "--explain", "2", example])
    shown = capsys.readouterr().out.splitlines()
    block = _readme_block("they follow the run's output")
    assert len(block) >= 6 and all(line in shown for line in block), block


def test_config_show_values_read_back_as_yaml_to_what_they_are(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    (workdir / "team.yml").write_text(
        'questions:\n  metrics: "Which number, from what, by when?"\n'
        "aliases:\n  metrics: ['10', 'true', 'a: b', '[x]', Exit criteria]\n"
        "comments:\n  mode: 'off'\n",
        encoding="utf-8",
    )
    assert main(["config", "show", "--config", "team.yml"]) == 0
    for line in capsys.readouterr().out.splitlines()[1:]:
        key, _, rest = line.partition(": ")
        value = rest.rsplit("  # ", 1)[0].strip()
        expected = {
            "questions.metrics": "Which number, from what, by when?",
            "aliases.metrics": ["10", "true", "a: b", "[x]", "Exit criteria"],
            "comments.mode": "off",
        }
        if key in expected:
            assert yaml.safe_load(f"v: {value}")["v"] == expected[key], line


@pytest.mark.parametrize("output_format", ["text", "pretty"])
def test_explain_follows_both_text_formats(
    workdir: Path, capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    main(["check", "--format", output_format, "--explain", "1", DOC_PATH])
    out = capsys.readouterr().out
    assert f"{DOC_PATH}: evidence, best first" in out
    assert out.index("1 document reviewed") < out.index("evidence, best first")
