"""A token-level phrase matcher: one dictionary lookup per token.

Phrases are written as space-separated token specs; a spec may list
alternatives with `|` ("user|users want|need") and `#` matches any token that
contains a digit. Matching runs over a block's lowercased tokens, so one pass
finds every phrase of every table; this is several times cheaper than regular
expression alternations over the same text (measured in bench/README.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import product

NUMBER = "#"


@dataclass(frozen=True)
class Phrase:
    tokens: tuple[str, ...]
    label: str  # what a hit means, e.g. "problem" or "absolute"
    strength: int = 2  # 2 strong, 1 weak
    group: str = ""  # which table it came from: "signal", "marker", "finding", "category"


def expand(spec: str) -> list[tuple[str, ...]]:
    options = [part.split("|") for part in spec.lower().split()]
    return [tuple(choice) for choice in product(*options)]


def _is_number(token: str) -> bool:
    return token[:1].isdigit()


def phrases_from_table(
    table: dict[str, tuple[str, ...]], strength: int = 2, group: str = ""
) -> list[Phrase]:
    return [
        Phrase(tokens, label, strength, group)
        for label, specs in table.items()
        for spec in specs
        for tokens in expand(spec)
    ]


class PhraseMatcher:
    def __init__(self, phrases: Iterable[Phrase]) -> None:
        self._by_first: dict[str, list[Phrase]] = {}
        self._number_first: list[Phrase] = []
        for phrase in phrases:
            if phrase.tokens[0] == NUMBER:
                self._number_first.append(phrase)
            else:
                self._by_first.setdefault(phrase.tokens[0], []).append(phrase)

    @classmethod
    def from_table(cls, table: dict[str, tuple[str, ...]], strength: int = 2) -> PhraseMatcher:
        return cls(phrases_from_table(table, strength))

    def finditer(self, tokens: Sequence[str]) -> Iterator[tuple[int, Phrase]]:
        """Yield (index of first token, phrase) for every phrase found."""
        by_first = self._by_first
        number_first = self._number_first
        count = len(tokens)
        for i, token in enumerate(tokens):
            candidates = by_first.get(token)
            if candidates is None:
                if not (number_first and token[:1].isdigit()):
                    continue
                candidates = number_first
            elif number_first and token[:1].isdigit():
                candidates = candidates + number_first
            for phrase in candidates:
                rest = phrase.tokens
                size = len(rest)
                if size == 1:
                    yield i, phrase
                    continue
                if i + size > count:
                    continue
                for offset in range(1, size):
                    want = rest[offset]
                    got = tokens[i + offset]
                    if want == NUMBER:
                        if not got[:1].isdigit():
                            break
                    elif want != got:
                        break
                else:
                    yield i, phrase
