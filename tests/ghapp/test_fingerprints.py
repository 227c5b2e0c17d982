"""Fingerprints of findings: what keeps them the same across pushes, what makes a
new one, and the hidden markers that carry them."""

from __future__ import annotations

import dataclasses
import json

from checks.fingerprints import (
    REVIEW_FINGERPRINT_CHARS,
    SARIF_FINGERPRINT_CHARS,
    asked_fingerprints,
    finding_fingerprints,
)
from checks.formats import format_sarif
from checks.report import Status
from tests.support.builders import SAMPLE, gap_finding, line_finding, report, shifted


def test_review_fingerprints_never_change() -> None:
    # These values sit in the hidden markers of comments already posted on pull
    # requests: if they changed, the App would ask every question again.
    assert finding_fingerprints(SAMPLE) == ("a2d6382775c6", "7c2f3208ea05", "12919667d884")
    twice = report(
        findings=(
            line_finding("placeholder", 10, excerpt="TBD"),
            line_finding("placeholder", 50, excerpt="TBD"),
        )
    )
    assert finding_fingerprints(twice) == ("d3aceecb03d5", "6fbab40c8428")


def test_sarif_fingerprints_extend_the_review_fingerprints() -> None:
    results = json.loads(format_sarif([SAMPLE]))["runs"][0]["results"]
    sarif = [result["partialFingerprints"]["productReviewFinding/v2"] for result in results]
    assert all(len(fingerprint) == SARIF_FINGERPRINT_CHARS for fingerprint in sarif)
    assert [fingerprint[:REVIEW_FINGERPRINT_CHARS] for fingerprint in sarif] == list(
        finding_fingerprints(SAMPLE)
    )


def test_fingerprints_survive_line_shifts_but_not_new_words() -> None:
    assert finding_fingerprints(shifted(SAMPLE, 7)) == finding_fingerprints(SAMPLE)

    def fingerprint_of(excerpt: str, line: int = 12) -> str:
        (fingerprint,) = finding_fingerprints(
            report(findings=(line_finding(line=line, excerpt=excerpt),))
        )
        return fingerprint

    original = fingerprint_of("all providers")
    assert fingerprint_of("all providers", line=90) == original
    assert fingerprint_of("All\n  providers,") == original  # re-wrapped, punctuated
    assert fingerprint_of("every provider") != original


def test_gap_fingerprint_depends_on_status_and_path_not_line() -> None:
    missing = report(
        findings=(gap_finding("metrics", line=1),), statuses={"metrics": Status.MISSING}
    )
    weak = report(findings=(gap_finding("metrics", line=1),), statuses={"metrics": Status.WEAK})
    weak_later = report(
        findings=(gap_finding("metrics", line=80),), statuses={"metrics": Status.WEAK}
    )
    elsewhere = dataclasses.replace(weak, path="docs/design/other.md")
    assert finding_fingerprints(missing) != finding_fingerprints(weak)
    assert finding_fingerprints(weak) == finding_fingerprints(weak_later)
    assert finding_fingerprints(weak) != finding_fingerprints(elsewhere)


def test_the_same_words_twice_are_two_questions() -> None:
    document = report(
        findings=(
            line_finding("placeholder", 10, excerpt="TBD"),
            line_finding("placeholder", 50, excerpt="TBD"),
        )
    )
    fingerprints = finding_fingerprints(document)
    assert len(set(fingerprints)) == 2
    assert finding_fingerprints(shifted(document, 3)) == fingerprints


def test_asked_fingerprints_reads_every_marker() -> None:
    bodies = [
        "text <!-- product-review:fp=aaaaaaaaaaaa -->",
        "<!-- product-review:fp=bbbbbbbbbbbb,cccccccccccc -->\nmore",
        "no marker here",
        "",
    ]
    assert asked_fingerprints(bodies) == {"aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"}
