"""Every log line of a review names its delivery, repository, pull request and head.

A review says which one it is (`bind_review`, then `bind_head` once the head is
known), in a context variable: it holds for the task running the review and for
the tasks that task starts, and for nothing else. `ReviewFieldsFilter`, on the
server's log handlers (`install`), adds the fields to each line logged meanwhile,
unless the line already has them.
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass, replace

# The head as the review's result line shows it.
_HEAD_CHARS = 12


@dataclass(frozen=True)
class ReviewFields:
    delivery: str
    repo: str
    pr: int
    head: str | None = None

    def as_pairs(self) -> tuple[tuple[str, str], ...]:
        return (
            ("delivery", self.delivery),
            ("repo", self.repo),
            ("pr", str(self.pr)),
            ("head", (self.head or "")[:_HEAD_CHARS] or "-"),
        )


_CURRENT: contextvars.ContextVar[ReviewFields | None] = contextvars.ContextVar(
    "review_log_fields", default=None
)


def bind_review(*, delivery: str, repo: str, pr: int, head: str | None) -> None:
    """From now on, in this task and those it starts, lines name this review."""
    _CURRENT.set(ReviewFields(delivery=delivery, repo=repo, pr=pr, head=head))


def bind_head(head: str) -> None:
    """The review learnt its head."""
    fields = _CURRENT.get()
    if fields is not None:
        _CURRENT.set(replace(fields, head=head))


def unbind_review() -> None:
    """The review ended: later lines of this task (the next job's) do not name it."""
    _CURRENT.set(None)


def current() -> ReviewFields | None:
    return _CURRENT.get()


class ReviewFieldsFilter(logging.Filter):
    """Appends `delivery=… repo=… pr=… head=…` to a line logged during a review,
    each field only when the line does not already have it."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _CURRENT.get()
        if fields is None:
            return True
        message = record.getMessage()
        missing = [f"{key}={value}" for key, value in fields.as_pairs() if f"{key}=" not in message]
        if missing:
            record.msg = message + " " + " ".join(missing)
            record.args = None
        return True


def install(logger: logging.Logger) -> None:
    """Add the filter to `logger`'s handlers: a handler's filters see the records of
    every logger that propagates to it, a logger's only its own."""
    for handler in logger.handlers:
        if not any(isinstance(existing, ReviewFieldsFilter) for existing in handler.filters):
            handler.addFilter(ReviewFieldsFilter())
