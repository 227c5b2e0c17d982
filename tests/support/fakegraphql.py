"""The GraphQL side of the fake GitHub (POST /graphql): a slice of GitHub's real
schema, executed by graphql-core against the fake's repositories.

Because the query is parsed and validated by a real GraphQL implementation, the
app's query is held to GitHub's rules: unknown fields, wrong argument types,
missing variables and syntax errors are refused (HTTP 200 with `errors` and no
`data`, as GitHub does); connections without `first`/`last`, or asking for more
than 100 nodes, fail like on GitHub; a repository that does not exist resolves to
`null` with an error of `type: NOT_FOUND`; a missing file is `object: null`.

The schema below copies GitHub's names, types and nullability for the fields it
has (docs.github.com/graphql/reference); fields the app does not use are left out,
so a query that strays from them fails here first.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web
from graphql import (
    GraphQLError,
    GraphQLSchema,
    build_schema,
    execute_sync,
    parse,
    validate,
)

if TYPE_CHECKING:
    from tests.support.fakegithub import FakeGitHub, FakePull, FakeRepo

SCHEMA_SDL = """
scalar GitObjectID
scalar URI
scalar DateTime

type Query {
  repository(owner: String!, name: String!, followRenames: Boolean = true): Repository
}

type Repository {
  id: ID!
  name: String!
  nameWithOwner: String!
  isPrivate: Boolean!
  url: URI!
  defaultBranchRef: Ref
  object(expression: String, oid: GitObjectID): GitObject
  pullRequest(number: Int!): PullRequest
}

type Ref {
  name: String!
  prefix: String!
  target: GitObject
}

interface GitObject {
  abbreviatedOid: String!
  oid: GitObjectID!
}

type Blob implements GitObject {
  abbreviatedOid: String!
  byteSize: Int!
  isBinary: Boolean
  isTruncated: Boolean!
  oid: GitObjectID!
  text: String
}

type Tree implements GitObject {
  abbreviatedOid: String!
  oid: GitObjectID!
}

type Commit implements GitObject {
  abbreviatedOid: String!
  oid: GitObjectID!
  message: String!
  file(path: String!): TreeEntry
}

type TreeEntry {
  mode: Int!
  name: String!
  object: GitObject
  oid: GitObjectID!
  path: String
  size: Int!
  type: String!
}

type PullRequest {
  number: Int!
  title: String!
  isDraft: Boolean!
  headRefOid: GitObjectID!
  baseRefName: String!
  labels(
    after: String
    before: String
    first: Int
    last: Int
    orderBy: LabelOrder = {field: CREATED_AT, direction: ASC}
  ): LabelConnection
  commits(after: String, before: String, first: Int, last: Int): PullRequestCommitConnection!
  reviews(
    after: String
    before: String
    first: Int
    last: Int
    author: String
    states: [PullRequestReviewState!]
  ): PullRequestReviewConnection
}

enum PullRequestReviewState {
  PENDING
  COMMENTED
  APPROVED
  CHANGES_REQUESTED
  DISMISSED
}

type PageInfo {
  endCursor: String
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
}

type PullRequestReviewConnection {
  edges: [PullRequestReviewEdge]
  nodes: [PullRequestReview]
  pageInfo: PageInfo!
  totalCount: Int!
}

type PullRequestReviewEdge {
  cursor: String!
  node: PullRequestReview
}

type PullRequestReview {
  id: ID!
  databaseId: Int
  author: Actor
  body: String!
  state: PullRequestReviewState!
  comments(after: String, before: String, first: Int, last: Int):
    PullRequestReviewCommentConnection!
}

type PullRequestReviewCommentConnection {
  edges: [PullRequestReviewCommentEdge]
  nodes: [PullRequestReviewComment]
  pageInfo: PageInfo!
  totalCount: Int!
}

type PullRequestReviewCommentEdge {
  cursor: String!
  node: PullRequestReviewComment
}

type PullRequestReviewComment {
  id: ID!
  databaseId: Int
  author: Actor
  body: String!
  path: String!
  line: Int
}

input LabelOrder {
  direction: OrderDirection!
  field: LabelOrderField!
}

enum LabelOrderField {
  CREATED_AT
  NAME
}

enum OrderDirection {
  ASC
  DESC
}

type LabelConnection {
  edges: [LabelEdge]
  nodes: [Label]
  pageInfo: PageInfo!
  totalCount: Int!
}

type LabelEdge {
  cursor: String!
  node: Label
}

