"""`/product-review explain ID`: every dimension and check has an explanation that
matches what the engine asks, and its silencing advice really silences it."""

from __future__ import annotations

import re

import pytest

from checks import review_document
from checks.config import Layer
from checks.configfile import parse_settings
from checks.options import DEFAULT_OPTIONS
from checks.report import DIMENSIONS, LINE_CHECKS
from checks.rules import DIMENSION_BY_ID, LINE_CHECK_BY_ID
from ghapp.commands import parse_command
from ghapp.explain import canonical_id, explain, explain_reply, known_ids


def test_knows_the_nine_dimensions_and_the_six_checks() -> None:
    assert known_ids() == (*DIMENSIONS, *LINE_CHECKS)


@pytest.mark.parametrize("key", DIMENSIONS)
def test_each_dimension_is_explained_with_the_engines_own_words(key: str) -> None:
    text = explain(key)
    assert text is not None
    rule = DIMENSION_BY_ID[key]
    assert text.startswith(f"### `{key}`: {rule.title}")
    assert rule.prose.question in text
    assert rule.prose.why in text
    for part in ("**What it looks for:**", "**A good answer, for example:**"):
        assert part in text
    assert f"product_review: {{disable: [{key}]}}" in text
    assert f"<!-- product-review disable={key} -->" in text
    # Category wordings are shown when the engine has them.
    for category, question in rule.prose.category_questions.items():
        assert f"- {category.value}: {question}" in text


@pytest.mark.parametrize("check", LINE_CHECKS)
def test_each_check_is_explained_with_the_engines_own_words(check: str) -> None:
    text = explain(check)
    assert text is not None
    assert text.startswith(f"### `{check}`")
    assert LINE_CHECK_BY_ID[check].prose.question in text
    assert LINE_CHECK_BY_ID[check].prose.why in text
    assert "**A good answer, for example:**" in text
    assert f"<!-- product-review disable={check} -->" in text
    assert "<!-- product-review off -->" in text and "<!-- product-review on -->" in text
    assert f"product_review: {{disable: [{check}]}}" in text
    assert f"checks: {{{check}: off}}" in text


def test_explanations_fit_in_a_comment_and_never_read_as_a_command() -> None:
    for key in known_ids():
        text = explain(key)
        assert text is not None
        assert len(text) < 4000
        assert parse_command(text) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("metrics", "metrics"),
        ("METRICS", "metrics"),
        ("`why_now`", "why_now"),
        ("why-now", "why_now"),
        ("non-goals", "non_goals"),
        ("Smallest first step", "incremental"),
        ("placeholder", "placeholder"),
        ("absolute_requirement", "absolute-requirement"),
        ("Solution-First", "solution-first"),
        ("nonsense", None),
        ("", None),
    ],
)
def test_ids_are_recognised_loosely(typed: str, expected: str | None) -> None:
    assert canonical_id(typed) == expected


def test_an_unknown_or_missing_id_lists_the_known_ones() -> None:
    unknown = explain_reply("latency")
    assert unknown.startswith("I don't know the id `latency`")
    missing = explain_reply("")
    assert missing.startswith("Which one?")
    for reply in (unknown, missing):
        for key in known_ids():
            assert f"`{key}`" in reply


DOC = """# Offline mode

## Problem
Field staff lose work when the network drops.

{directive}
Rollout: TBD

Owner: TBD
"""


def _checks(text: str) -> list[tuple[str, int]]:
    report = review_document(text, "docs/rfcs/0001-offline.md", DEFAULT_OPTIONS)
    return [(finding.check, finding.line) for finding in report.findings]


def test_the_silencing_advice_works_in_the_engine() -> None:
    """What `explain` tells authors to write really silences the finding."""
    baseline = _checks(DOC.format(directive=""))
    assert ("placeholder", 7) in baseline and ("placeholder", 9) in baseline
    assert any(check == "metrics" for check, _ in baseline)

    placeholder = explain("placeholder") or ""
    block = re.search(r"`(<!-- product-review disable=placeholder -->)`", placeholder)
    assert block is not None
    next_block_only = _checks(DOC.format(directive=block.group(1)))
    assert ("placeholder", 7) not in next_block_only
    assert ("placeholder", 9) in next_block_only

    metrics = explain("metrics") or ""
    anywhere = re.search(r"`(<!-- product-review disable=metrics -->)`", metrics)
    assert anywhere is not None
    assert not any(
        check == "metrics" for check, _ in _checks(DOC.format(directive=anywhere.group(1)))
    )

    front_matter = "---\nproduct_review: {disable: [metrics, placeholder]}\n---\n"
    silenced = _checks(front_matter + DOC.format(directive=""))
    assert not any(check in ("metrics", "placeholder") for check, _ in silenced)


def test_a_dimension_the_team_rewords_is_explained_in_the_teams_words() -> None:
    settings = parse_settings(
        'questions:\n  why_now: "What breaks, and for whom, if this waits a quarter?"\n',
        source="acme/widgets:.github/product-review.yml",
        layer=Layer.REPOSITORY.value,
    )
    text = explain("why-now", settings)
    assert text is not None
    lines = text.split("\n")
    assert lines[2] == (
        "**The question, in your team's words:** "
        "What breaks, and for whom, if this waits a quarter?"
    )
    assert "your team's own: `questions.why_now` in this repository's" in text
    assert f"The app's default wording is: {DIMENSION_BY_ID['why_now'].prose.question}" in text
    # It is what the engine asks, whatever the kind of work, so no category variants.
    report = review_document(
        "# Idea\n\n## Problem\nThings break.\n", "docs/rfcs/1.md", settings.review
    )
    assert report.dimension("why_now").question == (
        "What breaks, and for whom, if this waits a quarter?"
    )
    assert "Asked differently for other kinds of work" not in text
    # The other dimensions, and explaining without settings, are unchanged.
    assert explain("users", settings) == explain("users")
    assert "your team's" not in (explain("why_now") or "")
