"""The call budget end to end: per review at most 6 API calls whatever the number of
changed design docs (up to 100), with the organisation's and the repository's config applied and the
questions already asked left out, all through the one GraphQL prefetch."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from checks.fingerprints import asked_fingerprints
from ghapp import repoconfig
from ghapp.repoconfig import CONFIG_PATH
from localreview.budget import Budget
from tests.support.apptools import deliver, outcomes
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


@pytest.mark.parametrize("docs", [1, 5])
async def test_a_synchronize_costs_six_calls(
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
        ("POST", "graphql"),  # both config files, the earlier reviews
        ("GET", "files"),
        ("POST", "check-runs"),
        # Every modified doc's text in one request, no longer one REST read each.
        ("POST", "graphql"),
        ("POST", "reviews"),
        ("PATCH", "check-run"),
    ]
    assert len(requests) == 6
    assert outcomes(client)[-1].api_calls == 6
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


async def test_nothing_new_to_ask_costs_five_calls_and_posts_nothing(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = configured_pr(fake_github, 1)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    same = TEXT.format(n=1).replace("# Idea", "# The idea")
    fake_github.push(repo, pull, modified={doc(1): (same, "@@ -1 +1 @@\n-# Idea 1\n+# The idea 1")})
    before = len(fake_github.requests)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))

    assert shape(fake_github.requests[before:]) == [
        ("POST", "graphql"),
        ("GET", "files"),
        ("POST", "check-runs"),
        ("POST", "graphql"),  # the doc's text (was its REST read)
        ("PATCH", "check-run"),
    ]
    assert len(pull.reviews) == 1


async def test_opened_does_not_ask_for_earlier_reviews(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = configured_pr(fake_github, 1)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    prefetch, _ = fake_github.calls("POST", "/graphql")  # the context, then the doc's text
    assert prefetch.body["variables"]["withReviews"] is False
    assert fake_github.calls("GET", "/reviews") == []


async def test_a_missing_organisation_repository_is_no_config_and_no_extra_call(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo()  # no acme/.github at all
    repo.contents[("main", CONFIG_PATH)] = REPO_CONFIG
    pull = fake_github.add_pull(repo, modified={doc(1): (TEXT.format(n=1), PATCH)})

    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    (prefetch, texts) = fake_github.calls("POST", "/graphql")
    assert prefetch.status == texts.status == 200
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
    assert len(fake_github.requests) == 1 + 1 + 6  # token, _extends, the review's 6


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
        ("POST", "graphql"),
        # The repository's file; the organisation's is still in the loader's
        # minute-long cache, filled by the first review's prefetch.
        ("GET", f"contents/{CONFIG_PATH}"),
        ("GET", "files"),
        ("POST", "check-runs"),
        # The doc's text, in the review's second GraphQL request (only the first failed).
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


async def test_a_draft_that_is_skipped_costs_one_call(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, draft=True, modified={doc(1): (TEXT.format(n=1), PATCH)})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert [r.path for r in fake_github.requests if "/access_tokens" not in r.path] == ["/graphql"]
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
        ("POST", "graphql"),
        ("GET", "files"),
        ("POST", "check-runs"),
        ("POST", "graphql"),  # the modified docs' texts, however many
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
async def test_a_check_suite_before_its_synchronize_costs_six_calls(
    client: TestClient[Any, Any], fake_github: FakeGitHub, docs: int
) -> None:
    repo, pull = configured_pr(fake_github, docs)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    head = push_new_question(fake_github, repo, pull, docs)
    before = len(fake_github.requests)

    await deliver(client, "check_suite", fake_github.check_suite_event(repo, pull, "requested"))

    requests = fake_github.requests[before:]
    assert shape(requests) == review_shape()
    assert len(requests) == 6
    assert outcomes(client)[-1].api_calls == 6
    assert outcomes(client)[-1].outcome == "reviewed"
    (prefetch, _) = fake_github.calls("POST", "/graphql")[-2:]
    assert prefetch.body["variables"]["headKnown"] is True
    assert max(repo.check_runs.values(), key=lambda run: int(run["id"]))["head_sha"] == head
    assert_asked_only_the_new_question(fake_github, repo, docs)

    # The push's own `synchronize` then finds the head reviewed: no call at all.
    before = len(fake_github.requests)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))
    assert len(fake_github.requests) == before


@pytest.mark.parametrize("docs", [1, 5])
async def test_the_review_command_costs_six_calls(
    client: TestClient[Any, Any], fake_github: FakeGitHub, docs: int
) -> None:
    repo, pull = configured_pr(fake_github, docs)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    head = push_new_question(fake_github, repo, pull, docs)  # no event: "review now"
    before = len(fake_github.requests)

    payload = fake_github.issue_comment_event(repo, pull, "/product-review")
    await deliver(client, "issue_comment", payload)

    requests = fake_github.requests[before:]
    # The command's own calls: the two reactions, and the default branch's config it
    # checks permissions against (the organisation's is still cached from `opened`).
    own = [
        ("POST", "reactions"),
        ("GET", f"contents/{CONFIG_PATH}"),
        ("POST", "reactions"),
    ]
    assert shape(requests) == [*own[:2], *review_shape(), own[2]]
    assert outcomes(client)[-1].api_calls == 6
    assert outcomes(client)[-1].outcome == "reviewed"
    # The pull request itself is never read through REST.
    assert not [r for r in requests if r.path.endswith(f"/pulls/{pull.number}")]
    (prefetch, _) = fake_github.calls("POST", "/graphql")[-2:]
    assert prefetch.body["variables"]["headKnown"] is False
    # Reviewed at the head the pull request has now, which the comment did not name.
    latest = max(repo.check_runs.values(), key=lambda run: int(run["id"]))
    assert latest["head_sha"] == head
    assert fake_github.calls("POST", "/reviews")[-1].body["commit_id"] == head
    assert_asked_only_the_new_question(fake_github, repo, docs)
    assert pull.reactions[payload["comment"]["id"]] == ["eyes", "rocket"]


@pytest.mark.parametrize("docs", [1, 5])
async def test_a_rerun_costs_six_calls(
    client: TestClient[Any, Any], fake_github: FakeGitHub, docs: int
) -> None:
    repo, pull = configured_pr(fake_github, docs)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    push_new_question(fake_github, repo, pull, docs)
    before = len(fake_github.requests)

    await deliver(client, "check_run", fake_github.check_run_event(repo, pull, "rerequested"))

    assert shape(fake_github.requests[before:]) == review_shape()
    assert outcomes(client)[-1].api_calls == 6
    assert_asked_only_the_new_question(fake_github, repo, docs)


async def test_a_check_suite_on_a_draft_costs_one_call(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo()
    repo.contents[("main", CONFIG_PATH)] = REPO_CONFIG
    pull = fake_github.add_pull(repo, draft=True, modified={doc(1): (TEXT.format(n=1), PATCH)})

    await deliver(client, "check_suite", fake_github.check_suite_event(repo, pull, "requested"))

    assert [r.path for r in fake_github.requests if "/access_tokens" not in r.path] == ["/graphql"]
    assert outcomes(client)[-1].outcome == "skipped-draft"
    assert repo.check_runs == {}


async def test_a_check_suite_for_a_head_the_branch_moved_on_from_reviews_nothing(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = configured_pr(fake_github, 1)
    stale = fake_github.check_suite_event(repo, pull, "requested")
    push_new_question(fake_github, repo, pull, 1)

    await deliver(client, "check_suite", stale)

    assert [r.path for r in fake_github.requests if "/access_tokens" not in r.path] == ["/graphql"]
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

    review = [
        r
        for r in fake_github.requests[before:]
        if "/reactions" not in r.path and f"/contents/{CONFIG_PATH}" not in r.path
    ]
    assert shape(review) == review_shape()
    # Not even the head's config file was read through REST: the prefetch had it.
    config_reads = [r for r in fake_github.requests[before:] if r.path.endswith(CONFIG_PATH)]
    assert [r.query.get("ref") for r in config_reads] == ["main"]  # the permission check
    assert outcomes(client)[-1].api_calls == 6
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
# The changed docs' texts come in one GraphQL request after the files are listed:
# the cost of a review does not grow with the number of docs (up to 100).


def many_docs_pr(fake: FakeGitHub, docs: int) -> tuple[FakeRepo, FakePull]:
    repo = fake.add_repo()
    repo.contents[("main", CONFIG_PATH)] = REPO_CONFIG
    pull = fake.add_pull(
        repo, modified={doc(n): (TEXT.format(n=n), PATCH) for n in range(1, docs + 1)}
    )
    return repo, pull


@pytest.mark.parametrize("docs", [1, 10, 50])
async def test_one_ten_or_fifty_modified_docs_cost_the_same_calls(
    client: TestClient[Any, Any], fake_github: FakeGitHub, docs: int
) -> None:
    repo, pull = many_docs_pr(fake_github, docs)

    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    review = [r for r in fake_github.requests if "/access_tokens" not in r.path]
    assert shape(review) == review_shape()
    assert outcomes(client)[-1].api_calls == 6 + 1  # and the installation token
    assert outcomes(client)[-1].documents == docs
    assert fake_github.calls("GET", "/contents/") == []
    texts = fake_github.calls("POST", "/graphql")[-1]
    expressions = {v for k, v in texts.body["variables"].items() if k.startswith("e")}
    assert expressions == {f"{pull.head_sha}:{doc(n)}" for n in range(1, docs + 1)}
    assert len(pull.reviews) == 1


async def test_more_than_a_hundred_docs_take_one_more_graphql_request_per_hundred(
    client: TestClient[Any, Any], fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    repo, pull = many_docs_pr(fake_github, 101)

    with caplog.at_level("INFO", logger="ghapp.review"):
        await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    assert len(fake_github.calls("POST", "/graphql")) == 1 + 2
    assert fake_github.calls("GET", "/contents/") == []
    assert outcomes(client)[-1].documents == 101
    assert "reading 101 files in 2 GraphQL requests" in caplog.text


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

    assert [r.path.split("/contents/", 1)[1] for r in fake_github.calls("GET", "/contents/")] == [
        doc(2)
    ]
    assert outcomes(client)[-1].api_calls == 6 + 1 + 1  # the review, the REST read, the token
    assert f"path='{doc(2)}': truncated in GraphQL" in caplog.text
    assert {c["path"] for c in pull.review_comments} == {doc(1), doc(2)}


async def test_a_doc_blob_over_the_size_limit_is_not_read(
    make_client: Any, fake_github: FakeGitHub
) -> None:
    client = await make_client(budget=Budget(max_document_kb=1))
    repo = fake_github.add_repo()
    repo.contents[("main", CONFIG_PATH)] = REPO_CONFIG
    big = TEXT.format(n=2) + "\nMore words about the idea.\n" * 100
    pull = fake_github.add_pull(
        repo, modified={doc(1): (TEXT.format(n=1), PATCH), doc(2): (big, PATCH)}
    )

    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    assert fake_github.calls("GET", "/contents/") == []
    assert outcomes(client)[-1].api_calls == 6 + 1
    (run,) = repo.check_runs.values()
    assert f"`{doc(2)}`: larger than 1 KB" in run["output"]["summary"]
    assert {c["path"] for c in pull.review_comments} == {doc(1)}
