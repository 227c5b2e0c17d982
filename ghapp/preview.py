"""`product-review check --pull-request URL`: what the App would post on a pull
request, computed by the App's own review flow, with nothing posted.

The review runs as the App runs it (`Reviewer.prepare`, then `ReadyReview.finish`),
on a read-only client: the check run and the review it would create are kept
(`Withheld`) instead of sent, and any other write is refused before it leaves.
Credentials are a token (`GITHUB_TOKEN`, sent as is) or the App's own (APP_ID and
PRIVATE_KEY or PRIVATE_KEY_PATH), which find the repository's installation first.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from gidgethub import HTTPException

from checks import review_document
from ghapp.apitypes import CheckAnnotation, CheckCompletion, DraftReviewComment
from ghapp.github import (
    ApiScope,
    CheckRun,
    ForeignURL,
    GitHubApp,
    InstallationClient,
)
from ghapp.pulls import PullRequestRef, PullState
from ghapp.repoconfig import RepoConfigLoader
from ghapp.review import CHECK_NAME, Engine, Reviewer, ReviewOutcome, ReviewRequest, ReviewResult
from ghapp.settings import DEFAULT_GITHUB_API_URL, SettingsError, load_app_credentials

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10)
_NAME = re.compile(r"[A-Za-z0-9._-]+")
_WEB_PATH = re.compile(r"/(?P<owner>[^/]+)/(?P<repo>[^/]+)/pull/(?P<number>[0-9]+)(?:/.*)?")
_API_PATH = re.compile(r"(?:/.*)?/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/pulls/(?P<number>[0-9]+)")
URL_FORMS = "https://github.com/OWNER/REPO/pull/N, or its API URL .../repos/OWNER/REPO/pulls/N"


class PreviewError(Exception):
    """The preview could not be made; the message is one line for stderr."""


@dataclass(frozen=True)
class PullAddress:
    owner: str
    repo: str
    number: int

    @property
    def name(self) -> str:
        return f"{self.owner}/{self.repo}#{self.number}"


def parse_pull_url(url: str, *, api_url: str) -> PullAddress:
    """The pull request a web URL (any host: GitHub Enterprise's too) or an API URL
    names. An API URL must be under `api_url`, where the credentials may go."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PreviewError(f"not a pull request URL: {url!r} (expected {URL_FORMS})")
    api_form = _API_PATH.fullmatch(parts.path.rstrip("/"))
    match = api_form or _WEB_PATH.fullmatch(parts.path)
    if match is None:
        raise PreviewError(f"not a pull request URL: {url!r} (expected {URL_FORMS})")
    if api_form is not None:
        try:
            ApiScope.of(api_url).check(url.strip())
        except ForeignURL:
            raise PreviewError(
                f"{url!r} is not under the GitHub API at {api_url} (set GITHUB_API_URL)"
            ) from None
    owner, repo = match["owner"], match["repo"]
    if not (_NAME.fullmatch(owner) and _NAME.fullmatch(repo)):
        raise PreviewError(f"not a pull request URL: {url!r} (odd owner or repository name)")
    return PullAddress(owner=owner, repo=repo, number=int(match["number"]))


@dataclass(frozen=True)
class Credentials:
    """A token sent as is, or the App's ID and private key."""

    token: str | None = field(default=None, repr=False)
    app_id: str = ""
    private_key: str = field(default="", repr=False)


def credentials_from(env: Mapping[str, str]) -> Credentials:
    """`GITHUB_TOKEN` when set, else the App's credentials as `serve` reads them."""
    token = env.get("GITHUB_TOKEN", "").strip()
    if token:
        return Credentials(token=token)
    if not any(env.get(name, "").strip() for name in ("APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH")):
        raise PreviewError(
            "no credentials: set GITHUB_TOKEN, or APP_ID and PRIVATE_KEY or PRIVATE_KEY_PATH "
            "(in the environment or .env)"
        )
    try:
        app_id, private_key = load_app_credentials(env)
    except SettingsError as error:
        raise PreviewError(f"the App's credentials: {'; '.join(error.problems)}") from None
    return Credentials(app_id=app_id, private_key=private_key)


def api_url_from(env: Mapping[str, str]) -> str:
    api_url = (env.get("GITHUB_API_URL", "").strip() or DEFAULT_GITHUB_API_URL).rstrip("/")
    try:
        ApiScope.of(api_url)
    except ValueError:
        raise PreviewError(
            f"GITHUB_API_URL: malformed {api_url!r} (expected e.g. https://api.github.com "
            "or https://HOST/api/v3)"
        ) from None
    return api_url


@dataclass
class Withheld:
    """What the review would have sent: the check run's last state, and the review."""

    completion: CheckCompletion | None = None
    review_body: str | None = None
    comments: list[DraftReviewComment] = field(default_factory=list)


class PreviewClient(InstallationClient):
    """A read-only client that keeps the check run and the review instead of sending
    them. Every other write is refused (`WriteRefused`) before it is sent."""

    def __init__(self, app: GitHubApp, *, installation_id: int, withheld: Withheld) -> None:
        super().__init__(app, installation_id=installation_id, read_only=True)
        self.withheld = withheld

    async def create_check_run(
        self,
        *,
        repository_url: str,
        name: str,
        head_sha: str,
        external_id: str = "",
        completion: CheckCompletion | None = None,
    ) -> CheckRun:
        if completion is not None:
            self.withheld.completion = completion
        return CheckRun(id=0, url=f"{repository_url}/check-runs/0")

    async def complete_check_run(self, *, check_run: CheckRun, completion: CheckCompletion) -> None:
        self.withheld.completion = completion

    async def create_review(
        self,
        *,
        pull_url: str,
        commit_id: str,
        body: str,
        comments: Sequence[DraftReviewComment],
    ) -> dict[str, Any]:
        self.withheld.review_body = body
        self.withheld.comments = list(comments)
        return {"id": 0, "body": body}


@dataclass(frozen=True)
class Preview:
    """What the App would post on the pull request's head."""

    pull: PullAddress
    head_sha: str
    outcome: ReviewOutcome
    withheld: Withheld

    @property
    def annotations(self) -> list[CheckAnnotation]:
        completion = self.withheld.completion
        return list(completion["output"].get("annotations", [])) if completion else []

    def as_json(self) -> dict[str, Any]:
        completion = self.withheld.completion
        check: dict[str, Any] | None = None
        if completion is not None:
            output = completion["output"]
            check = {
                "name": CHECK_NAME,
                "conclusion": completion["conclusion"],
                "title": output["title"],
                "summary": output["summary"],
                "text": output.get("text", ""),
                "annotations": self.annotations,
            }
        review: dict[str, Any] | None = None
        if self.withheld.review_body is not None:
            review = {
                "body": self.withheld.review_body,
                "comments": [
                    {"path": c["path"], "line": c["line"], "body": c["body"]}
                    for c in self.withheld.comments
                ],
            }
        return {
            "pull_request": {
                "owner": self.pull.owner,
                "repo": self.pull.repo,
                "number": self.pull.number,
                "head_sha": self.head_sha,
            },
            "outcome": str(self.outcome),
            "check_run": check,
            "review": review,
        }


_NOTHING_POSTED = {
    ReviewOutcome.SKIPPED_DRAFT: (
        "it is a draft, and the repository's config does not review drafts"
    ),
}


def render_text(preview: Preview) -> str:
    withheld = preview.withheld
    lines = [
        f"{preview.pull.name} at {preview.head_sha[:12]}: {preview.outcome} "
        "(a preview: nothing was posted)",
    ]
    completion = withheld.completion
    if completion is None:
        why = _NOTHING_POSTED.get(preview.outcome, str(preview.outcome))
        lines += ["", f"The App would post nothing: {why}."]
        return "\n".join(lines) + "\n"
    output = completion["output"]
    lines += [
        "",
        f"== Check run {CHECK_NAME!r}: {completion['conclusion']}",
        f"Title: {output['title']}",
        "",
        output["summary"].rstrip("\n"),
    ]
    if preview.annotations:
        lines += ["", f"({len(preview.annotations)} annotations on the check's lines)"]
    if withheld.review_body is None:
        lines += ["", "== Review: none (nothing new to ask)"]
        return "\n".join(lines) + "\n"
    lines += ["", f"== Inline comments ({len(withheld.comments)})"]
    for comment in withheld.comments:
        lines += ["", f"{comment['path']}:{comment['line']}"]
        body = comment["body"].rstrip("\n").split("\n")
        lines += [f"    {line}" if line else "" for line in body]
    lines += ["", "== Review body", withheld.review_body.rstrip("\n")]
    return "\n".join(lines) + "\n"


def render_json(preview: Preview) -> str:
    return json.dumps(preview.as_json(), indent=2, ensure_ascii=False) + "\n"


async def preview_pull_request(
    address: PullAddress,
    *,
    credentials: Credentials,
    api_url: str,
    engine: Engine,
    session: aiohttp.ClientSession | None = None,
) -> Preview:
    """Review the pull request as the App would on its next push, sending nothing."""
    own_session = session is None
    http = session or aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
    try:
        return await _preview(
            address, credentials=credentials, api_url=api_url, engine=engine, session=http
        )
    except HTTPException as error:
        raise PreviewError(_refused(error, address, credentials, api_url)) from None
    except ForeignURL as error:
        raise PreviewError(str(error)) from None
    except (aiohttp.ClientError, TimeoutError) as error:
        detail = str(error) or error.__class__.__name__
        raise PreviewError(f"cannot reach the GitHub API at {api_url}: {detail}") from None
    finally:
        if own_session:
            await http.close()


async def _preview(
    address: PullAddress,
    *,
    credentials: Credentials,
    api_url: str,
    engine: Engine,
    session: aiohttp.ClientSession,
) -> Preview:
    if credentials.token is not None:
        app = GitHubApp.with_token(session=session, token=credentials.token, api_url=api_url)
        installation_id = 0  # a token is not an installation's: no ID needed
    else:
        app = GitHubApp(
            session=session,
            app_id=credentials.app_id,
            private_key=credentials.private_key,
            api_url=api_url,
        )
        try:
            installation_id = await app.repository_installation(
                owner=address.owner, repo=address.repo
            )
        except HTTPException as error:
            if int(error.status_code) != 404:
                raise
            raise PreviewError(
                f"GitHub answered 404: the App is not installed on {address.owner}/{address.repo}"
            ) from None
    withheld = Withheld()
    client = PreviewClient(app, installation_id=installation_id, withheld=withheld)
    repository_url = f"{api_url}/repos/{address.owner}/{address.repo}"
    pull_url = f"{repository_url}/pulls/{address.number}"
    pull = await client.get_pull(pull_url=pull_url)
    base = pull.get("base") or {}
    base_repo = base.get("repo") or {}
    default_branch = str(base_repo.get("default_branch") or base.get("ref") or "main")
    state = PullState.from_api(pull)
    ref = PullRequestRef(
        installation_id=installation_id,
        owner=address.owner,
        repo=address.repo,
        number=address.number,
        default_branch=default_branch,
        repository_url=repository_url,
        pull_url=pull_url,
        state=state,
    )
    reviewer = Reviewer(
        github=app, engine=engine, config=RepoConfigLoader(), clients=lambda _: client
    )
    # As on a push to the pull request: an automatic review, asking only what the
    # App's earlier reviews did not.
    request = ReviewRequest(pull=ref, delivery_id="preview", trigger="preview")
    _quiet_review_log()
    prepared = await reviewer.prepare(request)
    result = prepared if isinstance(prepared, ReviewResult) else await prepared.finish()
    if not result.outcome.completed:
        raise PreviewError(f"the review of {address.name} failed: {result.reason}")
    assert state.head_sha is not None
    return Preview(pull=address, head_sha=state.head_sha, outcome=result.outcome, withheld=withheld)


def _quiet_review_log() -> None:
    """The review's log lines are for the server's log; a failure comes back as the
    review's result and is said in one line. Without a handler, Python would print
    warnings and tracebacks on stderr."""
    logger = logging.getLogger("ghapp")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())


def _refused(
    error: HTTPException, address: PullAddress, credentials: Credentials, api_url: str
) -> str:
    status = int(error.status_code)
    said = f"GitHub answered {status}" + (f" ({error})" if str(error) else "")
    if status == 401:
        whose = "GITHUB_TOKEN" if credentials.token is not None else "the App's credentials"
        return f"{said}: {whose} refused by {api_url}"
    if status == 404:
        return f"{said}: {address.name} not found, or not visible with these credentials"
    return f"{said} for {address.name}"


def run_preview(
    url: str, *, output_format: str, env: Mapping[str, str], engine: Engine | None = None
) -> tuple[str, str | None]:
    """(what to print on stdout, the one-line error or None) for the command line."""
    try:
        api_url = api_url_from(env)
        address = parse_pull_url(url, api_url=api_url)
        credentials = credentials_from(env)
        preview = asyncio.run(
            preview_pull_request(
                address,
                credentials=credentials,
                api_url=api_url,
                engine=engine if engine is not None else review_document,
            )
        )
    except PreviewError as error:
        return "", str(error)
    return (render_json(preview) if output_format == "json" else render_text(preview)), None