type Label {
  color: String!
  description: String
  id: ID!
  name: String!
}

type PullRequestCommitConnection {
  edges: [PullRequestCommitEdge]
  nodes: [PullRequestCommit]
  pageInfo: PageInfo!
  totalCount: Int!
}

type PullRequestCommitEdge {
  cursor: String!
  node: PullRequestCommit
}

type PullRequestCommit {
  commit: Commit!
  id: ID!
}

interface Actor {
  login: String!
}

type Bot implements Actor {
  login: String!
}

type User implements Actor {
  login: String!
}
"""

SCHEMA: GraphQLSchema = build_schema(SCHEMA_SDL)
MAX_PAGE = 100
# GitHub lists at most 250 commits of a pull request (the oldest ones).
MAX_PULL_COMMITS = 250
# GitHub truncates `Blob.text` for large files (and says so in `isTruncated`).
BLOB_TEXT_LIMIT = 512 * 1024
DOCS = "https://docs.github.com/graphql"


def _error(message: str, kind: str) -> GraphQLError:
    return GraphQLError(message, extensions={"type": kind})


def _formatted(error: GraphQLError) -> dict[str, Any]:
    """GitHub's error shape: `type` at the top level, not under `extensions`."""
    formatted: dict[str, Any] = dict(error.formatted)
    extensions = dict(formatted.pop("extensions", {}) or {})
    if "type" in extensions:
        formatted = {"type": extensions.pop("type"), **formatted}
    if extensions:
        formatted["extensions"] = extensions
    return formatted


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _index(cursor: str) -> int:
    try:
        kind, version, number = base64.b64decode(cursor).decode().split(":")
        if kind != "cursor" or version != "v2":
            raise ValueError(cursor)
        return int(number)
    except ValueError:
        raise _error(
            f"`{cursor}` does not appear to be a valid cursor.", "INVALID_CURSOR_ARGUMENTS"
        ) from None


def connection(
    items: Sequence[Any],
    *,
    field: str,
    first: int | None,
    last: int | None,
    after: str | None,
    before: str | None,
) -> dict[str, Any]:
    """A Relay connection over `items`, with GitHub's pagination rules."""
    if first is None and last is None:
        raise _error(
            f"You must provide a `first` or `last` value to properly paginate the `{field}` "
            "connection.",
            "MISSING_PAGINATION_BOUNDARIES",
        )
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE:
            raise _error(
                f"Requesting {value} records on the `{field}` connection exceeds the `{name}` "
                f"limit of {MAX_PAGE} records.",
                "EXCESSIVE_PAGINATION",
            )
    start, end = 0, len(items)
    if after is not None:
        start = max(start, _index(after) + 1)
    if before is not None:
        end = min(end, _index(before))
    window = list(range(start, max(start, end)))
    if first is not None:
        window = window[:first]
    if last is not None:
        window = window[-last:] if last else []
    nodes = [items[i] for i in window]
    return {
        "nodes": nodes,
        "edges": [{"cursor": _cursor(i), "node": items[i]} for i in window],
        "totalCount": len(items),
        "pageInfo": {
            "startCursor": _cursor(window[0]) if window else None,
            "endCursor": _cursor(window[-1]) if window else None,
            "hasPreviousPage": bool(window) and window[0] > 0,
            "hasNextPage": bool(window) and window[-1] < len(items) - 1,
        },
    }


