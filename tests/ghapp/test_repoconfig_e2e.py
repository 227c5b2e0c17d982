"""The repository config end to end: webhook → real app → fake GitHub."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from ghapp.repoconfig import CONFIG_PATH
from tests.support.apptools import deliver
from tests.support.fakegithub import FakeGitHub, FakeRepo

DOC = "docs/rfcs/0001-faster-checkout.md"
DOC_TEXT = "# Faster checkout\n\nWe will make checkout real-time.\n\nTBD\n"

SWITCH_EVERYTHING_OFF = """\
paths:
  include: []
comments:
  mode: off
checks:
  placeholder: off
  absolute-requirement: off
fail_on: never
"""


def config_requests(fake_github: FakeGitHub, repo: FakeRepo) -> list[dict[str, str]]:
    return [
        call.query
        for call in fake_github.calls("GET", f"/repos/{repo.full_name}/contents/{CONFIG_PATH}")
    ]


async def test_a_pr_that_switches_the_config_off_is_still_reviewed_with_the_default_branchs(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo()
    repo.contents[("main", CONFIG_PATH)] = "fail_on: warning\n"
    pull = fake_github.add_pull(
        repo,
        added={DOC: DOC_TEXT},
        modified={CONFIG_PATH: (SWITCH_EVERYTHING_OFF, "@@ -1 +1,8 @@\n-fail_on: warning\n")},
    )

    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    (run,) = repo.check_runs.values()
    assert run["head_sha"] == pull.head_sha
    assert run["conclusion"] == "failure"  # fail_on: warning from the default branch
    # The PR's `comments.mode: off` does not apply: questions sit on the changed lines.
    assert pull.review_comments
    # The settings file is read at the default branch; the PR's version is read too
    # (at the head, only to report its problems), both in the review's one GraphQL
    # request: nothing goes through the REST contents API.
    reads = [expr for name, expr in fake_github.graphql.objects_read if name == repo.full_name]
    assert reads == [f"main:{CONFIG_PATH}", f"{pull.head_sha}:{CONFIG_PATH}"]
    assert len(fake_github.calls("POST", "/graphql")) == 1
    assert config_requests(fake_github, repo) == []


async def test_an_invalid_config_shows_up_in_the_check_run_and_the_valid_parts_apply(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo()
    repo.contents[("main", CONFIG_PATH)] = (
        "fail_on: warning\ncomments:\n  mode: inline\nfailon: error\n"
    )
    pull = fake_github.add_pull(repo, added={DOC: DOC_TEXT})

    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    (run,) = repo.check_runs.values()
    summary = run["output"]["summary"]
    assert "config has 2 problems" in run["output"]["title"]
    assert "Configuration problems" in summary
    assert (
        'acme/widgets:.github/product-review.yml:3:3: comments.mode: found "inline"; '
        'allowed: "changed-lines", "file", "off"'
    ) in summary
    assert "failon: unknown key 'failon' (did you mean 'fail_on'?)" in summary
    assert run["conclusion"] == "failure"  # the valid `fail_on: warning` still applies
    assert pull.review_comments  # comments.mode fell back to its default, changed-lines


async def test_organisation_defaults_apply_and_the_repository_overrides_them(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    org = fake_github.add_repo(name=".github")
    org.contents[("main", CONFIG_PATH)] = "fail_on: warning\ncomments:\n  mode: off\n"
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={DOC: DOC_TEXT})

    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    (run,) = repo.check_runs.values()
    assert run["conclusion"] == "failure"
    # comments.mode: off from the organisation: the questions are in the body only.
    assert len(pull.reviews) == 1 and pull.review_comments == []

    repo.contents[("main", CONFIG_PATH)] = "fail_on: never\n"
    fake_github.push(
        repo, pull, modified={DOC: (DOC_TEXT + "More.\n", "@@ -5 +5,2 @@\n TBD\n+More.\n")}
    )
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))
    latest = max(repo.check_runs.values(), key=lambda item: int(item["id"]))
    assert latest["conclusion"] == "neutral"  # questions, but the repository never fails
    assert pull.review_comments == []  # the organisation's comments.mode still applies


async def test_extends_pulls_in_a_shared_config(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    shared = fake_github.add_repo(name="review-settings")
    shared.contents[("main", "configs/rfcs.yml")] = "fail_on: warning\n"
    repo = fake_github.add_repo()
    repo.contents[("main", CONFIG_PATH)] = "_extends: review-settings:configs/rfcs.yml\n"
    pull = fake_github.add_pull(repo, added={DOC: DOC_TEXT})

    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    (run,) = repo.check_runs.values()
    assert run["conclusion"] == "failure"
    assert len(fake_github.calls("GET", "/repos/acme/review-settings/contents/")) == 1
