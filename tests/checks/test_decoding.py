"""decode_text: the encodings a document file may come in, and the reasons for refusing one."""

from __future__ import annotations

import codecs

import pytest

from checks.decoding import BINARY, UndecodableText, decode_text
from localreview.files import UnreadableFile, decode_document

DOC = "# Title\n\nCafé ☕ 😀: what is wrong today?\n"
CHINESE = (
    "# 标题\n\n这是一个关于产品的设计文档，我们需要解决用户的问题。\n\n"
    "## 问题\n\n用户今天无法同步数据。\n"
)
UTF16_UNMARKED = "looks like UTF-16 without a byte-order mark; save the file as UTF-8"


def refusal(data: bytes) -> str:
    with pytest.raises(UndecodableText) as raised:
        decode_text(data)
    return str(raised.value)


@pytest.mark.parametrize(
    "data",
    [
        DOC.encode(),
        codecs.BOM_UTF8 + DOC.encode(),
        DOC.encode("utf-16"),  # with this machine's byte order and its mark
        codecs.BOM_UTF16_LE + DOC.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + DOC.encode("utf-16-be"),
        codecs.BOM_UTF32_LE + DOC.encode("utf-32-le"),
        codecs.BOM_UTF32_BE + DOC.encode("utf-32-be"),
        DOC.encode("utf-16-le"),
        DOC.encode("utf-16-be"),
        DOC.encode("utf-32-le"),
        DOC.encode("utf-32-be"),
    ],
)
def test_utf8_utf16_and_utf32_decode_without_their_mark(data: bytes) -> None:
    assert decode_text(data) == DOC


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_unmarked_utf16_of_mostly_chinese_text_decodes(codec: str) -> None:
    assert decode_text(CHINESE.encode(codec)) == CHINESE


def test_a_mark_alone_is_an_empty_document() -> None:
    assert decode_text(codecs.BOM_UTF16_LE) == ""
    assert decode_text(codecs.BOM_UTF8) == ""


def test_invalid_utf8_names_the_byte_and_line() -> None:
    assert refusal(b"# Title\n\nCaf\xe9\n") == (
        "not valid UTF-8 (byte 0xe9 on line 3); save the file as UTF-8"
    )


def test_ff_fe_without_any_nul_is_not_utf16() -> None:
    # Text in UTF-16 always holds NUL bytes; this is a Latin-1 "ÿþ".
    assert refusal(b"\xff\xfe not utf-8").startswith("not valid UTF-8 (byte 0xff on line 1)")


def test_truncated_unmarked_utf16_says_so() -> None:
    assert refusal(DOC.encode("utf-16-le")[:-1]) == UTF16_UNMARKED


def test_marked_utf16_with_a_lone_surrogate_is_refused() -> None:
    data = codecs.BOM_UTF16_BE + "a".encode("utf-16-be") + b"\xd8\x00"
    assert refusal(data) == (
        "not valid UTF-16 (it starts with a UTF-16 byte-order mark); save the file as UTF-8"
    )


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        b"# Title\n\x00\x01\x02 png-ish bytes\n",
        DOC.encode() * 50 + b"\x00",  # UTF-8 with a stray NUL byte
        codecs.BOM_UTF8 + b"# Title\x00\n",
        "a\x00b".encode("utf-16"),  # a U+0000 character
        bytes(range(256)) * 4,
    ],
)
def test_binary_files_are_refused(data: bytes) -> None:
    assert refusal(data) == BINARY


def test_a_few_aligned_nuls_hint_at_utf16() -> None:
    # 1-5 % of the units carry an ASCII character: too few to trust, enough to say why.
    data = ("字" * 60).encode("utf-16-le") + "\n\n".encode("utf-16-le")
    assert refusal(data) == UTF16_UNMARKED


def test_the_command_line_wraps_the_reason() -> None:
    assert decode_document(DOC.encode("utf-16")) == DOC
    with pytest.raises(UnreadableFile, match="binary file"):
        decode_document(b"\x00\x01\x02\x03")
