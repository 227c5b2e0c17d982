"""Small text helpers shared by every output: the command line's formats, the Check
Run, the review and the comment command's replies.

Plurals, line spans, Markdown code spans and table cells, engine or document text
made safe for one Markdown line, and clipping to a size in UTF-8 bytes (the unit
GitHub enforces its limits in). Pure string functions.
"""

from __future__ import annotations

import re

from checks.report import Finding

_WHITESPACE = re.compile(r"\s+")


def plural(count: int, noun: str) -> str:
    """`1 question`, `3 questions`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def line_span(finding: Finding, *, prose: bool = False) -> str:
    """The finding's lines: `12` or `12-14`; with `prose`, `Line 12` or `Lines 12–14`."""
    if finding.end_line > finding.line:
        if prose:
            return f"Lines {finding.line}–{finding.end_line}"
        return f"{finding.line}-{finding.end_line}"
    return f"Line {finding.line}" if prose else str(finding.line)


def one_line(text: str) -> str:
    """`text` with every run of whitespace, line breaks included, made one space."""
    return _WHITESPACE.sub(" ", text)


def code_safe(text: str) -> str:
    """`text` safe inside a one-backtick code span: a backtick would end the span and
    a line break would break a table or list item, so both are replaced."""
    return one_line(text.replace("`", "'"))


def code_span(text: str) -> str:
    """`text` as inline code, fenced with two backticks when it holds one itself."""
    fence = "``" if "`" in text else "`"
    padding = " " if fence == "``" else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def escape_cell(text: str) -> str:
    """`text` safe inside a Markdown table cell: a pipe would start the next cell."""
    return text.replace("|", "\\|")


def plain(text: str, max_chars: int | None = None) -> str:
    """Engine or document text made safe for one Markdown line: whitespace collapsed,
    and no HTML comment openers that could forge a fingerprint marker."""
    cut_early = False
    if max_chars is not None and len(text) > 4 * max_chars:
        # Only a prefix can survive the clip; collapsing all of a huge text is wasted work.
        text, cut_early = text[: 4 * max_chars], True
    flat = " ".join(text.split()).replace("<!--", "&lt;!--")
    if max_chars is not None and (cut_early or len(flat) > max_chars):
        flat = flat[: max_chars - 1].rsplit(" ", 1)[0] + "…"
    return flat


def byte_len(text: str) -> int:
    """The length of `text` in UTF-8 bytes."""
    # `isascii` is a flag check in CPython: ASCII text is measured without encoding it.
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def clip_bytes(text: str, limit: int) -> str:
    """`text` within `limit` UTF-8 bytes, cut at a line (or word) boundary with an ellipsis."""
    if byte_len(text) <= limit:
        return text
    room = max(limit - len("…".encode()), 0)
    # Each character is at least one byte: no more than `room` of them can be kept.
    cut = text[:room].encode("utf-8")[:room].decode("utf-8", errors="ignore")
    for boundary in ("\n", " "):
        position = cut.rfind(boundary)
        if position > len(cut) // 2:
            cut = cut[:position]
            break
    return cut.rstrip() + "…"
