"""`evidence`: What shows the problem is real: data, incidents, research, or a count of requests?"""

from __future__ import annotations

from checks.document import Block
from checks.enums import Category, Requirement, Severity
from checks.rules.judging import Assessment, SectionView
from checks.rules.types import (
    DimensionRule,
    Examples,
    Headings,
    Prose,
    by_category,
    required_except,
)

STRONG_SIGNALS: tuple[str, ...] = (
    "survey",
    "surveyed",
    "interviews",
    "interviewed",
    "user research",
    "user study",
    "user studies",
    "telemetry",
    "analytics",
    "we measured",
    "measured",
    "measurements",
    "benchmark",
    "benchmarks",
    "benchmarked",
    "incident",
    "incidents",
    "outage",
    "outages",
    "postmortem",
    "post-mortem",
    "support tickets",
    "bug reports",
    "data shows",
    "data show",
    "according to",
    "study",
    "studies",
    "# issues|users|customers|requests|reports|tickets|crates|packages|repositories|repos",
    "# projects|companies|downloads|votes|upvotes|comments|teams|incidents|outages",
    "# of|percent",
    "feedback from",
    "reported by",
    "requested by",
    "duplicate issues",
    "stack overflow",
    "github issues",
    "issue tracker",
    "mailing list",
    "user feedback",
    "customer feedback",
    "experience reports",
    "in the wild",
    "real-world",
    "real world",
    "crater run",
    "crater",
)
WEAK_SIGNALS: tuple[str, ...] = (
    "requested",
    "reported",
    "feedback",
    "complaints",
    "often",
    "frequently",
    "commonly",
    "popular",
    "widely",
    "many users",
    "many people",
    "demand",
)

# Where a link is a source of demand: issue trackers, forums, discussions.
DEMAND_LINKS: tuple[str, ...] = (
    "/issues/",
    "/discussions/",
    "/pull/",
    "forum",
    "internals.rust-lang",
    "users.rust-lang",
    "stackoverflow.com",
    "groups.google",
    "/issue/",
    "bugs.",
    "bugzilla",
    "jira",
)


def _is_demand_link(url: str) -> bool:
    lowered = url.lower()
    return any(marker in lowered for marker in DEMAND_LINKS)


def _is_metadata_line(block: Block) -> bool:
    """Header lines such as "* Review: (pitch)" or "- Rust Issue: #123"."""
    head = block.text[:40]
    return block.kind == "item" and ":" in head and len(head.split(":", 1)[0].split()) <= 3


def block_evidence(block: Block, in_preamble: bool) -> list[int]:
    """Links to the requests, a quoted voice, a percentage: evidence without a phrase.
    Links in the preamble are the doc's own metadata (its tracking issue), not demand."""
    lines: list[int] = []
    for link in () if in_preamble or _is_metadata_line(block) else block.links:
        if _is_demand_link(link):
            lines.append(block.line)
    if block.quoted and block.word_count >= 15:  # a quoted voice, not a one-line note
        lines.append(block.line)
    for position, token in enumerate(block.tokens if "%" in block.text else ()):
        if token.endswith("%") and token[:1].isdigit():
            lines.append(block.token_lines[position])
            break
    return lines


def judge_section(section: SectionView) -> Assessment | None:
    if not section.primary:
        return section.signal_inside()
    if section.words >= 30 or any(b.links for b in section.blocks):
        return section.present()
    return None


GOOD_EXAMPLE = """\
## Evidence

In the last quarter 212 support tickets (9% of all tickets) were about failed CSV
imports, and five of our ten largest accounts raised the same problem in their
quarterly business reviews with us.
"""
BAD_EXAMPLE = """\
## Evidence

People often ask for it.
"""

RULE = DimensionRule(
    id="evidence",
    title="Evidence",
    present_when="cites data, incidents, research, quotes or links to the requests",
    prose=Prose(
        label="Evidence",
        question=(
            "What shows the problem is real: data, incidents, research, or a count of requests?"
        ),
        category_questions={
            Category.PLATFORM: (
                "What shows teams need this: support requests, workarounds in the wild, "
                "incident or usage data?"
            ),
            Category.STABILIZATION: (
                "What do the incident data show: how often, how bad, how many users hit?"
            ),
        },
        why="Evidence separates a real problem from a favourite feature.",
        looks_for=(
            "Something that shows the problem is real: a data point, an incident, "
            "a research finding, or a cited source of demand. Demand asserted with "
            "nothing behind it counts as weak."
        ),
        example=(
            "In the last quarter 212 support tickets (9% of all tickets) were about "
            "failed CSV imports; five of our ten largest accounts raised it in QBRs."
        ),
        description="No evidence that the problem is real",
        help=(
            "Point at a data point, incident, research finding or concrete source of "
            "demand rather than asserting that people want this."
        ),
    ),
    examples=Examples(good=GOOD_EXAMPLE, bad=BAD_EXAMPLE),
    severity=Severity.WARNING,
    requirements=required_except(
        platform=Requirement.OPTIONAL,
        compliance=Requirement.OPTIONAL,
        research=Requirement.OPTIONAL,
    ),
    priority=by_category(product=4, platform=9, compliance=7, research=7, stabilization=1),
    headings=Headings(
        aliases=(
            "evidence",
            "user research",
            "customer feedback",
            "demand",
            "supporting data",
            "market research",
            "incident data",
            "incidents",
        ),
        secondary=(
            "research",
            "data",
            "findings",
            "signals",
            "feedback",
            "background",
            "motivation",
            "prior art",
        ),
    ),
    strong_signals=STRONG_SIGNALS,
    weak_signals=WEAK_SIGNALS,
    category_signals={
        Category.STABILIZATION: (
            "incident",
            "incidents",
            "outage",
            "outages",
            "paged",
            "pages",
            "error rate",
            "# incidents|outages|pages|crashes|failures",
            "postmortem",
            "postmortems",
        ),
    },
    judge_section=judge_section,
    text_threshold=2,
    text_spread=False,
    block_evidence=block_evidence,
)
