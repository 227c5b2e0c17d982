"""Every log line of a review names its delivery, repository, pull request and head.

A review says which one it is (`bind_review`, then `bind_head` once the head is
known), in a context variable: it holds for the task running the review and for
the tasks that task starts, and for nothing else. `ReviewFieldsFilter`, on the
server's log handlers (`install`), adds the fields to each line logged meanwhile,
unless the line already has them. With `LOG_FORMAT=json`, `JsonLineFormatter`
writes each record as one JSON object instead, the fields as keys of their own.
"""

from __future__ import annotations

import contextvars
import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

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


# Set on a record by `ReviewFieldsAttacher`: the review it was logged during.
_RECORD_ATTRIBUTE = "review_fields"


class ReviewFieldsAttacher(logging.Filter):
    """Keeps the current review's fields on the record, for `JsonLineFormatter`: the
    context variable is read when the line is logged, within the review's task."""

    def filter(self, record: logging.LogRecord) -> bool:
        setattr(record, _RECORD_ATTRIBUTE, _CURRENT.get())
        return True


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the
    review's delivery, repo, pr and head when there is one, and any exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, _RECORD_ATTRIBUTE, None)
        if isinstance(fields, ReviewFields):
            line.update(delivery=fields.delivery, repo=fields.repo, pr=fields.pr)
            if fields.head is not None:
                line["head"] = fields.head[:_HEAD_CHARS]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def install(logger: logging.Logger, *, as_json: bool = False) -> None:
    """Add the filter to `logger`'s handlers: a handler's filters see the records of
    every logger that propagates to it, a logger's only its own. `as_json` also
    makes each handler write JSON lines, the fields as keys rather than text."""
    kind: type[logging.Filter] = ReviewFieldsAttacher if as_json else ReviewFieldsFilter
    for handler in logger.handlers:
        if as_json:
            handler.setFormatter(JsonLineFormatter())
        if not any(isinstance(existing, kind) for existing in handler.filters):
            handler.addFilter(kind())
