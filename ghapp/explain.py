"""`/product-review explain ID`: what a dimension or a line check looks for, why it
matters, what a good answer looks like, and how to silence it.

Pure text. The question and the reason come from the engine's own tables
(`checks.tables`), so the explanation says exactly what a review asks; when the
configuration words a dimension's question its own way (`questions`), the
explanation shows that wording, as the engine asks it, and says it is the team's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from checks import tables
from checks.config import Layer, Settings
from checks.report import DIMENSIONS, LINE_CHECKS, Category


@dataclass(frozen=True)
class _Guide:
    looks_for: str  # what counts as covered, and what only half counts
    example: str  # a short passage a doc could contain


DIMENSION_GUIDES: Mapping[str, _Guide] = {
    "problem": _Guide(
        looks_for=(
            "A description of the situation today and what is wrong with it, told "
            "without the proposed solution. A section that only restates the "
            'solution ("we need a new cache"), or a single vague line, counts as weak.'
        ),
        example=(
            "Support agents re-enter the customer's address in three tools for every "
            "return; a return takes 11 minutes on average and one in twenty has a "
            "mistyped address."
        ),
    ),
    "users": _Guide(
        looks_for=(
            "A specific group and the situation they are in: a persona, a customer "
            "segment, or a developer audience such as cluster operators or the "
            'payments team. Only "users", "developers" or "customers" counts as weak.'
        ),
        example=(
            "Warehouse pickers on the night shift, who scan 300 to 400 items an hour "
            "on shared handheld devices with gloves on."
        ),
    ),
    "why_now": _Guide(
        looks_for=(
            "A reason the work should happen now rather than later: a trigger, a "
            "deadline, a dependency, a trend, or what waiting costs. A doc where the "
            "urgency is only implied counts as weak."
        ),
        example=(
            "The vendor ends support for the current SDK on 30 June; after that, "
            "security fixes stop and the app store will reject our updates."
        ),
    ),
    "metrics": _Guide(
        looks_for=(
            "A measurable criterion with a target or threshold: a number, a baseline "
            "and a target, an SLO, or a measurable bar for graduation. Success named "
            'without a measure ("improve performance") counts as weak.'
        ),
        example=(
            "Checkout abandonment on mobile drops from 38% to below 30% within eight "
            "weeks of launch, measured on the existing funnel dashboard."
        ),
    ),
    "evidence": _Guide(
        looks_for=(
            "Something that shows the problem is real: a data point, an incident, a "
            "research finding, or a cited source of demand. Demand asserted with "
            "nothing behind it counts as weak."
        ),
        example=(
            "In the last quarter 212 support tickets (9% of all tickets) were about "
            "failed CSV imports; five of our ten largest accounts raised it in QBRs."
        ),
    ),
    "alternatives": _Guide(
        looks_for=(
            "At least one other option, doing nothing included, and the reasoning for "
            'not choosing it. Options listed without reasons count as weak; "None" '
            'or "TBD" under the heading does not count.'
        ),
        example=(
            "Doing nothing: agents keep the workaround, at roughly 40 hours a week. "
            "Buying Tool X: covers returns but not exchanges, which are half the volume."
        ),
    ),
    "non_goals": _Guide(
        looks_for=(
            "Explicit items that are out of scope or deferred. Scope that is only "
            "implied counts as weak."
        ),
        example=(
            "Out of scope: offline support, and migrating reports older than two years "
            "(they stay read-only in the old system)."
        ),
    ),
    "incremental": _Guide(
        looks_for=(
            "The smallest version that tests the idea: an MVP, phases, milestones, a "
            "staged rollout, a feature flag, or an experiment. A passing hint counts "
            "as weak."
        ),
        example=(
            "Phase 1: SSO with the two identity providers our three largest customers "
            "use, behind a flag; more providers only when a customer asks."
        ),
    ),
    "risks": _Guide(
        looks_for=(
            "Drawbacks and costs: maintenance, migration, compatibility, operational "
            'load, ideally with mitigations. "None", "TBD" or one vague line '
            "counts as weak."
        ),
        example=(
            "The new queue adds a service the platform team must run on call; we "
            "mitigate with managed hosting and a runbook, at about $900 a month."
        ),
    ),
}

CHECK_GUIDES: Mapping[str, _Guide] = {
    "solution-first": _Guide(
        looks_for=(
            'A problem statement that is really a solution ("we need to build X", '
            '"the problem is that we lack X") and names no outcome for anyone.'
        ),
        example=(
            'Instead of "We need a recommendation engine": "Returning shoppers find '
            "relevant products only by search; 60% leave without adding anything to "
            'the basket."'
        ),
    ),
    "absolute-requirement": _Guide(
        looks_for=(
            "Maximal wording used as a requirement: real-time, all, every, 100%, zero, "
            'complete. Harmless uses are left alone: "all tests pass", or a non-goal '
            'such as "real-time sync is out of scope".'
        ),
        example=(
            'Instead of "fraud must be detected in real time": "flag 90% of '
            'fraudulent orders within 5 minutes, before they ship".'
        ),
    ),
    "unquantified-goal": _Guide(
        looks_for=(
            "A goal verb (improve, reduce, increase, faster, more) with no number, "
            "baseline or target near it."
        ),
        example=(
            'Instead of "reduce onboarding time": "cut median time from sign-up to '
            'first project from 3 days to 1 day by the end of Q3".'
        ),
    ),
    "unsupported-demand": _Guide(
        looks_for=(
            'Demand asserted without data nearby: "users want", "customers keep '
            'asking", "I think users would".'
        ),
        example=(
            'Instead of "customers keep asking for dark mode": "50 requests for dark '
            'mode in a year, against 500 people a month abandoning the payment step".'
        ),
    ),
    "technology-first": _Guide(
        looks_for=(
            "A rewrite, a migration or a new technology whose stated reason is the "
            'technology itself ("move to microservices because they are modern").'
        ),
        example=(
            'Instead of "rewrite the importer in Rust": "imports over 1 GB time out '
            "for 12 customers; streaming the parse fixes that, and we compared it with "
            'raising the timeout".'
        ),
    ),
    "placeholder": _Guide(
        looks_for=(
            "Text left for later: TBD, TODO, FIXME, and template leftovers such as "
            '"[Feature name]" or "<describe>".'
        ),
        example=(
            'Instead of "Rollout: TBD": "Rollout: not decided yet; the decision '
            'depends on the load test on 14 May, owned by Dana".'
        ),
    ),
}

_CATEGORY_ORDER = (
    Category.PLATFORM,
    Category.COMPLIANCE,
    Category.RESEARCH,
    Category.STABILIZATION,
)


def known_ids() -> tuple[str, ...]:
    """Every id `explain` knows: the nine dimensions, then the six checks."""
    return (*DIMENSIONS, *LINE_CHECKS)


def canonical_id(text: str) -> str | None:
    """The id a person most likely meant: case, backticks, and `-`/`_`/space
    between words do not matter (`why-now`, `Why now`, `non_goals` all work)."""
    words = text.strip().strip("`'\"").lower().replace("_", " ").replace("-", " ").split()
    if not words:
        return None
    if "_".join(words) in DIMENSIONS:
        return "_".join(words)
    if "-".join(words) in LINE_CHECKS:
        return "-".join(words)
    for key, title in tables.DIMENSION_TITLES.items():
        if " ".join(words) == title.lower():
            return key
    return None


# Where a `questions` entry was set, as the explanation names it.
_QUESTION_SOURCES: Mapping[str, str] = {
    Layer.ORGANISATION.value: "the organisation's `.github/product-review.yml`",
    Layer.EXTENDS.value: "the shared config file that this repository's config extends",
    Layer.REPOSITORY.value: "this repository's `.github/product-review.yml`",
}


def explain(identifier: str, settings: Settings | None = None) -> str | None:
    """The reply for `/product-review explain ID`, or None when the id is unknown.
    With `settings`, a dimension's question is the one the team configured, if any."""
    key = canonical_id(identifier)
    if key is None:
        return None
    if key in DIMENSIONS:
        return _explain_dimension(key, settings)
    return _explain_check(key)


