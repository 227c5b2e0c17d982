"""Which files `product-review check` reviews, on the layouts real repositories use:
numbered RFCs in `text/`, `rfcs/`, `proposals/`, MADR records in `docs/adr/`,
`design/`, KEPs, and a docs site without any design doc. Every fixture is a small
document written for these tests.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from localreview.main import main

RUST_STYLE_RFC = """\
- Feature Name: `search_everywhere`
- Start Date: 2024-02-01
- RFC PR: [#1](https://example.invalid/1)

# Summary

One search box for every document.

# Motivation

People spend minutes finding a document they know exists.

# Guide-level explanation

Type a word, see the documents that hold it.

# Drawbacks

Another index to keep fresh.

# Rationale and alternatives

Browsing folders stays possible; it is slower.

# Unresolved questions

How fresh must the index be?
"""

MADR_RECORD = """\
---
status: accepted
deciders: the storage team
date: 2024-03-01
---
# Use one queue for every export

## Context and Problem Statement

Exports run from three schedulers that step on each other.

## Considered Options

* one queue
* keep three schedulers

## Decision Outcome

Chosen option: one queue, because it orders the exports.
"""

KEP_README = """\
# KEP-1234: Quiet node restarts

## Summary

Restart a node without draining its pods twice.

## Motivation

### Goals

Fewer evictions.

### Non-Goals

Changing the scheduler.

## Proposal

Keep the pods' leases through a restart.

## Drawbacks

A longer lease.

## Alternatives

Drain as today.
"""

PLAIN_NOTE = "# A page\n\nSome words about the project.\n"

DOCS_SITE = {
    "README.md": "# Widget\n\n## Installation\n\n    pip install widget\n\n## Usage\n\nRun it.\n",
    "CONTRIBUTING.md": "# Contributing\n\nOpen a pull request.\n\n## Building\n\nmake\n",
    "CODE_OF_CONDUCT.md": "# Code of conduct\n\nBe kind.\n",
    "LICENSE.md": "# License\n\nMIT.\n",
    "CHANGELOG.md": "# Changelog\n\n## 1.2.0\n\n### Added\n\n- a flag\n\n## 1.1.0\n\n- a fix\n",
    "docs/how-to/install.md": (
        "# Install the widget\n\n## Prerequisites\n\nPython.\n\n## Steps\n\n1. pip install\n"
    ),
    "docs/api/client.md": (
        "# Client\n\n## Parameters\n\n`timeout`: seconds.\n\n## Returns\n\nA response.\n"
    ),
}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()  # the search for a repository config stops here
    monkeypatch.chdir(tmp_path)
    for name, text in DOCS_SITE.items():
        write(tmp_path / name, text)
    return tmp_path


def reviewed(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[list[str], str]:
    code = main(["check", "--format", "json", "--no-progress", "--fail-on", "never", *argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    payload: dict[str, Any] = json.loads(captured.out)
    assert payload["errors"] == []
    return [document["path"] for document in payload["documents"]], captured.err


def paths(*names: str) -> list[str]:
    return [os.path.normpath(name) for name in names]


# --- the layouts --------------------------------------------------------------------


def test_numbered_rfcs_in_text_are_found_by_their_content(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo / "text/0001-search-everywhere.md", RUST_STYLE_RFC)
    write(repo / "text/0002-quiet-restarts.md", RUST_STYLE_RFC.replace("search", "restart"))
    write(repo / "0000-template.md", RUST_STYLE_RFC)  # the template: a default exclude
    found, _ = reviewed(["."], capsys)
    assert found == paths("text/0001-search-everywhere.md", "text/0002-quiet-restarts.md")


@pytest.mark.parametrize(
    "layout",
    ["rfcs/0001-search.md", "proposals/0042-search.md", "design/search.md", "docs/design/a.md"],
)
def test_design_doc_folders_are_found_by_their_path(
    layout: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo / layout, PLAIN_NOTE)  # the path alone decides
    write(repo / Path(layout).parent / "README.md", PLAIN_NOTE)  # a folder's README: out
    found, _ = reviewed(["."], capsys)
    assert found == paths(layout)


def test_madr_records_in_docs_adr(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo / "docs/adr/0001-one-export-queue.md", MADR_RECORD)
    write(repo / "docs/adr/0002-keep-postgres.md", MADR_RECORD.replace("queue", "database"))
    write(repo / "docs/adr/templates/template.md", MADR_RECORD)
    found, _ = reviewed(["."], capsys)
    assert found == paths("docs/adr/0001-one-export-queue.md", "docs/adr/0002-keep-postgres.md")


def test_madr_records_outside_an_adr_folder_are_found_by_their_content(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo / "architecture/0001-one-export-queue.md", MADR_RECORD)
    found, _ = reviewed(["."], capsys)
    assert found == paths("architecture/0001-one-export-queue.md")


def test_keps_are_found_in_their_folders(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo / "keps/sig-node/1234-quiet-restarts/README.md", KEP_README)
    write(repo / "keps/sig-node/1234-quiet-restarts/kep.yaml", "title: Quiet restarts\n")
    write(repo / "keps/NNNN-kep-template/README.md", KEP_README)
    found, _ = reviewed(["."], capsys)
    assert found == paths("keps/sig-node/1234-quiet-restarts/README.md")


def test_a_docs_site_without_design_docs_reviews_nothing_and_says_why(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found, err = reviewed(["."], capsys)
    assert found == []
    assert "no design docs found among 7 Markdown files" in err
    assert "4 not a design document (a well-known project file)" in err
    assert "1 excluded by config" in err  # CHANGELOG.md, a default exclude
    assert "2 not a design document by its content" in err
    # The rules it tried, and how to include more.
    assert "exclude: **/node_modules/**" in err
    assert "design-doc paths: **/*rfc*/**/*.md" in err
    assert "otherwise the content is scored" in err
    assert "--include GLOB" in err
    assert "paths.include in .github/product-review.yml" in err


def test_project_files_are_never_reviewed_beside_design_docs(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo / "rfcs/0001-search.md", RUST_STYLE_RFC)
    write(repo / "rfcs/README.md", "# RFCs\n\n- [0001](0001-search.md): search\n")  # an index
    # Outside a design folder, a README written like an RFC is still a README.
    write(repo / "README.md", RUST_STYLE_RFC)
    found, err = reviewed(["."], capsys)
    assert found == paths("rfcs/0001-search.md")
    assert "no design docs found" not in err


def test_the_nothing_found_message_names_configured_includes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo / ".github/product-review.yml", "paths:\n  include: ['specs/**/*.md']\n")
    found, err = reviewed(["docs"], capsys)
    assert found == []
    assert "include: specs/**/*.md" in err
    assert "design-doc paths" not in err  # a configured include replaces the defaults
    assert "--include 'docs/**/*.md'" in err


# --- --include and --exclude --------------------------------------------------------


def test_include_forces_a_file_in(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found, _ = reviewed(["--include", "README.md", "."], capsys)
    assert found == paths("README.md")
    found, _ = reviewed(["--include", "docs/**/*.md", "--include", "LICENSE.md", "."], capsys)
    assert found == paths("LICENSE.md", "docs/api/client.md", "docs/how-to/install.md")


def test_exclude_keeps_a_file_out_and_beats_include(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo / "rfcs/0001-search.md", RUST_STYLE_RFC)
    write(repo / "text/0002-restarts.md", RUST_STYLE_RFC)
    found, _ = reviewed(["--exclude", "rfcs/**", "."], capsys)
    assert found == paths("text/0002-restarts.md")
    found, _ = reviewed(["--exclude", "README.md", "--include", "README.md", "."], capsys)
    assert found == paths("rfcs/0001-search.md", "text/0002-restarts.md")


# --- files named on the command line ------------------------------------------------


def test_a_named_file_is_decided_like_a_found_one_and_says_why_not(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo / "notes/0007-search.md", RUST_STYLE_RFC)
    code = main(
        ["check", "--no-progress", "--fail-on", "never", "README.md", "notes/0007-search.md"]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert os.path.normpath("notes/0007-search.md") in captured.out
    assert (
        "README.md: not reviewed: not a design document (a well-known project file); "
        "--include README.md reviews it"
    ) in captured.err.splitlines()
    assert "README.md" not in captured.out


def test_a_named_file_left_out_by_content_or_exclude_says_so(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install = os.path.normpath("docs/how-to/install.md")
    main(["check", "--no-progress", "--exclude", "LICENSE.md", install, "LICENSE.md"])
    err = capsys.readouterr().err.splitlines()
    assert (
        f"{install}: not reviewed: not a design document by its content; "
        "--include docs/how-to/install.md reviews it"
    ) in err
    assert any(line.startswith("LICENSE.md: not reviewed: excluded by config; ") for line in err)


@pytest.mark.parametrize("output_format", ["json", "sarif", "github"])
def test_machine_formats_keep_stderr_free_of_not_reviewed_lines(
    output_format: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", "--format", output_format, "--no-progress", "README.md"])
    captured = capsys.readouterr()
    assert code == 0
    assert "not reviewed" not in captured.err
    assert "README.md" not in captured.out


def test_a_named_file_forced_in_with_include(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found, err = reviewed(["--include", "README.md", "README.md"], capsys)
    assert found == ["README.md"]
    assert err == ""


# --- standard input -----------------------------------------------------------------


def feed(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(text.encode("utf-16")), encoding="utf-16")
    monkeypatch.setattr(sys, "stdin", stdin)


def test_standard_input_is_always_reviewed(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    feed(monkeypatch, PLAIN_NOTE)  # UTF-16 with its mark: decoded like a file
    found, _ = reviewed(["-"], capsys)
    assert found == ["<stdin>"]


def test_standard_input_with_a_name(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo / ".github/product-review.yml", "categories:\n  'docs/research/**': research\n")
    feed(monkeypatch, PLAIN_NOTE)
    code = main(["check", "--format", "json", "--no-progress", "--fail-on", "never",
                 "-", "--stdin-filename", "docs/research/README.md"])  # fmt: skip
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    (document,) = payload["documents"]
    assert document["path"] == "docs/research/README.md"
    assert document["category"] == "research"  # the config's globs see the name


def test_globs_see_the_path_inside_the_repository_wherever_check_runs(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo / ".github/product-review.yml", 'paths:\n  include: ["docs/specs/**"]\n')
    write(repo / "docs/specs/widget.md", PLAIN_NOTE)
    assert reviewed(["."], capsys)[0] == paths("docs/specs/widget.md")
    monkeypatch.chdir(repo / "docs")
    assert reviewed(["specs"], capsys)[0] == paths("specs/widget.md")
    absolute = str(repo / "docs/specs/widget.md")
    assert reviewed([absolute], capsys)[0] == [absolute]
    assert reviewed([absolute, "--exclude", "docs/specs/*"], capsys)[0] == []


def test_a_named_file_that_is_not_text_and_not_a_design_doc_by_path_passes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What the pre-commit hook hands over: a Latin-1 notes page must not fail the commit.
    (repo / "notes.md").write_bytes(b"# Caf\xe9\n\nNotes.\n")
    code = main(["check", "--no-progress", "notes.md"])
    err = capsys.readouterr().err
    assert code == 0
    assert "notes.md: not reviewed: could not be read to judge its content" in err
    # A design doc by its path is still reported as unreadable.
    (repo / "rfcs").mkdir()
    (repo / "rfcs/0001-x.md").write_bytes(b"# Caf\xe9\n")
    assert main(["check", "--no-progress", "rfcs/0001-x.md"]) == 2
