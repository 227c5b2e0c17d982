"""Markdown that fits GitHub's size limits: blocks joined up to a limit in bytes, cut
only between blocks, with a closing notice that says what was left out.

GitHub documents the Check Run summary and text limits as 65,535 "characters" but
enforces them as UTF-8 bytes ("summary exceeds a maximum bytesize of 65535"), so
every limit here is measured in bytes, which also keeps the character count under
the documented limit. The Check Run (`ghapp.checkrun`) and the review
(`ghapp.reviewplan`) build their long fields with these.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from checks.markdown_text import byte_len, clip_bytes, plural

# GitHub's limit for a Check Run's summary and text, a review's body and a comment's.
BODY_LIMIT = 65_535

# Room kept for the "cut to fit" notice when a field is truncated.
_NOTICE_ROOM = 400


class Block:
    """A piece of Markdown; `unit` names what it counts as when left out.

    A block made with `deferred` builds its text only when it is read. `reserve` is
    room the block needs elsewhere once kept (its fingerprint in the review's marker)."""

    __slots__ = ("_render", "_text", "reserve", "unit")

    def __init__(
        self,
        text: str,
        unit: str | None = None,
        *,
        reserve: int = 0,
        render: Callable[[], str] | None = None,
    ) -> None:
        self._text = text
        self._render = render
        self.unit = unit
        self.reserve = reserve

    @classmethod
    def deferred(
        cls, render: Callable[[], str], unit: str | None = None, *, reserve: int = 0
    ) -> Block:
        return cls("", unit, reserve=reserve, render=render)

    @property
    def text(self) -> str:
        if self._render is not None:
            self._text, self._render = self._render(), None
        return self._text


_Item = TypeVar("_Item")


@dataclass(frozen=True)
class Each(Generic[_Item]):
    """One block per item, each made and rendered only when `fit` reaches it, so
    that a report with 100,000 findings renders the few hundred that fit and holds
    no block for the others."""

    items: Sequence[_Item]
    render: Callable[[_Item], str]
    unit: str

    def blocks(self) -> Iterator[Block]:
        for item in self.items:
            yield Block.deferred(functools.partial(self.render, item), self.unit)


Blocks: TypeAlias = Iterable[Block | Each[Any]]


def _flatten(blocks: Blocks) -> Iterator[Block]:
    for block in blocks:
        if isinstance(block, Each):
            yield from block.blocks()
        else:
            yield block


def fit(blocks: Blocks, limit: int, *, lead: str) -> str:
    """`blocks` joined with newlines within `limit` bytes (see `fit_counted`)."""
    return fit_counted(blocks, limit, lead=lead)[0]


def fit_counted(blocks: Blocks, limit: int, *, lead: str, later: str = "") -> tuple[str, int]:
    """Join blocks with newlines within `limit` bytes, cutting only between blocks and
    saying what was left out. Also returns how many blocks were kept whole.

    One pass that stops reading texts once the limit is passed: the cost is the
    size of what fits plus one look at each remaining block's `unit`."""
    budget = limit - _NOTICE_ROOM
    pending = _flatten(blocks)
    first: Block | None = None
    texts: list[str] = []
    used = 0
    within_budget = 0  # how many leading blocks fit in `budget` (room left for the notice)
    left_out: Counter[str] = Counter()  # units of blocks read but not kept
    for block in pending:
        first = first or block
        text = block.text
        used += byte_len(text) + (1 if texts else 0) + block.reserve
        if used > limit:
            if block.unit:
                left_out[block.unit] += 1
            break
        texts.append(text)
        if used <= budget:
            within_budget = len(texts)
        elif block.unit:
            left_out[block.unit] += 1
    else:
        return "\n".join(texts), len(texts)
    left_out.update(block.unit for block in pending if block.unit)
    if left_out:
        counts = " and ".join(
            plural(count, f"more {unit}") for unit, count in sorted(left_out.items())
        )
        missing = f"{counts} not shown{later}."
    else:
        missing = "the rest is not shown."
    notice = f"\n\n_✂️ {lead}: {missing}_"
    if not within_budget:  # one block larger than the whole limit: cut inside it
        assert first is not None
        return clip_bytes(first.text, limit - byte_len(notice)) + notice, 0
    return "\n".join(texts[:within_budget]) + notice, within_budget
