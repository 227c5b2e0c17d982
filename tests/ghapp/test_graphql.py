"""GraphQL: the fake's endpoint answers (and refuses) like GitHub's, the app's
prefetch query is valid against it, and the answer is read part by part."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest

from ghapp.github import GitHubApp, graphql_url
from ghapp.prefetch import QUERY, ContextRequest, ModelBlob, read_context
from ghapp.pulls import PullState
from ghapp.repoconfig import CONFIG_PATH, FetchedFile, file_key
from tests.support.apptools import APP_ID, KeyPair
from tests.support.fakegithub import BOT_USER, FakeGitHub, blob_sha

HEAD = "c" * 40


@pytest.fixture
async def http() -> Any:
    async with aiohttp.ClientSession() as session:
        yield session


def token(fake: FakeGitHub) -> str:
    fake.tokens["ghs_graphql_test"] = (42, time.time() + 3600)
    return "ghs_graphql_test"


async def post(
    fake: FakeGitHub, http: aiohttp.ClientSession, body: Any, *, auth: str | None = ""
) -> tuple[int, Any]:
    headers = {} if auth is None else {"Authorization": f"bearer {auth or token(fake)}"}
    data = body if isinstance(body, bytes) else None
    json_body = None if isinstance(body, bytes) else body
    async with http.post(
        f"{fake.url}/graphql", data=data, json=json_body, headers=headers
    ) as response:
        return response.status, await response.json()


def request(**overrides: Any) -> ContextRequest:
    values: dict[str, Any] = {
        "owner": "acme",
        "repo": "widgets",
        "number": 7,
        "default_branch": "main",
        "head_sha": HEAD,
        "earlier_reviews": True,
    }
    values.update(overrides)
    return ContextRequest(**values)


# ----------------------------------------------------------------- the endpoint


@pytest.mark.parametrize(
    ("api_url", "expected"),
    [
        ("https://api.github.com", "https://api.github.com/graphql"),
        ("https://api.github.com/", "https://api.github.com/graphql"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com/api/graphql"),
        ("https://ghe.example.com/api/v3/", "https://ghe.example.com/api/graphql"),
        ("https://api.acme.ghe.com", "https://api.acme.ghe.com/graphql"),
    ],
)
def test_the_graphql_url_follows_the_rest_url(api_url: str, expected: str) -> None:
    assert graphql_url(api_url) == expected


async def test_requests_without_valid_credentials_get_401(
    fake_github: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    body = {"query": '{ repository(owner: "a", name: "b") { name } }'}
    assert (await post(fake_github, http, body, auth=None))[0] == 401
    status, answer = await post(fake_github, http, body, auth="ghs_not_a_token")
    assert (status, answer["message"]) == (401, "Bad credentials")
    assert [r.status for r in fake_github.calls("POST", "/graphql")] == [401, 401]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "A query attribute must be specified and must be a string."),
        ({"query": 5}, "A query attribute must be specified and must be a string."),
        ({"query": "{ x }", "variables": "owner=acme"}, "Variables are invalid JSON."),
    ],
)
async def test_malformed_requests_get_400(
    fake_github: FakeGitHub, http: aiohttp.ClientSession, body: Any, message: str
) -> None:
    status, answer = await post(fake_github, http, body)
    assert status == 400
    assert answer["errors"][0]["message"] == message


async def test_a_body_that_is_not_json_gets_400(
    fake_github: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    status, answer = await post(fake_github, http, b"query { x")
    assert (status, answer["message"]) == (400, "Problems parsing JSON")


async def test_invalid_queries_get_errors_and_no_data(
    fake_github: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    fake_github.add_repo()
    for query, words in [
        ('{ repository(owner: "acme", name: "widgets") { stars } }', "stars"),
        ('{ repository(owner: "acme") { name } }', "name"),
        ('query($n: Int!) { repository(owner: "a", name: "b") { name } }', "$n"),
        ("{ repository(", "Syntax Error"),
    ]:
        status, answer = await post(fake_github, http, {"query": query})
        assert status == 200
        assert "data" not in answer
        assert words in answer["errors"][0]["message"]


async def test_a_missing_repository_is_null_with_a_not_found_error(
    fake_github: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    fake_github.add_repo()
    query = """{
      repo: repository(owner: "acme", name: "widgets") { nameWithOwner }
      org: repository(owner: "acme", name: ".github") { nameWithOwner }
    }"""
    status, answer = await post(fake_github, http, {"query": query})
    assert status == 200
    assert answer["data"] == {"repo": {"nameWithOwner": "acme/widgets"}, "org": None}
    (error,) = answer["errors"]
    assert error["type"] == "NOT_FOUND"
    assert error["path"] == ["org"]
    assert error["message"] == "Could not resolve to a Repository with the name 'acme/.github'."


async def test_connections_need_and_cap_first_or_last(
    fake_github: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    repo = fake_github.add_repo()
    fake_github.add_pull(repo, added={"docs/rfcs/a.md": "# A\n"})
    base = '{ repository(owner: "acme", name: "widgets") { pullRequest(number: 7) { %s } } }'
    _, missing = await post(fake_github, http, {"query": base % "reviews { totalCount }"})
    assert missing["errors"][0]["type"] == "MISSING_PAGINATION_BOUNDARIES"
    _, excessive = await post(
        fake_github, http, {"query": base % "reviews(last: 101) { totalCount }"}
    )
    assert excessive["errors"][0]["type"] == "EXCESSIVE_PAGINATION"
    _, fine = await post(fake_github, http, {"query": base % "reviews(last: 100) { totalCount }"})
    assert fine == {"data": {"repository": {"pullRequest": {"reviews": {"totalCount": 0}}}}}


async def test_the_prefetch_query_is_valid_and_answers_every_part(
    fake_github: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    org = fake_github.add_repo(name=".github")
    org.contents[("main", CONFIG_PATH)] = "fail_on: error\n"
    repo = fake_github.add_repo()
    repo.contents[("main", CONFIG_PATH)] = "fail_on: warning\n"
    pull = fake_github.add_pull(repo, head_sha=HEAD, added={CONFIG_PATH: "fail_on: never\n"})
    pull.reviews.append({"id": 1, "user": BOT_USER, "body": "ours <!-- fp -->"})
    pull.review_comments.append(
        {"id": 2, "pull_request_review_id": 1, "user": BOT_USER, "body": "inline"}
    )
    pull.reviews.append({"id": 3, "user": {"login": "octocat", "type": "User"}, "body": "LGTM"})

    status, answer = await post(
        fake_github, http, {"query": QUERY, "variables": request().variables()}
    )

    assert status == 200
    assert "errors" not in answer
    context = read_context(answer, request())
    own = context.files[file_key("ACME", "Widgets", CONFIG_PATH, "main")]
    assert own == FetchedFile("fail_on: warning\n", blob_sha("fail_on: warning\n"))
    texts = {key[1:]: (f.text if f else None) for key, f in context.files.items()}
    assert texts == {
        ("widgets", CONFIG_PATH, "main"): "fail_on: warning\n",
        ("widgets", CONFIG_PATH, HEAD): "fail_on: never\n",
        (".github", CONFIG_PATH, None): "fail_on: error\n",
    }
    assert context.earlier_bodies == ("ours <!-- fp -->", "inline")
    assert context.problems == ()


async def test_the_prefetch_is_one_recorded_request_through_the_client(
    fake_github: FakeGitHub, key_pair: KeyPair
) -> None:
    repo = fake_github.add_repo()
    repo.contents[("main", CONFIG_PATH)] = "fail_on: warning\n"
    fake_github.add_pull(repo, head_sha=HEAD, added={"docs/rfcs/a.md": "# A\n"})
    async with aiohttp.ClientSession() as session:
        app = GitHubApp(
            session=session,
            app_id=APP_ID,
            private_key=key_pair.private_pem,
            api_url=fake_github.url,
        )
        context = await app.installation(42).review_context(request())
    assert [r.path for r in fake_github.requests] == [
        "/app/installations/42/access_tokens",
        "/graphql",
    ]
    (sent,) = fake_github.calls("POST", "/graphql")
    assert sent.headers["authorization"].lower().startswith("token ghs_")
    assert sent.body["variables"]["configAtBase"] == f"main:{CONFIG_PATH}"
    # No `.github` repository: known to be absent, not a problem, not read again.
    assert context.files[file_key("acme", ".github", CONFIG_PATH, None)] is None
    assert context.files[file_key("acme", "widgets", CONFIG_PATH, HEAD)] is None
    assert context.problems == ()
    assert context.earlier_bodies == ()


# ----------------------------------------------------------------- reading answers


def blob(text: str, *, truncated: bool = False) -> dict[str, Any]:
    return {"oid": "a" * 40, "byteSize": len(text), "isTruncated": truncated, "text": text}


def answer(**repo: Any) -> dict[str, Any]:
    parts = {"config": None, "headConfig": None, "pullRequest": None, **repo}
    return {"data": {"repo": parts, "org": {"config": None}}}


def test_a_truncated_or_binary_blob_is_left_to_rest() -> None:
    context = read_context(
        answer(config=blob("x" * 10, truncated=True), headConfig={**blob(""), "text": None}),
        request(),
    )
    assert file_key("acme", "widgets", CONFIG_PATH, "main") not in context.files
    assert file_key("acme", "widgets", CONFIG_PATH, HEAD) not in context.files
    assert context.files[file_key("acme", ".github", CONFIG_PATH, None)] is None


def test_a_tree_where_the_file_should_be_is_no_file() -> None:
    context = read_context(answer(config={}), request())
    assert context.files[file_key("acme", "widgets", CONFIG_PATH, "main")] is None


def test_an_error_on_one_part_leaves_only_that_part_to_rest() -> None:
    broken = answer(config=blob("fail_on: error\n"))
    broken["data"]["org"] = None
    broken["errors"] = [{"type": "FORBIDDEN", "path": ["org"], "message": "no access"}]
    context = read_context(broken, request())
    assert file_key("acme", ".github", CONFIG_PATH, None) not in context.files
    assert context.files[file_key("acme", "widgets", CONFIG_PATH, "main")] == FetchedFile(
        "fail_on: error\n", "a" * 40
    )
    assert context.problems == ("no access",)


def test_an_error_without_a_path_leaves_everything_to_rest() -> None:
    limited = {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]}
    context = read_context(limited, request())
    assert context.files == {}
    assert context.earlier_bodies is None
    assert context.problems == ("API rate limit exceeded",)


def test_earlier_reviews_are_unknown_when_more_exist_than_were_read() -> None:
    def reviews(*, more_reviews: bool, more_comments: bool) -> dict[str, Any]:
        comments = {"pageInfo": {"hasNextPage": more_comments}, "nodes": [{"body": "c"}]}
        node = {
            "author": {"__typename": "Bot", "login": "product-review"},
            "body": "b",
            "comments": comments,
        }
        return {"reviews": {"pageInfo": {"hasPreviousPage": more_reviews}, "nodes": [node]}}

    complete = reviews(more_reviews=False, more_comments=False)
    assert read_context(answer(pullRequest=complete), request()).earlier_bodies == ("b", "c")
    for partial in (
        reviews(more_reviews=True, more_comments=False),
        reviews(more_reviews=False, more_comments=True),
    ):
        assert read_context(answer(pullRequest=partial), request()).earlier_bodies is None
    not_asked = read_context(answer(pullRequest=complete), request(earlier_reviews=False))
    assert not_asked.earlier_bodies is None


def test_the_organisation_repository_reviews_itself_without_an_organisation_layer() -> None:
    own = request(repo=".github")
    assert own.variables()["withOrg"] is False
    context = read_context({"data": {"repo": {"config": blob("drafts: true\n")}}}, own)
    assert list(context.files) == [file_key("acme", ".github", CONFIG_PATH, "main")]


# ----------------------------------------------------------------- the pull request's state


async def test_the_prefetch_reads_the_pull_requests_head_draft_state_and_labels(
    fake_github: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    fake_github.add_repo(name=".github")  # no errors about the organisation layer
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, head_sha=HEAD, draft=True)
    pull.labels.extend(["Product-Review: Paused", "docs"])
    known = request(earlier_reviews=False)

    status, answer = await post(fake_github, http, {"query": QUERY, "variables": known.variables()})

    assert status == 200 and "errors" not in answer
    state = read_context(answer, known).pull
    assert state == PullState(head_sha=HEAD, draft=True, labels=("Product-Review: Paused", "docs"))


async def test_an_unknown_head_is_the_pull_requests_and_its_config_comes_with_it(
    fake_github: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    fake_github.add_repo(name=".github")  # no errors about the organisation layer
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, head_sha=HEAD, added={"docs/rfcs/a.md": "# A\n"})
    new_head = fake_github.push(repo, pull, modified={CONFIG_PATH: ("fail_on: never\n", "@@")})
    unknown = request(head_sha=None, earlier_reviews=False)
    assert unknown.variables()["headKnown"] is False
    assert unknown.variables()["configAtHead"] is None

    status, answer = await post(
        fake_github, http, {"query": QUERY, "variables": unknown.variables()}
    )

    assert status == 200 and "errors" not in answer
    context = read_context(answer, unknown)
    assert context.pull is not None and context.pull.head_sha == new_head
    head_config = context.files[file_key("acme", "widgets", CONFIG_PATH, new_head)]
    assert head_config == FetchedFile("fail_on: never\n", blob_sha("fail_on: never\n"))
    assert context.problems == ()


async def test_no_config_at_an_unknown_head_is_no_file_and_no_problem(
    fake_github: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    fake_github.add_repo(name=".github")  # no errors about the organisation layer
    repo = fake_github.add_repo()
    fake_github.add_pull(repo, head_sha=HEAD, added={"docs/rfcs/a.md": "# A\n"})
    unknown = request(head_sha=None)

    status, answer = await post(
        fake_github, http, {"query": QUERY, "variables": unknown.variables()}
    )

    # GitHub answers a path missing from a commit with a NOT_FOUND error...
    assert status == 200
    (error,) = answer["errors"]
    assert error["type"] == "NOT_FOUND"
    assert error["path"] == ["repo", "pullRequest", "headCommit", "nodes", 0, "commit", "file"]
    # ...which only says the file is not there: nothing else is lost.
    context = read_context(answer, unknown)
    assert context.files[file_key("acme", "widgets", CONFIG_PATH, HEAD)] is None
    assert context.pull is not None and context.pull.head_sha == HEAD
    assert context.earlier_bodies == ()
    assert context.problems == ()


async def test_the_head_config_is_left_to_rest_when_the_last_listed_commit_is_not_the_head(
    fake_github: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    repo = fake_github.add_repo()
    pull = fake_github.add_pull(repo, head_sha=HEAD, added={CONFIG_PATH: "fail_on: never\n"})
    # GitHub lists only a pull request's first 250 commits.
    pull.commits = [f"{n:040x}" for n in range(300)] + [HEAD]
    unknown = request(head_sha=None)

    _, answer = await post(fake_github, http, {"query": QUERY, "variables": unknown.variables()})

    context = read_context(answer, unknown)
    assert context.pull is not None and context.pull.head_sha == HEAD
    assert file_key("acme", "widgets", CONFIG_PATH, HEAD) not in context.files


def test_labels_are_unknown_when_there_are_more_than_were_read() -> None:
    def pull(*, more: bool) -> dict[str, Any]:
        labels = {"pageInfo": {"hasNextPage": more}, "nodes": [{"name": "docs"}]}
        return {"headRefOid": HEAD, "isDraft": False, "labels": labels}

    complete = read_context(answer(pullRequest=pull(more=False)), request()).pull
    assert complete == PullState(head_sha=HEAD, draft=False, labels=("docs",))
    partial = read_context(answer(pullRequest=pull(more=True)), request()).pull
    assert partial == PullState(head_sha=HEAD, draft=False, labels=None)


def test_an_error_in_the_head_commit_leaves_the_rest_of_the_pull_request_readable() -> None:
    reviews = {"pageInfo": {"hasPreviousPage": False}, "nodes": []}
    pull = {"headRefOid": HEAD, "isDraft": False, "labels": None, "reviews": reviews}
    broken = answer(pullRequest={**pull, "headCommit": None})
    broken["errors"] = [
        {"type": "FORBIDDEN", "path": ["repo", "pullRequest", "headCommit"], "message": "no"}
    ]
    context = read_context(broken, request(head_sha=None))
    assert context.earlier_bodies == ()
    assert context.pull == PullState(head_sha=HEAD, draft=False, labels=None)
    assert file_key("acme", "widgets", CONFIG_PATH, HEAD) not in context.files
    assert context.problems == ("no",)


# ------------------------------------------------------------------ a team's model file

MODEL = ".github/product-review-model.json"


async def test_the_model_files_sha_and_size_come_in_the_prefetch_not_its_text(
    fake_github: FakeGitHub, http: aiohttp.ClientSession
) -> None:
    repo = fake_github.add_repo()
    text = '{"format": 1}\n' + " " * 600_000  # over the GraphQL text limit, as models are
    fake_github.add_pull(repo, head_sha=HEAD, added={"docs/rfcs/a.md": "# A\n"})
    repo.contents[(HEAD, MODEL)] = text
    asked = request(model_path=MODEL, model_ref=HEAD)
    assert "text" not in asked.query().split("fragment ModelFile", 1)[1]

    status, answer = await post(
        fake_github, http, {"query": asked.query(), "variables": asked.variables()}
    )

    assert status == 200 and read_context(answer, asked).problems == ()
    assert asked.variables()["modelAt"] == f"{HEAD}:{MODEL}"
    assert read_context(answer, asked).model == ModelBlob(
        MODEL, HEAD, blob_sha(text), len(text.encode())
    )
    # No file there: known to be absent.
    del repo.contents[(HEAD, MODEL)]
    _, answer = await post(
        fake_github, http, {"query": asked.query(), "variables": asked.variables()}
    )
    assert read_context(answer, asked).model == ModelBlob(MODEL, HEAD, None)


def test_no_model_path_asks_for_no_model_and_an_error_there_is_unknown() -> None:
    assert request().query() == QUERY and "modelAt" not in request().variables()
    asked = request(model_path=MODEL, model_ref=HEAD)
    broken = answer(model=None)
    broken["errors"] = [{"type": "FORBIDDEN", "path": ["repo", "model"], "message": "no"}]
    assert read_context(broken, asked).model is None
    assert read_context(answer(model={"oid": 3}), asked).model is None
    with pytest.raises(ValueError, match="commit"):
        request(model_path=MODEL)