class GraphQLFake:
    """Resolves the schema above against a `FakeGitHub`'s state."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.text_limit = BLOB_TEXT_LIMIT
        # Every `object(expression:)` resolved: (repository full name, expression).
        self.objects_read: list[tuple[str, str]] = []

    # -------------------------------------------------------------- HTTP

    async def handle(self, request: web.Request) -> web.Response:
        try:
            payload = json.loads(await request.read() or b"null")
        except ValueError:
            return _problem(400, "Problems parsing JSON")
        if not isinstance(payload, dict):
            return _problem(400, "Problems parsing JSON")
        query = payload.get("query")
        if not isinstance(query, str) or not query.strip():
            message = "A query attribute must be specified and must be a string."
            return web.json_response({"errors": [{"message": message}]}, status=400)
        variables = payload.get("variables")
        if variables is not None and not isinstance(variables, dict):
            return web.json_response(
                {"errors": [{"message": "Variables are invalid JSON."}]}, status=400
            )
        operation = payload.get("operationName")
        if operation is not None and not isinstance(operation, str):
            return web.json_response(
                {"errors": [{"message": "operationName must be a string"}]}, status=400
            )
        return web.json_response(self.run(query, variables, operation))

    def run(
        self, query: str, variables: dict[str, Any] | None = None, operation: str | None = None
    ) -> dict[str, Any]:
        """The JSON GitHub answers (with HTTP 200) for this query."""
        try:
            document = parse(query)
        except GraphQLError as error:
            return {"errors": [_formatted(error)]}
        problems = validate(SCHEMA, document)
        if problems:
            return {"errors": [_formatted(problem) for problem in problems]}
        result = execute_sync(
            SCHEMA,
            document,
            root_value={"repository": self._repository},
            variable_values=variables,
            operation_name=operation,
        )
        answer: dict[str, Any] = {}
        if result.data is not None or not result.errors:
            answer["data"] = result.data
        if result.errors:
            answer["errors"] = [_formatted(error) for error in result.errors]
        return answer

    # -------------------------------------------------------------- resolvers

    def _repository(
        self, info: Any, owner: str, name: str, followRenames: bool = True
    ) -> dict[str, Any]:
        wanted = f"{owner}/{name}".lower()
        repo = next((r for r in self.fake.repos.values() if r.full_name.lower() == wanted), None)
        if repo is None:
            raise _error(
                f"Could not resolve to a Repository with the name '{owner}/{name}'.", "NOT_FOUND"
            )
        return {
            "id": base64.b64encode(f"Repository:{repo.full_name}".encode()).decode(),
            "name": repo.name,
            "nameWithOwner": repo.full_name,
            "isPrivate": False,
            "url": f"https://github.com/{repo.full_name}",
            "defaultBranchRef": {
                "name": repo.default_branch,
                "prefix": "refs/heads/",
                "target": _commit(repo.default_branch),
            },
            "object": lambda info, expression=None, oid=None: self._object(repo, expression, oid),
            "pullRequest": lambda info, number: self._pull(repo, number),
        }

    def _object(
        self, repo: FakeRepo, expression: str | None, oid: str | None
    ) -> dict[str, Any] | None:
        self.objects_read.append((repo.full_name, expression or f"oid:{oid}"))
        if expression is None:
            if oid is None:
                return None
            for text in repo.contents.values():
                if blob_sha(text) == oid:
                    return self._blob(text)
            return None
        ref, colon, path = expression.partition(":")
        if ref == "HEAD":
            ref = repo.default_branch
        if not colon:
            known = any(r == ref for r, _ in repo.contents) or ref == repo.default_branch
            return _commit(ref) if known else None
        path = path.strip("/")
        found = repo.contents.get((ref, path))
        if found is not None:
            return self._blob(found)
        if any(r == ref and p.startswith(path + "/") for r, p in repo.contents):
            return {"__typename": "Tree", **_oid(f"tree:{ref}:{path}")}
        return None

    def _blob(self, text: str) -> dict[str, Any]:
        data = text.encode()
        binary = b"\0" in data
        truncated = len(data) > self.text_limit
        shown = data[: self.text_limit].decode("utf-8", errors="ignore") if truncated else text
        sha = blob_sha(text)
        return {
            "__typename": "Blob",
            "oid": sha,
            "abbreviatedOid": sha[:7],
            "byteSize": len(data),
            "isBinary": binary,
            "isTruncated": truncated,
            "text": None if binary else shown,
        }

    def _pull(self, repo: FakeRepo, number: int) -> dict[str, Any]:
        pull = repo.pulls.get(number)
        if pull is None:
            raise _error(
                f"Could not resolve to a PullRequest with the number of {number}.", "NOT_FOUND"
            )
        return {
            "number": pull.number,
            "title": "Add a design doc",
            "isDraft": pull.draft,
            "headRefOid": pull.head_sha,
            "baseRefName": repo.default_branch,
            "labels": _paginated("labels", lambda: self._labels(repo, pull)),
            "commits": _paginated("commits", lambda: self._commits(repo, pull)),
            "reviews": _paginated("reviews", lambda: self._reviews(pull)),
        }

    def _labels(self, repo: FakeRepo, pull: FakePull) -> list[dict[str, Any]]:
        labels = []
        for name in pull.labels:
            known = repo.labels.get(name.lower()) or {}
            labels.append(
                {
                    "id": base64.b64encode(f"Label:{repo.full_name}:{name}".encode()).decode(),
                    "name": name,
                    "color": known.get("color", "ededed"),
                    "description": known.get("description"),
                }
            )
        return labels

    def _commits(self, repo: FakeRepo, pull: FakePull) -> list[dict[str, Any]]:
        """The pull request's commits, oldest first, at most GitHub's 250."""
        return [
            {
                "id": base64.b64encode(f"PullRequestCommit:{pull.number}:{sha}".encode()).decode(),
                "commit": self._commit_at(repo, sha),
            }
            for sha in pull.commits[:MAX_PULL_COMMITS]
        ]

    def _commit_at(self, repo: FakeRepo, sha: str) -> dict[str, Any]:
        return {
            "__typename": "Commit",
            "oid": sha,
            "abbreviatedOid": sha[:7],
            "message": f"commit {sha[:7]}",
            "file": lambda info, path: self._file(repo, sha, path),
        }

    def _file(self, repo: FakeRepo, sha: str, path: str) -> dict[str, Any]:
        """`Commit.file(path:)`: GitHub answers a path that is not there with an error
        of type NOT_FOUND (and `null`), not with `null` alone."""
        self.objects_read.append((repo.full_name, f"{sha}:{path} (file)"))
        path = path.strip("/")
        text = repo.contents.get((sha, path))
        name = path.rsplit("/", 1)[-1]
        if text is not None:
            blob = self._blob(text)
            return {
                "mode": 0o100644,
                "name": name,
                "object": blob,
                "oid": blob["oid"],
                "path": path,
                "size": blob["byteSize"],
                "type": "blob",
            }
        if any(r == sha and p.startswith(path + "/") for r, p in repo.contents):
            tree = {"__typename": "Tree", **_oid(f"tree:{sha}:{path}")}
            return {
                "mode": 0o40000,
                "name": name,
                "object": tree,
                "oid": tree["oid"],
                "path": path,
                "size": 0,
                "type": "tree",
            }
        raise _error(f"Could not resolve file for path '{path}'.", "NOT_FOUND")

    def _reviews(self, pull: FakePull) -> list[dict[str, Any]]:
        reviews = []
        for review in pull.reviews:
            review_id = review.get("id")
            comments = [
                {
                    "id": f"PRRC_{comment.get('id')}",
                    "databaseId": comment.get("id"),
                    "author": _actor(comment.get("user")),
                    "body": comment.get("body") or "",
                    "path": comment.get("path") or "",
                    "line": comment.get("line"),
                }
                for comment in pull.review_comments
                if comment.get("pull_request_review_id") == review_id
            ]
            reviews.append(
                {
                    "id": f"PRR_{review_id}",
                    "databaseId": review_id,
                    "author": _actor(review.get("user")),
                    "body": review.get("body") or "",
                    "state": review.get("state") or "COMMENTED",
                    "comments": _paginated("comments", _constant(comments)),
                }
            )
        return reviews


def _paginated(field: str, items: Callable[[], Sequence[Any]]) -> Callable[..., dict[str, Any]]:
    def resolve(
        info: Any,
        first: int | None = None,
        last: int | None = None,
        after: str | None = None,
        before: str | None = None,
        **filters: Any,
    ) -> dict[str, Any]:
        found = list(items())
        author = filters.get("author")
        if author is not None:
            found = [item for item in found if (item.get("author") or {}).get("login") == author]
        states = filters.get("states")
        if states is not None:
            found = [item for item in found if item.get("state") in states]
        return connection(found, field=field, first=first, last=last, after=after, before=before)

    return resolve


def _constant(items: list[dict[str, Any]]) -> Callable[[], list[dict[str, Any]]]:
    return lambda: items


def _actor(user: dict[str, Any] | None) -> dict[str, Any] | None:
    """REST `user` → GraphQL `Actor`; a bot's login loses its `[bot]` suffix there."""
    if not user:
        return None
    login = str(user.get("login") or "")
    if user.get("type") == "Bot":
        return {"__typename": "Bot", "login": login.removesuffix("[bot]")}
    return {"__typename": "User", "login": login}


def blob_sha(text: str) -> str:
    """Git's blob id, as GitHub reports it (same as fakegithub.blob_sha)."""
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _oid(seed: str) -> dict[str, str]:
    sha = hashlib.sha1(seed.encode()).hexdigest()
    return {"oid": sha, "abbreviatedOid": sha[:7]}


def _commit(ref: str) -> dict[str, Any]:
    return {"__typename": "Commit", "message": f"head of {ref}", **_oid(f"commit:{ref}")}


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"message": message, "documentation_url": DOCS}, status=status)
