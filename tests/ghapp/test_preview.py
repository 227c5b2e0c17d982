"""`product-review check --pull-request URL`: the App's review of a pull request,
printed instead of posted, against the fake GitHub on loopback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ghapp.github import GitHubApp, WriteRefused
from ghapp.preview import PreviewClient, PreviewError, Withheld, parse_pull_url
from localreview.main import main
from tests.support.apptools import APP_ID, KeyPair
from tests.support.fakegithub import FakeGitHub, FakePull, FakeRepo, Recorded

DOC = "docs/rfcs/0001-offline-mode.md"
DOC_TEXT = """# Offline mode

## Problem
Field staff lose work when the network drops.

## Proposal
Sync must be real-time across all devices.

## Rollout
TBD
"""
TOKEN = "ghp_" + "a" * 36
CREDENTIAL_NAMES = ("GITHUB_TOKEN", "APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "GITHUB_API_URL")


def writes(fake: FakeGitHub) -> list[Recorded]:
    """Requests that would change something: not a GET, a GraphQL query, or minting
    an installation token (a POST that only reads the App's credentials)."""
    return [
        r
        for r in fake.requests
        if r.method != "GET" and r.path != "/graphql" and not r.path.endswith("/access_tokens")
    ]


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_github: FakeGitHub) -> None:
    """No credentials from the developer's shell or a .env; the fake is the API."""
    for name in CREDENTIAL_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_API_URL", fake_github.url)


@pytest.fixture
def token_mode(monkeypatch: pytest.MonkeyPatch, environment: None, fake_github: FakeGitHub) -> None:
    fake_github.tokens[TOKEN] = (0, float("inf"))
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)


def design_doc_pull(fake: FakeGitHub) -> tuple[FakeRepo, FakePull]:
    repo = fake.add_repo()
    return repo, fake.add_pull(repo, added={DOC: DOC_TEXT})