def explain_reply(argument: str, settings: Settings | None = None) -> str:
    """The reply to `explain` with any argument: the explanation, or what can be explained."""
    text = explain(argument, settings) if argument else None
    if text is not None:
        return text
    intro = (
        f"I don't know the id `{_code_safe(argument)}`. "
        if argument
        else "Which one? Use `/product-review explain ID` with one of these ids. "
    )
    return (
        intro
        + "Dimensions: "
        + ", ".join(f"`{key}`" for key in DIMENSIONS)
        + ". Line checks: "
        + ", ".join(f"`{check}`" for check in LINE_CHECKS)
        + "."
    )


def _team_question(key: str, settings: Settings | None) -> tuple[str, str] | None:
    """(the team's wording, where it was set) when the configuration words `key`'s
    question its own way."""
    question = settings.review.questions.get(key) if settings is not None else None
    if not question:
        return None
    layer = settings.sources.get(f"questions.{key}", "") if settings is not None else ""
    return question, _QUESTION_SOURCES.get(layer, "the configuration")


def _explain_dimension(key: str, settings: Settings | None = None) -> str:
    guide = DIMENSION_GUIDES[key]
    team = _team_question(key, settings)
    lines = [f"### `{key}`: {tables.DIMENSION_TITLES[key]}", ""]
    if team is None:
        lines.append(f"**The question:** {tables.QUESTIONS[key]}")
    else:
        question, source = team
        lines += [
            f"**The question, in your team's words:** {question}",
            "",
            f"This wording is your team's own: `questions.{key}` in {source} sets it, "
            "and reviews here ask it for every kind of work. The app's default wording "
            f"is: {tables.QUESTIONS[key]}",
        ]
    lines += [
        "",
        f"**What it looks for:** {guide.looks_for} Headings help but are not required: "
        "the text itself counts wherever it is.",
        "",
        f"**Why it matters:** {tables.WHY[key]}",
        "",
        f"**A good answer, for example:** {guide.example}",
    ]
    variants = [
        (category, tables.CATEGORY_QUESTIONS[category][key])
        for category in _CATEGORY_ORDER
        if key in tables.CATEGORY_QUESTIONS.get(category, {})
    ]
    if variants and team is None:  # the team's wording replaces these too
        lines += ["", "**Asked differently for other kinds of work:**"]
        lines += [f"- {category.value}: {question}" for category, question in variants]
    lines += [
        "",
        "**How to silence it** (when the doc deliberately leaves it out):",
        f"- for this document: front matter `product_review: {{disable: [{key}]}}`, or "
        f"`<!-- product-review disable={key} -->` anywhere in it (a dimension is about "
        "the whole document);",
        "- for a kind of work in the whole repository: in `.github/product-review.yml`, "
        f"`dimensions: {{product: {{{key}: optional}}}}` (or `off`), per category.",
    ]
    return "\n".join(lines)


