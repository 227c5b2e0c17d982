"""Property-based: any text at all is reviewed without raising, within the document."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks import DIMENSIONS, ReviewOptions, review_document
from checks.decoding import UndecodableText, decode_text
from checks.evidence import EVIDENCE_TEXT_CHARS

MARKDOWN_BITS = st.sampled_from(
    [
        "# ",
        "## ",
        "\n",
        "\n\n",
        "- ",
        "1. ",
        "> ",
        "```\n",
        "`",
        "<!-- ",
        " -->",
        "---\n",
        "| a | b |\n|---|---|\n",
        "TBD",
        "real-time",
        "all users",
        "users want",
        "[Name]",
        "<describe it>",
        "product-review off",
        "product-review disable=placeholder",
        "é",
        "☕",
        "\r\n",
        "\t",
        "    ",
        "Motivation",
        "Alternatives",
        "None.",
        "50%",
        "must",
        "improve",
    ]
)
# Hostile text: lone surrogates, NUL, every kind of line ending, Markdown punctuation.
SURROGATE = st.integers(0xD800, 0xDFFF).map(chr)  # lone, or two making no pair
ANY_CHARACTER = st.one_of(st.characters(codec=None, categories=None), SURROGATE)
LINE_ENDINGS = st.sampled_from(["\n", "\r", "\r\n", "\n\r", "\r\r\n", "\x00", "\ud800"])
PUNCTUATION = st.text(alphabet=string.punctuation + " \n\r\t", max_size=80)
HOSTILE_DOCUMENTS = st.one_of(
    st.text(alphabet=ANY_CHARACTER),
    PUNCTUATION,
    st.lists(
        st.one_of(MARKDOWN_BITS, LINE_ENDINGS, PUNCTUATION, st.text(ANY_CHARACTER, max_size=10)),
        max_size=60,
    ).map("".join),
)
DOCUMENTS = st.one_of(
    st.text(),
    st.lists(st.one_of(MARKDOWN_BITS, st.text(max_size=20)), max_size=60).map("".join),
    HOSTILE_DOCUMENTS,
)


@given(DOCUMENTS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_text_is_reviewed_and_lines_lie_inside(text: str) -> None:
    report = review_document(text, "doc.md")
    assert tuple(d.key for d in report.dimensions) == DIMENSIONS
    for result in report.dimensions:
        assert result.line is None or 1 <= result.line <= report.line_count
    for finding in report.findings:
        assert 1 <= finding.line <= finding.end_line <= report.line_count
    for question in report.top_questions:
        assert question.line is None or 1 <= question.line <= report.line_count


@given(DOCUMENTS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_text_is_explained_and_its_evidence_lies_inside(text: str) -> None:
    report = review_document(text, "doc.md", ReviewOptions(explain=3))
    for result in report.dimensions:
        assert len(result.evidence) <= 3
        scores = [item.score for item in result.evidence]
        assert scores == sorted(scores, reverse=True)
        for item in result.evidence:
            assert 1 <= item.line <= item.end_line <= report.line_count
            assert 0.0 <= item.score <= 1.0
            assert len(item.text) <= EVIDENCE_TEXT_CHARS


@given(DOCUMENTS)
@settings(max_examples=100, deadline=None)
def test_reviews_are_deterministic(text: str) -> None:
    assert review_document(text, "doc.md") == review_document(text, "doc.md")


def _git_line_count(text: str) -> int:
    return max(text.count("\n") + (0 if text.endswith("\n") else 1), 1)


@given(HOSTILE_DOCUMENTS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_lines_are_counted_as_git_counts_them(text: str) -> None:
    report = review_document(text, "doc.md")
    assert report.line_count == _git_line_count(text)
    for finding in report.findings:
        assert 1 <= finding.line <= finding.end_line <= report.line_count


@given(st.lists(st.sampled_from(["TBD", "text", "\n", "\r", "\r\n", " "]), max_size=40))
@settings(max_examples=200, deadline=None)
def test_a_placeholder_is_reported_on_its_git_line(pieces: list[str]) -> None:
    text = "".join(pieces)
    report = review_document(text, "doc.md")
    lines = text.replace("\r\n", "\n").split("\n")
    for finding in report.findings:
        if finding.check == "placeholder":
            assert "TBD" in lines[finding.line - 1], (text, finding.line)


@given(st.binary(max_size=400))
@settings(max_examples=300, deadline=None)
def test_any_bytes_decode_or_are_refused_with_a_reason(data: bytes) -> None:
    try:
        text = decode_text(data)
    except UndecodableText as error:
        assert str(error)
        return
    assert "\x00" not in text


# A document holds some ASCII (a newline, a space): in UTF-16 that makes NUL bytes,
# which is how a real FF FE mark is told from Latin-1 "ÿþ".
DOCUMENT_TEXT = st.text().filter(lambda t: "\x00" not in t).map(lambda t: t + "\n")


@given(DOCUMENT_TEXT, st.sampled_from(["utf-8", "utf-16", "utf-32"]))
@settings(max_examples=200, deadline=None)
def test_text_with_a_byte_order_mark_decodes_back(text: str, encoding: str) -> None:
    data = ("\ufeff" + text).encode("utf-8") if encoding == "utf-8" else text.encode(encoding)
    assert decode_text(data) == text
