"""Credentials only ever go to GitHub.

Request URLs come from webhook payloads and from GitHub's answers (a pull request's
`url`, a file's `contents_url`, `Link: next`, a check run's `url`, ...). A second
local server plays the foreign host those URLs are pointed at; it must never see a
request, the review must fail visibly, and the log must say what was refused.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import given
from hypothesis import strategies as st

from ghapp.github import ApiScope, ForeignURL, GitHubApp, _hides_a_step_up
from tests.support.apptools import APP_ID, KeyPair, deliver, outcomes
from tests.support.fakegithub import FakeGitHub

DOC = "docs/rfcs/0001-x.md"
TEXT = "# X\nTBD\n"


@dataclass
class ForeignHost:
    """Any server that is not GitHub; it records whatever reaches it."""

    url: str = ""
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def app(self) -> web.Application:
        async def record(request: web.Request) -> web.Response:
            self.requests.append((request.method, request.path, dict(request.headers)))
            # Plausible answers, so a leak would not also fail for lack of data.
            return web.json_response([] if request.method == "GET" else {"id": 1, "url": "x"})

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", record)
        return app


class RedirectingGitHub(FakeGitHub):
    """The fake GitHub, able to point URLs in its own answers at another host."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.contents_elsewhere = ""
        self.next_page_elsewhere = ""
        self.check_runs_elsewhere = ""

    def _paginate(self, request: web.Request, items: list[Any]) -> web.Response:
        if self.contents_elsewhere:
            items = [
                {
                    **item,
                    "contents_url": item["contents_url"].replace(self.url, self.contents_elsewhere),
                }
                if isinstance(item, dict) and "contents_url" in item
                else item
                for item in items
            ]
        response = super()._paginate(request, items)
        link = response.headers.get("Link")
        if self.next_page_elsewhere and link:
            response.headers["Link"] = link.replace(self.url, self.next_page_elsewhere)
        return response

    async def _create_check_run(self, request: web.Request) -> web.Response:
        response = await super()._create_check_run(request)
        if not self.check_runs_elsewhere or response.text is None:
            return response
        run = json.loads(response.text)
        run["url"] = run["url"].replace(self.url, self.check_runs_elsewhere)
        return web.json_response(run, status=response.status)


@pytest.fixture
async def fake_github(aiohttp_server: Any, key_pair: KeyPair) -> RedirectingGitHub:
    # Replaces conftest's fixture of the same name, so `client` talks to this fake.
    fake = RedirectingGitHub(app_id=APP_ID, public_key=key_pair.public_key)
    server = await aiohttp_server(fake.app)
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def foreign(aiohttp_server: Any) -> ForeignHost:
    host = ForeignHost()
    server = await aiohttp_server(host.app())
    host.url = str(server.make_url("")).rstrip("/")
    return host


def assert_refused(foreign: ForeignHost, caplog: pytest.LogCaptureFixture) -> None:
    assert foreign.requests == []  # not even one without credentials
    refusals = [
        record
        for record in caplog.records
        if record.levelno == logging.WARNING and "refused a request" in record.getMessage()
    ]
    assert refusals, caplog.text
    assert all(foreign.url in record.getMessage() for record in refusals)
    assert "ghs_" not in caplog.text  # the log names the host, never the token


def failure_reason(client: TestClient[Any, Any]) -> str:
    (outcome,) = outcomes(client)
    assert outcome.outcome == "failed"
    return str(outcome.reason)


# --------------------------------------------------------------------------- end to end


async def test_a_foreign_contents_url_fails_the_review_visibly(
    client: Any,
    fake_github: RedirectingGitHub,
    foreign: ForeignHost,
    caplog: pytest.LogCaptureFixture,
) -> None:
    repo = fake_github.add_repo()
    # A modified file GraphQL gives truncated is read through its contents_url (an
    # added one from its patch).
    pull = fake_github.add_pull(repo, modified={DOC: (TEXT, "@@ -1,1 +1,2 @@\n # X\n+TBD")})
    fake_github.graphql.text_limit = 0
    fake_github.contents_elsewhere = foreign.url
    with caplog.at_level(logging.WARNING):
        await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert_refused(foreign, caplog)
    assert fake_github.texts_requested() == [[f"{pull.head_sha}:{DOC}"]]
    (run,) = repo.check_runs.values()
    assert run["status"] == "completed" and run["conclusion"] == "neutral"
    assert "could not complete" in run["output"]["title"]
    summary = run["output"]["summary"]
    assert f"reading {DOC}" in summary and "refused to send a request to" in summary
    assert foreign.url in summary
    assert pull.reviews == []


