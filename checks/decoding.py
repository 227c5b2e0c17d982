"""Bytes of a document file to text: UTF-8, or UTF-16/UTF-32 that can be told apart.

Shared by the command line and the App, so both accept and refuse the same files.
A refusal is an `UndecodableText` whose message says why, in words for the person
who wrote the file. Pure: it reads nothing but the bytes it is given.
"""

from __future__ import annotations

import codecs


class UndecodableText(ValueError):
    """The bytes are not a text file the engine can read; the message says why."""


BINARY = "binary file (contains NUL bytes), not a Markdown document"

# UTF-32 first: its little-endian mark begins with UTF-16's.
_MARKED = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
# Without a mark, UTF-16 text shows NUL bytes on one side of its code units: the
# high byte of every ASCII character, which Markdown is full of (newlines, spaces,
# `#`, `-`, `|`). Most NUL bytes must sit on that side (a few CJK characters, such
# as U+4E00, have a NUL low byte)...
_MIN_ALIGNED_NULS = 0.8
# ... and this share of the units must be ASCII to read the file as UTF-16;
_MIN_ASCII_UNITS = 0.05
# below it, down to this share, the file is refused as likely UTF-16. A UTF-8 file
# with a stray NUL byte or two is called binary, as it always was.
_MIN_HINT_UNITS = 0.01
# C0 controls that no text file holds (tab, newlines, form feed and escape pass).
_CONTROLS = frozenset(chr(c) for c in (*range(0x01, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20)))


def decode_text(data: bytes) -> str:
    """The text of a document file, without its byte-order mark.

    UTF-8 (with or without a mark); UTF-16 and UTF-32, either byte order, with a
    mark, or without one when the NUL bytes show the encoding and it decodes
    cleanly. Anything else raises UndecodableText.
    """
    if data.startswith(codecs.BOM_UTF8):
        return _utf8(data[len(codecs.BOM_UTF8) :])
    if b"\x00" not in data:
        # Text in UTF-16 or UTF-32 always holds NUL bytes (a newline, a space, any
        # ASCII character); without any, a leading FF FE is Latin-1 "ÿþ", not a mark.
        if any(data == mark for mark, _, _ in _MARKED):
            return ""
        return _utf8(data)
    for mark, codec, name in _MARKED:
        if data.startswith(mark):
            try:
                text = data[len(mark) :].decode(codec)
            except UnicodeDecodeError:
                raise UndecodableText(
                    f"not valid {name} (it starts with a {name} byte-order mark); "
                    "save the file as UTF-8"
                ) from None
            return _without_nul(text)
    guess = _unmarked_encoding(data)
    if guess is None:
        raise UndecodableText(BINARY)
    codec, name, confident = guess
    unmarked = f"looks like {name} without a byte-order mark; save the file as UTF-8"
    if not confident:
        raise UndecodableText(unmarked)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        raise UndecodableText(unmarked) from None
    if not _CONTROLS.isdisjoint(text):
        raise UndecodableText(BINARY)
    return _without_nul(text)


def _utf8(data: bytes) -> str:
    if b"\x00" in data:
        raise UndecodableText(BINARY)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start]
        raise UndecodableText(
            f"not valid UTF-8 (byte 0x{byte:02x} on line {line}); save the file as UTF-8"
        ) from None


def _without_nul(text: str) -> str:
    # A U+0000 character is no part of a text document, in any encoding.
    if "\x00" in text:
        raise UndecodableText(BINARY)
    return text


def _unmarked_encoding(data: bytes) -> tuple[str, str, bool] | None:
    """(codec, name, confident) when the NUL bytes follow the pattern of UTF-32 or
    UTF-16 text; confident when there are enough of them to decode the file."""
    size = len(data)
    if size % 4 == 0:
        quarter = size // 4
        # UTF-32 code points stop at U+10FFFF: the top byte is always 0, the next
        # <= 0x10, and 0 for the Basic Multilingual Plane, where most text lies.
        for top, plane, codec in ((3, 2, "utf-32-le"), (0, 1, "utf-32-be")):
            planes = data[plane::4]
            if (
                data[top::4].count(0) == quarter
                and max(planes) <= 0x10
                and planes.count(0) * 2 >= quarter
            ):
                return codec, "UTF-32", True
    # An odd size still looks like UTF-16 here; decoding it then fails, with that name.
    units = max(size // 2, 1)
    nuls = data.count(0)
    for high, codec in ((1, "utf-16-le"), (0, "utf-16-be")):
        aligned = data[high::2].count(0)
        if aligned < _MIN_ALIGNED_NULS * nuls:
            continue
        if aligned >= max(2, _MIN_ASCII_UNITS * units):
            return codec, "UTF-16", True
        if aligned >= max(2, _MIN_HINT_UNITS * units):
            return codec, "UTF-16", False
    return None
