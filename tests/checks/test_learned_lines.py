"""The learned line model: sentence findings on top of the rules, with a score; the
rules and suppression comments keep the last word."""

from __future__ import annotations

import json
from typing import Any

import pytest

from checks import FindingKind, ReviewOptions, review_document
from checks.document import parse
from checks.learned import FEATURE_BITS, LINE_KINDS, LineModel, feature_index, line_units

WIDTH = 1 << FEATURE_BITS


def _model(words: dict[str, dict[str, int]], intercept: float = -3.0) -> dict[str, Any]:
    """A hand-made line model: per kind, weights (thousandths) on a few words."""
    data: dict[str, Any] = {}
    for kind, weighted in words.items():
        weights = [0] * WIDTH
        for word, weight in weighted.items():
            weights[feature_index((word,))] = weight
        data[kind] = {"weights": weights, "intercept": intercept, "threshold": 0.5}
    return data


# "somehow" alone: sigmoid(5 - 3) = 0.881, a finding; any other sentence: 0.047, none.
SOMEHOW = LineModel.from_json(_model({"unquantified-goal": {"somehow": 5000}}))


def _line_findings(text: str, model: LineModel | None = SOMEHOW) -> list[tuple[str, int, Any]]:
    report = review_document(
        text, "x.md", ReviewOptions(model=None, line_model=model, category_model=None)
    )
    return [(f.check, f.line, f.score) for f in report.findings if f.kind is FindingKind.LINE]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The model's finding: on the sentence's line, with its probability.
        ("# Plan\n\nIt is fine.\nWe make it somehow better.\n", [("unquantified-goal", 4, 0.881)]),
        ("# Plan\n\nIt is fine today.\n", []),
        # A suppression comment silences the model as it silences the rules.
        (
            "# Plan\n\n<!-- product-review disable=unquantified-goal -->\nWe make it somehow "
            "better.\n",
            [],
        ),
        (
            "# Plan\n\n<!-- product-review off -->\nWe make it somehow better.\n"
            "<!-- product-review on -->\n",
            [],
        ),
        # The rules' placeholder stays a rule finding (no score) beside the model's.
        (
            "# Plan\n\nWe make it somehow better.\n\n## Risks\n\nTBD\n",
            [("unquantified-goal", 3, 0.881), ("placeholder", 7, None)],
        ),
        # Where the rule already raised the kind, the model adds nothing.
        (
            "# Plan\n\n## Goals\n\n- Reduce the build time somehow.\n",
            [("unquantified-goal", 5, None)],
        ),
    ],
)
def test_the_line_model_adds_scored_findings_under_the_rules(
    text: str, expected: list[tuple[str, int, Any]]
) -> None:
    assert _line_findings(text) == expected


def test_without_a_line_model_only_the_rules_speak() -> None:
    assert _line_findings("# Plan\n\nWe make it somehow better.\n", None) == []


def test_a_learned_finding_carries_its_score_in_the_json() -> None:
    report = review_document(
        "# Plan\n\nWe make it somehow better.\n",
        "x.md",
        ReviewOptions(model=None, line_model=SOMEHOW),
    )
    findings = [f for f in report.to_dict()["findings"] if f["kind"] == "line"]
    assert [(f["check"], f["line"], f["score"]) for f in findings] == [
        ("unquantified-goal", 3, 0.881)
    ]
    json.dumps(report.to_dict())  # and it serialises


@pytest.mark.parametrize(
    ("text", "mark", "present"),
    [
        ("Cut p95 latency to 300 ms.\n", "§number", True),
        ("Cut p95 latency to 300 ms.\n", "§unit", True),
        ("Make it fast.\n", "§number", False),
        ("- Make it fast.\n", "§kind:item", True),
        ("| a | b |\n|---|---|\n| x | y |\n", "§kind:table_row", True),
        ("> Make it fast.\n", "§quoted", True),
    ],
)
def test_a_sentence_carries_the_marks_of_its_shape(text: str, mark: str, present: bool) -> None:
    unit = line_units(parse("# Goals\n\n" + text), {})[-1]
    assert (feature_index((mark,)) in unit.features) is present
    assert feature_index(("§h", "goals")) in unit.features  # its heading's words


def test_a_sentence_carries_the_rules_verdict_on_its_lines() -> None:
    doc = parse("# Plan\n\nFirst one.\n\nTBD\n")
    units = line_units(doc, {5: frozenset({"placeholder"})})
    assert [u.line for u in units] == [3, 5]
    assert feature_index(("§rule:placeholder",)) not in units[0].features
    assert feature_index(("§rule:placeholder",)) in units[1].features


def _entry(**change: object) -> dict[str, Any]:
    entry: dict[str, Any] = {"weights": [0] * WIDTH, "intercept": 0.0, "threshold": 0.5}
    entry.update(change)
    return entry


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "lines: expected a mapping"),
        ({"no-such-check": _entry()}, "unknown line check 'no-such-check'"),
        ({"placeholder": []}, "lines placeholder: expected a mapping"),
        ({"placeholder": _entry(weights=[0] * 3)}, "expected 32768 numbers, found 3"),
        ({"placeholder": _entry(threshold=1.5)}, "expected a probability, found 1.5"),
        ({"placeholder": _entry(threshold="high")}, "found 'high'"),
        ({"placeholder": _entry(intercept=float("inf"))}, "intercept"),
    ],
)
def test_a_line_model_that_does_not_fit_is_refused(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LineModel.from_json(data)


def test_the_default_engine_uses_the_shipped_line_model_and_ships_it_by_reference() -> None:
    import pickle

    from checks.learned import shipped_line_model, shipped_model

    shipped = shipped_line_model()
    assert shipped is not None and set(shipped.scorers) <= set(LINE_KINDS)
    assert ReviewOptions().line_model is shipped
    assert shipped_model().lines is shipped  # `--learned` / `model: learned` too
    assert len(pickle.dumps(shipped)) < 200  # a reference, not its weights
    assert pickle.loads(pickle.dumps(shipped)) is shipped


# "asking" or "everywhere" alone: a finding of its kind, as SOMEHOW is of its own.
CLAIMS = LineModel.from_json(
    _model({"unsupported-demand": {"asking": 5000}, "absolute-requirement": {"everywhere": 5000}})
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# Plan\n\nTeams keep asking for it.\n", [("unsupported-demand", 3, 0.881)]),
        # A count in the paragraph supports the claim, even past a sentence end.
        ("# Plan\n\nTeams keep asking for it: 40 requests this year.\n", []),
        ("# Plan\n\nIt must work everywhere.\n", [("absolute-requirement", 3, 0.881)]),
        # Nothing in the paragraph requires anything: a description, not a target.
        ("# Plan\n\nIt runs everywhere today.\n", []),
    ],
)
def test_the_line_model_keeps_to_each_kinds_definition(
    text: str, expected: list[tuple[str, int, Any]]
) -> None:
    assert _line_findings(text, CLAIMS) == expected