def _explain_check(check: str) -> str:
    guide = CHECK_GUIDES[check]
    lines = [
        f"### `{check}`",
        "",
        f"**What it looks for:** {guide.looks_for}",
        "",
        f"**The question it asks:** {tables.CHECK_QUESTIONS[check]}",
        "",
        f"**Why it matters:** {tables.CHECK_WHY[check]}",
        "",
        f"**A good answer, for example:** {guide.example}",
    ]
    variants = [
        (category, tables.CATEGORY_CHECK_QUESTIONS[category][check])
        for category in _CATEGORY_ORDER
        if check in tables.CATEGORY_CHECK_QUESTIONS.get(category, {})
    ]
    if variants:
        lines += ["", "**Asked differently for other kinds of work:**"]
        lines += [f"- {category.value}: {question}" for category, question in variants]
    lines += [
        "",
        "**How to silence it** (when the wording is deliberate):",
        f"- for the next paragraph, list or table: put `<!-- product-review disable={check} -->` "
        "on the line before it;",
        "- for a stretch of the document: `<!-- product-review off -->` before it and "
        "`<!-- product-review on -->` after it (silences every line check in between);",
        f"- for the whole document: front matter `product_review: {{disable: [{check}]}}`;",
        f"- for the whole repository: `checks: {{{check}: off}}` in `.github/product-review.yml`.",
    ]
    return "\n".join(lines)


def _code_safe(text: str) -> str:
    return " ".join(text.replace("`", "'").split())[:80]
