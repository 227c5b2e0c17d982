"""End to end: a webhook in, the real aiohttp app, the fake GitHub API out."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient

from checks.fingerprints import asked_fingerprints
from checks.report import DocumentReport
from localreview.budget import Budget
from tests.support.apptools import deliver, outcomes
from tests.support.builders import stub_engine
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


def review_calls(fake: FakeGitHub) -> list[Recorded]:
    """API calls of the review flow itself: without token minting and without
    reading `.github/product-review.yml` (the config loader's own budget)."""
    return [
        r
        for r in fake.requests
        if "/access_tokens" not in r.path and "/contents/.github/" not in r.path
    ]


def make_pr(fake: FakeGitHub, **files: Any) -> tuple[FakeRepo, FakePull]:
    repo = fake.add_repo()
    pull = fake.add_pull(repo, **(files or {"added": {DOC: DOC_TEXT}}))
    return repo, pull


async def test_opened_posts_a_check_and_one_review(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    response = await deliver(
        client, "pull_request", fake_github.pull_request_event(repo, pull, "opened")
    )
    assert response.status == 202

    # The Check Run: created in progress on the head, then completed with the result.
    (create,) = fake_github.calls("POST", "/check-runs")
    assert create.body["name"] == "Product review"
    assert create.body["head_sha"] == pull.head_sha
    assert create.body["status"] == "in_progress"
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed"
    assert run["conclusion"] == "neutral"
    assert "question" in run["output"]["title"]
    assert DOC in run["output"]["summary"]
    lines_annotated = {a["start_line"] for a in run["output"]["annotations"]}
    assert lines_annotated == {7, 10}  # real-time, TBD
    assert run["actions"][0]["identifier"] == "rerun"

    # One review, event COMMENT, inline comments on diff lines, the gap in the body.
    (review,) = pull.reviews
    (post,) = fake_github.calls("POST", "/reviews")
    assert post.body["event"] == "COMMENT"
    assert post.body["commit_id"] == pull.head_sha
    inline = {(c["path"], c["line"]) for c in post.body["comments"]}
    assert inline == {(DOC, 7), (DOC, 10)}
    assert all(c["side"] == "RIGHT" for c in post.body["comments"])
    assert "How will we know this worked?" in review["body"]

    # Economy: a newly added doc is read from its patch, so no contents call at all;
    # `opened` has no earlier reviews to read.
    assert fake_github.calls("GET", "/contents/docs/") == []
    assert fake_github.calls("GET", "/reviews") == []
    assert len(review_calls(fake_github)) <= 1 + 5
    (outcome,) = outcomes(client)
    assert outcome.outcome == "reviewed"
    assert outcome.documents == 1
    assert outcome.findings == 3
    assert outcome.api_calls == len(fake_github.requests)


async def test_synchronize_asks_only_new_questions(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    first_fingerprints = asked_fingerprints(
        [r["body"] for r in pull.reviews] + [c["body"] for c in pull.review_comments]
    )
    assert len(first_fingerprints) == 3

    # A push that keeps the old questions and adds one new placeholder.
    new_text = DOC_TEXT + "\n## Pricing\nTBD later\n"
    fake_github.push(repo, pull, modified={DOC: (new_text, added_file_patch(new_text))})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))

    assert len(pull.reviews) == 2
    second_post = fake_github.calls("POST", "/reviews")[-1]
    assert [c["line"] for c in second_post.body["comments"]] == [13]
    assert "TBD later" in second_post.body["comments"][0]["body"]
    assert "How will we know" not in pull.reviews[1]["body"]
    # Each head gets its own completed check.
    runs = list(repo.check_runs.values())
    assert [r["head_sha"] for r in runs] == [
        fake_github.calls("POST", "/check-runs")[0].body["head_sha"],
        pull.head_sha,
    ]
    assert all(r["status"] == "completed" for r in runs)

    # A push with nothing new to ask: the check still completes, no review is posted.
    same_questions = new_text.replace("Field staff", "Field engineers")
    fake_github.push(repo, pull, modified={DOC: (same_questions, added_file_patch(same_questions))})
    before = len(fake_github.requests)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))
    assert len(pull.reviews) == 2
    assert len(repo.check_runs) == 3
    assert list(repo.check_runs.values())[-1]["status"] == "completed"
    third = fake_github.requests[before:]
    # files, config and earlier reviews (one GraphQL request), check create, check complete
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in third] == [
        ("GET", "files"),
        ("POST", "graphql"),
        ("POST", "check-runs"),
        ("PATCH", str(list(repo.check_runs)[-1])),
    ]


