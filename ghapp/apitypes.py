"""The JSON objects the app sends to GitHub's REST API, as GitHub names their fields.

Built by the rendering modules (`ghapp.checkrun`, `ghapp.reviewplan`) and the review
flow, sent by `ghapp.github`. Types only: this module imports nothing of the app, so
the worker processes that render can import it cheaply.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

AnnotationLevel = Literal["notice", "warning", "failure"]


class CheckAnnotation(TypedDict):
    """One item of a check run's `output.annotations`."""

    path: str
    start_line: int
    end_line: int
    annotation_level: AnnotationLevel
    title: str
    message: str


class CheckRunOutput(TypedDict):
    """A check run's `output`: at most 50 annotations per request."""

    title: str
    summary: str
    text: NotRequired[str]
    annotations: NotRequired[list[CheckAnnotation]]


class CheckRunAction(TypedDict):
    """A button on a completed check run (`actions`)."""

    label: str
    description: str
    identifier: str


class CheckCompletion(TypedDict):
    """What a completed check run shows: the fields sent when it completes."""

    conclusion: str
    output: CheckRunOutput
    actions: list[CheckRunAction]


class DraftReviewComment(TypedDict):
    """One item of the `comments` of a create-review request: an inline comment."""

    path: str
    line: int
    side: Literal["LEFT", "RIGHT"]
    body: str
