"""End to end: `/product-review` comments and the re-run controls, through the real
aiohttp app and the fake GitHub API."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from checks.fingerprints import asked_fingerprints
from checks.rules import DIMENSION_BY_ID
from ghapp.commands import HELP_TEXT, PAUSED_LABEL, PAUSED_LABEL_COLOR
from ghapp.repoconfig import CONFIG_PATH
from ghapp.server import CONTEXT_KEY
from tests.support.apptools import deliver, outcomes, settled, wait_until
from tests.support.fakegithub import FakeGitHub, FakePull, FakeRepo, Recorded, added_file_patch

DOC = "docs/rfcs/0001-offline-mode.md"
DOC_TEXT = """# Offline mode

## Problem
Field staff lose work when the network drops.

## Proposal
Sync must be real-time across all devices.

## Rollout
TBD
"""


def make_pr(fake: FakeGitHub, **kwargs: Any) -> tuple[FakeRepo, FakePull]:
    repo = fake.add_repo()
    pull = fake.add_pull(repo, **(kwargs or {"added": {DOC: DOC_TEXT}}))
    return repo, pull


async def comment(
    client: TestClient[Any, Any],
    fake: FakeGitHub,
    repo: FakeRepo,
    pull: FakePull | None,
    body: str,
    *,
    settle: bool = True,
    **kwargs: Any,
) -> dict[str, Any]:
    """Deliver an `issue_comment` event; returns its payload."""
    payload = fake.issue_comment_event(repo, pull, body, **kwargs)
    response = await deliver(client, "issue_comment", payload, settle=settle)
    assert response.status in (200, 202)
    return payload


def reactions(pull: FakePull, payload: dict[str, Any]) -> list[str]:
    return pull.reactions.get(payload["comment"]["id"], [])


def replies(pull: FakePull) -> list[str]:
    return [str(item["body"]) for item in pull.issue_comments]


def non_token_calls(fake: FakeGitHub) -> list[Recorded]:
    return [r for r in fake.requests if "/access_tokens" not in r.path]


# --------------------------------------------------------------------------- review now


async def test_review_command_reviews_the_current_head(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    payload = await comment(client, fake_github, repo, pull, "/product-review")

    assert reactions(pull, payload) == ["eyes", "rocket"]
    # The head comes from the review's GraphQL prefetch (the comment payload has
    # none), not from a REST read of the pull request.
    (prefetch,) = fake_github.calls("POST", "/graphql")
    assert prefetch.body["variables"]["headKnown"] is False
    assert not [r for r in fake_github.requests if r.path.endswith(f"/pulls/{pull.number}")]
    (run,) = repo.check_runs.values()
    assert run["head_sha"] == pull.head_sha
    assert run["status"] == "completed" and run["conclusion"] == "neutral"
    (review,) = pull.reviews
    assert "How will we know this worked?" in review["body"]
    assert replies(pull) == []  # acknowledged by the reaction, not a reply
    assert outcomes(client)[-1].outcome == "reviewed"


async def test_review_command_asks_nothing_twice_and_full_asks_again(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert len(pull.reviews) == 1
    first = asked_fingerprints([r["body"] for r in pull.reviews])

    plain = await comment(client, fake_github, repo, pull, "/product-review")
    assert reactions(pull, plain) == ["eyes", "rocket"]
    assert len(repo.check_runs) == 2  # a fresh check
    assert len(pull.reviews) == 1  # but nothing new to ask

    full = await comment(client, fake_github, repo, pull, "/product-review full")
    assert reactions(pull, full) == ["eyes", "rocket"]
    assert len(repo.check_runs) == 3
    assert len(pull.reviews) == 2
    assert asked_fingerprints([pull.reviews[1]["body"]]) == first  # every question again


async def test_review_command_reviews_a_draft(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github, draft=True, added={DOC: DOC_TEXT})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert repo.check_runs == {}  # drafts are not reviewed automatically
    await comment(client, fake_github, repo, pull, "/product-review")
    assert len(repo.check_runs) == 1
    assert len(pull.reviews) == 1


async def test_a_failed_review_ends_with_a_confused_reaction(
    make_client: Any, fake_github: FakeGitHub
) -> None:
    def broken_engine(*_: Any) -> Any:
        raise RuntimeError("engine exploded")

    client = await make_client(engine=broken_engine)
    repo, pull = make_pr(fake_github)
    payload = await comment(client, fake_github, repo, pull, "/product-review")
    assert reactions(pull, payload) == ["eyes", "confused"]
    (run,) = repo.check_runs.values()
    assert "could not complete" in run["output"]["title"]


# --------------------------------------------------------------------------- text replies


async def test_help_replies_with_the_subcommands(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    payload = await comment(client, fake_github, repo, pull, "/product-review help")
    assert reactions(pull, payload) == ["eyes"]
    assert replies(pull) == [HELP_TEXT]
    assert repo.check_runs == {}
    (reply,) = fake_github.calls("POST", f"/issues/{pull.number}/comments")
    assert reply.body == {"body": HELP_TEXT}


async def test_an_unknown_subcommand_gets_the_help_text(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    await comment(client, fake_github, repo, pull, "/product-review rerun please")
    (reply,) = replies(pull)
    assert reply.startswith("I don't know the subcommand `rerun`")
    assert reply.endswith(HELP_TEXT)
    assert repo.check_runs == {}


async def test_explain_replies_with_the_explanation(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    await comment(client, fake_github, repo, pull, "/product-review explain why-now")
    await comment(client, fake_github, repo, pull, "/product-review explain placeholder")
    await comment(client, fake_github, repo, pull, "/product-review explain latency")
    why_now, placeholder, unknown = replies(pull)
    assert why_now.startswith("### `why_now`: Why now")
    assert "<!-- product-review disable=why_now -->" in why_now
    assert placeholder.startswith("### `placeholder`")
    assert "<!-- product-review off -->" in placeholder
    assert unknown.startswith("I don't know the id `latency`")
    assert repo.check_runs == {}


async def test_explain_shows_the_teams_own_question_and_says_so(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    org = fake_github.add_repo(name=".github")
    org.contents[("main", CONFIG_PATH)] = (
        'questions:\n  metrics: "Which dashboard number moves, and by how much?"\n'
    )
    repo.contents[("main", CONFIG_PATH)] = (
        'questions:\n  users: "Which of our three personas is this for?"\n'
    )
    # The pull request's own version of the file does not count.
    repo.contents[(pull.head_sha, CONFIG_PATH)] = 'questions:\n  users: "Who, really?"\n'

    for key in ("users", "metrics", "risks", "placeholder"):
        await comment(client, fake_github, repo, pull, f"/product-review explain {key}")

    users, metrics, risks, placeholder = replies(pull)
    assert "**The question, in your team's words:** Which of our three personas is this for?" in (
        users
    )
    assert "your team's own: `questions.users` in this repository's" in users
    assert DIMENSION_BY_ID["users"].prose.question in users  # the default wording, named as such
    assert "Who, really?" not in users
    assert "Asked differently for other kinds of work" not in users
    assert "Which dashboard number moves, and by how much?" in metrics
    assert "`questions.metrics` in the organisation's `.github/product-review.yml`" in metrics
    # Dimensions the team did not reword, and line checks, keep the app's wording.
    assert f"**The question:** {DIMENSION_BY_ID['risks'].prose.question}" in risks
    assert "your team's" not in risks
    assert "your team's" not in placeholder
    assert repo.check_runs == {}


async def test_config_replies_with_values_and_their_layers(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    org = fake_github.add_repo(name=".github")
    org.contents[("main", CONFIG_PATH)] = "fail_on: warning\n"
    repo.contents[("main", CONFIG_PATH)] = "comments:\n  max_inline: 3\n"
    # What the pull request itself says about the config does not count.
    repo.contents[(pull.head_sha, CONFIG_PATH)] = "comments:\n  max_inline: 50\n"
    await comment(client, fake_github, repo, pull, "/product-review config")
    (reply,) = replies(pull)
    assert "| `fail_on` | `warning` | organisation |" in reply
    assert "| `comments.max_inline` | `3` | repository |" in reply
    assert "| `drafts` | `false` | default |" in reply
    assert f"- repository: `acme/widgets:{CONFIG_PATH}`" in reply
    assert repo.check_runs == {}


# --------------------------------------------------------------------------- permissions


async def test_others_are_told_who_may_run_it(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    payload = await comment(
        client,
        fake_github,
        repo,
        pull,
        "/product-review full",
        user="drive-by",
        association="CONTRIBUTOR",
    )
    (reply,) = replies(pull)
    assert reply.startswith("Sorry @drive-by")
    assert "the pull request's author, repository owners" in reply
    assert reactions(pull, payload) == ["eyes"]
    assert repo.check_runs == {}
    assert pull.reviews == []


async def test_the_pr_author_may_run_it_without_an_association(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    await comment(
        client, fake_github, repo, pull, "/product-review", user=pull.author, association="NONE"
    )
    assert len(repo.check_runs) == 1
    assert replies(pull) == []


async def test_the_command_setting_of_the_default_branch_decides(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    repo.contents[("main", CONFIG_PATH)] = (
        "command:\n  associations: [OWNER]\n  allow_author: false\n"
    )
    await comment(client, fake_github, repo, pull, "/product-review", association="MEMBER")
    await comment(
        client, fake_github, repo, pull, "/product-review", user=pull.author, association="NONE"
    )
    assert (
        replies(pull)
        == [
            "Sorry @octocat, `/product-review` can only be run on this pull request by "
            "repository owners. (The `command` key of `.github/product-review.yml` sets who may.)"
        ]
        * 2
    )
    assert repo.check_runs == {}
    await comment(client, fake_github, repo, pull, "/product-review", association="OWNER")
    assert len(repo.check_runs) == 1


# --------------------------------------------------------------------------- ignored


@pytest.mark.parametrize(
    ("body", "options"),
    [
        ("/product-review", {"user": "product-review[bot]", "user_type": "Bot"}),
        ("/product-review", {"user": "other-app[bot]", "user_type": "Bot"}),
        ("Could someone run /product-review?", {}),
        ("/product-reviewer", {}),
        ("LGTM", {}),
    ],
    ids=["self", "another-bot", "not-at-the-start", "another-word", "plain-comment"],
)
async def test_comments_that_are_not_commands_are_ignored(
    client: TestClient[Any, Any], fake_github: FakeGitHub, body: str, options: dict[str, Any]
) -> None:
    repo, pull = make_pr(fake_github)
    await comment(client, fake_github, repo, pull, body, **options)
    assert non_token_calls(fake_github) == []


async def test_comments_on_plain_issues_are_ignored(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, _ = make_pr(fake_github)
    await comment(client, fake_github, repo, None, "/product-review", issue_number=3)
    assert fake_github.requests == []


@pytest.mark.parametrize("action", ["edited", "deleted"])
async def test_edited_and_deleted_comments_are_ignored(
    client: TestClient[Any, Any], fake_github: FakeGitHub, action: str
) -> None:
    repo, pull = make_pr(fake_github)
    payload = fake_github.issue_comment_event(repo, pull, "/product-review", action=action)
    response = await deliver(client, "issue_comment", payload)
    assert response.status == 200
    assert fake_github.requests == []


# --------------------------------------------------------------------------- pause / resume


async def test_pause_then_push_then_resume(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert len(pull.reviews) == 1

    pause = await comment(client, fake_github, repo, pull, "/product-review pause")
    assert reactions(pull, pause) == ["eyes", "rocket"]
    assert pull.labels == [PAUSED_LABEL]
    label = repo.labels[PAUSED_LABEL.lower()]
    assert label["color"] == PAUSED_LABEL_COLOR and label["description"]
    assert len(repo.check_runs) == 1  # pausing does not review

    # A push while paused: no review, only a completed check saying it is paused.
    new_text = DOC_TEXT + "\n## Pricing\nTBD later\n"
    paused_head = fake_github.push(
        repo, pull, modified={DOC: (new_text, added_file_patch(new_text))}
    )
    before = len(fake_github.requests)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))
    await deliver(client, "check_suite", fake_github.check_suite_event(repo, pull, "requested"))
    during_pause = [r for r in fake_github.requests[before:] if "/access_tokens" not in r.path]
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in during_pause] == [("POST", "check-runs")]
    paused_run = list(repo.check_runs.values())[-1]
    assert paused_run["head_sha"] == paused_head
    assert paused_run["status"] == "completed" and paused_run["conclusion"] == "skipped"
    assert "paused" in paused_run["output"]["title"]
    assert "`/product-review resume`" in paused_run["output"]["summary"]
    assert paused_run["actions"][0]["identifier"] == "rerun"
    assert len(pull.reviews) == 1

    resume = await comment(client, fake_github, repo, pull, "/product-review resume")
    assert reactions(pull, resume) == ["eyes", "rocket"]
    assert pull.labels == []
    # Reviewed at once, at the head pushed during the pause, asking only what is new.
    assert len(pull.reviews) == 2
    latest = list(repo.check_runs.values())[-1]
    assert latest["head_sha"] == paused_head and latest["conclusion"] == "neutral"
    assert "TBD later" in fake_github.calls("POST", "/reviews")[-1].body["comments"][0]["body"]

    # And automatic reviews are back.
    newer = new_text + "\n## Support\nTBD by support\n"
    fake_github.push(repo, pull, modified={DOC: (newer, added_file_patch(newer))})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))
    assert len(pull.reviews) == 3


async def test_pause_when_the_label_already_exists(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    repo.labels[PAUSED_LABEL.lower()] = {"name": "Product-Review: Paused", "color": "000000"}
    payload = await comment(client, fake_github, repo, pull, "/product-review pause")
    (create,) = fake_github.calls("POST", f"/repos/{repo.full_name}/labels")
    assert create.status == 422  # GitHub's "already_exists", which is fine
    assert reactions(pull, payload) == ["eyes", "rocket"]
    assert pull.labels == [PAUSED_LABEL]


async def test_a_paused_pr_is_still_reviewed_on_request(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    pull.labels.append(PAUSED_LABEL)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert pull.reviews == []
    (paused,) = repo.check_runs.values()
    assert paused["conclusion"] == "skipped" and "paused" in paused["output"]["title"]
    await comment(client, fake_github, repo, pull, "/product-review")
    assert len(pull.reviews) == 1
    assert pull.labels == [PAUSED_LABEL]  # a one-off review does not resume


async def test_a_check_suite_on_a_paused_pr_gets_the_paused_check(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    pull.labels.append("Product-Review: Paused")  # GitHub's label names ignore case
    await deliver(client, "check_suite", fake_github.check_suite_event(repo, pull, "requested"))
    # The suite's payload has no labels: the review's GraphQL prefetch reads them.
    calls = [(r.method, r.path.rsplit("/", 1)[-1]) for r in non_token_calls(fake_github)]
    assert calls == [("GET", "files"), ("POST", "graphql"), ("POST", "check-runs")]
    assert outcomes(client)[-1].outcome == "paused"
    (run,) = repo.check_runs.values()
    assert "paused" in run["output"]["title"]
    assert pull.reviews == []


async def test_a_paused_label_beyond_the_first_hundred_is_found_through_rest(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    pull.labels.extend([f"area/{n}" for n in range(100)] + [PAUSED_LABEL])
    await deliver(client, "check_suite", fake_github.check_suite_event(repo, pull, "requested"))
    # GraphQL reads 100 labels and says there are more: the pull request is read
    # through REST (one call over the usual) rather than reviewed by mistake.
    calls = [(r.method, r.path.rsplit("/", 1)[-1]) for r in non_token_calls(fake_github)]
    assert calls == [
        ("GET", "files"),
        ("POST", "graphql"),
        ("GET", str(pull.number)),
        ("POST", "check-runs"),
    ]
    (run,) = repo.check_runs.values()
    assert "paused" in run["output"]["title"]
    assert pull.reviews == []


# --------------------------------------------------------------------------- check run buttons


async def test_the_rerun_button_reviews_like_the_command(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    pull.labels.append(PAUSED_LABEL)  # a button press is a request, paused or not
    await deliver(
        client,
        "check_run",
        fake_github.check_run_event(
            repo, pull, "requested_action", requested_action={"identifier": "rerun"}
        ),
    )
    (run,) = repo.check_runs.values()
    assert run["head_sha"] == pull.head_sha and run["conclusion"] == "neutral"
    assert len(pull.reviews) == 1
    assert outcomes(client)[-1].outcome == "reviewed"

    # Another action id is not ours to handle.
    await deliver(
        client,
        "check_run",
        fake_github.check_run_event(
            repo, pull, "requested_action", requested_action={"identifier": "other"}
        ),
    )
    assert len(repo.check_runs) == 1

    # "Re-run" in GitHub's UI: a new check; the questions were asked already.
    await deliver(client, "check_run", fake_github.check_run_event(repo, pull, "rerequested"))
    assert len(repo.check_runs) == 2
    assert len(pull.reviews) == 1


# --------------------------------------------------------------------------- one at a time


async def test_two_commands_racing_produce_one_review(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    queue = client.app[CONTEXT_KEY].queue
    gate = fake_github.stall("POST", r"/check-runs$")
    first = await comment(client, fake_github, repo, pull, "/product-review", settle=False)
    await wait_until(lambda: bool(fake_github.calls("POST", "/check-runs")))  # reviewing
    second = await comment(client, fake_github, repo, pull, "/product-review", settle=False)
    await wait_until(lambda: queue.has_waiting_review(repo.full_name, pull.number))
    gate.set()
    await settled(client)

    assert len(repo.check_runs) == 1
    assert len(pull.reviews) == 1
    # Each command read the pull request to check who may run it; the second read
    # it again when its turn came, the first review having run since: the head it
    # then learnt was the one just reviewed.
    assert len(fake_github.calls("GET", "/files")) == 3
    assert [o.outcome for o in outcomes(client)] == ["reviewed"]
    assert reactions(pull, first) == ["eyes", "rocket"]
    assert reactions(pull, second) == ["eyes", "rocket"]


async def test_requests_waiting_behind_a_review_collapse_into_one_full_review(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    opened_head = pull.head_sha
    queue = client.app[CONTEXT_KEY].queue
    gate = fake_github.stall("POST", r"/check-runs$")
    await deliver(
        client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"), settle=False
    )
    await wait_until(lambda: bool(fake_github.calls("POST", "/check-runs")))
    full = await comment(client, fake_github, repo, pull, "/product-review full", settle=False)
    await wait_until(lambda: queue.has_waiting_review(repo.full_name, pull.number))
    plain = await comment(client, fake_github, repo, pull, "/product-review", settle=False)
    # A push arrives too: its head is the one the collapsed review looks at.
    new_text = DOC_TEXT + "\n## Pricing\nTBD later\n"
    new_head = fake_github.push(repo, pull, modified={DOC: (new_text, added_file_patch(new_text))})
    await deliver(
        client,
        "pull_request",
        fake_github.pull_request_event(repo, pull, "synchronize"),
        settle=False,
    )
    # Both commands and the push wait behind the opened review, collapsed into one.
    await wait_until(lambda: len(queue.waiting_triggers(repo.full_name, pull.number)) == 3)
    gate.set()
    await settled(client)

    # The opened review, then one more for everything that waited (not three): the
    # commands' own reads (who may run them) were made before the opened review
    # ended, so the collapsed review read the pull request again.
    assert len(fake_github.calls("POST", "/check-runs")) == 2
    assert len(fake_github.calls("GET", "/files")) == 1 + 2 + 1
    first_run, second_run = repo.check_runs.values()
    assert first_run["head_sha"] == opened_head
    assert second_run["head_sha"] == new_head
    # It was `full`: every question is asked again, the first review's as well as the
    # push's new one (a plain review would have asked only the new one).
    assert len(pull.reviews) == 2
    first_asked = asked_fingerprints([pull.reviews[0]["body"]])
    assert len(first_asked) == 3
    second_asked = asked_fingerprints([pull.reviews[1]["body"]])
    assert len(second_asked) == 4 and first_asked < second_asked
    assert reactions(pull, full) == ["eyes", "rocket"]
    assert reactions(pull, plain) == ["eyes", "rocket"]
    assert [outcome.outcome for outcome in outcomes(client)] == ["reviewed", "reviewed"]
