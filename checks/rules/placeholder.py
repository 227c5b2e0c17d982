"""`placeholder`: TBD, TODO, `[Feature name]`, `<describe the problem>`."""

from __future__ import annotations

import re

from checks.document import Block
from checks.enums import Severity
from checks.rules.scanning import BlockContext, RawFinding
from checks.rules.types import Examples, LineCheckRule, Prose

ID = "placeholder"

PLACEHOLDER_PHRASES: tuple[str, ...] = (
    "lorem ipsum",
    "insert here",
    "fill this in",
)

# The capitalised words of a placeholder ("TBD"), and the same lowercased, as tokens.
PLACEHOLDER_WORDS: frozenset[str] = frozenset({"TBD", "TODO", "TBC", "FIXME", "XXX", "TKTK"})
_PLACEHOLDER_TOKENS = frozenset(word.lower() for word in PLACEHOLDER_WORDS)
_PLACEHOLDER_RE = re.compile(r"\b(?:" + "|".join(sorted(PLACEHOLDER_WORDS)) + r")\b")
# "[Feature name]", "[Link to design]": bracketed template prompts, recognised
# by their wording so that "[Breaking change]" labels and "[...]" elisions pass.
# Two steps, each linear: a short bracket (at most 62 characters are read from
# any "["), then the wording inside it.
_SHORT_BRACKET_RE = re.compile(r"\[[A-Z][^\]\[]{1,60}\]")
_TEMPLATE_WORDING_RE = re.compile(
    r"\b(?:[Nn]ame|[Dd]escription|[Dd]escribe|[Ll]ink|[Tt]itle|[Yy]our|[Ii]nsert|"
    r"[Pp]laceholder|UNRESOLVED|TBD|TODO)\b"
)


def _left_for_later(block: Block) -> RawFinding | None:
    """The block's first placeholder word (capitalised), template tag
    (`<describe the problem>`) or bracketed template prompt."""
    if not _PLACEHOLDER_TOKENS.isdisjoint(block.tokens):
        match = _PLACEHOLDER_RE.search(block.text)
        if match:
            word = match.group(0).lower()
            index = block.tokens.index(word) if word in block.tokens else 0
            line = block.token_lines[index] if block.token_lines else block.line
            return RawFinding(ID, line, line, match.group(0))
    for line, tag in block.template_tags:
        return RawFinding(ID, line, line, tag)
    if "[" in block.text:
        for match in _SHORT_BRACKET_RE.finditer(block.text):
            if _TEMPLATE_WORDING_RE.search(match.group(0)):
                return RawFinding(ID, block.line, block.line, match.group(0))
    return None


def detect(context: BlockContext) -> tuple[RawFinding, ...]:
    """Every block, headings included: a placeholder word, tag or prompt, then a
    placeholder phrase ("lorem ipsum") in prose. (A tuple, not a generator: this
    runs on every block.)"""
    found = _left_for_later(context.block)
    phrases = context.hits.get("placeholder")
    if not phrases:
        return () if found is None else (found,)
    index, words = phrases[0]
    phrase = context.finding(ID, index, len(words))
    return (phrase,) if found is None else (found, phrase)


GOOD_EXAMPLE = """\
## Rollout

Not decided yet: it depends on the load test on 14 May, owned by Dana.
"""
BAD_EXAMPLE = """\
## Rollout

TBD
"""

RULE = LineCheckRule(
    id=ID,
    message='Placeholder left in the document: "{excerpt}".',
    catches="TBD, TODO, `[Feature name]`, `<describe the problem>`",
    quiet_on='code, inline code, and lowercase words such as "todo list"',
    prose=Prose(
        label="Placeholder",
        question="What goes here? If it isn't decided yet, what would decide it, and by when?",
        why="Reviewers can't review what isn't written yet.",
        looks_for=(
            "Text left for later: TBD, TODO, FIXME, and template leftovers such as "
            '"[Feature name]" or "<describe>".'
        ),
        example=(
            'Instead of "Rollout: TBD": "Rollout: not decided yet; the decision '
            'depends on the load test on 14 May, owned by Dana".'
        ),
        description="Template placeholder left in the document",
        help=(
            "TBD, TODO or template text such as '[Feature name]' means a section is not "
            "written yet."
        ),
    ),
    examples=Examples(good=GOOD_EXAMPLE, bad=BAD_EXAMPLE),
    severity=Severity.WARNING,
    phrases={"placeholder": PLACEHOLDER_PHRASES},
    detect=detect,
    reads_headings=True,
    # Before the other checks of a block (see LineCheckRule.scan_order).
    scan_order=-1,
)
