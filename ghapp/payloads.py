"""The webhook payloads the app routes, checked field by field before any work.

A signed payload still gets checked: a malformed one (a missing key, a list where
an object belongs, a number sent as text) is answered 400 with one line naming
the field, instead of failing later in a background task with nothing posted on
GitHub. Each parser reads exactly the fields the handlers in `ghapp.routers` use,
and returns them typed, so the handlers read nothing else from the payload.

Absent optional fields and JSON `null` are treated alike, as GitHub sends either.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_COMMIT_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 repositories
# JSON numbers GitHub uses as ids fit in 64 bits; a larger one is not GitHub's.
_MAX_ID = 2**63 - 1


class PayloadError(ValueError):
    """A field the handlers need is missing or has the wrong type."""

    def __init__(self, path: str, expected: str) -> None:
        self.path = path
        self.expected = expected
        super().__init__(f"{path}: expected {expected}")


class _Fields:
    """A JSON object at `path` (dotted, for messages), read one typed field at a time."""

    def __init__(self, value: object, path: str) -> None:
        if not isinstance(value, dict):
            raise PayloadError(path, "an object")
        self._data: dict[str, Any] = value
        self._path = path

    def _where(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def _value(self, key: str) -> object:
        return self._data.get(key)

    def optional_string(self, key: str) -> str | None:
        value = self._value(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise PayloadError(self._where(key), "a string")
        return value

    def string(self, key: str) -> str:
        value = self.optional_string(key)
        if value is None:
            raise PayloadError(self._where(key), "a string")
        return value

    def commit_sha(self, key: str) -> str:
        value = self._value(key)
        if not isinstance(value, str) or not _COMMIT_SHA.fullmatch(value):
            raise PayloadError(self._where(key), "a commit SHA (40 or 64 hex digits)")
        return value

    def identifier(self, key: str) -> int:
        """A positive integer: a number or an id."""
        value = self._value(key)
        # bool is an int in Python, never in JSON.
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_ID:
            raise PayloadError(self._where(key), "a positive integer")
        return value

    def optional_boolean(self, key: str) -> bool:
        value = self._value(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise PayloadError(self._where(key), "true or false")
        return value

    def fields(self, key: str) -> _Fields:
        return _Fields(self._value(key), self._where(key))

    def optional_fields(self, key: str) -> _Fields | None:
        value = self._value(key)
        return None if value is None else _Fields(value, self._where(key))

    def items(self, key: str) -> list[_Fields]:
        """A list of objects; absent or null is an empty list."""
        value = self._value(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise PayloadError(self._where(key), "a list")
        return [_Fields(item, f"{self._where(key)}[{index}]") for index, item in enumerate(value)]


def action_of(data: dict[str, Any]) -> str | None:
    """The payload's `action`: a string, or None when absent. Checked before routing,
    which looks the value up in a dict (a list there would raise TypeError)."""
    action = data.get("action")
    if action is not None and not isinstance(action, str):
        raise PayloadError("action", "a string")
    return action


# --------------------------------------------------------------------------- shared parts


@dataclass(frozen=True)
class Repository:
    owner: str
    name: str
    url: str  # API URL
    default_branch: str

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


def _repository(payload: _Fields) -> Repository:
    repository = payload.fields("repository")
    return Repository(
        owner=repository.fields("owner").string("login"),
        name=repository.string("name"),
        url=repository.string("url"),
        default_branch=repository.optional_string("default_branch") or "main",
    )


def _installation_id(payload: _Fields) -> int:
    return payload.fields("installation").identifier("id")


# --------------------------------------------------------------------------- pull_request


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str  # API URL
    head_sha: str
    draft: bool
    labels: tuple[str, ...]  # names


@dataclass(frozen=True)
class PullRequestEvent:
    action: str
    pull: PullRequest
    repository: Repository
    installation_id: int


def _label_names(owner: _Fields) -> tuple[str, ...]:
    return tuple(label.string("name") for label in owner.items("labels"))


def pull_request_event(data: object) -> PullRequestEvent:
    payload = _Fields(data, "")
    pull = payload.fields("pull_request")
    return PullRequestEvent(
        action=payload.string("action"),
        pull=PullRequest(
            number=pull.identifier("number"),
            url=pull.string("url"),
            head_sha=pull.fields("head").commit_sha("sha"),
            draft=pull.optional_boolean("draft"),
            labels=_label_names(pull),
        ),
        repository=_repository(payload),
        installation_id=_installation_id(payload),
    )


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class CheckPull:
    """A pull request as a check suite or run lists it (no draft state, no labels)."""

    number: int
    url: str  # API URL
    base_repository_url: str | None  # None when the payload does not say


@dataclass(frozen=True)
class CheckEvent:
    """`check_suite` and `check_run`: the head they are about and its pull requests."""

    action: str
    head_sha: str
    pulls: tuple[CheckPull, ...]
    repository: Repository
    installation_id: int
    name: str | None = None  # the check run's name (check_run only)
    requested_action: str | None = None  # the button's identifier (requested_action only)


def _check_pulls(owner: _Fields) -> tuple[CheckPull, ...]:
    pulls = []
    for item in owner.items("pull_requests"):
        base = item.optional_fields("base")
        base_repository = base.optional_fields("repo") if base is not None else None
        pulls.append(
            CheckPull(
                number=item.identifier("number"),
                url=item.string("url"),
                base_repository_url=(
                    base_repository.optional_string("url") if base_repository else None
                ),
            )
        )
    return tuple(pulls)


def check_suite_event(data: object) -> CheckEvent:
    payload = _Fields(data, "")
    suite = payload.fields("check_suite")
    return CheckEvent(
        action=payload.string("action"),
        head_sha=suite.commit_sha("head_sha"),
        pulls=_check_pulls(suite),
        repository=_repository(payload),
        installation_id=_installation_id(payload),
    )


def check_run_event(data: object) -> CheckEvent:
    payload = _Fields(data, "")
    run = payload.fields("check_run")
    requested = payload.optional_fields("requested_action")
    return CheckEvent(
        action=payload.string("action"),
        head_sha=run.commit_sha("head_sha"),
        pulls=_check_pulls(run),
        repository=_repository(payload),
        installation_id=_installation_id(payload),
        name=run.optional_string("name"),
        requested_action=requested.optional_string("identifier") if requested else None,
    )


# --------------------------------------------------------------------------- issue_comment


@dataclass(frozen=True)
class IssueCommentEvent:
    action: str
    issue_number: int
    issue_url: str  # API URL
    comments_url: str
    pull_url: str | None  # None for a comment on a plain issue
    issue_author: str | None
    comment_url: str
    comment_body: str
    commenter: str  # "" when GitHub sends no user (a deleted account)
    commenter_is_bot: bool
    author_association: str
    repository: Repository
    installation_id: int


def issue_comment_event(data: object) -> IssueCommentEvent:
    payload = _Fields(data, "")
    issue = payload.fields("issue")
    comment = payload.fields("comment")
    pull = issue.optional_fields("pull_request")
    issue_user = issue.optional_fields("user")
    comment_user = comment.optional_fields("user")
    return IssueCommentEvent(
        action=payload.string("action"),
        issue_number=issue.identifier("number"),
        issue_url=issue.string("url"),
        comments_url=issue.string("comments_url"),
        pull_url=pull.string("url") if pull is not None else None,
        issue_author=issue_user.optional_string("login") if issue_user else None,
        comment_url=comment.string("url"),
        comment_body=comment.optional_string("body") or "",
        commenter=(comment_user.optional_string("login") if comment_user else None) or "",
        commenter_is_bot=(comment_user.optional_string("type") if comment_user else None) == "Bot",
        author_association=comment.optional_string("author_association") or "NONE",
        repository=_repository(payload),
        installation_id=_installation_id(payload),
    )


# --------------------------------------------------------------------------- by event name

PARSERS: dict[str, Callable[[object], object]] = {
    "pull_request": pull_request_event,
    "check_suite": check_suite_event,
    "check_run": check_run_event,
    "issue_comment": issue_comment_event,
}


# The payload URLs the app sends requests to, per event (`[]` stands for every item of
# a list). They must lie under the configured API; see `foreign_urls`.
REQUEST_URLS: dict[str, tuple[str, ...]] = {
    "pull_request": ("pull_request.url", "repository.url"),
    "check_suite": ("repository.url", "check_suite.pull_requests[].url"),
    "check_run": ("repository.url", "check_run.pull_requests[].url"),
    "issue_comment": (
        "repository.url",
        "issue.url",
        "issue.comments_url",
        "issue.pull_request.url",
        "comment.url",
    ),
}


def request_urls(event: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, URL) for every URL of a checked payload that the app would request."""
    found: list[tuple[str, str]] = []
    for spec in REQUEST_URLS.get(event, ()):
        values: list[tuple[str, object]] = [("", data)]
        for part in spec.split("."):
            many = part.endswith("[]")
            key = part.removesuffix("[]")
            step: list[tuple[str, object]] = []
            for where, value in values:
                child = value.get(key) if isinstance(value, dict) else None
                here = f"{where}.{key}" if where else key
                if many:
                    items = child if isinstance(child, list) else []
                    step.extend((f"{here}[{index}]", item) for index, item in enumerate(items))
                elif child is not None:
                    step.append((here, child))
            values = step
        found.extend((where, value) for where, value in values if isinstance(value, str))
    return found


def check(event: str, data: dict[str, Any]) -> None:
    """Raise PayloadError when a payload of a routed event lacks what its handler reads.
    Events without a parser here are not read by any handler."""
    parser = PARSERS.get(event)
    if parser is not None:
        parser(data)
