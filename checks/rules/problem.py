"""`problem`: What problem do people have today, described apart from the solution?"""

from __future__ import annotations

from checks.enums import Category, Severity
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
    "there is no way",
    "there's no way",
    "is not possible",
    "it is impossible",
    "it's impossible",
    "is currently impossible",
    "currently requires",
    "currently there is",
    "currently there are",
    "today there is",
    "today users",
    "users have to",
    "users must",
    "have to manually",
    "forced to",
    "is error-prone",
    "are error-prone",
    "is cumbersome",
    "is painful",
    "pain point",
    "the problem is",
    "the problem with",
    "this leads to",
    "this results in",
    "which leads to",
    "results in",
    "workaround",
    "workarounds",
    "is difficult to",
    "is hard to",
    "it is hard",
    "it is difficult",
    "hard to use",
    "currently",
    "at the moment",
    "the status quo",
    "the current approach",
    "the current situation",
    "the current design",
    "suffers from",
    "lack of",
    "lacks",
    "unable to",
    "cannot be",
    "can't be",
    "fails to",
    "not supported",
    "has no way",
    "no way to",
    "too slow",
    "slow",
    "waits",
    "wait for",
    "time out",
    "times out",
    "timeouts",
    "too long",
    "too large",
)
WEAK_SIGNALS: tuple[str, ...] = (
    "problem",
    "issue",
    "issues",
    "limitation",
    "confusing",
    "tedious",
    "verbose",
    "boilerplate",
    "inconsistent",
    "surprising",
    "slow",
    "expensive",
)

# Words that, in a problem section, show it tells what is wrong today.
PROBLEM_MARKERS: tuple[str, ...] = (
    STRONG_SIGNALS
    + WEAK_SIGNALS
    + (
        "cannot",
        "can't",
        "can not",
        "unable",
        "impossible",
        "difficult",
        "hard",
        "painful",
        "error-prone",
        "lack",
        "missing",
        "have to",
        "has to",
        "requires",
        "bug",
        "bugs",
        "broken",
        "fails",
        "failure",
        "failures",
        "wrong",
        "unsafe",
        "footgun",
        "pitfall",
        "today",
        "existing",
        "current",
        "currently",
        "without",
        "only way",
    )
)
# Words that show a section describes the thing to build instead.
SOLUTION_MARKERS: tuple[str, ...] = (
    "this rfc proposes",
    "this proposal",
    "we propose",
    "this kep proposes",
    "we will build",
    "we need to build",
    "we should build",
    "we want to build",
    "we will add",
    "we need to add",
    "we will implement",
    "we need to implement",
    "we will create",
    "we need to create",
    "add a",
    "add an",
    "adds",
    "introduce",
    "introduces",
    "implement a",
    "build a",
    "create a",
    "the solution is to",
    "we must build",
    "we need to develop",
    "we will develop",
    "we should implement",
    "we should create",
    "we need a new",
    "this change",
    "this feature",
    "we plan to",
)


def judge_section(section: SectionView) -> Assessment | None:
    """Present when the section tells more of what is wrong than of what to build;
    a secondary heading (a Summary) is judged the same way, but never weak."""
    problem = section.markers.get("problem", [])
    solution = section.markers.get("solution", [])
    if section.words >= 15 and problem and len(problem) >= len(solution):
        return section.present(problem[0])
    if not section.primary:
        return None
    if len(solution) > len(problem):
        return section.weak(f'"{section.title}" restates the solution instead of the problem')
    return section.weak(f'"{section.title}" says little about what is wrong today')


GOOD_EXAMPLE = """\
## Problem

Support agents currently have to re-enter the customer's address in three tools
for every return. It is error-prone: one return in twenty ships to a mistyped
address, and a return takes 11 minutes on average.
"""
BAD_EXAMPLE = """\
## Problem

We will build a new returns service.
"""

RULE = DimensionRule(
    id="problem",
    title="Problem",
    present_when="describes the current situation and what is wrong with it",
    prose=Prose(
        label="Problem",
        question="What problem do people have today, described apart from the solution?",
        category_questions={
            Category.COMPLIANCE: (
                "Which rule, control or clause does this satisfy, and what is out of line today?"
            ),
            Category.RESEARCH: "Which question is this spike meant to answer?",
        },
        why="Without a stated problem, nobody can tell whether the solution is the right one.",
        looks_for=(
            "A description of the situation today and what is wrong with it, told "
            "without the proposed solution. A section that only restates the "
            'solution ("we need a new cache"), or a single vague line, counts as '
            "weak."
        ),
        example=(
            "Support agents re-enter the customer's address in three tools for every "
            "return; a return takes 11 minutes on average and one in twenty has a "
            "mistyped address."
        ),
        description="Problem statement is missing or weak",
        help=(
            "Describe the situation today and what is wrong with it, separately from "
            "the proposed solution. Without it reviewers cannot tell whether the design "
            "solves the right problem."
        ),
    ),
    examples=Examples(good=GOOD_EXAMPLE, bad=BAD_EXAMPLE),
    severity=Severity.WARNING,
    requirements=required_except(),
    priority=by_category(product=1, platform=1, compliance=1, research=1, stabilization=2),
    headings=Headings(
        aliases=(
            "problem",
            "problem statement",
            "problems",
            "the problem",
            "motivation",
            "background",
            "context",
            "context and problem statement",
            "why",
            "pain points",
            "current state",
            "status quo",
            "challenges",
            "overview and motivation",
            "rationale for change",
            "user problem",
            "customer problem",
            "opportunity",
        ),
        secondary=(
            "introduction",
            "summary",
            "abstract",
            "overview",
            "intro",
            "tldr",
            "scenarios",
            "scenarios and user experience",
            "user experience",
        ),
        excluded=(
            "unresolved",
            "open questions",
            "why not",
            "why are",
            "why do",
            "why don't",
            "why is",
            "why we",
            "why now",
        ),
    ),
    strong_signals=STRONG_SIGNALS,
    weak_signals=WEAK_SIGNALS,
    category_signals={
        Category.COMPLIANCE: (
            "clause",
            "control requires",
            "requires us to",
            "is out of compliance",
        ),
    },
    markers={"problem": PROBLEM_MARKERS, "solution": SOLUTION_MARKERS},
    judge_section=judge_section,
    text_threshold=2,
)
