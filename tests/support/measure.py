"""Sizes as GitHub counts them, measured independently of the code under test."""

from __future__ import annotations


def utf8_length(text: str) -> int:
    """The length of `text` in UTF-8 bytes. Deliberately not `checks.markdown_text.byte_len`,
    the measure the code under test fits its output with: a wrong measure there must fail
    the limit checks, not pass them."""
    return len(text.encode("utf-8"))