async def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The command, in a thread: it runs its own event loop, and the fake serves on this one."""
    code = await asyncio.to_thread(main, ["check", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_token_mode_prints_the_check_and_the_inline_comments(
    fake_github: FakeGitHub, token_mode: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _, pull = design_doc_pull(fake_github)
    code, out, err = await run_cli(capsys, "--pull-request", "https://github.com/acme/widgets/pull/7")

    assert (code, err) == (0, "")
    assert out.startswith(f"acme/widgets#7 at {pull.head_sha[:12]}: reviewed")
    assert "nothing was posted" in out
    assert "== Check run 'Product review': " in out
    assert "Title: " in out
    assert "== Inline comments (" in out
    assert f"{DOC}:" in out  # each comment with its path and line
    assert "== Review body" in out
    assert writes(fake_github) == []
    # Every request carried the token as is; none asked for an installation token.
    assert all(r.headers["authorization"].endswith(TOKEN) for r in fake_github.requests)


async def test_json_has_the_summary_and_the_comments_at_diff_lines(
    fake_github: FakeGitHub, token_mode: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _, pull = design_doc_pull(fake_github)
    api_url = f"{fake_github.url}/repos/acme/widgets/pulls/7"
    code, out, err = await run_cli(capsys, "--pull-request", api_url, "--format", "json")

    assert (code, err) == (0, "")
    shown = json.loads(out)
    assert shown["pull_request"] == {
        "owner": "acme",
        "repo": "widgets",
        "number": 7,
        "head_sha": pull.head_sha,
    }
    assert shown["outcome"] == "reviewed"
    check = shown["check_run"]
    assert check["name"] == "Product review"
    assert check["conclusion"] in ("neutral", "failure")
    assert check["title"] and check["summary"]
    comments = shown["review"]["comments"]
    assert comments, "a design doc with a placeholder gets inline comments"
    lines_in_diff = set(range(1, DOC_TEXT.count("\n") + 1))
    for comment in comments:
        assert comment["path"] == DOC
        assert comment["line"] in lines_in_diff
        assert comment["body"]
    assert shown["review"]["body"]
    assert writes(fake_github) == []


async def test_app_mode_finds_the_installation_and_posts_nothing(
    fake_github: FakeGitHub,
    environment: None,
    key_pair: KeyPair,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo, _ = design_doc_pull(fake_github)
    repo.installation_id = 77
    monkeypatch.setenv("APP_ID", APP_ID)
    monkeypatch.setenv("PRIVATE_KEY", key_pair.private_pem.replace("\n", "\\n"))

    code, out, err = await run_cli(
        capsys, "--pull-request", "https://github.com/acme/widgets/pull/7", "--format", "json"
    )

    assert (code, err) == (0, "")
    shown = json.loads(out)
    assert shown["check_run"]["summary"]
    assert shown["review"]["comments"]
    assert fake_github.calls("GET", "/repos/acme/widgets/installation")
    (minted,) = fake_github.calls("POST", "/access_tokens")
    assert minted.path == "/app/installations/77/access_tokens"
    assert writes(fake_github) == []


async def test_github_enterprise_through_github_api_url(
    aiohttp_server: Any,
    key_pair: KeyPair,
    environment: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = FakeGitHub(app_id=APP_ID, public_key=key_pair.public_key)
    # REST under https://HOST/api/v3, GraphQL at https://HOST/api/graphql.
    server = await aiohttp_server(fake.enterprise_app())
    fake.url = str(server.make_url("/api/v3")).rstrip("/")
    design_doc_pull(fake)
    fake.tokens[TOKEN] = (0, float("inf"))
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)

    code, out, err = await run_cli(
        capsys, "--pull-request", "https://ghe.example.com/acme/widgets/pull/7", "--format", "json"
    )

    assert (code, err) == (0, "")
    assert json.loads(out)["review"]["comments"]
    assert fake.calls("POST", "/graphql")
    assert writes(fake) == []


async def test_a_pull_request_without_design_docs_shows_the_skipped_check(
    fake_github: FakeGitHub, token_mode: None, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = fake_github.add_repo()
    fake_github.add_pull(repo, added={"src/app.py": "print('hi')\n"})
    code, out, _ = await run_cli(capsys, "--pull-request", "https://github.com/acme/widgets/pull/7")

    assert code == 0
    assert "no-design-docs" in out
    assert "== Check run 'Product review': skipped" in out
    assert "Inline comments" not in out
    assert writes(fake_github) == []


async def test_a_rejected_token_is_one_line_and_exit_2(
    fake_github: FakeGitHub,
    environment: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    design_doc_pull(fake_github)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_not_known_to_github")
    code, out, err = await run_cli(capsys, "--pull-request", "https://github.com/acme/widgets/pull/7")

    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith("error: GitHub answered 401")
    assert "GITHUB_TOKEN refused" in err
    assert "ghp_not_known_to_github" not in err
    assert len(fake_github.calls("GET", "/pulls/7")) == 1  # a fixed token is not retried


async def test_a_missing_pull_request_is_one_line_and_exit_2(
    fake_github: FakeGitHub, token_mode: None, capsys: pytest.CaptureFixture[str]
) -> None:
    design_doc_pull(fake_github)
    code, out, err = await run_cli(
        capsys, "--pull-request", "https://github.com/acme/widgets/pull/99"
    )

    assert (code, out) == (2, "")
    assert err == (
        "error: GitHub answered 404 (Not Found): acme/widgets#99 not found, "
        "or not visible with these credentials\n"
    )


async def test_a_failed_review_is_one_line_and_exit_2(
    fake_github: FakeGitHub, token_mode: None, capsys: pytest.CaptureFixture[str]
) -> None:
    design_doc_pull(fake_github)
    fake_github.fail("GET", "/pulls/7/files", status=403, message="Resource not accessible")
    code, out, err = await run_cli(capsys, "--pull-request", "https://github.com/acme/widgets/pull/7")

    assert (code, out) == (2, "")
    assert err.startswith("error: the review of acme/widgets#7 failed: GitHub answered 403")
    assert err.count("\n") == 1
    assert writes(fake_github) == []


async def test_an_app_not_installed_on_the_repository(
    fake_github: FakeGitHub,
    environment: None,
    key_pair: KeyPair,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo, _ = design_doc_pull(fake_github)
    repo.installation_id = None
    monkeypatch.setenv("APP_ID", APP_ID)
    monkeypatch.setenv("PRIVATE_KEY", key_pair.private_pem)
    code, _, err = await run_cli(capsys, "--pull-request", "https://github.com/acme/widgets/pull/7")

    assert code == 2
    assert err == "error: GitHub answered 404: the App is not installed on acme/widgets\n"


@pytest.mark.parametrize(
    "url",
    [
        "acme/widgets#7",
        "https://github.com/acme/widgets/issues/7",
        "https://github.com/acme/widgets/pull/seven",
        "ftp://github.com/acme/widgets/pull/7",
    ],
)
async def test_a_bad_url_is_one_line_and_exit_2(
    fake_github: FakeGitHub, token_mode: None, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, err = await run_cli(capsys, "--pull-request", url)

    assert (code, out) == (2, "")
    assert err.startswith(f"error: not a pull request URL: {url!r}")
    assert err.count("\n") == 1
    assert fake_github.requests == []


async def test_no_credentials_is_one_line_and_exit_2(
    fake_github: FakeGitHub, environment: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await run_cli(capsys, "--pull-request", "https://github.com/acme/widgets/pull/7")

    assert (code, out) == (2, "")
    assert err.startswith("error: no credentials: set GITHUB_TOKEN, or APP_ID and PRIVATE_KEY")
    assert err.count("\n") == 1
    assert fake_github.requests == []


async def test_formats_other_than_text_and_json_are_a_usage_error(
    token_mode: None, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "https://github.com/acme/widgets/pull/7"
    code, _, err = await run_cli(capsys, "--pull-request", url, "--format", "sarif")
    assert code == 2
    assert "--pull-request prints text or json" in err
    code, _, err = await run_cli(capsys, "--pull-request", url, "docs/")
    assert code == 2
    assert "name no PATH with it" in err
    code, _, err = await run_cli(capsys, "--pull-request", url, "--config", "x.yml")
    assert code == 2
    assert "--config does not apply to --pull-request" in err


def test_urls_web_api_and_enterprise() -> None:
    api = "https://ghe.example.com/api/v3"
    for url in (
        "https://github.com/acme/widgets/pull/7",
        "https://github.com/acme/widgets/pull/7/files",
        "https://ghe.example.com/acme/widgets/pull/7",
        "https://ghe.example.com/api/v3/repos/acme/widgets/pulls/7",
    ):
        address = parse_pull_url(url, api_url=api)
        assert (address.owner, address.repo, address.number) == ("acme", "widgets", 7)
    with pytest.raises(PreviewError, match="not under the GitHub API"):
        parse_pull_url("https://api.github.com/repos/acme/widgets/pulls/7", api_url=api)


async def test_a_read_only_client_refuses_writes_before_sending(fake_github: FakeGitHub) -> None:
    fake_github.tokens[TOKEN] = (0, float("inf"))
    repository_url = f"{fake_github.url}/repos/acme/widgets"
    async with aiohttp.ClientSession() as session:
        app = GitHubApp.with_token(session=session, token=TOKEN, api_url=fake_github.url)
        client = PreviewClient(app, installation_id=0, withheld=Withheld())
        with pytest.raises(WriteRefused):
            await client.create_issue_comment(
                comments_url=f"{repository_url}/issues/7/comments", body="hello"
            )
        with pytest.raises(WriteRefused):
            await client.add_labels(issue_url=f"{repository_url}/issues/7", labels=["x"])
        with pytest.raises(WriteRefused):
            await client.graphql(query="mutation { addStar }", variables={})
        # What the review would post is kept, not sent.
        await client.create_review(
            pull_url=f"{repository_url}/pulls/7", commit_id="a" * 40, body="body", comments=[]
        )
        assert client.withheld.review_body == "body"
    assert fake_github.requests == []
