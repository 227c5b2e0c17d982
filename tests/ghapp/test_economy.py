"""The call budget end to end: per review at most 5 API calls whatever the number of
changed design docs (up to 100), with the organisation's and the repository's config
applied and the questions already asked left out: the list of files, then one GraphQL
request for everything else the review reads, the docs' texts included."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from checks.fingerprints import asked_fingerprints
from ghapp import github, repoconfig
from ghapp.repoconfig import CONFIG_PATH
from localreview.budget import Budget
from tests.support.apptools import deliver, outcomes, settled, wait_until
from tests.support.fakegithub import BOT_USER, FakeGitHub, FakePull, FakeRepo, Recorded

# Lines: 1 "# Idea N", 2 "", 3 "## Problem", 4 "Sync must be real-time.", 5 "", 6 "TBD"
TEXT = "# Idea {n}\n\n## Problem\nSync must be real-time.\n\nTBD\n"
PATCH = "@@ -4,3 +4,3 @@\n-Sync.\n+Sync must be real-time.\n \n TBD"
# The push adds 7 "", 8 "## Pricing", 9 "TBD later".
PUSHED = TEXT + "\n## Pricing\nTBD later\n"
PUSHED_PATCH = (
    "@@ -4,3 +4,6 @@\n-Sync.\n+Sync must be real-time.\n \n TBD\n+\n+## Pricing\n+TBD later"
)

# Docs live where the default globs would not look: only the repository's config
# makes them design docs. The organisation's config makes questions fail the check.
REPO_CONFIG = 'paths:\n  include: ["notes/**/*.md"]\n'
ORG_CONFIG = "fail_on: warning\n"


def doc(n: int) -> str:
    return f"notes/ideas/{n:04d}-idea.md"


def configured_pr(fake: FakeGitHub, docs: int) -> tuple[FakeRepo, FakePull]:
    org = fake.add_repo(name=".github")
    org.contents[("main", CONFIG_PATH)] = ORG_CONFIG
    repo = fake.add_repo()
    repo.contents[("main", CONFIG_PATH)] = REPO_CONFIG
    pull = fake.add_pull(
        repo, modified={doc(n): (TEXT.format(n=n), PATCH) for n in range(1, docs + 1)}
    )
    return repo, pull


def shape(requests: list[Recorded]) -> list[tuple[str, str]]:
    """(method, what) per request, ids and SHAs left out."""
    named = []
    for r in requests:
        if r.path == "/graphql":
            what = "graphql"
        elif "/contents/" in r.path:
            what = "contents/" + r.path.split("/contents/", 1)[1]
        else:
            what = r.path.rsplit("/", 1)[-1]
            what = "check-run" if what.isdigit() else what
        named.append((r.method, what))
    return named


def calls_made(fake: FakeGitHub) -> list[tuple[str, str]]:
    """The shape of every call so far but the installation token's."""
    return shape([r for r in fake.requests if "/access_tokens" not in r.path])


# What a review reads before it decides anything: the files, then one GraphQL request.
PREFETCH = [("GET", "files"), ("POST", "graphql")]


@pytest.mark.parametrize("docs", [1, 5])
async def test_a_synchronize_costs_five_calls(
    client: TestClient[Any, Any], fake_github: FakeGitHub, docs: int
) -> None:
    repo, pull = configured_pr(fake_github, docs)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    first = {(c["path"], c["line"]) for c in pull.review_comments}
    assert first == {(doc(n), line) for n in range(1, docs + 1) for line in (4, 6)}

    fake_github.push(
        repo,
        pull,
        modified={doc(n): (PUSHED.format(n=n), PUSHED_PATCH) for n in range(1, docs + 1)},
    )
    before = len(fake_github.requests)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))
    requests = fake_github.requests[before:]

    assert shape(requests) == [
        ("GET", "files"),
        # Both config files, the earlier reviews, and every modified doc's text: no
        # longer a request of their own after the check is created.
        ("POST", "graphql"),
        ("POST", "check-runs"),
        ("POST", "reviews"),
        ("PATCH", "check-run"),
    ]
    assert len(requests) == 5
    assert outcomes(client)[-1].api_calls == 5
    assert all(r.status in (200, 201) for r in requests)

    # The organisation's config applies (questions fail the check) and so does the
    # repository's (the docs under notes/ were reviewed at all).
    latest = max(repo.check_runs.values(), key=lambda run: int(run["id"]))
    assert latest["head_sha"] == pull.head_sha
    assert latest["conclusion"] == "failure"
    # Only the new question is asked: what the first review asked is not repeated.
    second = fake_github.calls("POST", "/reviews")[-1].body
    assert {(c["path"], c["line"]) for c in second["comments"]} == {
        (doc(n), 9) for n in range(1, docs + 1)
    }
    assert "How will we know this worked?" not in second["body"]
    assert len(pull.reviews) == 2


