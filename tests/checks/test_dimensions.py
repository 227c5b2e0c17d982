"""Every dimension across template families, judged on substance."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks import DIMENSIONS, FindingKind, ReviewOptions, Status, review_document

FIXTURES = Path(__file__).parent / "fixtures"
# The rules alone: what the dimension rules decide on each template (the learned layer,
# the default, reads their statuses as features; its own cases are the fixtures below).
RULES = ReviewOptions(model=None)

RUST_RFC = """- Feature Name: `lazy_config`
- Start Date: 2026-01-01

# Summary

Let crates declare configuration that is parsed on first use.

# Motivation

Today every crate that reads a config file has to parse it at startup, even
when the value is never used. Command-line tools pay this cost on every run,
and library authors have no way to defer it without unsafe code.

# Guide-level explanation

You write `#[lazy]` on a static.

# Drawbacks

It adds a second way to declare statics, which is more to teach, and the
first access becomes slower than today.

# Rationale and alternatives

A crate-level macro was considered, but it cannot see private statics, so it
would only work for half of the cases. Doing nothing keeps the startup cost.

# Unresolved questions

None yet.

# Future possibilities

Async initialisation is left for a future RFC.
"""

KEP = """# KEP-9999: Pod warm pools

## Summary

Keep a small pool of pre-started pods for latency-sensitive services.

## Motivation

Cold starts currently take 40 seconds for large images, and cluster operators
running autoscaled services see timeouts during traffic spikes.

### Goals

- Cut pod start time for pooled workloads.

### Non-Goals

- Changing the image pull protocol.

## Proposal

### Risks and Mitigations

Idle pods consume node capacity; the pool size is capped per namespace and
defaults to zero, so nothing changes unless an operator opts in.

## Design Details

### Graduation Criteria

#### Alpha

- Feature implemented behind a feature gate.

#### Beta

- p99 pod start latency for pooled pods below 2 seconds in scale tests.

## Alternatives

<!--
What other approaches did you consider, and why did you rule them out?
-->
"""

GO_PROPOSAL = """# Proposal: context-aware log/slog handlers

## Abstract

Handlers get the context of the call that produced a record.

## Background

Programs that trace requests cannot attach trace IDs to log records today,
because the handler never sees the context. Many teams work around it by
wrapping every logger call, which is error-prone and easy to forget.

## Proposal

Add a context parameter.

## Rationale

We considered a global hook instead, but it would make handlers depend on
package-level state, which is hard to test.

## Compatibility

This adds a method, so existing handlers that do not implement it keep
working; no existing program breaks.
"""

SWIFT = """# Trailing closures for subscripts