async def test_modified_docs_are_read_at_the_head_and_economy_holds_for_five(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    modified = {}
    for number in range(1, 6):
        text = DOC_TEXT.replace("Offline mode", f"Doc {number}")
        patch = "@@ -8,3 +8,3 @@\n ## Rollout\n-Later\n+TBD\n"
        modified[f"docs/rfcs/000{number}-doc.md"] = (text, patch)
    repo, pull = make_pr(fake_github, modified=modified)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))
    # All five texts at the head, in one GraphQL request; none through REST.
    (reads,) = fake_github.texts_requested()
    assert sorted(reads) == [f"{pull.head_sha}:{path}" for path in sorted(modified)]
    assert fake_github.calls("GET", "/contents/") == []
    assert len(review_calls(fake_github)) == 5
    (review,) = pull.reviews
    post = fake_github.calls("POST", "/reviews")[0]
    # Only line 10 (TBD) is in each diff; "real-time" on line 7 goes to the body.
    assert {c["line"] for c in post.body["comments"]} == {10}
    assert "What latency would be good enough?" in review["body"]


async def test_pr_without_design_docs_gets_a_skipped_check_and_no_review(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github, added={"src/app.py": "print('hi')\n", "README.md": "x\n"})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed"
    assert run["conclusion"] == "skipped"
    assert run["output"]["summary"]
    assert pull.reviews == []
    assert len(fake_github.calls("PATCH")) == 0  # one call: created already completed


