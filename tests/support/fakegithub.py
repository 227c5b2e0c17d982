"""An in-process fake of the parts of GitHub's REST API the app uses.

It records every request and refuses what GitHub refuses: missing, wrong or
expired credentials, malformed JWTs, Check Run fields out of GitHub's enums or
size limits, more than 50 annotations in one request, and review comments on
lines that are not part of the pull request's diff (422, with GitHub's own
wording, which does not say which comment was wrong).

POST /graphql runs a slice of GitHub's GraphQL schema through graphql-core
(see fakegraphql.py), so the app's queries are parsed and validated for real.

Faults can be queued (`fail`) to return a status once or several times before
the real handler answers again: 5xx, rate limits, and so on.

Served as Enterprise Server (`enterprise_app`), it also has the web pages where an
app is registered from a manifest: the form post is validated as GitHub does, the
click on "Create GitHub App" is taken as made, and the browser is sent back to the
manifest's `redirect_url` with a one-time code, which POST
/app-manifests/{code}/conversions exchanges for a new app whose key then signs JWTs
the fake accepts.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import itertools
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from yarl import URL

from tests.support.fakegraphql import GraphQLFake

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

BOT_USER = {"login": "product-review[bot]", "id": 900, "type": "Bot"}
CHECK_STATUSES = {"queued", "in_progress", "completed", "waiting", "requested", "pending"}
CHECK_CONCLUSIONS = {
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
}
ANNOTATION_LEVELS = {"notice", "warning", "failure"}
REVIEW_EVENTS = {"APPROVE", "REQUEST_CHANGES", "COMMENT"}
REACTIONS = {"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}
TEXT_LIMIT = 65_535
TITLE_LIMIT = 255
JWT_MAX_LIFETIME = 600
CONTENTS_JSON_LIMIT = 1024 * 1024
# The keys of an app manifest GitHub reads, and the longest name it takes.
MANIFEST_KEYS = {
    "name",
    "url",
    "description",
    "hook_attributes",
    "redirect_url",
    "callback_urls",
    "setup_url",
    "public",
    "default_events",
    "default_permissions",
    "request_oauth_on_install",
    "setup_on_update",
}
APP_NAME_LIMIT = 34
PERMISSION_LEVELS = {"read", "write", "admin"}
# The app a request's JWT was issued by, once verified.
APP_ID_KEY = web.RequestKey("app_id", str)


def right_side_lines(patch: str | None) -> set[int]:
    """Lines of the new file GitHub lets a review comment sit on (its own reading)."""
    lines: set[int] = set()
    if not patch:
        return lines
    new_line = 0
    old_left = new_left = 0
    for raw in patch.split("\n"):
        if old_left <= 0 and new_left <= 0:
            match = re.match(r"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", raw)
            if match:
                old_left = int(match.group(1) or 1)
                new_line = int(match.group(2))
                new_left = int(match.group(3) or 1)
            continue
        if raw.startswith("-"):
            old_left -= 1
        elif raw.startswith("\\"):
            continue
        else:
            lines.add(new_line)
            new_line += 1
            new_left -= 1
            if not raw.startswith("+"):
                old_left -= 1
    return lines


def added_file_patch(text: str) -> str:
    """The patch GitHub shows for a newly added file."""
    body = text[:-1] if text.endswith("\n") else text
    lines = body.split("\n")
    patch = f"@@ -0,0 +1,{len(lines)} @@\n" + "\n".join("+" + line for line in lines)
    if not text.endswith("\n"):
        patch += "\n\\ No newline at end of file"
    return patch


def blob_sha(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    times: int


@dataclass
class FakeFile:
    filename: str
    status: str
    patch: str | None
    previous_filename: str | None = None


@dataclass
class FakePull:
    number: int
    head_sha: str
    head_ref: str = "feature"
    draft: bool = False
    author: str = "octocat"
    files: list[FakeFile] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    review_comments: list[dict[str, Any]] = field(default_factory=list)
    # Lines GitHub refuses even though the listed patch has them (e.g. the head
    # moved between listing files and posting the review).
    unresolvable: set[tuple[str, int]] = field(default_factory=set)
    # The conversation (the pull request as an issue).
    issue_comments: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    reactions: dict[int, list[str]] = field(default_factory=dict)  # comment id -> contents
    # The pull request's commits, oldest first (one per push here); the last is the head.
    commits: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.commits:
            self.commits = [self.head_sha]


@dataclass
class FakeRepo:
    owner: str
    name: str
    default_branch: str = "main"
    contents: dict[tuple[str, str], str] = field(default_factory=dict)  # (ref, path) -> text
    pulls: dict[int, FakePull] = field(default_factory=dict)
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-cased name -> label
    # The app's installation on the repository (GET /repos/{owner}/{repo}/installation);
    # None: the app is not installed there.
    installation_id: int | None = 42

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class FakeGitHub:
    def __init__(self, *, app_id: str, public_key: Any, clock: Callable[[], float] = time.time):
        self.app_id = app_id
        self.public_key = public_key
        self.clock = clock
        self.url = ""  # set once the server listens (includes `prefix`)
        # GitHub Enterprise Server serves the API under /api/v3; mount the fake's
        # app under the same prefix to test that (recorded paths exclude it).
        self.prefix = ""
        self.requests: list[Recorded] = []
        self.repos: dict[str, FakeRepo] = {}
        self.tokens: dict[str, tuple[int, float]] = {}  # token -> (installation, expires_at)
        self.token_lifetime = 3600.0
        self._faults: list[Fault] = []
        self._stalls: list[tuple[str, re.Pattern[str], asyncio.Event]] = []
        self._ids = itertools.count(1000)
        self.graphql = GraphQLFake(self)  # POST /graphql (fakegraphql.py)
        # Every app whose JWTs are accepted: this one, and those registered from a
        # manifest (app id -> public key).
        self.app_keys: dict[str, Any] = {app_id: public_key}
        # Codes issued by the "new app" page, not yet converted: code -> the app.
        self.manifest_codes: dict[str, dict[str, Any]] = {}
        # Apps registered from a manifest, by id: what the conversion answered.
        self.registered_apps: dict[int, dict[str, Any]] = {}
        self.app = self._build_app()

    # ------------------------------------------------------------------ setup

    def add_repo(self, owner: str = "acme", name: str = "widgets", **kwargs: Any) -> FakeRepo:
        repo = FakeRepo(owner=owner, name=name, **kwargs)
        self.repos[repo.full_name] = repo
        return repo

    def add_pull(
        self,
        repo: FakeRepo,
        *,
        number: int = 7,
        head_sha: str | None = None,
        draft: bool = False,
        added: dict[str, str] | None = None,
        modified: dict[str, tuple[str, str]] | None = None,  # path -> (text at head, patch)
        removed: list[str] | None = None,
        renamed: dict[str, tuple[str, str, str]] | None = None,  # new -> (old, text, patch)
    ) -> FakePull:
        head_sha = head_sha or secrets.token_hex(20)
        pull = FakePull(number=number, head_sha=head_sha, draft=draft)
        for path, text in (added or {}).items():
            repo.contents[(head_sha, path)] = text
            pull.files.append(FakeFile(path, "added", added_file_patch(text)))
        for path, (text, patch) in (modified or {}).items():
            repo.contents[(head_sha, path)] = text
            pull.files.append(FakeFile(path, "modified", patch))
        for path in removed or []:
            pull.files.append(FakeFile(path, "removed", None))
        for new, (old, text, patch) in (renamed or {}).items():
            repo.contents[(head_sha, new)] = text
            pull.files.append(FakeFile(new, "renamed", patch, previous_filename=old))
        repo.pulls[number] = pull
        return pull

    def push(self, repo: FakeRepo, pull: FakePull, *, modified: dict[str, tuple[str, str]]) -> str:
        """A new head for `pull`: files keep their content unless `modified` (path ->
        (text, patch)) replaces it. Returns the new head SHA."""
        old_head, new_head = pull.head_sha, secrets.token_hex(20)
        for (ref, path), text in list(repo.contents.items()):
            if ref == old_head:
                repo.contents[(new_head, path)] = text
        by_name = {item.filename: item for item in pull.files}
        for path, (text, patch) in modified.items():
            repo.contents[(new_head, path)] = text
            status = by_name[path].status if path in by_name else "modified"
            by_name[path] = FakeFile(path, status, patch)
        pull.files = list(by_name.values())
        pull.head_sha = new_head
        pull.commits.append(new_head)
        return new_head

    def fail(
        self,
        method: str,
        path_pattern: str,
        *,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        message: str = "fault injected",
    ) -> None:
        self._faults.append(
            Fault(
                method.upper(),
                re.compile(path_pattern),
                status,
                headers or {},
                {"message": message},
                times,
            )
        )

    def stall(self, method: str, path_pattern: str) -> asyncio.Event:
        """Matching requests wait until the returned event is set."""
        gate = asyncio.Event()
        self._stalls.append((method.upper(), re.compile(path_pattern), gate))
        return gate

    def expire_tokens(self) -> None:
        """Every installation token issued so far stops working (GitHub answers 401)."""
        self.tokens = {token: (inst, 0.0) for token, (inst, _) in self.tokens.items()}

    def calls(self, method: str | None = None, path: str = "") -> list[Recorded]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper()) and path in r.path
        ]

    def texts_requested(self) -> list[list[str]]:
        """Per GraphQL request that asked for documents' texts (the review's context
        request, or one for texts alone), the `REF:PATH` expressions it asked for, in
        the order the request named them."""
        asked: list[list[str]] = []
        for r in self.calls("POST", "/graphql"):
            variables = r.body["variables"]
            names = [k for k in variables if k[:1] == "e" and k[1:].isdigit()]
            if not names:
                continue
            names.sort(key=lambda name: int(name[1:]))
            asked.append([variables[name] for name in names])
        return asked

    def api_calls(self) -> list[Recorded]:
        return list(self.requests)

    @property
    def web_url(self) -> str:
        """Where its web pages are: Enterprise Server's host, the API's base without
        /api/v3."""
        return self.url.removesuffix(self.prefix)

    # ------------------------------------------------------------------ payloads

    def repository_payload(self, repo: FakeRepo) -> dict[str, Any]:
        return {
            "id": 1,
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": {"login": repo.owner, "type": "Organization"},
            "url": f"{self.url}/repos/{repo.full_name}",
            "default_branch": repo.default_branch,
            "private": False,
        }

    def pull_payload(self, repo: FakeRepo, pull: FakePull) -> dict[str, Any]:
        base_url = f"{self.url}/repos/{repo.full_name}"
        repo_summary = {
            "id": 1,
            "url": base_url,
            "name": repo.name,
            "full_name": repo.full_name,
            "default_branch": repo.default_branch,
        }
        return {
            "url": f"{base_url}/pulls/{pull.number}",
            "number": pull.number,
            "state": "open",
            "draft": pull.draft,
            "title": "Add a design doc",
            "user": {"login": pull.author, "type": "User"},
            "labels": [{"name": name} for name in pull.labels],
            "head": {"ref": pull.head_ref, "sha": pull.head_sha, "repo": repo_summary},
            "base": {"ref": repo.default_branch, "sha": "b" * 40, "repo": repo_summary},
            "review_comments_url": f"{base_url}/pulls/{pull.number}/comments",
            "comments_url": f"{base_url}/issues/{pull.number}/comments",
        }

    def pull_request_event(
        self, repo: FakeRepo, pull: FakePull, action: str, installation_id: int = 42
    ) -> dict[str, Any]:
        return {
            "action": action,
            "number": pull.number,
            "pull_request": self.pull_payload(repo, pull),
            "repository": self.repository_payload(repo),
            "installation": {"id": installation_id},
            "sender": {"login": pull.author, "type": "User"},
        }

    def issue_comment_event(
        self,
        repo: FakeRepo,
        pull: FakePull | None,
        body: str,
        *,
        action: str = "created",
        user: str = "octocat",
        user_type: str = "User",
        association: str = "OWNER",
        issue_number: int | None = None,
        installation_id: int = 42,
    ) -> dict[str, Any]:
        """`issue_comment` on a pull request (or, with `pull=None`, on a plain issue)."""
        number = pull.number if pull is not None else (issue_number or 99)
        base_url = f"{self.url}/repos/{repo.full_name}"
        comment_id = next(self._ids)
        issue: dict[str, Any] = {
            "number": number,
            "url": f"{base_url}/issues/{number}",
            "comments_url": f"{base_url}/issues/{number}/comments",
            "labels": [{"name": name} for name in (pull.labels if pull else [])],
            "user": {"login": pull.author if pull else "someone", "type": "User"},
            "state": "open",
        }
        if pull is not None:
            issue["pull_request"] = {"url": f"{base_url}/pulls/{number}"}
        return {
            "action": action,
            "issue": issue,
            "comment": {
                "id": comment_id,
                "url": f"{base_url}/issues/comments/{comment_id}",
                "body": body,
                "user": {"login": user, "type": user_type},
                "author_association": association,
            },
            "repository": self.repository_payload(repo),
            "installation": {"id": installation_id},
            "sender": {"login": user, "type": user_type},
        }

    def _pull_reference(self, repo: FakeRepo, pull: FakePull) -> dict[str, Any]:
        """The short form of a pull request that check suite and check run events carry."""
        pr = self.pull_payload(repo, pull)
        return {"url": pr["url"], "number": pr["number"], "head": pr["head"], "base": pr["base"]}

    def check_suite_event(
        self, repo: FakeRepo, pull: FakePull, action: str, installation_id: int = 42
    ) -> dict[str, Any]:
        return {
            "action": action,
            "check_suite": {
                "id": next(self._ids),
                "head_sha": pull.head_sha,
                "head_branch": pull.head_ref,
                "pull_requests": [self._pull_reference(repo, pull)],
            },
            "repository": self.repository_payload(repo),
            "installation": {"id": installation_id},
        }

    def check_run_event(
        self, repo: FakeRepo, pull: FakePull, action: str, installation_id: int = 42, **extra: Any
    ) -> dict[str, Any]:
        return {
            "action": action,
            "check_run": {
                "id": next(self._ids),
                "name": "Product review",
                "head_sha": pull.head_sha,
                "pull_requests": [self._pull_reference(repo, pull)],
            },
            "repository": self.repository_payload(repo),
            "installation": {"id": installation_id},
            **extra,
        }

    # ------------------------------------------------------------------ server

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._record, self._faults_middleware, self._auth])
        r = app.router
        r.add_get("/app", self._get_app)
        r.add_post("/app-manifests/{code}/conversions", self._convert_manifest)
        r.add_post("/app/installations/{installation}/access_tokens", self._access_token)
        repo = "/repos/{owner}/{repo}"
        r.add_get(repo + "/installation", self._repository_installation)
        r.add_get(repo + "/pulls/{number}", self._get_pull)
        r.add_get(repo + "/pulls/{number}/files", self._list_files)
        r.add_get(repo + "/pulls/{number}/reviews", self._list_reviews)
        r.add_post(repo + "/pulls/{number}/reviews", self._create_review)
        r.add_get(repo + "/pulls/{number}/comments", self._list_review_comments)
        r.add_get(repo + "/contents/{path:.+}", self._get_contents)
        r.add_post(repo + "/check-runs", self._create_check_run)
        r.add_post(repo + "/issues/{number}/comments", self._create_issue_comment)
        r.add_post(repo + "/issues/comments/{id}/reactions", self._create_reaction)
        r.add_post(repo + "/labels", self._create_label)
        r.add_post(repo + "/issues/{number}/labels", self._add_labels)
        r.add_delete(repo + "/issues/{number}/labels/{name}", self._remove_label)
        r.add_patch(repo + "/check-runs/{id}", self._update_check_run)
        r.add_post("/graphql", self.graphql.handle)
        return app

    def enterprise_app(self) -> web.Application:
        """The fake as GitHub Enterprise Server serves it: REST under /api/v3 and
        GraphQL at /api/graphql (set `url` to the server's /api/v3 address)."""
        self.prefix = "/api/v3"
        root = web.Application()
        root.add_subapp("/api/v3", self.app)
        graphql = web.Application(middlewares=[self._record, self._faults_middleware, self._auth])
        graphql.router.add_post("/graphql", self.graphql.handle)
        root.add_subapp("/api", graphql)
        # The web pages, at the host's root as on Enterprise Server.
        root.router.add_post("/settings/apps/new", self._new_app_page)
        root.router.add_post("/organizations/{org}/settings/apps/new", self._new_app_page)
        return root

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = await request.json() if raw else None
            except ValueError:
                body = raw
        record = Recorded(
            request.method,
            # Recorded without the Enterprise prefix; its GraphQL endpoint as /graphql.
            "/graphql"
            if self.prefix and request.path == "/api/graphql"
            else request.path.removeprefix(self.prefix),
            dict(request.query),
            {k.lower(): v for k, v in request.headers.items()},
            body,
        )
        self.requests.append(record)
        try:
            response = await handler(request)
        except web.HTTPException as error:
            record.status = error.status
            raise
        record.status = response.status
        return response

    @web.middleware
    async def _faults_middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        for fault in self._faults:
            if (
                fault.times > 0
                and fault.method == request.method
                and fault.path.search(request.path)
            ):
                fault.times -= 1
                if fault.status == 0:  # the connection drops without an answer
                    assert request.transport is not None
                    request.transport.close()
                    return web.Response()
                return web.json_response(fault.body, status=fault.status, headers=fault.headers)
        for method, pattern, gate in self._stalls:
            if method == request.method and pattern.search(request.path):
                await gate.wait()
        return await handler(request)

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        authorization = request.headers.get("Authorization", "")
        scheme, _, credential = authorization.partition(" ")
        path = request.path.removeprefix(self.prefix)
        if re.fullmatch(r"/app-manifests/[^/]+/conversions", path):
            # GitHub takes the code alone: it is the credential.
            return await handler(request)
        # The app's own endpoints take its JWT; so does finding its installation.
        if (
            path == "/app"
            or path.startswith("/app/")
            or re.fullmatch(r"/repos/[^/]+/[^/]+/installation", path)
        ):
            if scheme.lower() != "bearer" or not credential:
                return _error(401, "A JSON web token could not be decoded")
            problem = self._jwt_problem(credential)
            if problem:
                return _error(401, problem)
            request[APP_ID_KEY] = self._unverified_issuer(credential)
        else:
            if scheme.lower() not in ("token", "bearer") or not credential:
                return _error(401, "Requires authentication")
            entry = self.tokens.get(credential)
            if entry is None or entry[1] <= self.clock():
                return _error(401, "Bad credentials")
        return await handler(request)

    @staticmethod
    def _unverified_issuer(token: str) -> str:
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return ""
        return str(claims.get("iss", ""))

    def _jwt_problem(self, token: str) -> str | None:
        # The issuer picks the key; the signature then proves it.
        key = self.app_keys.get(self._unverified_issuer(token), self.public_key)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                options={
                    "require": ["iat", "exp", "iss"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            return "A JSON web token could not be decoded"
        now = self.clock()
        if str(claims["iss"]) not in self.app_keys:
            return "Integration not found"
        if claims["exp"] <= now:
            return "'Expiration time' claim ('exp') must be a numeric value in the future"
        if claims["iat"] > now + 1:
            return "'Issued at' claim ('iat') must be an Integer representing the time in the past"
        if claims["exp"] - claims["iat"] > JWT_MAX_LIFETIME:
            return "'Expiration time' claim ('exp') is too far in the future"
        return None

    # ------------------------------------------------------------------ handlers

    def _repo(self, request: web.Request) -> FakeRepo:
        full_name = f"{request.match_info['owner']}/{request.match_info['repo']}"
        if full_name not in self.repos:
            raise _not_found()
        return self.repos[full_name]

    def _pull(self, request: web.Request) -> tuple[FakeRepo, FakePull]:
        repo = self._repo(request)
        number = int(request.match_info["number"])
        if number not in repo.pulls:
            raise _not_found()
        return repo, repo.pulls[number]

    async def _get_app(self, request: web.Request) -> web.Response:
        """The authenticated app, as GET /app answers it (the fields the app reads)."""
        app_id = int(request.get(APP_ID_KEY) or self.app_id)
        registered = self.registered_apps.get(app_id)
        if registered is not None:
            return web.json_response(
                {"id": app_id, "slug": registered["slug"], "name": registered["name"]}
            )
        return web.json_response({"id": app_id, "slug": "product-review", "name": "product-review"})

    async def _new_app_page(self, request: web.Request) -> web.StreamResponse:
        """The "Register new GitHub App" page a manifest form posts to. GitHub shows
        the settings for the user to name the app and click Create; the fake takes
        that click as made and redirects as GitHub then does."""
        form = await request.post()
        self.requests.append(
            Recorded(
                request.method,
                request.path,
                dict(request.query),
                {k.lower(): v for k, v in request.headers.items()},
                {key: str(value) for key, value in form.items()},
            )
        )
        raw = form.get("manifest")
        if not isinstance(raw, str) or not raw:
            return _web_error("The manifest parameter is missing.")
        try:
            manifest = json.loads(raw)
        except ValueError:
            return _web_error("The manifest is not valid JSON.")
        problem = manifest_problem(manifest)
        if problem is not None:
            return _web_error(f"Invalid GitHub App configuration: {problem}.")
        code = secrets.token_hex(10)
        org = request.match_info.get("org")
        self.manifest_codes[code] = {
            "manifest": manifest,
            "owner": {"login": org or "octocat", "type": "Organization" if org else "User"},
        }
        query: dict[str, str] = {"code": code}
        if "state" in request.query:
            query["state"] = request.query["state"]
        target = URL(manifest["redirect_url"]).update_query(query)
        self.requests[-1].status = 302
        raise web.HTTPFound(str(target))

    async def _convert_manifest(self, request: web.Request) -> web.Response:
        """POST /app-manifests/{code}/conversions: the app, once per code."""
        registration = self.manifest_codes.pop(request.match_info["code"], None)
        if registration is None:
            raise _not_found()
        manifest = registration["manifest"]
        name = manifest.get("name") or "product-review"
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "app"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,  # GitHub's "RSA PRIVATE KEY"
            serialization.NoEncryption(),
        ).decode()
        app_id = next(self._ids)
        self.app_keys[str(app_id)] = key.public_key()
        app = {
            "id": app_id,
            "slug": slug,
            "node_id": f"A_{app_id}",
            "owner": registration["owner"],
            "name": name,
            "description": manifest.get("description") or "",
            "external_url": manifest["url"],
            "html_url": f"{self.web_url}/github-apps/{slug}",
            "permissions": manifest.get("default_permissions") or {},
            "events": manifest.get("default_events") or [],
            "client_id": "Iv1." + secrets.token_hex(8),
            "client_secret": secrets.token_hex(20),
            "webhook_secret": secrets.token_hex(20),
            "pem": pem,
        }
        self.registered_apps[app_id] = app
        return web.json_response(app, status=201)

    async def _access_token(self, request: web.Request) -> web.Response:
        token = "ghs_" + secrets.token_hex(16)
        expires_at = self.clock() + self.token_lifetime
        self.tokens[token] = (int(request.match_info["installation"]), expires_at)
        expires = datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return web.json_response({"token": token, "expires_at": expires}, status=201)

    async def _repository_installation(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        if repo.installation_id is None:
            raise _not_found()
        return web.json_response(
            {
                "id": repo.installation_id,
                "app_id": int(self.app_id),
                "account": {"login": repo.owner},
            }
        )

    async def _get_pull(self, request: web.Request) -> web.Response:
        repo, pull = self._pull(request)
        return web.json_response(self.pull_payload(repo, pull))

    def _paginate(self, request: web.Request, items: list[Any]) -> web.Response:
        per_page = min(int(request.query.get("per_page", "30")), 100)
        page = int(request.query.get("page", "1"))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            path = request.path.removeprefix(self.prefix)
            next_url = f"{self.url}{path}?per_page={per_page}&page={page + 1}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        return web.json_response(chunk, headers=headers)

    async def _list_files(self, request: web.Request) -> web.Response:
        repo, pull = self._pull(request)
        items = []
        for item in pull.files[:3000]:  # GitHub lists at most 3,000 files
            text = repo.contents.get((pull.head_sha, item.filename))
            entry: dict[str, Any] = {
                "sha": blob_sha(text) if text is not None else None,
                "filename": item.filename,
                "status": item.status,
                "contents_url": (
                    f"{self.url}/repos/{repo.full_name}/contents/"
                    f"{quote(item.filename)}?ref={pull.head_sha}"
                ),
            }
            if item.patch is not None:
                entry["patch"] = item.patch
            if item.previous_filename:
                entry["previous_filename"] = item.previous_filename
            items.append(entry)
        return self._paginate(request, items)

    async def _get_contents(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        path = request.match_info["path"]
        ref = request.query.get("ref", repo.default_branch)
        text = repo.contents.get((ref, path))
        if text is None:
            raise _not_found()
        if "raw" in request.headers.get("Accept", ""):
            return web.Response(text=text, content_type="text/plain", charset="utf-8")
        size = len(text.encode())
        too_big = size > CONTENTS_JSON_LIMIT
        return web.json_response(
            {
                "type": "file",
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "sha": blob_sha(text),
                "size": size,
                "url": f"{self.url}/repos/{repo.full_name}/contents/{quote(path)}?ref={ref}",
                "encoding": "none" if too_big else "base64",
                "content": "" if too_big else base64.b64encode(text.encode()).decode(),
            }
        )

    async def _list_reviews(self, request: web.Request) -> web.Response:
        _, pull = self._pull(request)
        return self._paginate(request, pull.reviews)

    async def _list_review_comments(self, request: web.Request) -> web.Response:
        _, pull = self._pull(request)
        return self._paginate(request, pull.review_comments)

    async def _create_review(self, request: web.Request) -> web.Response:
        _, pull = self._pull(request)
        data = await request.json()
        event = data.get("event")
        if event is not None and event not in REVIEW_EVENTS:
            return _invalid("event", f"{event!r} is not a valid review event")
        body = data.get("body") or ""
        if len(body) > TEXT_LIMIT + 1:
            return _invalid("body", "is too long (maximum is 65536 characters)")
        if event in ("REQUEST_CHANGES", "COMMENT") and not body and not data.get("comments"):
            return _invalid("body", "must be present for this event")
        files = {item.filename: item for item in pull.files}
        for comment in data.get("comments") or []:
            if set(comment) - {"path", "line", "side", "body", "start_line", "start_side"}:
                return _invalid("comments", "contain unknown fields")
            if comment.get("side", "RIGHT") not in ("LEFT", "RIGHT"):
                return _invalid("side", "is not LEFT or RIGHT")
            if not isinstance(comment.get("body"), str) or len(comment["body"]) > TEXT_LIMIT + 1:
                return _invalid("body", "is missing or too long")
            item = files.get(comment.get("path"))
            line = comment.get("line")
            if (
                item is None
                or not isinstance(line, int)
                or line not in right_side_lines(item.patch)
                or (item.filename, line) in pull.unresolvable
            ):
                # GitHub's wording; it does not say which comment is wrong.
                return web.json_response(
                    {
                        "message": "Unprocessable Entity",
                        "errors": ["Pull request review thread line must be part of the diff"],
                        "documentation_url": "https://docs.github.com/rest/pulls/reviews",
                    },
                    status=422,
                )
        review_id = next(self._ids)
        review = {
            "id": review_id,
            "user": BOT_USER,
            "body": body,
            "state": "COMMENTED",
            "commit_id": data.get("commit_id") or pull.head_sha,
        }
        pull.reviews.append(review)
        for comment in data.get("comments") or []:
            pull.review_comments.append(
                {
                    "id": next(self._ids),
                    "pull_request_review_id": review_id,
                    "user": BOT_USER,
                    "path": comment["path"],
                    "line": comment["line"],
                    "side": comment.get("side", "RIGHT"),
                    "body": comment["body"],
                }
            )
        return web.json_response(review)

    def _check_problem(self, data: dict[str, Any], *, creating: bool) -> str | None:
        if creating:
            if not isinstance(data.get("name"), str) or not data["name"]:
                return "name is required"
            if not re.fullmatch(r"[0-9a-f]{40}", str(data.get("head_sha", ""))):
                return "head_sha is not a commit SHA"
        status = data.get("status")
        if status is not None and status not in CHECK_STATUSES:
            return f"status {status!r} is not one of {sorted(CHECK_STATUSES)}"
        conclusion = data.get("conclusion")
        if conclusion is not None and conclusion not in CHECK_CONCLUSIONS:
            return f"conclusion {conclusion!r} is not one of {sorted(CHECK_CONCLUSIONS)}"
        if status == "completed" and conclusion is None:
            return "conclusion is required when status is completed"
        output = data.get("output")
        if output is not None:
            if not isinstance(output.get("title"), str) or not isinstance(
                output.get("summary"), str
            ):
                return "output needs a title and a summary"
            if len(output["title"]) > TITLE_LIMIT:
                return "output.title is too long"
            if len(output["summary"].encode()) > TEXT_LIMIT:
                return "output.summary exceeds a maximum bytesize of 65535"
            if len(output.get("text", "").encode()) > TEXT_LIMIT:
                return "output.text exceeds a maximum bytesize of 65535"
            annotations = output.get("annotations") or []
            if len(annotations) > 50:
                return "output.annotations: at most 50 per request"
            for annotation in annotations:
                for key in ("path", "start_line", "end_line", "annotation_level", "message"):
                    if key not in annotation:
                        return f"annotation is missing {key}"
                if annotation["annotation_level"] not in ANNOTATION_LEVELS:
                    return f"annotation_level {annotation['annotation_level']!r} is invalid"
                if annotation["end_line"] < annotation["start_line"]:
                    return "annotation end_line is before start_line"
                if len(annotation.get("title", "")) > TITLE_LIMIT:
                    return "annotation title is too long"
        actions = data.get("actions") or []
        if len(actions) > 3:
            return "at most 3 actions"
        for action in actions:
            if (
                len(action.get("label", "")) > 20
                or len(action.get("description", "")) > 40
                or len(action.get("identifier", "")) > 20
            ):
                return "action label/description/identifier too long"
        return None

    async def _create_check_run(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        data = await request.json()
        problem = self._check_problem(data, creating=True)
        if problem:
            return _invalid("check_run", problem)
        run_id = next(self._ids)
        run = {
            "id": run_id,
            "url": f"{self.url}/repos/{repo.full_name}/check-runs/{run_id}",
            "name": data["name"],
            "head_sha": data["head_sha"],
            "status": data.get("status", "queued"),
            "conclusion": data.get("conclusion"),
            "external_id": data.get("external_id"),
            "output": {**(data.get("output") or {}), "annotations": []},
            "actions": data.get("actions") or [],
            "updates": 0,
        }
        if data.get("conclusion"):
            run["status"] = "completed"
        run["output"]["annotations"] = list((data.get("output") or {}).get("annotations", []))
        repo.check_runs[run_id] = run
        return web.json_response(run, status=201)

    async def _update_check_run(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        run = repo.check_runs.get(int(request.match_info["id"]))
        if run is None:
            raise _not_found()
        data = await request.json()
        problem = self._check_problem(data, creating=False)
        if problem:
            return _invalid("check_run", problem)
        run["updates"] += 1
        for key in ("status", "conclusion"):
            if key in data:
                run[key] = data[key]
        if data.get("conclusion"):
            run["status"] = "completed"
        if "actions" in data:
            run["actions"] = data["actions"]
        if "output" in data:
            annotations = run["output"]["annotations"] + list(data["output"].get("annotations", []))
            run["output"] = {**data["output"], "annotations": annotations}
        return web.json_response(run)

    async def _create_issue_comment(self, request: web.Request) -> web.Response:
        _, pull = self._pull(request)
        data = await request.json()
        body = data.get("body")
        if not isinstance(body, str) or not body or len(body) > TEXT_LIMIT + 1:
            return _invalid("body", "is missing or too long (maximum is 65536 characters)")
        comment = {"id": next(self._ids), "user": BOT_USER, "body": body}
        pull.issue_comments.append(comment)
        return web.json_response(comment, status=201)

    async def _create_reaction(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        content = (await request.json()).get("content")
        if content not in REACTIONS:
            return _invalid("content", f"{content!r} is not a valid reaction")
        comment_id = int(request.match_info["id"])
        # Reactions are recorded on every pull request of the repository: the fake
        # does not track which issue a comment id belongs to.
        for pull in repo.pulls.values():
            pull.reactions.setdefault(comment_id, []).append(content)
        return web.json_response({"id": next(self._ids), "content": content}, status=201)

    async def _create_label(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        data = await request.json()
        name, color = data.get("name"), data.get("color", "ededed")
        if not isinstance(name, str) or not name.strip() or len(name) > 50:
            return _invalid("name", "is missing or too long")
        if not isinstance(color, str) or not re.fullmatch(r"[0-9a-fA-F]{6}", color):
            return _invalid("color", "is invalid (six hex digits, no '#')")
        if len(data.get("description") or "") > 100:
            return _invalid("description", "is too long (maximum is 100 characters)")
        if name.lower() in repo.labels:
            # GitHub's answer for a duplicate name (names are case-insensitive).
            return web.json_response(
                {
                    "message": "Validation Failed",
                    "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}],
                },
                status=422,
            )
        label = {**data, "id": next(self._ids), "name": name, "color": color.lower()}
        repo.labels[name.lower()] = label
        return web.json_response(label, status=201)

    async def _add_labels(self, request: web.Request) -> web.Response:
        repo, pull = self._pull(request)
        labels = (await request.json()).get("labels")
        if not isinstance(labels, list) or not all(isinstance(x, str) and x for x in labels):
            return _invalid("labels", "must be a list of names")
        for name in labels:
            # GitHub creates an unknown label on the fly, grey and without a description.
            repo.labels.setdefault(name.lower(), {"name": name, "color": "ededed"})
            if name not in pull.labels:
                pull.labels.append(name)
        return web.json_response([{"name": name} for name in pull.labels])

    async def _remove_label(self, request: web.Request) -> web.Response:
        _, pull = self._pull(request)
        name = request.match_info["name"]
        if name not in pull.labels:
            return _error(404, "Label does not exist")
        pull.labels.remove(name)
        return web.json_response([{"name": label} for label in pull.labels])


def _error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"message": message, "documentation_url": "https://docs.github.com/rest"}, status=status
    )


def _invalid(field_name: str, message: str) -> web.Response:
    return web.json_response(
        {
            "message": "Validation Failed",
            "errors": [
                {"resource": "Fake", "field": field_name, "code": "custom", "message": message}
            ],
        },
        status=422,
    )


def _is_web_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        url = URL(value)
    except ValueError:
        return False
    return url.scheme in ("http", "https") and bool(url.host)


def manifest_problem(manifest: object) -> str | None:
    """What GitHub would refuse in a manifest (its documented parameters), or None."""
    if not isinstance(manifest, dict):
        return "the manifest must be a JSON object"
    unknown = set(manifest) - MANIFEST_KEYS
    if unknown:
        return f"unknown manifest keys {sorted(unknown)}"
    if not _is_web_url(manifest.get("url")):
        return "url is required (the app's homepage)"
    if not _is_web_url(manifest.get("redirect_url")):
        return "redirect_url is required to send the code back"
    name = manifest.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > APP_NAME_LIMIT):
        return f"name must be a text of at most {APP_NAME_LIMIT} characters"
    for key in ("description", "setup_url"):
        if key in manifest and not isinstance(manifest[key], str):
            return f"{key} must be a text"
    for key in ("public", "request_oauth_on_install", "setup_on_update"):
        if key in manifest and not isinstance(manifest[key], bool):
            return f"{key} must be true or false"
    hook = manifest.get("hook_attributes")
    if hook is not None:
        if not isinstance(hook, dict) or set(hook) - {"url", "active"}:
            return "hook_attributes takes url and active"
        if not _is_web_url(hook.get("url")):
            return "hook_attributes.url must be an http(s) URL"
        if "active" in hook and not isinstance(hook["active"], bool):
            return "hook_attributes.active must be true or false"
    events = manifest.get("default_events", [])
    if not isinstance(events, list) or not all(isinstance(e, str) and e for e in events):
        return "default_events must be a list of event names"
    permissions = manifest.get("default_permissions", {})
    if not isinstance(permissions, dict) or not all(
        isinstance(level, str) and level in PERMISSION_LEVELS for level in permissions.values()
    ):
        return f"default_permissions must map permissions to {sorted(PERMISSION_LEVELS)}"
    callbacks = manifest.get("callback_urls", [])
    if not isinstance(callbacks, list) or len(callbacks) > 10:
        return "callback_urls must be a list of at most 10 URLs"
    if not all(_is_web_url(url) for url in callbacks):
        return "callback_urls must be http(s) URLs"
    return None


def _web_error(message: str) -> web.Response:
    page = f"<h1>{html.escape(message)}</h1>"
    return web.Response(status=422, text=page, content_type="text/html")


def _not_found() -> web.HTTPNotFound:
    return web.HTTPNotFound(text='{"message": "Not Found"}', content_type="application/json")
