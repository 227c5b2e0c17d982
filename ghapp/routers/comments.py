"""`issue_comment` events: the `/product-review` command.

Who may run it is decided by the default branch's config, read in the same GraphQL
request as the review's (`ghapp.review.prefetch`): a command that reviews hands
that prefetch to its review, so that the config is read once and the review costs
no call more than any other.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace

from gidgethub import routing, sansio

from ghapp import payloads
from ghapp.commands import (
    PAUSED_LABEL,
    PAUSED_LABEL_COLOR,
    PAUSED_LABEL_DESCRIPTION,
    Action,
    Command,
    denied_reply,
    may_run,
    parse_command,
    text_reply,
)
from ghapp.github import InstallationClient
from ghapp.pulls import PullRequestRef
from ghapp.repoconfig import PrefetchedReader
from ghapp.review import Prefetched, ReviewRequest, prefetch, prefetch_config
from ghapp.routers.context import EventContext

log = logging.getLogger("ghapp.routers")

_REVIEWING = frozenset({Action.REVIEW, Action.FULL, Action.RESUME})

router = routing.Router()


@router.register("issue_comment", action="created")
async def on_issue_comment(event: sansio.Event, context: EventContext) -> None:
    """`/product-review …` at the start of a new comment on a pull request.

    Edited and deleted comments are other actions (not routed); comments on plain
    issues and by bots (this app's own replies included: no loops) are ignored.
    """
    payload = payloads.issue_comment_event(event.data)
    if payload.pull_url is None:
        return
    if payload.commenter_is_bot:
        return
    command = parse_command(payload.comment_body)
    if command is None:
        return
    client = context.github.installation(payload.installation_id)
    try:
        await client.add_reaction(comment_url=payload.comment_url, content="eyes")
        reaction = await _run_command(event, context, payload, command, client)
        if reaction is not None:
            await client.add_reaction(comment_url=payload.comment_url, content=reaction)
    except Exception:
        log.exception(
            "command failed delivery=%s repo=%s pr=%s command=%s",
            event.delivery_id,
            payload.repository.full_name,
            payload.issue_number,
            command.action.value,
        )
        # Not done: a redelivery runs the command again.
        await context.queue.note_incomplete(event.delivery_id)
        with contextlib.suppress(Exception):
            await client.add_reaction(comment_url=payload.comment_url, content="confused")


async def _run_command(
    event: sansio.Event,
    context: EventContext,
    payload: payloads.IssueCommentEvent,
    command: Command,
    client: InstallationClient,
) -> str | None:
    """Carry out a command. Returns the closing reaction: "rocket" when done,
    "confused" when the review failed (its check says why), None after a reply."""
    repository = payload.repository
    assert payload.pull_url is not None  # checked by the caller
    request = ReviewRequest(
        # No state: "review now" means the head the pull request has when it starts.
        pull=PullRequestRef.in_repository(
            repository,
            client.installation_id,
            number=payload.issue_number,
            pull_url=payload.pull_url,
        ),
        delivery_id=event.delivery_id,
        trigger=f"issue_comment.{command.action.value}",
        explicit=True,
        full=command.action is Action.FULL,
    )
    # What the review would read first, its config among it; a command that reviews
    # nothing needs only the config.
    prefetched: Prefetched | None = None
    if command.action in _REVIEWING:
        model_path = context.config.model_path(owner=repository.owner, repo=repository.name)
        prefetched = await prefetch(client, request, model_path=model_path)
        found = prefetched.context
    else:
        found = await prefetch_config(client, request)
    # The default branch's config decides who may: a PR cannot widen that itself.
    settings = await context.config.load(
        PrefetchedReader(found.files, fallback=client),
        owner=repository.owner,
        repo=repository.name,
        default_branch=repository.default_branch,
    )
    allowed = may_run(
        settings,
        association=payload.author_association,
        commenter=payload.commenter,
        pull_author=payload.issue_author,
    )
    if not allowed:
        await client.create_issue_comment(
            comments_url=payload.comments_url,
            body=denied_reply(settings, commenter=payload.commenter),
        )
        return None
    reply = text_reply(command, settings)
    if reply is not None:
        await client.create_issue_comment(comments_url=payload.comments_url, body=reply)
        return None
    if command.action is Action.PAUSE:
        await client.ensure_label(
            repository_url=repository.url,
            name=PAUSED_LABEL,
            color=PAUSED_LABEL_COLOR,
            description=PAUSED_LABEL_DESCRIPTION,
        )
        await client.add_labels(issue_url=payload.issue_url, labels=[PAUSED_LABEL])
        return "rocket"
    if command.action is Action.RESUME:
        await client.remove_label(issue_url=payload.issue_url, name=PAUSED_LABEL)
    result = await context.queue.submit(replace(request, prefetched=prefetched))
    return "rocket" if result.outcome.completed else "confused"