async def test_nothing_new_to_ask_costs_four_calls_and_posts_nothing(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = configured_pr(fake_github, 1)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    same = TEXT.format(n=1).replace("# Idea", "# The idea")
    fake_github.push(repo, pull, modified={doc(1): (same, "@@ -1 +1 @@\n-# Idea 1\n+# The idea 1")})
    before = len(fake_github.requests)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))

    assert shape(fake_github.requests[before:]) == [
        ("GET", "files"),
        ("POST", "graphql"),  # the doc's text among the rest
        ("POST", "check-runs"),
        ("PATCH", "check-run"),
    ]
    assert len(pull.reviews) == 1


async def test_opened_does_not_ask_for_earlier_reviews(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = configured_pr(fake_github, 1)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    (prefetch,) = fake_github.calls("POST", "/graphql")  # the context and the doc's text
    assert prefetch.body["variables"]["withReviews"] is False
    assert fake_github.calls("GET", "/reviews") == []


async def test_a_missing_organisation_repository_is_no_config_and_no_extra_call(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo()  # no acme/.github at all
    repo.contents[("main", CONFIG_PATH)] = REPO_CONFIG
    pull = fake_github.add_pull(repo, modified={doc(1): (TEXT.format(n=1), PATCH)})

    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    (prefetch,) = fake_github.calls("POST", "/graphql")
    assert prefetch.status == 200
    assert fake_github.texts_requested() == [[f"{pull.head_sha}:{doc(1)}"]]
    assert fake_github.calls("GET", "/contents/.github/") == []
    (run,) = repo.check_runs.values()
    assert run["conclusion"] == "neutral"  # questions, and the default fail_on: never
    assert outcomes(client)[-1].outcome == "reviewed"


async def test_a_fresh_organisation_config_wins_over_the_cached_one(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = configured_pr(fake_github, 1)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert next(iter(repo.check_runs.values()))["conclusion"] == "failure"

    # Within the minute the REST path would have cached the organisation file for.
    fake_github.repos["acme/.github"].contents[("main", CONFIG_PATH)] = "fail_on: never\n"
    fake_github.push(repo, pull, modified={doc(1): (PUSHED.format(n=1), PUSHED_PATCH)})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))

    latest = max(repo.check_runs.values(), key=lambda run: int(run["id"]))
    assert latest["conclusion"] == "neutral"


async def test_extends_targets_are_still_read_through_rest(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    shared = fake_github.add_repo(name="review-settings")
    shared.contents[("main", "configs/notes.yml")] = REPO_CONFIG + ORG_CONFIG
    repo = fake_github.add_repo()
    repo.contents[("main", CONFIG_PATH)] = "_extends: review-settings:configs/notes.yml\n"
    pull = fake_github.add_pull(repo, modified={doc(1): (TEXT.format(n=1), PATCH)})

    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    (run,) = repo.check_runs.values()
    assert run["conclusion"] == "failure"
    (extends,) = fake_github.calls("GET", "/contents/")[:1]
    assert extends.path == "/repos/acme/review-settings/contents/configs/notes.yml"
    assert len(fake_github.calls("GET", "/contents/.github/")) == 0
    assert len(fake_github.requests) == 1 + 1 + 5  # token, _extends, the review's 5


async def test_a_truncated_config_blob_is_read_through_rest(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = configured_pr(fake_github, 1)
    fake_github.graphql.text_limit = 10  # GitHub truncates large blobs in GraphQL

    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    reads = fake_github.calls("GET", f"/contents/{CONFIG_PATH}")
    assert sorted(r.path for r in reads) == [
        f"/repos/acme/.github/contents/{CONFIG_PATH}",
        f"/repos/acme/widgets/contents/{CONFIG_PATH}",
    ]
    (run,) = repo.check_runs.values()
    assert run["conclusion"] == "failure"  # both configs applied all the same


async def test_a_failed_prefetch_falls_back_to_rest_and_still_skips_asked_questions(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = configured_pr(fake_github, 1)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    fake_github.push(repo, pull, modified={doc(1): (PUSHED.format(n=1), PUSHED_PATCH)})
    fake_github.fail("POST", "/graphql", status=400, message="Problems parsing JSON")
    before = len(fake_github.requests)

    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))

    assert shape(fake_github.requests[before:]) == [
        ("GET", "files"),
        ("POST", "graphql"),
        # The repository's file; the organisation's is still in the loader's
        # minute-long cache, filled by the first review's prefetch.
        ("GET", f"contents/{CONFIG_PATH}"),
        ("POST", "check-runs"),
        # The doc's text, in a GraphQL request of its own (only the first failed).
        ("POST", "graphql"),
        ("GET", "reviews"),
        ("POST", "reviews"),
        ("PATCH", "check-run"),
    ]
    latest = max(repo.check_runs.values(), key=lambda run: int(run["id"]))
    assert latest["conclusion"] == "failure"
    second = fake_github.calls("POST", "/reviews")[-1].body
    assert [c["line"] for c in second["comments"]] == [9]


async def test_more_than_a_hundred_reviews_are_read_through_rest(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = configured_pr(fake_github, 1)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    asked = asked_fingerprints([r["body"] for r in pull.reviews])
    human = {"login": "octocat", "id": 1, "type": "User"}
    for number in range(100):  # pushes our review out of GraphQL's last 100
        pull.reviews.append({"id": 10_000 + number, "user": human, "body": "LGTM"})
    fake_github.push(repo, pull, modified={doc(1): (PUSHED.format(n=1), PUSHED_PATCH)})

    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))

    assert len(fake_github.calls("GET", "/reviews")) == 2  # 101 reviews: two pages
    ours = [r for r in pull.reviews if r["user"] == BOT_USER]
    assert len(ours) == 2
    assert asked and not asked & asked_fingerprints([ours[1]["body"]])
    second = fake_github.calls("POST", "/reviews")[-1].body
    assert [c["line"] for c in second["comments"]] == [9]


async def test_a_draft_that_is_skipped_costs_two_calls(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, draft=True, modified={doc(1): (TEXT.format(n=1), PATCH)})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    # The config decides whether drafts are reviewed; it comes with the texts, which
    # need the files listed first.
    assert calls_made(fake_github) == PREFETCH
    assert outcomes(client)[-1].outcome == "skipped-draft"


async def test_a_dropped_prefetch_connection_falls_back_to_rest(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = configured_pr(fake_github, 1)
    fake_github.fail("POST", "/graphql", status=0)  # the connection drops, no answer

    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    assert len(fake_github.calls("GET", f"/contents/{CONFIG_PATH}")) == 2  # org + repository
    (run,) = repo.check_runs.values()
    assert run["conclusion"] == "failure"  # both configs applied all the same
    assert outcomes(client)[-1].outcome == "reviewed"


async def test_prefetched_config_files_are_parsed_once_per_blob(
    client: TestClient[Any, Any], fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    real_parse = repoconfig.parse_config

    def counting_parse(text: str, *, source: str) -> Any:
        parsed.append(source)
        return real_parse(text, source=source)

    monkeypatch.setattr(repoconfig, "parse_config", counting_parse)
    repo, pull = configured_pr(fake_github, 1)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    fake_github.push(repo, pull, modified={doc(1): (PUSHED.format(n=1), PUSHED_PATCH)})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))
    assert sorted(parsed) == [f"acme/.github:{CONFIG_PATH}", f"acme/widgets:{CONFIG_PATH}"]

    repo.contents[("main", CONFIG_PATH)] = REPO_CONFIG + "drafts: true\n"  # a new blob
    fake_github.push(repo, pull, modified={doc(1): (PUSHED.format(n=1) + "More.\n", PUSHED_PATCH)})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))
    assert sorted(parsed) == [
        f"acme/.github:{CONFIG_PATH}",
        f"acme/widgets:{CONFIG_PATH}",
        f"acme/widgets:{CONFIG_PATH}",
    ]


