"""Hostile documents: every one gets a report, with every line inside the document.

Each pathological input is generated here, at a size where the engine's earlier
super-linear code took from half a minute to several minutes, and where linear
code takes well under a second. The tests assert no timing: a generous watchdog
(SIGALRM, 20 s; the regular-expression engine checks for signals, and the
parser returns in linear time) only turns a return to quadratic behaviour into
a failure instead of a hung test run.
"""

from __future__ import annotations

import importlib.util
import string
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from types import ModuleType

import pytest

from checks import DocumentReport, FindingKind, review_document
from checks.options import ReviewOptions
from checks.report import DIMENSIONS
from tests.support.watchdog import watchdog

WATCHDOG_SECONDS = 20
FUZZ_ENTRY = Path(__file__).resolve().parents[2] / "fuzz" / "fuzz_engine.py"


def watched() -> AbstractContextManager[None]:
    return watchdog(WATCHDOG_SECONDS, "super-linear work?")


def git_line_count(text: str) -> int:
    """Lines as git and GitHub count them: only LF ends one; the report has at least 1."""
    return max(text.count("\n") + (0 if text.endswith("\n") else 1), 1)


def assert_lines_inside(report: DocumentReport, text: str) -> None:
    count = report.line_count
    assert count == git_line_count(text)
    for result in report.dimensions:
        assert result.line is None or 1 <= result.line <= count, result
    for finding in report.findings:
        assert 1 <= finding.line <= finding.end_line <= count, finding
    for question in report.top_questions:
        assert question.line is None or 1 <= question.line <= count, question


def review(text: str) -> DocumentReport:
    with watched():
        report = review_document(text, "docs/design/hostile.md")
    assert_lines_inside(report, text)
    return report


def placeholders(report: DocumentReport) -> list[int]:
    return [f.line for f in report.findings if f.check == "placeholder"]


# --- generated pathological inputs ------------------------------------------------

HOSTILE: dict[str, Callable[[], str]] = {
    # An unclosed "[" made the template-bracket lookahead scan to the end from each one.
    "60k opening brackets": lambda: "[" * 60_000,
    "brackets with template words": lambda: "[Name " * 50_000,
    # An unclosed directive made the lazy `(.*?)` scan to the end from each opening.
    "16k unclosed directives": lambda: "<!-- product-review x " * 16_000,
    "directive with huge whitespace": lambda: "<!--" + " " * 500_000 + "product-review off",
    # Each `disable` looked for its next block from the first block on.
    "20k disables after 20k paragraphs": lambda: (
        "A paragraph.\n\n" * 20_000 + "<!-- product-review disable -->\n" * 20_000
    ),
    # Each finding was compared with every off/on range.
    "10k findings and 40k off/on ranges": lambda: (
        "TBD\n\n" * 10_000 + "<!-- product-review off -->\n<!-- product-review on -->\n" * 40_000
    ),
    # Each hit looked for its sentence from the first sentence of the block on.
    "20k hits after 40k sentences": lambda: (
        "x. " * 40_000 + "we must not support all users. " * 20_000
    ),
    "one sentence repeated 5k times": lambda: (
        "We must support all users in real time to improve adoption because it is more modern. "
        * 5_000
    ),
    "5k TBD paragraphs": lambda: "TBD\n\n" * 5_000,
    "nested block quotes": lambda: "> " * 50_000 + "deep\n",
    "quote depth growing per line": lambda: "".join(">" * i + " x\n" for i in range(1, 2_000)),
    "nested lists": lambda: "".join("  " * i + "- item\n" for i in range(3_000)),
    "nested ordered list markers": lambda: "1. " * 50_000 + "x",
    "10k headings": lambda: "".join(f"## Heading {i}\n" for i in range(10_000)),
    "30k links": lambda: " ".join(f"[l{i}](https://example.org/issues/{i})" for i in range(30_000)),
    "10k-column table row": lambda: (
        "|" + "|".join(["a"] * 10_000) + "|\n|" + "|".join(["-"] * 10_000) + "|\n"
        "|" + "|".join(["TBD"] * 10_000) + "|\n"
    ),
    "1 MB single line": lambda: "word " * 200_000,
    "50k describe tags": lambda: "<describe the problem here> " * 50_000,
    "100k HTML comments": lambda: "<!-- a comment -->\n" * 100_000,
    "unclosed emphasis and links": lambda: "*a _b [c](" * 50_000,
    "lone CR line endings": lambda: "# Title\r\rTBD\r\r" * 3_000,
    "NUL characters": lambda: "TBD\x00" * 100_000,
    "lone surrogates": lambda: "\ud800 TBD \udfff\n" * 20_000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_document_gets_a_report_inside_the_document(name: str) -> None:
    report = review(HOSTILE[name]())
    assert len(report.dimensions) == len(DIMENSIONS)


@pytest.mark.parametrize("character", list(string.punctuation))
def test_a_long_run_of_one_punctuation_character(character: str) -> None:
    # 250 KB: "[" was quadratic (60 KB took about 45 s); each is linear now.
    report = review(character * 250_000)
    assert len(report.dimensions) == len(DIMENSIONS)


# --- the text contract ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["\ud800", "\udfff# Title\n", "a\ud83d\ude00b", "\x00", "\r", "\r\n", "\n\r", "\r\r\n\n"],
)
def test_any_string_is_reviewed(text: str) -> None:
    review(text)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("# Title\n\nSome text.\n\nTBD\n", 5),
        ("# Title\r\n\r\nSome text.\r\n\r\nTBD\r\n", 5),
        # Only LF ends a line for git and GitHub: a lone CR stays inside its line.
        ("# Title\r\rSome text.\r\rTBD\r", 1),
        ("# Title\n\rSome text.\r\nmore\r\rTBD\n", 3),
        ("# Title\n\nSome\rtext\rspread\rover\rCRs\nTBD\n", 4),
    ],
)
def test_lines_are_counted_as_git_counts_them(text: str, line: int) -> None:
    report = review(text)
    assert placeholders(report) == [line]