async def test_removed_docs_are_skipped_and_renamed_docs_use_the_new_name(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    new = "docs/design/offline.md"
    repo, pull = make_pr(
        fake_github,
        removed=["docs/rfcs/0000-old.md"],
        renamed={new: ("docs/drafts/offline.md", DOC_TEXT, "@@ -10 +10 @@\n-x\n+TBD\n")},
    )
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    (run,) = repo.check_runs.values()
    assert {a["path"] for a in run["output"]["annotations"]} == {new}
    # Only the renamed doc is read, by its new name; the removed one is not read at all.
    assert fake_github.texts_requested() == [[f"{pull.head_sha}:{new}"]]
    assert fake_github.calls("GET", "/contents/") == []
    post = fake_github.calls("POST", "/reviews")[0]
    assert [(c["path"], c["line"]) for c in post.body["comments"]] == [(new, 10)]


async def test_drafts_are_skipped_until_ready_for_review(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, draft=True, added={DOC: DOC_TEXT})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert repo.check_runs == {}
    assert pull.reviews == []
    assert outcomes(client)[-1].outcome == "skipped-draft"

    pull.draft = False
    await deliver(
        client, "pull_request", fake_github.pull_request_event(repo, pull, "ready_for_review")
    )
    (run,) = repo.check_runs.values()
    assert run["conclusion"] == "neutral"
    assert len(pull.reviews) == 1


async def test_drafts_are_reviewed_when_the_config_says_so(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo(name="drafty")
    repo.contents[("main", ".github/product-review.yml")] = "drafts: true\n"
    pull = fake_github.add_pull(repo, draft=True, added={DOC: DOC_TEXT})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert len(repo.check_runs) == 1
    assert len(pull.reviews) == 1


async def test_check_suite_requested_for_an_already_reviewed_head_is_not_repeated(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    before = len(fake_github.requests)
    await deliver(client, "check_suite", fake_github.check_suite_event(repo, pull, "requested"))
    assert len(fake_github.requests) == before
    assert len(repo.check_runs) == 1


async def test_check_suite_requested_alone_reviews_the_pull_request(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    await deliver(client, "check_suite", fake_github.check_suite_event(repo, pull, "requested"))
    assert len(repo.check_runs) == 1
    assert len(pull.reviews) == 1
    # then the matching pull_request event finds the head already handled
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))
    assert len(repo.check_runs) == 1


@pytest.mark.parametrize("status", ["added", "modified"])
async def test_a_byte_order_mark_is_dropped_before_the_engine_reads_the_doc(
    make_client: Any, fake_github: FakeGitHub, status: str
) -> None:
    seen: list[str] = []

    def recording_engine(text: str, path: str, options: Any) -> DocumentReport:
        seen.append(text)
        return stub_engine(text, path, options)

    client = await make_client(engine=recording_engine)
    text = "\ufeff---\ncategory: research\n---\n" + DOC_TEXT
    files: dict[str, Any] = (
        {"added": {DOC: text}}
        if status == "added"
        else {"modified": {DOC: (text, added_file_patch(text))}}
    )
    repo, pull = make_pr(fake_github, **files)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert seen == [text.removeprefix("\ufeff")]


async def test_check_suite_ignores_a_pull_request_into_another_repository(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    # GitHub lists every open PR with a matching head, also one from this branch into
    # an upstream repository: its number and URL are not this repository's.
    repo, pull = make_pr(fake_github)
    upstream = fake_github.add_repo(owner="upstream", name="widgets")
    payload = fake_github.check_suite_event(repo, pull, "requested")
    (listed,) = payload["check_suite"]["pull_requests"]
    elsewhere = {
        **listed,
        "number": 99,
        "url": f"{fake_github.url}/repos/upstream/widgets/pulls/99",
    }
    elsewhere["base"] = {
        **listed["base"],
        "repo": fake_github.pull_payload(upstream, pull)["base"]["repo"],
    }
    payload["check_suite"]["pull_requests"] = [elsewhere, listed]
    await deliver(client, "check_suite", payload)
    assert not [r for r in fake_github.requests if "/upstream/" in r.path]
    assert [o.outcome for o in outcomes(client)] == ["reviewed"]
    (run,) = repo.check_runs.values()
    assert run["head_sha"] == pull.head_sha
    assert upstream.check_runs == {}


@pytest.mark.parametrize(
    ("event", "action", "extra"),
    [
        ("check_run", "rerequested", {}),
        ("check_suite", "rerequested", {}),
        ("check_run", "requested_action", {"requested_action": {"identifier": "rerun"}}),
    ],
)
async def test_rerun_requests_review_again_without_repeating_questions(
    client: TestClient[Any, Any],
    fake_github: FakeGitHub,
    event: str,
    action: str,
    extra: dict[str, Any],
) -> None:
    repo, pull = make_pr(fake_github)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    if event == "check_run":
        payload = fake_github.check_run_event(repo, pull, action, **extra)
    else:
        payload = fake_github.check_suite_event(repo, pull, action)
    await deliver(client, event, payload)
    assert len(repo.check_runs) == 2
    assert all(r["status"] == "completed" for r in repo.check_runs.values())
    assert len(pull.reviews) == 1  # nothing new to ask


async def test_expired_token_is_refreshed_once_and_the_request_retried(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert len(fake_github.calls("POST", "/access_tokens")) == 1

    fake_github.expire_tokens()
    new_text = DOC_TEXT + "\nTBD again\n"
    fake_github.push(repo, pull, modified={DOC: (new_text, added_file_patch(new_text))})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))
    assert len(fake_github.calls("POST", "/access_tokens")) == 2
    assert [r.status for r in fake_github.requests].count(401) == 1
    assert outcomes(client)[-1].outcome == "reviewed"
    assert len(pull.reviews) == 2


async def test_app_jwt_is_well_formed(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    (mint,) = fake_github.calls("POST", "/access_tokens")
    assert mint.status == 201
    scheme, _, token = mint.headers["authorization"].partition(" ")
    assert scheme.lower() == "bearer"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "4242"
    assert claims["iat"] <= time.time() - 59  # backdated for clock drift
    assert claims["exp"] - claims["iat"] <= 600
    assert mint.path == "/app/installations/42/access_tokens"
    assert all(
        r.headers["authorization"].startswith("token ")
        for r in fake_github.requests
        if r is not mint
    )


async def test_a_502_is_retried_with_backoff(
    client: TestClient[Any, Any], fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    repo, pull = make_pr(fake_github)
    fake_github.fail("GET", r"/pulls/\d+/files$", status=502)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert [r.status for r in fake_github.calls("GET", "/files")] == [502, 200]
    assert sleeps == [1.0]
    assert outcomes(client)[-1].outcome == "reviewed"


async def test_persistent_5xx_gives_up_after_bounded_attempts(
    client: TestClient[Any, Any], fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    # A modified doc GraphQL gives truncated is read through the contents API (an
    # added one comes from its patch).
    repo, pull = make_pr(fake_github, modified={DOC: (DOC_TEXT, added_file_patch(DOC_TEXT))})
    fake_github.graphql.text_limit = 0
    fake_github.fail("GET", r"/contents/docs/", status=503, times=100)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert len(fake_github.calls("GET", "/contents/docs/")) == 4
    assert sleeps == [1.0, 2.0, 4.0]
    (run,) = repo.check_runs.values()
    assert run["conclusion"] == "neutral"
    assert "could not complete" in run["output"]["title"]
    assert "503" in run["output"]["summary"]


async def test_a_5xx_on_posting_the_review_is_not_repeated(
    client: TestClient[Any, Any], fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    # A 502 does not say whether the review was created: posting again could post it twice.
    repo, pull = make_pr(fake_github)
    fake_github.fail("POST", r"/reviews$", status=502)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert [r.status for r in fake_github.calls("POST", "/reviews")] == [502]
    assert sleeps == []
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed"
    assert "could not complete" in run["output"]["title"]
    assert "502" in run["output"]["summary"]
    assert outcomes(client)[-1].outcome == "failed"


async def test_a_403_with_retry_after_waits_as_asked(
    client: TestClient[Any, Any], fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    repo, pull = make_pr(fake_github)
    fake_github.fail(
        "POST",
        r"/check-runs$",
        status=403,
        headers={"Retry-After": "7"},
        message="You have exceeded a secondary rate limit.",
    )
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert [r.status for r in fake_github.calls("POST", "/check-runs")] == [403, 201]
    assert sleeps == [7.0]
    assert outcomes(client)[-1].outcome == "reviewed"


async def test_a_429_and_an_exhausted_rate_limit_wait_for_the_reset(
    client: TestClient[Any, Any], fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    repo, pull = make_pr(fake_github)
    fake_github.fail("GET", r"/files$", status=429, headers={"Retry-After": "2"})
    reset = int(time.time()) + 10
    fake_github.fail(
        "POST",
        r"/reviews$",
        status=403,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
        message="API rate limit exceeded",
    )
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert sleeps[0] == 2.0
    assert 9.0 <= sleeps[1] <= 12.0
    assert outcomes(client)[-1].outcome == "reviewed"


async def test_a_rate_limit_reset_too_far_away_fails_the_review_visibly(
    client: TestClient[Any, Any], fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    repo, pull = make_pr(fake_github)
    fake_github.fail("GET", r"/reviews$|/files$", status=403, headers={"Retry-After": "3600"})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert sleeps == []
    assert repo.check_runs == {}  # failed before the check existed: nothing hangs
    assert outcomes(client)[-1].outcome == "failed"


async def test_a_422_on_one_comment_reposts_without_it(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = make_pr(fake_github)
    pull.unresolvable.add((DOC, 10))  # GitHub refuses the TBD line
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    posts = fake_github.calls("POST", "/reviews")
    assert [p.status for p in posts] == [422, 200]
    (review,) = pull.reviews
    # Nothing lost: the refused question moved into the body.
    assert "What should replace the placeholder" in review["body"]
    assert (DOC, 10) not in {(c["path"], c["line"]) for c in pull.review_comments}
    asked = asked_fingerprints([review["body"]] + [c["body"] for c in pull.review_comments])
    assert len(asked) == 3
    (run,) = repo.check_runs.values()
    assert run["conclusion"] == "neutral"
    assert outcomes(client)[-1].outcome == "reviewed"


async def test_a_crash_inside_the_engine_completes_the_check_neutral(
    make_client: Any, fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_engine(text: str, path: str, options: Any) -> DocumentReport:
        raise RuntimeError("tables out of order")

    client = await make_client(engine=broken_engine)
    repo, pull = make_pr(fake_github)
    await deliver(
        client,
        "pull_request",
        fake_github.pull_request_event(repo, pull, "opened"),
        delivery_id="delivery-crash-1",
    )
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed"
    assert run["conclusion"] == "neutral"
    assert run["output"]["title"] == "Product review could not complete"
    assert "tables out of order" in run["output"]["summary"]
    assert DOC in run["output"]["summary"]
    assert pull.reviews == []
    failure_logs = [r for r in caplog.records if r.levelname == "ERROR"]
    assert any("delivery-crash-1" in r.getMessage() for r in failure_logs)


async def test_one_structured_log_line_per_review(
    client: TestClient[Any, Any], fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="ghapp.review")
    repo, pull = make_pr(fake_github)
    await deliver(
        client,
        "pull_request",
        fake_github.pull_request_event(repo, pull, "opened"),
        delivery_id="abc-123",
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "ghapp.review"]
    (line,) = [m for m in lines if m.startswith("review ")]
    for field in (
        "delivery=abc-123",
        f"repo={repo.full_name}",
        f"pr={pull.number}",
        "documents=1",
        "findings=3",
        f"api_calls={len(fake_github.requests)}",
        "duration_ms=",
    ):
        assert field in line


async def test_many_files_are_paginated_and_large_docs_read_raw(
    make_client: Any, fake_github: FakeGitHub
) -> None:
    # A size limit above the doc's, so that it is read whole: GraphQL truncates it,
    # and REST's JSON contents stop at 1 MB, so it must come raw.
    client = await make_client(budget=Budget(max_document_kb=2 * 1024))
    big = DOC_TEXT + ("Filler line for a very long design document.\n" * 30_000)
    assert len(big.encode()) > max(1024 * 1024, fake_github.graphql.text_limit)
    added = {f"src/module_{n}.py": "x = 1\n" for n in range(250)}
    repo, pull = make_pr(
        fake_github,
        added=added,
        modified={DOC: (big, "@@ -10 +10 @@\n-x\n+TBD\n")},
    )
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert len(fake_github.calls("GET", "/files")) == 3
    assert fake_github.texts_requested() == [[f"{pull.head_sha}:{DOC}"]]
    (read,) = fake_github.calls("GET", "/contents/docs/")
    assert read.query["ref"] == pull.head_sha
    assert "raw" in read.headers["accept"]
    (run,) = repo.check_runs.values()
    assert run["conclusion"] == "neutral"
    assert {a["path"] for a in run["output"]["annotations"]} == {DOC}  # reviewed whole


async def test_with_the_real_engine(make_client: Any, fake_github: FakeGitHub) -> None:
    from ghapp.server import default_engine

    client = await make_client(engine=default_engine)
    repo, pull = make_pr(fake_github)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed"
    assert run["conclusion"] == "neutral"
    assert len(run["output"]["annotations"]) >= 2
    (review,) = pull.reviews
    assert review["body"]
    assert outcomes(client)[-1].outcome == "reviewed"
    assert len(review_calls(fake_github)) <= 1 + 5


async def test_a_dropped_connection_on_a_read_is_retried(
    client: TestClient[Any, Any], fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    repo, pull = make_pr(fake_github)
    # aiohttp itself retries a GET once on a reused connection; three drops get past that.
    fake_github.fail("GET", r"/files$", status=0, times=3)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert len(fake_github.calls("GET", "/files")) == 4
    assert sleeps
    assert outcomes(client)[-1].outcome == "reviewed"


CONFIG = ".github/product-review.yml"


async def test_a_broken_config_in_the_pr_is_annotated_even_without_design_docs(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    broken = "fail_on: sometimes\ncomments:\n  max_inline: 10\n"
    repo = fake_github.add_repo(name="configured")
    pull = fake_github.add_pull(repo, added={CONFIG: broken})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed"
    assert run["conclusion"] == "neutral"
    assert "config" in run["output"]["title"]
    assert "fail_on" in run["output"]["summary"]
    (annotation,) = run["output"]["annotations"]
    assert annotation["path"] == CONFIG
    assert annotation["start_line"] == 1
    # Read at the head of the pull request (and from the default branch for settings),
    # both in the review's one GraphQL request.
    assert fake_github.graphql.objects_read[:2] == [
        (repo.full_name, f"{repo.default_branch}:{CONFIG}"),
        (repo.full_name, f"{pull.head_sha}:{CONFIG}"),
    ]
    assert fake_github.calls("GET", f"/contents/{CONFIG}") == []


async def test_a_broken_config_next_to_a_design_doc_adds_to_the_review_check(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo(name="configured2")
    pull = fake_github.add_pull(repo, added={DOC: DOC_TEXT, CONFIG: "drafts: maybe\n"})
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    (run,) = repo.check_runs.values()
    assert run["conclusion"] == "neutral"
    paths = [a["path"] for a in run["output"]["annotations"]]
    assert paths[0] == CONFIG and DOC in paths
    assert "drafts" in run["output"]["summary"]
    assert len(pull.reviews) == 1
