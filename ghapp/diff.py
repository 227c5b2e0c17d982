"""What a changed file's diff tells: which of its lines a pull-request review comment
may sit on, and, for a newly added file, the whole file.

GitHub only accepts a review comment (`side: RIGHT`) on a line of the new file
that appears in the diff: an added line or a context line of some hunk. The PR
files API gives each file's hunks in its `patch` field; that field is absent
for binary files and for diffs too large for GitHub to render.
"""

from __future__ import annotations

import re

# "@@ -old_start[,old_count] +new_start[,new_count] @@ optional section heading".
# Digits are bounded: no real line number has more, and int() of a huge one is slow.
_HUNK_HEADER = re.compile(r"@@ -(\d{1,10})(?:,(\d{1,10}))? \+(\d{1,10})(?:,(\d{1,10}))? @@")


def commentable_lines(patch: str | None) -> frozenset[int]:
    """RIGHT-side line numbers (added or context lines) present in `patch`'s hunks.

    One pass over the patch; callers that place many comments read it once per file."""
    if not patch:
        return frozenset()
    lines: set[int] = set()
    new_line = 0
    old_left = new_left = 0  # lines still expected in the current hunk
    # Split on "\n" only: str.splitlines() would also split on characters such as
    # U+2028 or form feeds that can legitimately appear inside a line of the file.
    for raw in patch.split("\n"):
        # No line of a hunk starts with "@@" (each has a prefix), so a header always
        # starts a new hunk, even when the previous one's counts were off.
        header = _HUNK_HEADER.match(raw) if raw.startswith("@@") else None
        if header is not None:
            old_left = _count(header.group(2))
            new_line = int(header.group(3))
            new_left = _count(header.group(4))
            continue
        if old_left <= 0 and new_left <= 0:
            continue  # between hunks: "diff --git", "+++", "\ No newline..." and the like
        # Inside a hunk the counts from the header, not the prefix alone, decide
        # where it ends, so a removed line reading "-- x" is never taken for "---".
        marker = raw[:1]
        if marker == "+":
            lines.add(new_line)
            new_line += 1
            new_left -= 1
        elif marker == "-":
            old_left -= 1
        elif marker == "\\":
            continue  # "\ No newline at end of file" belongs to the line before
        else:
            # A context line; some tools strip the lone space of an empty one.
            lines.add(new_line)
            new_line += 1
            new_left -= 1
            old_left -= 1
    return frozenset(lines)


def _count(group: str | None) -> int:
    # A count omitted from the hunk header means one line.
    return 1 if group is None else int(group)


def text_from_added_patch(patch: str | None) -> str | None:
    """The whole file when `patch` is the diff of a newly added text file, else None.

    An added file's patch is one hunk `@@ -0,0 +1,K @@` of K added lines, which
    is exactly the file at the head commit, so it need not be downloaded again.
    Anything unexpected (a count mismatch, an omitted patch) returns None and the
    caller reads the file through the API instead.
    """
    if not patch:
        return None
    lines = patch.split("\n")
    header = re.fullmatch(r"@@ -0,0 \+1(?:,(\d+))? @@.*", lines[0])
    if header is None:
        return None
    expected = 1 if header.group(1) is None else int(header.group(1))
    body = lines[1:]
    if body and body[-1] == "":
        body = body[:-1]
    ends_with_newline = True
    if body and body[-1].startswith("\\"):  # "\ No newline at end of file"
        ends_with_newline = False
        body = body[:-1]
    if len(body) != expected or not all(line.startswith("+") for line in body):
        return None
    text = "\n".join(line[1:] for line in body)
    return text + "\n" if ends_with_newline and body else text