# --------------------------------------------------------------------------- other triggers
# A review started by something other than a `pull_request` event must learn what
# that event would have said (draft state, labels, the head) without a call of
# its own: the GraphQL prefetch reads it.


def review_shape() -> list[tuple[str, str]]:
    return [
        *PREFETCH,  # the GraphQL request: config, state, earlier reviews, the docs' texts
        ("POST", "check-runs"),
        ("POST", "reviews"),
        ("PATCH", "check-run"),
    ]


def push_new_question(fake: FakeGitHub, repo: FakeRepo, pull: FakePull, docs: int) -> str:
    return fake.push(
        repo,
        pull,
        modified={doc(n): (PUSHED.format(n=n), PUSHED_PATCH) for n in range(1, docs + 1)},
    )


def assert_asked_only_the_new_question(fake: FakeGitHub, repo: FakeRepo, docs: int) -> None:
    latest = max(repo.check_runs.values(), key=lambda run: int(run["id"]))
    assert latest["status"] == "completed" and latest["conclusion"] == "failure"
    second = fake.calls("POST", "/reviews")[-1].body
    assert {(c["path"], c["line"]) for c in second["comments"]} == {
        (doc(n), 9) for n in range(1, docs + 1)
    }


@pytest.mark.parametrize("docs", [1, 5])
async def test_a_check_suite_before_its_synchronize_costs_five_calls(
    client: TestClient[Any, Any], fake_github: FakeGitHub, docs: int
) -> None:
    repo, pull = configured_pr(fake_github, docs)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    head = push_new_question(fake_github, repo, pull, docs)
    before = len(fake_github.requests)

    await deliver(client, "check_suite", fake_github.check_suite_event(repo, pull, "requested"))

    requests = fake_github.requests[before:]
    assert shape(requests) == review_shape()
    assert len(requests) == 5
    assert outcomes(client)[-1].api_calls == 5
    assert outcomes(client)[-1].outcome == "reviewed"
    prefetch = fake_github.calls("POST", "/graphql")[-1]
    assert prefetch.body["variables"]["headKnown"] is True
    assert max(repo.check_runs.values(), key=lambda run: int(run["id"]))["head_sha"] == head
    assert_asked_only_the_new_question(fake_github, repo, docs)

    # The push's own `synchronize` then finds the head reviewed: no call at all.
    before = len(fake_github.requests)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))
    assert len(fake_github.requests) == before