def payload_pointing_elsewhere(
    fake_github: RedirectingGitHub, foreign: ForeignHost, pointed: str
) -> tuple[str, dict[str, Any]]:
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={DOC: TEXT})
    if pointed.startswith(("comment.", "issue.")):
        event = fake_github.issue_comment_event(repo, pull, "/product-review help")
        if pointed == "comment.url":
            event["comment"]["url"] = f"{foreign.url}/repos/{repo.full_name}/issues/comments/1"
        else:
            event["issue"]["comments_url"] = f"{foreign.url}/repos/{repo.full_name}/issues/7/c"
        return "issue_comment", event
    event = fake_github.pull_request_event(repo, pull, "opened")
    if pointed == "repository.url":
        foreign_url = f"{foreign.url}/repos/{repo.full_name}"
        event["repository"]["url"] = foreign_url
        event["pull_request"]["base"]["repo"]["url"] = foreign_url
    elif pointed == "pull_request.url":
        event["pull_request"]["url"] = f"{foreign.url}/repos/{repo.full_name}/pulls/{pull.number}"
    else:
        # Same scheme and path as the real API, another port: still another host.
        event["pull_request"]["url"] = event["pull_request"]["url"].replace(
            fake_github.url, foreign.url
        )
    return "pull_request", event


@pytest.mark.parametrize(
    "pointed",
    [
        "pull_request.url",
        "repository.url",
        "pull_request.url on another port",
        "comment.url",
        "issue.comments_url",
    ],
)
async def test_a_payload_pointing_outside_the_api_is_refused_before_any_work(
    client: Any,
    fake_github: RedirectingGitHub,
    foreign: ForeignHost,
    caplog: pytest.LogCaptureFixture,
    pointed: str,
) -> None:
    event_name, event = payload_pointing_elsewhere(fake_github, foreign, pointed)
    with caplog.at_level(logging.WARNING):
        response = await deliver(client, event_name, event)
    assert response.status == 400
    reason = (await response.json())["message"]
    field_name = pointed.split(" ")[0]
    assert reason.startswith(f"{field_name}: not under the configured GitHub API"), reason
    assert foreign.requests == []
    assert fake_github.api_calls() == []  # not even a token was minted
    assert outcomes(client) == []
    assert "ghs_" not in caplog.text


async def test_the_client_refuses_a_payload_url_even_when_it_gets_that_far(
    fake_github: RedirectingGitHub,
    foreign: ForeignHost,
    key_pair: KeyPair,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The webhook refuses such payloads; the client is the second line of defence.
    async with aiohttp.ClientSession() as session:
        app = GitHubApp(
            session=session,
            app_id=APP_ID,
            private_key=key_pair.private_pem,
            api_url=fake_github.url,
        )
        client = app.installation(42)
        with caplog.at_level(logging.WARNING):
            with pytest.raises(ForeignURL):
                await client.list_pull_files(pull_url=f"{foreign.url}/repos/acme/w/pulls/7")
            with pytest.raises(ForeignURL):
                await client.create_issue_comment(
                    comments_url=f"{foreign.url}/repos/acme/w/issues/7/comments", body="hi"
                )
    assert_refused(foreign, caplog)


async def test_a_foreign_next_page_is_refused(
    client: Any,
    fake_github: RedirectingGitHub,
    foreign: ForeignHost,
    caplog: pytest.LogCaptureFixture,
) -> None:
    repo = fake_github.add_repo()
    others = {f"src/module_{n:03}.py": "x = 1\n" for n in range(120)}  # two pages of files
    pull = fake_github.add_pull(repo, added={DOC: TEXT, **others})
    fake_github.next_page_elsewhere = foreign.url
    with caplog.at_level(logging.WARNING):
        await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert_refused(foreign, caplog)
    assert foreign.url in failure_reason(client)
    (first_page,) = fake_github.calls("GET", "/files")
    assert first_page.status == 200
    assert pull.reviews == []


async def test_a_foreign_check_run_url_is_refused(
    client: Any,
    fake_github: RedirectingGitHub,
    foreign: ForeignHost,
    caplog: pytest.LogCaptureFixture,
) -> None:
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, added={DOC: TEXT})
    fake_github.check_runs_elsewhere = foreign.url
    with caplog.at_level(logging.WARNING):
        await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert_refused(foreign, caplog)
    assert "refused to send a request to" in failure_reason(client)
    # The check run lives on GitHub, but every way to finish it pointed elsewhere.
    assert fake_github.calls("PATCH") == []