* Proposal: [SE-9999](9999-filename.md)
* Review: ([pitch](https://forums.swift.org/t/pitch/1))

## Introduction

Subscripts cannot take trailing closures.

## Motivation

Library authors who build collection types with lookup-by-predicate APIs have
to write an extra pair of brackets today, which makes call sites noisy and
is a common source of confusion in code review.

## Proposed solution

Allow a trailing closure after a subscript.

## Source compatibility

This is purely additive.

## Alternatives considered

TBD
"""

DOTNET = """# Smaller trimmed apps

## Scenarios and User Experience

Developers who publish Blazor apps to slow mobile networks wait for large
downloads; a mobile field technician on a 3G connection waits 30 seconds
before the app starts.

## Requirements

### Goals

- Reduce download size for trimmed apps to below 2 MB.

### Non-Goals

- Changing the runtime's garbage collector.

## Design

The linker removes unused resources.
"""

ADR = """# ADR 12: Use a message queue for exports

## Status

Accepted

## Context

Exports run inside web requests today and time out for large accounts, which
forces support to run them by hand.

## Decision

Exports move to a background worker fed by a queue.

## Consequences

We operate one more service, with its own on-call runbook and monitoring, and
export results arrive by email instead of in the browser.
"""

CASES = [
    pytest.param(
        RUST_RFC,
        {
            "problem": Status.PRESENT,
            "users": Status.PRESENT,
            "alternatives": Status.PRESENT,
            "risks": Status.PRESENT,
            "non_goals": Status.PRESENT,
            "metrics": Status.MISSING,
        },
        "rfc",
        id="rust-rfc",
    ),
    pytest.param(
        KEP,
        {
            "problem": Status.PRESENT,
            "users": Status.PRESENT,
            "non_goals": Status.PRESENT,
            "risks": Status.PRESENT,
            "metrics": Status.PRESENT,
            "incremental": Status.PRESENT,
            "alternatives": Status.WEAK,  # heading kept, only the template prompt under it
        },
        "kep",
        id="kep",
    ),
    pytest.param(
        GO_PROPOSAL,
        {
            "problem": Status.PRESENT,  # under "Background", not "Motivation"
            "alternatives": Status.PRESENT,  # under "Rationale"
            "risks": Status.WEAK,  # "nothing breaks" names no cost, as the labelled set judges it
            "metrics": Status.MISSING,
        },
        "go-proposal",
        id="go-proposal",
    ),
    pytest.param(
        SWIFT,
        {
            "problem": Status.PRESENT,
            "users": Status.PRESENT,
            "alternatives": Status.WEAK,  # "TBD" is not an alternative
            "evidence": Status.MISSING,  # a review link in the header is not evidence
        },
        "swift-evolution",
        id="swift-evolution",
    ),
    pytest.param(
        DOTNET,
        {
            "problem": Status.PRESENT,
            "users": Status.PRESENT,
            "metrics": Status.PRESENT,
            "non_goals": Status.PRESENT,
        },
        "dotnet-design",
        id="dotnet-design",
    ),
    pytest.param(
        ADR,
        # a passing "instead" hints at an alternative without weighing one
        {"problem": Status.PRESENT, "risks": Status.PRESENT, "alternatives": Status.WEAK},
        "adr",
        id="adr",
    ),
]


@pytest.mark.parametrize(("text", "expected", "kind"), CASES)
def test_template_families(text: str, expected: dict[str, Status], kind: str) -> None:
    report = review_document(text, "docs/design/doc.md", RULES)
    got = {key: report.dimension(key).status for key in expected}
    assert got == expected
    assert report.kind == kind


def test_every_report_has_all_nine_dimensions_in_order() -> None:
    report = review_document(KEP, "keps/x.md")
    assert tuple(d.key for d in report.dimensions) == DIMENSIONS


def test_a_complete_document_gets_no_gap_finding() -> None:
    report = review_document((FIXTURES / "complete-prd.md").read_text(), "prd.md")
    assert all(d.status is Status.PRESENT for d in report.dimensions)
    assert [f for f in report.findings if f.kind is FindingKind.GAP] == []


def test_a_motivation_that_restates_the_solution_is_told_so() -> None:
    report = review_document((FIXTURES / "solution-restated.md").read_text(), "doc.md")
    problem = report.dimension("problem")
    assert problem.status is Status.WEAK
    assert "restates the solution" in problem.note
    gap = next(f for f in report.findings if f.check == "problem")
    assert "restates the solution" in gap.message


def test_hollow_sections_do_not_count() -> None:
    report = review_document((FIXTURES / "hollow-sections.md").read_text(), "doc.md")
    assert report.dimension("problem").status is Status.PRESENT
    for key in ("alternatives", "risks", "non_goals"):
        result = report.dimension(key)
        assert result.status is Status.WEAK, key
        assert "no real content" in result.note


def test_why_now_in_a_summary_counts_without_a_heading() -> None:
    text = (
        "# Summary\n\nThe vendor SDK reaches end of life in March, so the sync job must "
        "move before then.\n"
    )
    assert review_document(text, "doc.md").dimension("why_now").status is Status.PRESENT


def test_team_aliases_make_a_heading_count() -> None:
    text = "# Plan\n\n## Launch bar\n\nLatency at p95 below 300 ms for 30 days.\n"
    default = review_document(text, "doc.md").dimension("metrics")
    aliased = review_document(
        text, "doc.md", ReviewOptions(aliases={"metrics": ("Launch bar",)})
    ).dimension("metrics")
    assert aliased.status is Status.PRESENT
    assert aliased.line == 5
    assert "Launch bar" in aliased.note
    assert default.status is not Status.PRESENT


def test_status_lines_point_inside_the_document() -> None:
    report = review_document(RUST_RFC, "rfc.md")
    for result in report.dimensions:
        if result.status is Status.MISSING:
            assert result.line is None
        else:
            assert result.line is not None and 1 <= result.line <= report.line_count


def test_a_risks_section_that_only_denies_any_cost_is_weak() -> None:
    denial = "# Plan\n\n## Drawbacks\n\nThere are no drawbacks; the change is purely additive.\n"
    result = review_document(denial, "doc.md", RULES).dimension("risks")
    assert result.status is Status.WEAK
    assert "no cost" in result.note
    real = (
        "# Plan\n\n## Drawbacks\n\nThe cache adds a second source of truth, so stale reads "
        "become possible and on-call gets a new alert to learn.\n"
    )
    assert review_document(real, "doc.md", RULES).dimension("risks").status is Status.PRESENT