def test_nul_and_surrogates_keep_the_words_around_them() -> None:
    report = review("# Title\n\nTBD\x00 and \ud800 more\n")
    assert placeholders(report) == [3]


# --- directives still work --------------------------------------------------------


def test_off_and_on_silence_the_lines_between() -> None:
    text = (
        "TBD one\n\n<!-- product-review off -->\n\n"
        "TBD two\n\n<!-- product-review on -->\n\nTBD three\n"
    )
    assert placeholders(review(text)) == [1, 9]


def test_disable_silences_the_next_block_only() -> None:
    text = "TBD one\n\n<!-- product-review disable=placeholder -->\nTBD two\n\nTBD three\n"
    assert placeholders(review(text)) == [1, 6]


def test_disable_of_another_check_leaves_placeholders() -> None:
    text = "<!-- product-review disable=solution-first, unsupported-demand -->\nTBD\n"
    assert placeholders(review(text)) == [2]


def test_disable_of_a_dimension_drops_its_gap() -> None:
    report = review("<!-- product-review disable=metrics -->\n\n# Title\n\nText.\n")
    gaps = {f.check for f in report.findings if f.kind is FindingKind.GAP}
    assert "metrics" not in gaps and "problem" in gaps


def test_directive_inside_an_unclosed_comment_and_after_a_nested_opening() -> None:
    off = "<!-- note <!-- product-review off -->\n\nTBD hidden\n\n"
    text = off + "<!-- product-review on\n\nTBD\n"
    assert placeholders(review(text)) == []  # off until the end: the `on` never closes
    text = off + "<!--product-review on-->\n\nTBD\n"
    assert placeholders(review(text)) == [7]


def test_directives_with_lone_cr_lines_point_at_git_lines() -> None:
    text = "TBD one\r\r<!-- product-review disable -->\nTBD two\n\nTBD three\n"
    # Git sees "TBD one\r\r<!-- ... -->" as line 1; the next block is line 2.
    assert placeholders(review(text)) == [1, 4]


# --- the fuzz entry point runs without atheris ------------------------------------


def _fuzz_entry() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_engine", FUZZ_ENTRY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00# Title\n\nTBD\n",
        b"\x00\xff\xfe\xed\xa0\x80 surrogate escapes\r",
        b"\x02\x00\xd8a\x00",  # UTF-16 with a lone surrogate
        b"\x04\r\r\x00\r\n<!-- product-review off",
        "\ufeff# With a mark\n".encode("utf-16"),
        "# Title\n".encode("utf-32-be"),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    ],
)
def test_fuzz_entry_point_accepts_inputs(data: bytes) -> None:
    with watched():
        _fuzz_entry().test_one_input(data)


def test_fuzz_entry_point_checks_the_contract() -> None:
    fuzz = _fuzz_entry()
    assert fuzz.git_line_count("a\rb\n") == 1
    assert fuzz.text_of(b"\x02" + "\ud800".encode("utf-16-le", "surrogatepass")) == "\ud800"


def test_a_report_lists_at_most_max_findings_most_severe_first() -> None:
    # One absolute requirement per paragraph (suggestions), then a placeholder (a
    # warning) at the very end: the cap keeps the warning, and counts the rest.
    text = "# Doc\n\n" + "We need real-time sync for all providers.\n\n" * 600 + "Owner: TBD\n"
    options = ReviewOptions(max_findings=100)
    report = review_document(text, "docs/rfcs/x.md", options)
    line_findings = [f for f in report.findings if f.kind is FindingKind.LINE]
    assert len(line_findings) == 100
    assert any(f.check == "placeholder" and f.line == report.line_count for f in line_findings)
    uncapped = review_document(text, "docs/rfcs/x.md")
    total = sum(f.kind is FindingKind.LINE for f in uncapped.findings)
    assert total > 100 and uncapped.omitted_findings == 0
    assert report.omitted_findings == total - 100
    assert any("more line findings are not listed" in note for note in report.notes)
    assert report.to_dict()["omitted_findings"] == total - 100
    assert [f.line for f in report.findings] == sorted(f.line for f in report.findings)
