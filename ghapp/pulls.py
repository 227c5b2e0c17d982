"""What the app knows about a pull request: where it is (`PullRequestRef`) and what
state it is in (`PullState`), as far as known.

A webhook payload says some of the state (a `pull_request` event all of it, a
`check_suite` only the head, the comment command nothing); the review learns the
rest from its GraphQL prefetch (`ghapp.prefetch`) or, failing that, from the REST
pull request (`PullState.from_api`). Whatever is not known is None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ghapp.payloads import Repository


@dataclass(frozen=True)
class PullState:
    """The pull request's head, draft state and labels."""

    head_sha: str | None = None  # None: not known (the comment command names no head)
    draft: bool | None = None  # None: not known
    labels: tuple[str, ...] | None = None  # None: not known, or more than 100 of them

    @property
    def complete(self) -> bool:
        """Everything an automatic review needs to decide whether it runs is known."""
        return self.head_sha is not None and self.draft is not None and self.labels is not None

    @classmethod
    def from_api(cls, pull: Mapping[str, Any]) -> PullState:
        """The state in a REST pull request object (GET /pulls/{n})."""
        return cls(
            head_sha=str(pull["head"]["sha"]),
            draft=bool(pull.get("draft", False)),
            labels=tuple(
                str(label["name"])
                for label in pull.get("labels") or []
                if isinstance(label, Mapping) and label.get("name")
            ),
        )


NOTHING_KNOWN = PullState()


@dataclass(frozen=True)
class PullRequestRef:
    """Which pull request, from the webhook payload, and what is known of its state."""

    installation_id: int
    owner: str
    repo: str
    number: int
    default_branch: str
    repository_url: str  # API URL of the repository
    pull_url: str  # API URL of the pull request
    state: PullState = NOTHING_KNOWN

    @classmethod
    def in_repository(
        cls,
        repository: Repository,
        installation_id: int,
        *,
        number: int,
        pull_url: str,
        state: PullState = NOTHING_KNOWN,
    ) -> PullRequestRef:
        return cls(
            installation_id=installation_id,
            owner=repository.owner,
            repo=repository.name,
            number=number,
            default_branch=repository.default_branch,
            repository_url=repository.url,
            pull_url=pull_url,
            state=state,
        )

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"
