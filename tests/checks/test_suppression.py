"""Suppression the way prose linters do it: off/on ranges, disable=ID, front matter."""

from __future__ import annotations

import pytest

from checks import FindingKind, review_document
from checks.report import DIMENSIONS

ABSOLUTE = "The service must answer in real-time."


def line_checks(text: str) -> list[tuple[str, int]]:
    report = review_document(text, "x.md")
    return [(f.check, f.line) for f in report.findings if f.kind is FindingKind.LINE]


CASES = [
    pytest.param(
        f"# A\n\n<!-- product-review off -->\n\n{ABSOLUTE}\n\n<!-- product-review on -->\n\n"
        f"{ABSOLUTE}\n",
        [("absolute-requirement", 9)],
        id="off-on-range",
    ),
    pytest.param(
        f"# A\n\n<!-- product-review off -->\n\n{ABSOLUTE}\n\nTBD\n",
        [],
        id="off-to-the-end",
    ),
    pytest.param(
        f"# A\n\n<!-- product-review disable=absolute-requirement -->\n{ABSOLUTE}\n\n{ABSOLUTE}\n",
        [("absolute-requirement", 6)],
        id="disable-next-block-only",
    ),
    pytest.param(
        f"# A\n\n<!-- product-review disable=placeholder,absolute-requirement -->\n"
        f"{ABSOLUTE} TBD\n",
        [],
        id="disable-several-ids",
    ),
    pytest.param(
        f"# A\n\n<!-- product-review disable=placeholder -->\n{ABSOLUTE} TBD\n",
        [("absolute-requirement", 4)],
        id="disable-other-id-keeps-this-one",
    ),
    pytest.param(
        f"# A\n\n<!-- product-review disable -->\n{ABSOLUTE} TBD\n",
        [],
        id="disable-everything-for-next-block",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_inline_directives(text: str, expected: list[tuple[str, int]]) -> None:
    assert line_checks(text) == expected


def test_front_matter_skip_skips_the_document() -> None:
    report = review_document(f"---\nproduct_review: skip\n---\n# A\n\n{ABSOLUTE}\n", "x.md")
    assert report.skipped and report.findings == () and report.top_questions == ()
    assert len(report.dimensions) == len(DIMENSIONS)


def test_front_matter_disable_list_silences_checks_and_dimensions() -> None:
    text = (
        "---\nproduct_review:\n  disable: [absolute-requirement, metrics]\n---\n"
        f"# A\n\n{ABSOLUTE}\n"
    )
    checks = {f.check for f in review_document(text, "x.md").findings}
    assert "absolute-requirement" not in checks and "metrics" not in checks
    assert "alternatives" in checks  # other gaps are still asked


def test_a_dimension_id_in_a_directive_silences_that_gap() -> None:
    text = "# A\n\n<!-- product-review disable=alternatives -->\nSome text.\n"
    checks = {f.check for f in review_document(text, "x.md").findings}
    assert "alternatives" not in checks and "risks" in checks
