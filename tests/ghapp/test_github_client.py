"""The GitHub client against the fake: Enterprise Server URLs, the config reader,
and per-pull-request ordering of reviews."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from ghapp.github import GitHubApp
from ghapp.server import create_app
from ghapp.settings import ServerSettings
from tests.support.apptools import APP_ID, WEBHOOK_SECRET, KeyPair, deliver
from tests.support.builders import stub_engine
from tests.support.fakegithub import FakeGitHub

DOC = "docs/rfcs/0001-x.md"


async def test_enterprise_server_api_prefix(
    aiohttp_server: Any, aiohttp_client: Any, key_pair: KeyPair
) -> None:
    fake = FakeGitHub(app_id=APP_ID, public_key=key_pair.public_key)
    # REST under https://HOST/api/v3, GraphQL at https://HOST/api/graphql.
    server = await aiohttp_server(fake.enterprise_app())
    fake.url = str(server.make_url("/api/v3")).rstrip("/")
    settings = ServerSettings(
        app_id=APP_ID,
        private_key=key_pair.private_pem,
        webhook_secret=WEBHOOK_SECRET,
        github_api_url=fake.url,
    )
    client = await aiohttp_client(create_app(settings, engine=stub_engine))
    repo = fake.add_repo()
    pull = fake.add_pull(repo, added={DOC: "# X\nTBD\n"})
    await deliver(client, "pull_request", fake.pull_request_event(repo, pull, "opened"))
    assert fake.calls("POST", "/app/installations/42/access_tokens")
    (prefetch,) = fake.calls("POST", "/graphql")
    assert prefetch.status == 200
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed"
    assert len(pull.reviews) == 1


async def test_fetch_file_reads_text_and_sha_and_large_files_raw(
    fake_github: FakeGitHub, key_pair: KeyPair
) -> None:
    repo = fake_github.add_repo()
    repo.contents[("main", ".github/product-review.yml")] = "drafts: true\n"
    big = "x" * (1024 * 1024 + 10)
    repo.contents[("main", "docs/big.md")] = big
    async with aiohttp.ClientSession() as session:
        app = GitHubApp(
            session=session,
            app_id=APP_ID,
            private_key=key_pair.private_pem,
            api_url=fake_github.url,
        )
        client = app.installation(42)
        small = await client.fetch_file(
            owner=repo.owner, repo=repo.name, path=".github/product-review.yml", ref="main"
        )
        assert small is not None and small.text == "drafts: true\n" and len(small.sha) == 40
        large = await client.fetch_file(owner=repo.owner, repo=repo.name, path="docs/big.md")
        assert large is not None and large.text == big
        missing = await client.fetch_file(owner=repo.owner, repo=repo.name, path="nope.yml")
        assert missing is None
        assert await client.fetch_file(owner="ghost", repo="none", path="x") is None
        # One token for all of it; the large file took a JSON read plus a raw read.
        assert len(fake_github.calls("POST", "/access_tokens")) == 1
        assert client.calls == 1 + 1 + 2 + 1 + 1


async def test_reviews_of_one_pull_request_run_one_at_a_time(
    client: Any, fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo()
    text = "# X\nTBD\n"
    pull = fake_github.add_pull(repo, added={DOC: text})
    # Two deliveries for the same head race (e.g. a redelivery under another id
    # and a re-run): the second waits for the first, which already answers it
    # (same head, nothing more asked), so the head is reviewed once.
    await asyncio.gather(
        deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "reopened")),
        deliver(client, "check_run", fake_github.check_run_event(repo, pull, "rerequested")),
    )
    assert len(repo.check_runs) == 1
    assert len(pull.reviews) == 1


async def test_comment_reaction_and_label_calls(fake_github: FakeGitHub, key_pair: KeyPair) -> None:
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={DOC: "# X\n"})
    event = fake_github.issue_comment_event(repo, pull, "/product-review help")
    async with aiohttp.ClientSession() as session:
        client = GitHubApp(
            session=session,
            app_id=APP_ID,
            private_key=key_pair.private_pem,
            api_url=fake_github.url,
        ).installation(42)
        await client.add_reaction(comment_url=event["comment"]["url"], content="eyes")
        await client.create_issue_comment(
            comments_url=event["issue"]["comments_url"], body="Subcommands: …"
        )
        await client.add_labels(issue_url=event["issue"]["url"], labels=["product-review: paused"])
        assert pull.labels == ["product-review: paused"]
        await client.remove_label(issue_url=event["issue"]["url"], name="product-review: paused")
        await client.remove_label(issue_url=event["issue"]["url"], name="product-review: paused")
    assert pull.labels == []
    assert pull.reactions[event["comment"]["id"]] == ["eyes"]
    assert [c["body"] for c in pull.issue_comments] == ["Subcommands: …"]
    assert [r.status for r in fake_github.calls("DELETE")] == [200, 404]
