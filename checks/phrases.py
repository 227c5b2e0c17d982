"""A token-level phrase matcher: one dictionary lookup per token.

Phrases are written as space-separated token specs; a spec may list
alternatives with `|` ("user|users want|need") and `#` matches any token that
contains a digit. Matching runs over a block's lowercased tokens, so one pass
finds every phrase of every table; this is several times cheaper than regular
expression alternations over the same text (measured in bench/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, product

NUMBER = "#"
_STARTS_WITH_DIGIT = re.compile(r"\d").match


@dataclass(frozen=True)
class Phrase:
    tokens: tuple[str, ...]
    label: str  # what a hit means, e.g. "problem" or "absolute"
    strength: int = 2  # 2 strong, 1 weak
    group: str = ""  # which table it came from: "signal", "marker", "finding", "category"


Hit = tuple[int, Phrase]  # (index of the first token in a block's tokens, phrase)


def expand(spec: str) -> list[tuple[str, ...]]:
    options = [part.split("|") for part in spec.lower().split()]
    return [tuple(choice) for choice in product(*options)]


def phrases_from_table(
    table: dict[str, tuple[str, ...]], strength: int = 2, group: str = ""
) -> list[Phrase]:
    return [
        Phrase(tokens, label, strength, group)
        for label, specs in table.items()
        for spec in specs
        for tokens in expand(spec)
    ]


# Frequent words make poor anchors: a phrase is indexed by its first token that
# is not one of these, so "the problem is" is only tried where "problem" occurs.
_COMMON = frozenset(
    [
        "the",
        "a",
        "an",
        "this",
        "that",
        "these",
        "those",
        "we",
        "i",
        "you",
        "it",
        "its",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "to",
        "of",
        "in",
        "on",
        "for",
        "at",
        "by",
        "as",
        "with",
        "from",
        "and",
        "or",
        "but",
        "not",
        "no",
        "do",
        "does",
        "can",
        "could",
        "will",
        "would",
        "should",
        "have",
        "has",
        "there",
        "which",
        "what",
        "who",
        "one",
        "more",
        "most",
        "all",
        "any",
        "some",
        "other",
        "than",
        "then",
        "so",
        "if",
        "into",
        "out",
        "up",
        "about",
        "our",
        "your",
        "their",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "my",
        "me",
        "us",
    ]
)


def _anchor(tokens: tuple[str, ...]) -> int:
    for offset, token in enumerate(tokens):
        if token != NUMBER and token not in _COMMON:
            return offset
    return 0 if tokens[0] != NUMBER else len(tokens) - 1


class PhraseMatcher:
    def __init__(self, phrases: Iterable[Phrase]) -> None:
        # (anchor offset, phrase, its tokens as a list when it has no `#`, else None)
        self._by_anchor: dict[str, list[tuple[int, Phrase, list[str] | None]]] = {}
        self._number_only: list[Phrase] = []  # phrases made of numbers only
        for phrase in phrases:
            offset = _anchor(phrase.tokens)
            anchor = phrase.tokens[offset]
            if anchor == NUMBER:
                self._number_only.append(phrase)
            else:
                literal = None if NUMBER in phrase.tokens else list(phrase.tokens)
                self._by_anchor.setdefault(anchor, []).append((offset, phrase, literal))
        for entries in self._by_anchor.values():
            entries.sort(key=lambda entry: entry[0])

    def finditer(self, tokens: Sequence[str]) -> Iterator[tuple[int, Phrase]]:
        """Yield (index of first token, phrase) for every phrase found, in token order."""
        count = len(tokens)
        found: list[tuple[int, Phrase]] = []
        words = tokens if isinstance(tokens, list) else list(tokens)
        # map/compress run in C: Python only visits tokens that can anchor a phrase.
        candidates = list(map(self._by_anchor.get, words))
        for i in compress(range(count), candidates):
            for offset, phrase, literal in candidates[i] or ():
                start = i - offset
                end = start + len(phrase.tokens)
                if start < 0 or end > count:
                    continue
                # A list slice compared in C: most phrases have no `#` in them.
                if literal is not None:
                    matched = words[start:end] == literal
                else:
                    matched = _matches(phrase.tokens, words, start)
                if matched:
                    found.append((start, phrase))
        if self._number_only:
            for i in compress(range(count), map(_STARTS_WITH_DIGIT, tokens)):
                for phrase in self._number_only:
                    if i + len(phrase.tokens) <= count and _matches(phrase.tokens, tokens, i):
                        found.append((i, phrase))
        found.sort(key=lambda hit: hit[0])
        return iter(found)


def _matches(pattern: tuple[str, ...], tokens: Sequence[str], start: int) -> bool:
    for offset, want in enumerate(pattern):
        got = tokens[start + offset]
        if want == NUMBER:
            if not got[:1].isdigit():
                return False
        elif want != got:
            return False
    return True