@pytest.mark.parametrize("docs", [1, 5])
async def test_the_review_command_reads_its_config_once_and_costs_five_calls(
    client: TestClient[Any, Any], fake_github: FakeGitHub, docs: int
) -> None:
    repo, pull = configured_pr(fake_github, docs)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    head = push_new_question(fake_github, repo, pull, docs)  # no event: "review now"
    before = len(fake_github.requests)

    payload = fake_github.issue_comment_event(repo, pull, "/product-review")
    await deliver(client, "issue_comment", payload)

    requests = fake_github.requests[before:]
    # The command's own calls are its two reactions: the default branch's config it
    # checks permissions against comes in the review's GraphQL request, which the
    # command makes and hands to the review.
    assert shape(requests) == [("POST", "reactions"), *review_shape(), ("POST", "reactions")]
    assert outcomes(client)[-1].api_calls == 5
    assert outcomes(client)[-1].outcome == "reviewed"
    # The pull request itself is never read through REST, nor the config.
    assert not [r for r in requests if r.path.endswith(f"/pulls/{pull.number}")]
    assert fake_github.calls("GET", "/contents/") == []
    prefetch = fake_github.calls("POST", "/graphql")[-1]
    assert prefetch.body["variables"]["headKnown"] is False
    # Its texts are at the commit the files were listed at: the head.
    assert fake_github.texts_requested()[-1] == [f"{head}:{doc(n)}" for n in range(1, docs + 1)]
    # Reviewed at the head the pull request has now, which the comment did not name.
    latest = max(repo.check_runs.values(), key=lambda run: int(run["id"]))
    assert latest["head_sha"] == head
    assert fake_github.calls("POST", "/reviews")[-1].body["commit_id"] == head
    assert_asked_only_the_new_question(fake_github, repo, docs)
    assert pull.reactions[payload["comment"]["id"]] == ["eyes", "rocket"]


@pytest.mark.parametrize("docs", [1, 5])
async def test_a_rerun_costs_five_calls(
    client: TestClient[Any, Any], fake_github: FakeGitHub, docs: int
) -> None:
    repo, pull = configured_pr(fake_github, docs)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    push_new_question(fake_github, repo, pull, docs)
    before = len(fake_github.requests)

    await deliver(client, "check_run", fake_github.check_run_event(repo, pull, "rerequested"))

    assert shape(fake_github.requests[before:]) == review_shape()
    assert outcomes(client)[-1].api_calls == 5
    assert_asked_only_the_new_question(fake_github, repo, docs)


