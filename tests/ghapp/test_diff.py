"""Which RIGHT-side lines of a PR file's `patch` accept a review comment, and an
added file read back from its patch."""

from __future__ import annotations

import pytest

from ghapp.diff import commentable_lines, text_from_added_patch
from tests.support.fakegithub import added_file_patch

CASES: list[tuple[str, str | None, set[int]]] = [
    ("no patch (binary or too large)", None, set()),
    ("empty patch", "", set()),
    (
        "new file: every line added",
        "@@ -0,0 +1,3 @@\n+# Title\n+\n+Body",
        {1, 2, 3},
    ),
    (
        "deleted file: nothing on the right side",
        "@@ -1,2 +0,0 @@\n-# Title\n-Body",
        set(),
    ),
    (
        "context and added lines count, removed lines do not",
        "@@ -10,4 +10,4 @@ ## Motivation\n keep\n-old\n+new\n keep too\n last",
        {10, 11, 12, 13},
    ),
    (
        "multiple hunks",
        "@@ -1,2 +1,3 @@\n a\n+b\n c\n@@ -20,2 +21,2 @@\n x\n-y\n+z",
        {1, 2, 3, 21, 22},
    ),
    (
        "no newline at end of file, on both sides",
        "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file",
        {1, 2},
    ),
    (
        "counts omitted in the hunk header mean one line",
        "@@ -5 +5 @@\n-old\n+new",
        {5},
    ),
    (
        "a removed line that looks like a file header stays inside the hunk",
        "@@ -1,3 +1,2 @@\n a\n--- not a header\n+++ added, not a header",
        {1, 2},
    ),
    (
        "an empty context line whose leading space was stripped",
        "@@ -1,3 +1,3 @@\n a\n\n c",
        {1, 2, 3},
    ),
    (
        "git headers before the first hunk are skipped",
        "diff --git a/x.md b/x.md\n--- a/x.md\n+++ b/x.md\n@@ -1 +1,2 @@\n a\n+b",
        {1, 2},
    ),
    (
        "line separators inside a line do not split it",
        "@@ -1,2 +1,2 @@\n a\u2028still a\n+b\x0cc",
        {1, 2},
    ),
    (
        "CRLF line endings",
        "@@ -1,2 +1,3 @@\r\n a\r\n+b\r\n c\r\n",
        {1, 2, 3},
    ),
]


@pytest.mark.parametrize(
    ("patch", "expected"),
    [pytest.param(patch, expected, id=name) for name, patch, expected in CASES],
)
def test_commentable_lines(patch: str | None, expected: set[int]) -> None:
    assert commentable_lines(patch) == frozenset(expected)


def test_large_hunk_counts_every_line() -> None:
    added = "\n".join(f"+line {n}" for n in range(1, 1001))
    assert commentable_lines(f"@@ -0,0 +1,1000 @@\n{added}") == frozenset(range(1, 1001))


def test_a_hunk_header_always_starts_a_new_hunk() -> None:
    # The first header claims 3 old lines but the hunk has only one: the next
    # header must still be read as a header, not as content.
    patch = "@@ -20,3 +21,2 @@\n x\n+y\n@@ -28,1 +30,1 @@\n-old\n+new"
    assert commentable_lines(patch) == frozenset({21, 22, 30})


@pytest.mark.parametrize(
    "text",
    ["# Title\n\nBody\n", "no newline at end", "one line\n", "tab\there\n\nblank above\n"],
)
def test_added_file_text_is_read_back_from_its_patch(text: str) -> None:
    assert text_from_added_patch(added_file_patch(text)) == text


@pytest.mark.parametrize(
    "patch",
    [
        None,
        "",
        "@@ -1,2 +1,2 @@\n-a\n+b\n c",  # a modification, not an addition
        "@@ -0,0 +1,3 @@\n+a\n+b",  # fewer lines than announced (cut short)
        "@@ -0,0 +1,1 @@\n+a\n+b",
    ],
)
def test_anything_but_a_complete_added_patch_is_refused(patch: str | None) -> None:
    assert text_from_added_patch(patch) is None
