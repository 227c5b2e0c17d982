"""What every event handler gets besides the event."""

from __future__ import annotations

from dataclasses import dataclass

from ghapp.github import GitHubApp
from ghapp.queue import ReviewQueue
from ghapp.repoconfig import RepoConfigLoader


@dataclass(frozen=True)
class EventContext:
    github: GitHubApp  # a client per installation, for what a handler sends itself
    queue: ReviewQueue  # reviews, and the memory of deliveries and heads
    config: RepoConfigLoader  # the repositories' `.github/product-review.yml`