async def test_a_check_suite_on_a_draft_costs_two_calls(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo()
    repo.contents[("main", CONFIG_PATH)] = REPO_CONFIG
    pull = fake_github.add_pull(repo, draft=True, modified={doc(1): (TEXT.format(n=1), PATCH)})

    await deliver(client, "check_suite", fake_github.check_suite_event(repo, pull, "requested"))

    assert calls_made(fake_github) == PREFETCH
    assert outcomes(client)[-1].outcome == "skipped-draft"
    assert repo.check_runs == {}


async def test_a_check_suite_for_a_head_the_branch_moved_on_from_reviews_nothing(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = configured_pr(fake_github, 1)
    stale = fake_github.check_suite_event(repo, pull, "requested")
    push_new_question(fake_github, repo, pull, 1)

    await deliver(client, "check_suite", stale)

    assert calls_made(fake_github) == PREFETCH
    assert outcomes(client)[-1].outcome == "superseded"
    assert repo.check_runs == {}
    assert pull.reviews == []


async def test_the_command_reads_the_changed_config_at_the_current_head_through_graphql(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = configured_pr(fake_github, 1)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    # The pull request now also changes the config file, and breaks it.
    head = fake_github.push(
        repo,
        pull,
        modified={
            doc(1): (PUSHED.format(n=1), PUSHED_PATCH),
            CONFIG_PATH: (REPO_CONFIG + "fail_on: sometimes\n", "@@ -1 +1,2 @@\n+fail_on"),
        },
    )
    before = len(fake_github.requests)

    await deliver(
        client, "issue_comment", fake_github.issue_comment_event(repo, pull, "/product-review")
    )

    review = [r for r in fake_github.requests[before:] if "/reactions" not in r.path]
    assert shape(review) == review_shape()
    # Neither config file was read through REST: the prefetch had both, the default
    # branch's for the permission check and the head's for its problems.
    assert fake_github.calls("GET", "/contents/") == []
    assert outcomes(client)[-1].api_calls == 5
    latest = max(repo.check_runs.values(), key=lambda run: int(run["id"]))
    assert latest["head_sha"] == head
    assert "fail_on" in latest["output"]["summary"]
    assert CONFIG_PATH in {a["path"] for a in latest["output"]["annotations"]}


async def test_a_failed_prefetch_on_the_command_path_reads_the_pull_request_through_rest(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = configured_pr(fake_github, 1)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    head = push_new_question(fake_github, repo, pull, 1)
    fake_github.fail("POST", "/graphql", status=502, times=4)  # every attempt fails

    await deliver(
        client, "issue_comment", fake_github.issue_comment_event(repo, pull, "/product-review")
    )

    pull_reads = [r for r in fake_github.requests if r.path.endswith(f"/pulls/{pull.number}")]
    assert [(r.method, r.status) for r in pull_reads] == [("GET", 200)]
    assert outcomes(client)[-1].outcome == "reviewed"
    latest = max(repo.check_runs.values(), key=lambda run: int(run["id"]))
    assert latest["head_sha"] == head and latest["conclusion"] == "failure"
    assert [c["line"] for c in fake_github.calls("POST", "/reviews")[-1].body["comments"]] == [9]


# --------------------------------------------------------------------------- documents' texts
# The changed docs' texts come in the review's one GraphQL request, made once the
# files are listed: the cost of a review does not grow with the number of docs (up
# to 100).


def many_docs_pr(fake: FakeGitHub, docs: int) -> tuple[FakeRepo, FakePull]:
    repo = fake.add_repo()
    repo.contents[("main", CONFIG_PATH)] = REPO_CONFIG
    pull = fake.add_pull(
        repo, modified={doc(n): (TEXT.format(n=n), PATCH) for n in range(1, docs + 1)}
    )
    return repo, pull


@pytest.mark.parametrize("docs", [1, 10, 50, 100])
async def test_up_to_a_hundred_modified_docs_cost_five_calls(
    client: TestClient[Any, Any], fake_github: FakeGitHub, docs: int
) -> None:
    repo, pull = many_docs_pr(fake_github, docs)

    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    assert calls_made(fake_github) == review_shape()
    assert outcomes(client)[-1].api_calls == 5 + 1  # and the installation token
    assert outcomes(client)[-1].documents == docs
    assert fake_github.calls("GET", "/contents/") == []
    assert fake_github.texts_requested() == [
        [f"{pull.head_sha}:{doc(n)}" for n in range(1, docs + 1)]
    ]
    assert len(pull.reviews) == 1


async def test_more_than_a_hundred_docs_take_one_more_graphql_request_per_hundred(
    client: TestClient[Any, Any], fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    repo, pull = many_docs_pr(fake_github, 101)

    with caplog.at_level("INFO", logger="ghapp.review"):
        await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    assert calls_made(fake_github) == [
        ("GET", "files"),
        ("GET", "files"),  # 100 files a page
        ("POST", "graphql"),  # with 100 of the texts
        ("POST", "check-runs"),  # before a read that costs a call
        ("POST", "graphql"),  # the 101st
        ("POST", "reviews"),
        ("PATCH", "check-run"),
    ]
    head = pull.head_sha
    assert fake_github.texts_requested() == [
        [f"{head}:{doc(n)}" for n in range(1, 101)],
        [f"{head}:{doc(101)}"],
    ]
    assert fake_github.calls("GET", "/contents/") == []
    assert outcomes(client)[-1].documents == 101
    assert outcomes(client)[-1].api_calls == 7 + 1
    assert "101 changed Markdown files, the texts of 100 in the review's GraphQL request" in (
        caplog.text
    )
    assert "reading 1 more files' texts in 1 more GraphQL requests" in caplog.text


async def test_a_truncated_doc_blob_is_read_through_rest(
    client: TestClient[Any, Any], fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    repo = fake_github.add_repo()
    repo.contents[("main", CONFIG_PATH)] = REPO_CONFIG
    long_text = TEXT.format(n=2) + "\nMore words.\n" * 100
    pull = fake_github.add_pull(
        repo, modified={doc(1): (TEXT.format(n=1), PATCH), doc(2): (long_text, PATCH)}
    )
    # Above the config file's and the short doc's size, below the long doc's.
    fake_github.graphql.text_limit = len(TEXT) + 10

    with caplog.at_level("INFO", logger="ghapp.review"):
        await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    assert calls_made(fake_github) == [
        ("GET", "files"),
        ("POST", "graphql"),
        ("POST", "check-runs"),  # before a read that costs a call
        ("GET", f"contents/{doc(2)}"),  # straight to REST: GraphQL cannot give it whole
        ("POST", "reviews"),
        ("PATCH", "check-run"),
    ]
    assert outcomes(client)[-1].api_calls == 5 + 1 + 1  # the review, the REST read, the token
    assert f"path='{doc(2)}': truncated in GraphQL" in caplog.text
    assert {c["path"] for c in pull.review_comments} == {doc(1), doc(2)}


async def test_a_doc_blob_over_the_size_limit_is_not_read(
    make_client: Any, fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client(budget=Budget(max_document_kb=1))
    repo = fake_github.add_repo()
    repo.contents[("main", CONFIG_PATH)] = REPO_CONFIG
    big = TEXT.format(n=2) + "\nMore words about the idea.\n" * 100
    pull = fake_github.add_pull(
        repo, modified={doc(1): (TEXT.format(n=1), PATCH), doc(2): (big, PATCH)}
    )

    with caplog.at_level("INFO", logger="ghapp.review"):
        await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    assert fake_github.calls("GET", "/contents/") == []
    assert outcomes(client)[-1].api_calls == 5 + 1
    assert "1 files larger than the document size limit (1024 bytes), their texts dropped" in (
        caplog.text
    )
    (run,) = repo.check_runs.values()
    assert f"`{doc(2)}`: larger than 1 KB" in run["output"]["summary"]
    assert {c["path"] for c in pull.review_comments} == {doc(1)}


async def test_texts_at_a_commit_the_head_moved_on_from_are_read_again(
    client: TestClient[Any, Any], fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    repo, pull = many_docs_pr(fake_github, 1)
    listed_at = pull.head_sha
    gate = fake_github.stall("POST", r"/graphql$")
    payload = fake_github.issue_comment_event(repo, pull, "/product-review")
    with caplog.at_level("INFO", logger="ghapp.review"):
        await deliver(client, "issue_comment", payload, settle=False)
        await wait_until(lambda: bool(fake_github.calls("POST", "/graphql")))
        # A push lands between the files' listing and the GraphQL request's answer.
        head = push_new_question(fake_github, repo, pull, 1)
        gate.set()
        await settled(client)

    assert calls_made(fake_github) == [
        ("POST", "reactions"),
        ("GET", "files"),
        ("POST", "graphql"),  # texts at the commit the files were listed at
        ("POST", "check-runs"),
        ("POST", "graphql"),  # the doc's text at the head the review learnt
        ("POST", "reviews"),
        ("PATCH", "check-run"),
        ("POST", "reactions"),
    ]
    assert fake_github.texts_requested() == [[f"{listed_at}:{doc(1)}"], [f"{head}:{doc(1)}"]]
    assert "not at the head: reading the ones needed again" in caplog.text
    posted = fake_github.calls("POST", "/reviews")[-1].body
    assert posted["commit_id"] == head
    # The text reviewed is the head's: its new question is asked.
    assert "TBD later" in posted["body"] + "".join(c["body"] for c in posted["comments"])


async def test_a_command_behind_a_running_review_reads_the_pull_request_again(
    client: TestClient[Any, Any], fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    repo, pull = configured_pr(fake_github, 1)
    gate = fake_github.stall("POST", r"/check-runs$")
    await deliver(
        client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"), settle=False
    )
    await wait_until(lambda: bool(fake_github.calls("POST", "/check-runs")))
    push_new_question(fake_github, repo, pull, 1)
    with caplog.at_level("INFO", logger="ghapp.review"):
        # Its prefetch misses the questions the running review is about to post.
        await deliver(
            client,
            "issue_comment",
            fake_github.issue_comment_event(repo, pull, "/product-review"),
            settle=False,
        )
        await wait_until(lambda: len(fake_github.calls("POST", "/graphql")) == 2)
        gate.set()
        await settled(client)

    assert "another review of it ran since the prefetch" in caplog.text
    requests = calls_made(fake_github)
    assert requests[:3] == [*PREFETCH, ("POST", "check-runs")]  # the opened review's
    assert requests[3:] == [
        ("POST", "reactions"),
        ("GET", "files"),  # the command's prefetch, for who may run it
        ("POST", "graphql"),
        # (the opened review completes meanwhile)
        ("POST", "reviews"),
        ("PATCH", "check-run"),
        ("GET", "files"),  # read again once the opened review had run
        ("POST", "graphql"),
        *review_shape()[2:],
        ("POST", "reactions"),
    ]
    assert outcomes(client)[-1].api_calls == 2 + 5
    # The opened review's questions are not asked again: only the push's new one.
    assert [c["line"] for c in fake_github.calls("POST", "/reviews")[-1].body["comments"]] == [9]


async def test_an_answer_too_large_with_the_texts_is_asked_again_without_them(
    client: TestClient[Any, Any],
    fake_github: FakeGitHub,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    filler = "".join(f"\nParagraph {n} of words about the idea.\n" for n in range(600))
    repo = fake_github.add_repo()
    repo.contents[("main", CONFIG_PATH)] = REPO_CONFIG
    pull = fake_github.add_pull(
        repo, modified={doc(n): (TEXT.format(n=n) + filler, PATCH) for n in (1, 2)}
    )
    # Every answer is capped (32 MB in production): here above the file list and a
    # text, below both texts together.
    size = len((TEXT + filler).encode())
    monkeypatch.setattr(github, "_RESPONSE_LIMIT", ContextVar("limit", default=size * 3 // 2))

    with caplog.at_level("INFO", logger="ghapp.review"):
        await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    assert calls_made(fake_github) == [
        ("GET", "files"),
        ("POST", "graphql"),  # too large
        ("POST", "graphql"),  # the same without the texts
        ("POST", "check-runs"),
        ("POST", "graphql"),  # the texts alone: too large still
        ("GET", f"contents/{doc(1)}"),
        ("GET", f"contents/{doc(2)}"),
        ("POST", "reviews"),
        ("PATCH", "check-run"),
    ]
    assert "answer with 2 texts was too large, asking again without them" in caplog.text
    assert outcomes(client)[-1].outcome == "reviewed"
    assert {c["path"] for c in pull.review_comments} == {doc(1), doc(2)}