async def test_the_app_jwt_never_leaves_either(
    fake_github: RedirectingGitHub,
    foreign: ForeignHost,
    key_pair: KeyPair,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with aiohttp.ClientSession() as session:
        app = GitHubApp(
            session=session,
            app_id=APP_ID,
            private_key=key_pair.private_pem,
            api_url=fake_github.url,
        )
        client = app.installation(42)
        with caplog.at_level(logging.WARNING), pytest.raises(ForeignURL):
            await client._gh.getitem(f"{foreign.url}/app", jwt=app.jwt())
        # The same client still reaches GitHub itself, token minting included.
        assert await client.fetch_file(owner="ghost", repo="none", path="x") is None
    assert len(fake_github.calls("POST", "/access_tokens")) == 1
    assert_refused(foreign, caplog)


# --------------------------------------------------------------------------- the URL check

API = "https://api.github.com"
ENTERPRISE = "https://ghe.example.com/api/v3"


@pytest.mark.parametrize(
    ("api_url", "url"),
    [
        (API, "/repos/acme/widgets/pulls/7"),
        (API, "repos/acme/widgets/pulls/7/files?per_page=100&page=2"),
        (API, "https://api.github.com/repos/acme/widgets/contents/docs/a%20b.md?ref=main"),
        (API, "HTTPS://API.GITHUB.COM:443/repos/acme/widgets"),
        (API, "https://api.github.com/graphql"),
        (API, "https://api.github.com/app/installations/42/access_tokens"),
        # gidgethub joins `//x/y` to the base as a path, so it stays on the API host.
        (API, "//evil.example/x"),
        (ENTERPRISE, "https://ghe.example.com/api/v3/repos/acme/widgets/pulls/7"),
        (ENTERPRISE, "https://ghe.example.com/api/v3"),
        (ENTERPRISE, "/repos/acme/widgets/check-runs/9"),
        (ENTERPRISE, "https://ghe.example.com/api/graphql"),
        (ENTERPRISE + "/", "https://ghe.example.com/api/v3/repos/acme/widgets"),
    ],
)
def test_urls_of_the_api_are_allowed(api_url: str, url: str) -> None:
    ApiScope.of(api_url).check(url)


@pytest.mark.parametrize(
    ("api_url", "url"),
    [
        (API, "https://evil.example/repos/acme/widgets"),
        (API, "https://api.github.com.evil.example/repos"),
        (API, "https://api.github.com@evil.example/repos"),
        (API, "https://user:secret@api.github.com/repos"),  # userinfo, even to the right host
        (API, "https://api.github.com:@evil.example/repos"),
        (API, "http://api.github.com/repos"),  # a downgrade
        (API, "https://api.github.com:8443/repos"),
        (API, "https://api.github.com./repos"),
        (API, "https://аpi.github.com/repos"),  # a Cyrillic "а"
        (API, "https://api.github.com%2eevil.example/repos"),
        (API, "https://api.github.com%40evil.example/repos"),
        (API, "https://api.github.com\\@evil.example/repos"),
        (API, "https://evil.example\\.api.github.com/repos"),
        (API, "https://evil.example#@api.github.com/repos"),
        (API, "https://evil.example?@api.github.com/repos"),
        (API, "ftp://api.github.com/repos"),
        (API, "https:///repos"),
        (API, "https://api.github.com/repos/..%2f..%2fx"),
        (API, "https://api.github.com/repos/%2e%2e%5c%2e%2e%5cx"),
        (API, "https://[::1]/repos"),
        (API, "https://ghe.example.com/api/graphql"),
        (ENTERPRISE, "https://ghe.example.com/api/v3/../../x"),
        (ENTERPRISE, "https://ghe.example.com/api/v3/%2e%2e/%2E%2E/x"),
        (ENTERPRISE, "https://ghe.example.com/api/v3/..%2F..%2Fx"),
        (ENTERPRISE, "https://ghe.example.com/api/v3x/repos"),
        (ENTERPRISE, "https://ghe.example.com/api/v4/repos"),
        (ENTERPRISE, "https://ghe.example.com/repos/acme/widgets"),
        (ENTERPRISE, "//evil.example/x"),  # joined as /evil.example/x: above /api/v3
        (ENTERPRISE, "../../x"),
        (ENTERPRISE, "https://api.github.com/repos/acme/widgets"),
    ],
)
def test_urls_elsewhere_are_refused(api_url: str, url: str) -> None:
    with pytest.raises(ForeignURL) as refused:
        ApiScope.of(api_url).check(url)
    message = str(refused.value)
    assert message.startswith("refused to send a request to ")
    assert "secret" not in message  # user information is masked


def test_the_refusal_names_where_the_request_was_aimed() -> None:
    with pytest.raises(ForeignURL) as refused:
        ApiScope.of(API).check("https://api.github.com@evil.example:444/steal?x=1")
    assert refused.value.target == "https://…@evil.example:444/steal"
    assert str(refused.value).endswith(f"which is not the GitHub API at {API}")


def _decodes_to_a_step_up(raw_segment: str) -> bool:
    """The definition, without the shortcut for segments with nothing to decode."""
    decoded = urllib.parse.unquote(raw_segment)
    return "/" in decoded or any(
        piece in (".", "..") for piece in decoded.replace("\\", "/").split("/")
    )


@given(st.text(alphabet=st.sampled_from(".%2eEfF5cC/\\ax"), max_size=12))
def test_the_quick_check_of_a_path_segment_agrees_with_decoding_it(segment: str) -> None:
    assert _hides_a_step_up(segment) == _decodes_to_a_step_up(segment)
