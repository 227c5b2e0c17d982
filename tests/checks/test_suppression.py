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


@pytest.mark.parametrize(
    ("text", "silenced", "note"),
    [
        pytest.param(
            f"# A\n\n<!-- product-review disable=placehoder,absolute-requirement -->\n"
            f"{ABSOLUTE}\n",
            "absolute-requirement",  # the known id in the same comment still silences
            "unknown id 'placehoder' in the suppression comment on line 3 "
            "(did you mean 'placeholder'?); it silences nothing",
            id="comment",
        ),
        pytest.param(
            "---\nproduct_review:\n  disable: [metrix, placeholder]\n---\n# A\n\nTBD\n",
            "placeholder",
            "unknown id 'metrix' in front matter `product_review.disable` "
            "(did you mean 'metrics'?); it silences nothing",
            id="front-matter-list",
        ),
        pytest.param(
            "---\nproduct_review:\n  disable: metrix, placeholder\n---\n# A\n\nTBD\n",
            "placeholder",
            "unknown id 'metrix' in front matter `product_review.disable` "
            "(did you mean 'metrics'?); it silences nothing",
            id="front-matter-text",
        ),
    ],
)
def test_an_unknown_id_where_checks_are_silenced_is_a_note_with_the_closest_id(
    text: str, silenced: str, note: str
) -> None:
    report = review_document(text, "x.md")
    assert note in report.notes
    assert all(f.check != silenced for f in report.findings)


def test_an_unknown_id_far_from_every_rule_gets_no_guess() -> None:
    text = "# A\n\n<!-- product-review disable=zzzz -->\nText.\n"
    (note,) = [n for n in review_document(text, "x.md").notes if "unknown id" in n]
    assert note == "unknown id 'zzzz' in the suppression comment on line 3; it silences nothing"


def test_known_ids_and_a_bare_disable_give_no_note() -> None:
    text = (
        "# A\n\n<!-- product-review disable -->\nTBD\n\n"
        "<!-- product-review disable=metrics -->\n"
    )
    assert not [n for n in review_document(text, "x.md").notes if "unknown id" in n]


def test_a_flood_of_unknown_ids_gives_a_bounded_number_of_notes() -> None:
    comments = "".join(f"<!-- product-review disable=bogus{i} -->\n\n" for i in range(500))
    notes = [n for n in review_document(f"# A\n\n{comments}", "x.md").notes if "unknown" in n]
    assert 1 <= len(notes) <= 10
