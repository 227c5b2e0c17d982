"""Property-based: any text at all is reviewed without raising, within the document."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks import DIMENSIONS, review_document

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
DOCUMENTS = st.one_of(
    st.text(),
    st.lists(st.one_of(MARKDOWN_BITS, st.text(max_size=20)), max_size=60).map("".join),
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
@settings(max_examples=100, deadline=None)
def test_reviews_are_deterministic(text: str) -> None:
    assert review_document(text, "doc.md") == review_document(text, "doc.md")
