"""The one module that talks to the GitHub REST API.

Everything goes through gidgethub's `GitHubAPI` on the server's single aiohttp
session. Handlers and the review flow call the keyword-only methods of
`InstallationClient`; they never build requests themselves. Each review gets
its own `InstallationClient`, which counts the HTTP requests it makes.

Failure policy, in one place:
- 5xx: retried with exponential back-off (bounded attempts), except a POST that
  creates something (a review, a check run, a comment): a 502 does not say whether
  it was created, and a second one would be a duplicate, so the error surfaces;
- 403/429 with `Retry-After`, or `x-ratelimit-remaining: 0` with
  `x-ratelimit-reset`: retried after the wait GitHub asks for, if that wait is
  short enough; otherwise the error surfaces (the review then fails visibly);
- 401 on an installation token: the token is dropped, a new one minted, and the
  request retried once; a 401 on a fixed token (`GitHubApp.with_token`: a personal
  or an Actions token) is final.

A read-only client (`InstallationClient(read_only=True)`) sends GETs and GraphQL
queries only, and refuses anything else before it is sent (`WriteRefused`).

Credentials only ever go to GitHub: many request URLs come from webhook payloads
and API answers (`pull_request.url`, `contents_url`, `Link: next`, ...), so every
request is checked against the configured API base before it is sent, and one
aimed anywhere else is refused (`ForeignURL`) instead of carrying the token there.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import logging
import re
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
import gidgethub
import gidgethub.aiohttp
from gidgethub import BadRequest, HTTPException
from yarl import URL

from ghapp.apitypes import CheckCompletion, DraftReviewComment
from ghapp.auth import InstallationToken, InstallationTokens, app_jwt
from ghapp.metrics import Metrics, endpoint_of
from ghapp.prefetch import (
    BlobsRequest,
    ContextRequest,
    DocumentBlob,
    ReviewContext,
    read_blobs,
    read_context,
)
from ghapp.repoconfig import FetchedFile

USER_AGENT = "product-review"
API_VERSION_HEADERS = {"x-github-api-version": "2022-11-28"}
RAW_MEDIA_TYPE = "application/vnd.github.raw+json"
# GitHub's own ceiling for GET /pulls/{n}/files.
MAX_PULL_FILES = 3000
PAGE_SIZE = 100

log = logging.getLogger("ghapp.github")


def graphql_url(api_url: str) -> str:
    """GitHub's GraphQL endpoint for a REST base URL: `https://api.github.com/graphql`;
    on Enterprise Server, whose REST API is `https://HOST/api/v3`, `https://HOST/api/graphql`."""
    base = api_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base.removesuffix("/v3") + "/graphql"
    return base + "/graphql"


class GraphQLFailed(Exception):
    """GitHub's GraphQL endpoint answered something that is not a GraphQL response."""


# The largest answer read from GitHub: a page of 100 files with their patches, or a
# GraphQL answer with the config files, is far smaller.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
_RESPONSE_LIMIT: contextvars.ContextVar[int] = contextvars.ContextVar(
    "response_limit", default=MAX_RESPONSE_BYTES
)


class ResponseTooLarge(Exception):
    """GitHub's answer was larger than the caller can use; it was not read to the end."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"the answer is larger than {limit} bytes")


class ForeignURL(Exception):
    """A request aimed outside the configured GitHub API was refused before it was sent.

    The message names where it was aimed (scheme, host and port), never a credential."""

    def __init__(self, target: str, api_url: str) -> None:
        self.target = target
        super().__init__(
            f"refused to send a request to {target}, which is not the GitHub API at {api_url}"
        )


def _segments(raw_path: str) -> list[str]:
    return [segment for segment in raw_path.split("/") if segment]


def _hides_a_step_up(raw_segment: str) -> bool:
    """Whether a path segment, once a server decodes it, could climb or cross a
    directory: `%2e%2e`, `..%2f..`, `..%5c..` and the like."""
    if "%" not in raw_segment and "\\" not in raw_segment and "/" not in raw_segment:
        # Nothing to decode (the usual case, checked for every URL of every payload).
        return raw_segment in (".", "..")
    decoded = urllib.parse.unquote(raw_segment)
    return "/" in decoded or any(
        piece in (".", "..") for piece in decoded.replace("\\", "/").split("/")
    )


@dataclass(frozen=True)
class ApiScope:
    """Where the app's requests, and so its credentials, may go: the configured REST
    base (same scheme, host and port, a path under the base path) and the GraphQL
    endpoint `graphql_url` derives from it."""

    api_url: str
    scheme: str
    host: str
    port: int | None
    base_path: tuple[str, ...]
    graphql_path: tuple[str, ...]

    @classmethod
    def of(cls, api_url: str) -> ApiScope:
        base = URL(api_url.rstrip("/"))
        if not base.absolute or base.raw_host is None or base.scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) API URL: {api_url!r}")
        return cls(
            api_url=api_url.rstrip("/"),
            scheme=base.scheme,
            host=base.raw_host,
            port=base.port,
            base_path=tuple(_segments(base.raw_path)),
            graphql_path=tuple(_segments(URL(graphql_url(api_url)).raw_path)),
        )

    def check(self, url: str) -> URL:
        """`url` as aiohttp will send it, or ForeignURL when it leaves the API.

        A URL without a scheme is resolved against the base the way gidgethub does;
        the result is parsed with yarl, as aiohttp parses it, which also removes dot
        segments (`/api/v3/../../x` is `/x`)."""
        try:
            target = URL(url)
            if not target.scheme:
                target = URL(urllib.parse.urljoin(self.api_url + "/", url.removeprefix("/")))
        except ValueError:
            raise ForeignURL("a malformed URL", self.api_url) from None
        if not self._allows(target):
            raise ForeignURL(self._describe(target), self.api_url)
        return target

    def _allows(self, target: URL) -> bool:
        if not target.absolute or target.scheme != self.scheme:
            return False  # also an http:// downgrade of an https:// API
        if target.raw_user is not None or target.raw_password is not None:
            return False  # `https://api.github.com@evil.example` is evil.example
        if target.raw_host != self.host or target.port != self.port:
            return False
        segments = _segments(target.raw_path)
        if any(_hides_a_step_up(segment) for segment in segments):
            return False
        under_base = tuple(segments[: len(self.base_path)]) == self.base_path
        return under_base or tuple(segments) == self.graphql_path

    @staticmethod
    def _describe(target: URL) -> str:
        """Where a refused URL pointed, user information masked, the path clipped."""
        scheme = f"{target.scheme}://" if target.scheme else "//"
        userinfo = "…@" if target.raw_user is not None or target.raw_password is not None else ""
        port = f":{target.explicit_port}" if target.explicit_port is not None else ""
        path = target.raw_path if len(target.raw_path) <= 80 else target.raw_path[:79] + "…"
        return f"{scheme}{userinfo}{target.raw_host or ''}{port}{path}"


Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4  # the first try included
    base_delay: float = 1.0  # seconds; doubled after each 5xx
    max_delay: float = 60.0  # the longest single wait accepted, rate limits included


def retry_delay(
    *,
    status: int,
    headers: Mapping[str, str],
    attempt: int,
    policy: RetryPolicy,
    now: float,
) -> float | None:
    """Seconds to wait before trying again, or None when the error is final."""
    if attempt >= policy.max_attempts:
        return None
    backoff = policy.base_delay * 2 ** (attempt - 1)
    delay: float | None
    if status >= 500:
        delay = backoff
    elif status in (403, 429):
        retry_after = headers.get("retry-after")
        remaining = headers.get("x-ratelimit-remaining")
        reset = headers.get("x-ratelimit-reset")
        if retry_after is not None and retry_after.strip().isdigit():
            delay = float(retry_after)
        elif remaining == "0" and reset is not None and reset.strip().isdigit():
            delay = max(0.0, float(reset) - now) + 1.0
        elif status == 429:
            delay = backoff
        else:
            delay = None  # a plain 403 is a permission problem, not a wait
    else:
        delay = None
    if delay is None or delay > policy.max_delay:
        return None
    return min(delay, policy.max_delay)


def safe_to_repeat(method: str, url: str) -> bool:
    """Whether sending a request again is harmless even if the first one took effect:
    reads, updates and deletes are; so are a GraphQL query and minting a token. Any
    other POST creates something GitHub would then hold twice."""
    if method != "POST":
        return True
    path = url.split("?", 1)[0].rstrip("/")
    return path.endswith("/graphql") or path.endswith("/access_tokens")


class _CountingGitHubAPI(gidgethub.aiohttp.GitHubAPI):
    """gidgethub's client with request counting, injectable sleep, and retries."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        retry: RetryPolicy,
        sleep: Sleep,
        clock: Clock,
        metrics: Metrics,
    ) -> None:
        super().__init__(session, USER_AGENT, base_url=base_url)
        self.calls = 0
        self._scope = ApiScope.of(base_url)
        self._retry = retry
        self._sleep = sleep
        self._clock = clock
        self._metrics = metrics

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        # Every request passes here, token minting and getiter's next pages included,
        # and every one of them carries a credential: a token or the app's JWT.
        try:
            target = self._scope.check(url)
        except ForeignURL as refused:
            log.warning(
                "refused a request outside the GitHub API method=%s target=%s api=%s",
                method,
                refused.target,
                self._scope.api_url,
            )
            raise
        endpoint = endpoint_of(
            target.raw_path, base_path=self._scope.base_path, graphql_path=self._scope.graphql_path
        )
        attempt = 0
        while True:
            attempt += 1
            self.calls += 1
            try:
                return await self._counted_request(endpoint, method, url, headers, body)
            except (aiohttp.ClientConnectionError, TimeoutError) as error:
                # Only a GET is safe to repeat when we cannot tell whether it arrived.
                if method != "GET" or attempt >= self._retry.max_attempts:
                    raise
                self._metrics.github_retry(
                    "timeout" if isinstance(error, TimeoutError) else "connection-error"
                )
                await self.sleep(
                    min(self._retry.base_delay * 2 ** (attempt - 1), self._retry.max_delay)
                )

    async def _counted_request(
        self, endpoint: str, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        """`_capped_request`, counted by route and by the answer's status, or by why
        there is no answer to read."""
        try:
            answer = await self._capped_request(method, url, headers, body)
        except (ResponseTooLarge, TimeoutError, aiohttp.ClientError) as error:
            if isinstance(error, ResponseTooLarge):
                unanswered = "too-large"
            else:
                unanswered = "timeout" if isinstance(error, TimeoutError) else "error"
            self._metrics.github_call(endpoint=endpoint, method=method, status=unanswered)
            raise
        status, answer_headers, _ = answer
        self._metrics.github_call(
            endpoint=endpoint, method=method, status=str(status), headers=answer_headers
        )
        return answer

    async def _capped_request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        """gidgethub's request, with the answer read in chunks up to a limit: a file in
        a pull request can be 100 MB, and nothing past the document cap is needed."""
        limit = _RESPONSE_LIMIT.get()
        async with self._session.request(method, url, headers=headers, data=body) as response:
            declared = response.content_length
            if declared is not None and declared > limit:
                raise ResponseTooLarge(limit)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise ResponseTooLarge(limit)
                chunks.append(chunk)
            return response.status, response.headers, b"".join(chunks)

    async def sleep(self, seconds: float) -> None:
        await self._sleep(seconds)

    async def handle_rate_limit_error(
        self, *, method: str, url: str, exception: HTTPException, attempt: int
    ) -> bool:
        if int(exception.status_code) >= 500 and not safe_to_repeat(method, url):
            return False
        delay = retry_delay(
            status=int(exception.status_code),
            headers=exception.headers,
            attempt=attempt,
            policy=self._retry,
            now=self._clock(),
        )
        if delay is None:
            return False
        status = int(exception.status_code)
        self._metrics.github_retry("server-error" if status >= 500 else "rate-limit")
        await self.sleep(delay)
        return True


@dataclass(frozen=True)
class PullFile:
    """One entry of GET /pulls/{n}/files."""

    filename: str
    status: str  # added | removed | modified | renamed | copied | changed | unchanged
    sha: str | None
    contents_url: str
    patch: str | None  # absent for binary or very large diffs
    previous_filename: str | None = None

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> PullFile:
        return cls(
            filename=str(item["filename"]),
            status=str(item["status"]),
            sha=item.get("sha"),
            contents_url=str(item["contents_url"]),
            patch=item.get("patch"),
            previous_filename=item.get("previous_filename"),
        )

    @property
    def ref(self) -> str | None:
        """The commit this entry shows the file at (the `ref` of its `contents_url`):
        the pull request's head when the files were listed."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.contents_url).query)
        refs = query.get("ref")
        return refs[0] if refs else None


@dataclass(frozen=True)
class CheckRun:
    id: int
    url: str


class WriteRefused(Exception):
    """A read-only client was asked to change something on GitHub; nothing was sent."""

    def __init__(self, method: str, url: str) -> None:
        self.method = method
        target = url.split("?", 1)[0]
        super().__init__(f"refused to send {method} {target}: the client is read-only")


def _is_read(request: _Request, api_url: str) -> bool:
    """Whether sending `request` changes nothing on GitHub: a GET, or a GraphQL query."""
    if request.method == "GET":
        return True
    if request.method != "POST" or request.url != graphql_url(api_url):
        return False
    query = request.data.get("query", "") if isinstance(request.data, Mapping) else ""
    return isinstance(query, str) and not query.lstrip().startswith("mutation")


@dataclass(frozen=True)
class AppIdentity:
    """What GET /app says about the app the credentials belong to."""

    id: int
    slug: str
    name: str


class CredentialsRejected(Exception):
    """GitHub answered 401 to the app's JWT: the App id or the private key is wrong."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class GitHubUnreachable(Exception):
    """GitHub could not be asked, or answered something other than yes or 401."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


# The start-up check: a server with bad credentials should say so within seconds.
APP_CHECK_TIMEOUT_SECONDS = 10.0


class GitHubApp:
    """App-wide state: the HTTP session, credentials, and the token cache.

    Its credentials are the app's ID and private key, or (`with_token`) one token
    that every request carries as is: a personal or an Actions token."""

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        app_id: str,
        private_key: str,
        api_url: str,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.time,
        metrics: Metrics | None = None,
        tokens: InstallationTokens | None = None,
    ) -> None:
        self.session = session
        self.app_id = app_id
        self.api_url = api_url
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self._private_key = private_key
        # Per process by default; shared through Redis when scaled out.
        self.tokens = tokens if tokens is not None else InstallationTokens(clock=clock)
        # Every client it makes counts here; by default, where nobody reads.
        self.metrics = metrics if metrics is not None else Metrics()
        self.fixed_token: str | None = None

    @classmethod
    def with_token(
        cls,
        *,
        session: aiohttp.ClientSession,
        token: str,
        api_url: str,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.time,
    ) -> GitHubApp:
        """Clients that send `token` instead of installation tokens (none is minted,
        and a 401 is final: there is no fresher token to try)."""
        app = cls(
            session=session,
            app_id="",
            private_key="",
            api_url=api_url,
            retry=retry,
            sleep=sleep,
            clock=clock,
        )
        app.fixed_token = token
        return app

    def jwt(self) -> str:
        return app_jwt(app_id=self.app_id, private_key=self._private_key, now=self.clock())

    def installation(self, installation_id: int) -> InstallationClient:
        return InstallationClient(self, installation_id=installation_id)

    def client(self, retry: RetryPolicy | None = None) -> _CountingGitHubAPI:
        """A request client on the configured API base, counted in this app's metrics,
        with the app's retry policy unless `retry` says otherwise."""
        return _CountingGitHubAPI(
            self.session,
            base_url=self.api_url,
            retry=retry if retry is not None else self.retry,
            sleep=self.sleep,
            clock=self.clock,
            metrics=self.metrics,
        )

    async def repository_installation(self, *, owner: str, repo: str) -> int:
        """The ID of the app's installation on `owner/repo` (404 when not installed)."""
        gh = self.client()
        installation = await gh.getitem(
            "/repos/{owner}/{repo}/installation",
            {"owner": owner, "repo": repo},
            jwt=self.jwt(),
            extra_headers=dict(API_VERSION_HEADERS),
        )
        return int(installation["id"])

    async def identify(self, *, timeout: float = APP_CHECK_TIMEOUT_SECONDS) -> AppIdentity:
        """GET /app with the app's JWT, tried once: whether GitHub takes the credentials.

        Raises CredentialsRejected on 401, GitHubUnreachable on anything else that is
        not an answer about the app (no connection, a timeout, another status)."""
        client = self.client(RetryPolicy(max_attempts=1))
        try:
            async with asyncio.timeout(timeout):
                answer = await client.getitem(
                    "/app", jwt=self.jwt(), extra_headers=dict(API_VERSION_HEADERS)
                )
        except HTTPException as error:
            status = int(error.status_code)
            reason = f"{status} {str(error) or error.status_code.phrase}"
            if status == 401:
                raise CredentialsRejected(reason) from None
            raise GitHubUnreachable(f"GitHub answered {reason}") from None
        except TimeoutError:
            raise GitHubUnreachable(f"no answer within {timeout:g} s") from None
        except (aiohttp.ClientError, OSError) as error:
            raise GitHubUnreachable(str(error) or error.__class__.__name__) from None
        if not isinstance(answer, dict):
            raise GitHubUnreachable("GET /app did not answer a JSON object")
        return AppIdentity(
            id=int(answer.get("id") or 0),
            slug=str(answer.get("slug") or ""),
            name=str(answer.get("name") or ""),
        )


@dataclass(frozen=True)
class RegisteredApp:
    """What GitHub hands over once, when a manifest's code is converted: the new app's
    identity and its credentials."""

    id: int
    slug: str
    name: str
    html_url: str
    pem: str = field(repr=False)
    webhook_secret: str = field(repr=False)


class ManifestConversionFailed(Exception):
    """GitHub did not convert a manifest's code into an app; `reason` is one line."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


# A code is GitHub's random token; anything else is not one it issued.
_MANIFEST_CODE = re.compile(r"[A-Za-z0-9_-]{1,100}")
_APP_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
MANIFEST_CONVERSION_TIMEOUT_SECONDS = 30.0


def _registered_app(answer: object) -> RegisteredApp:
    if not isinstance(answer, dict):
        raise ManifestConversionFailed("GitHub's answer is not a JSON object")
    app_id, slug, html_url = answer.get("id"), answer.get("slug"), answer.get("html_url")
    pem, secret = answer.get("pem"), answer.get("webhook_secret")
    if not isinstance(app_id, int) or isinstance(app_id, bool) or app_id <= 0:
        raise ManifestConversionFailed("GitHub's answer has no app id")
    if not isinstance(slug, str) or not _APP_SLUG.fullmatch(slug):
        raise ManifestConversionFailed("GitHub's answer has no valid app slug")
    if not isinstance(html_url, str) or not html_url:
        raise ManifestConversionFailed("GitHub's answer has no html_url")
    if not isinstance(pem, str) or not pem.strip():
        raise ManifestConversionFailed("GitHub's answer has no private key (pem)")
    if not isinstance(secret, str) or not secret:
        raise ManifestConversionFailed("GitHub's answer has no webhook secret")
    name = answer.get("name")
    return RegisteredApp(
        id=app_id,
        slug=slug,
        name=name if isinstance(name, str) else slug,
        html_url=html_url,
        pem=pem,
        webhook_secret=secret,
    )


async def convert_app_manifest(
    session: aiohttp.ClientSession,
    *,
    api_url: str,
    code: str,
    timeout: float = MANIFEST_CONVERSION_TIMEOUT_SECONDS,
) -> RegisteredApp:
    """POST /app-manifests/{code}/conversions: the app GitHub registered from a
    manifest, for the code its redirect carried. Unauthenticated: the code is the
    credential, good once and for an hour, so the request is tried once.

    Raises ManifestConversionFailed with one line: a refused code, no answer, an
    answer without the app's credentials."""
    if not _MANIFEST_CODE.fullmatch(code):
        raise ManifestConversionFailed("the code in GitHub's redirect is malformed")
    client = _CountingGitHubAPI(
        session,
        base_url=api_url,
        retry=RetryPolicy(max_attempts=1),
        sleep=asyncio.sleep,
        clock=time.time,
        metrics=Metrics(),
    )
    try:
        async with asyncio.timeout(timeout):
            answer = await client.post(
                "/app-manifests/{code}/conversions",
                {"code": code},
                data=b"",
                extra_headers=dict(API_VERSION_HEADERS),
            )
    except HTTPException as error:
        status = int(error.status_code)
        raise ManifestConversionFailed(
            f"GitHub refused the code ({status} {str(error) or error.status_code.phrase})"
        ) from None
    except TimeoutError:
        raise ManifestConversionFailed(f"GitHub did not answer within {timeout:g} s") from None
    except (aiohttp.ClientError, OSError) as error:
        reason = str(error) or error.__class__.__name__
        raise ManifestConversionFailed(f"could not reach GitHub at {api_url}: {reason}") from None
    return _registered_app(answer)


@dataclass
class _Request:
    method: str
    url: str
    url_vars: dict[str, Any] = field(default_factory=dict)
    data: Any = b""
    accept: str = gidgethub.sansio.accept_format()


class InstallationClient:
    """The API as one installation of the app sees it. One per review.

    A `read_only` one sends reads only (GETs and GraphQL queries): any other request
    raises WriteRefused before it is sent."""

    def __init__(self, app: GitHubApp, *, installation_id: int, read_only: bool = False) -> None:
        self._app = app
        self.installation_id = installation_id
        self.read_only = read_only
        self._gh = app.client()

    @property
    def calls(self) -> int:
        """HTTP requests made so far (token minting and retries included)."""
        return self._gh.calls

    # -- plumbing ---------------------------------------------------------------

    async def _mint(self, installation_id: int) -> InstallationToken:
        response = await self._gh.post(
            "/app/installations/{installation_id}/access_tokens",
            {"installation_id": installation_id},
            data=b"",
            jwt=self._app.jwt(),
            extra_headers=dict(API_VERSION_HEADERS),
        )
        return InstallationToken.from_response(cast(dict[str, object], response))

    async def _token(self) -> str:
        if self._app.fixed_token is not None:
            return self._app.fixed_token
        return await self._app.tokens.get(self.installation_id, mint=self._mint)

    def _final_401(self, error: BadRequest, attempt: int) -> bool:
        """Whether `error` ends the request: anything but a 401, a second 401, or a
        401 on a fixed token, which no fresh token replaces."""
        return error.status_code != 401 or attempt == 2 or self._app.fixed_token is not None

    async def _send(self, request: _Request) -> Any:
        """Send with the installation token; on 401 mint a fresh token and try once more."""
        if self.read_only and not _is_read(request, self._app.api_url):
            raise WriteRefused(request.method, request.url)
        for attempt in (1, 2):
            token = await self._token()
            try:
                return await self._send_with(request, token=token)
            except BadRequest as error:
                if self._final_401(error, attempt):
                    raise
                self._app.metrics.github_retry("token-rejected")
                self._app.tokens.invalidate(self.installation_id, token=token)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_with(self, request: _Request, *, token: str) -> Any:
        headers = dict(API_VERSION_HEADERS)
        if request.method == "GET":
            return await self._gh.getitem(
                request.url,
                request.url_vars,
                accept=request.accept,
                oauth_token=token,
                extra_headers=headers,
            )
        if request.method in ("POST", "PATCH"):
            send = self._gh.post if request.method == "POST" else self._gh.patch
            return await send(
                request.url,
                request.url_vars,
                data=request.data,
                accept=request.accept,
                oauth_token=token,
                extra_headers=headers,
            )
        if request.method == "DELETE":
            await self._gh.delete(
                request.url,
                request.url_vars,
                accept=request.accept,
                oauth_token=token,
                extra_headers=headers,
            )
            return None
        raise ValueError(f"unsupported method {request.method}")

    async def _get_pages(self, url: str, *, limit: int) -> list[Any]:
        """Every item of a paginated list endpoint (following `Link: next`), up to `limit`."""
        for attempt in (1, 2):
            token = await self._token()
            items: list[Any] = []
            pages = self._gh.getiter(
                url, oauth_token=token, extra_headers=dict(API_VERSION_HEADERS)
            )
            try:
                async with contextlib.aclosing(pages):
                    async for item in pages:
                        items.append(item)
                        if len(items) >= limit:
                            break
                return items
            except BadRequest as error:
                if self._final_401(error, attempt):
                    raise
                self._app.metrics.github_retry("token-rejected")
                # Rare (a token revoked mid-review): start over with a fresh token.
                self._app.tokens.invalidate(self.installation_id, token=token)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- pull requests ----------------------------------------------------------

    async def get_pull(self, *, pull_url: str) -> dict[str, Any]:
        return cast(dict[str, Any], await self._send(_Request("GET", pull_url)))

    async def list_pull_files(
        self, *, pull_url: str, limit: int = MAX_PULL_FILES
    ) -> list[PullFile]:
        items = await self._get_pages(f"{pull_url}/files?per_page={PAGE_SIZE}", limit=limit)
        return [PullFile.from_api(item) for item in items]

    async def list_bot_review_bodies(self, *, pull_url: str) -> list[str]:
        """Bodies of reviews written by bots (ours among them) on the pull request."""
        items = await self._get_pages(f"{pull_url}/reviews?per_page={PAGE_SIZE}", limit=3000)
        return [
            str(item.get("body") or "")
            for item in items
            if (item.get("user") or {}).get("type") == "Bot"
        ]

    async def create_review(
        self,
        *,
        pull_url: str,
        commit_id: str,
        body: str,
        comments: Sequence[DraftReviewComment],
    ) -> dict[str, Any]:
        data = {
            "commit_id": commit_id,
            "body": body,
            "event": "COMMENT",
            "comments": list(comments),
        }
        return cast(
            dict[str, Any], await self._send(_Request("POST", f"{pull_url}/reviews", data=data))
        )

    # -- contents -----------------------------------------------------------------

    async def read_text(self, *, contents_url: str, max_bytes: int | None = None) -> str:
        """A file's text through the raw media type (works beyond the 1 MB JSON limit).
        With `max_bytes`, a larger file raises ResponseTooLarge before it is all read."""
        limit = _RESPONSE_LIMIT.set(max_bytes if max_bytes is not None else MAX_RESPONSE_BYTES)
        try:
            text = await self._send(_Request("GET", contents_url, accept=RAW_MEDIA_TYPE))
        finally:
            _RESPONSE_LIMIT.reset(limit)
        if isinstance(text, bytes):
            # One stray non-UTF-8 byte must not fail the whole pull request's review.
            return text.decode("utf-8", errors="replace")
        return "" if text is None else str(text)

    async def read_file_at(
        self, *, owner: str, repo: str, path: str, ref: str, max_bytes: int
    ) -> str | None:
        """A file's text at `ref` in one call (the raw media type, so beyond the 1 MB
        JSON limit too); None on 404. A file over `max_bytes` raises ResponseTooLarge
        before it is all read."""
        url_vars: dict[str, Any] = {"owner": owner, "repo": repo, "path": path, "ref": ref}
        template = "/repos/{owner}/{repo}/contents/{+path}{?ref}"
        limit = _RESPONSE_LIMIT.set(max_bytes)
        try:
            text = await self._send(
                _Request("GET", template, url_vars=url_vars, accept=RAW_MEDIA_TYPE)
            )
        except BadRequest as error:
            if error.status_code == 404:
                return None
            raise
        finally:
            _RESPONSE_LIMIT.reset(limit)
        if isinstance(text, bytes):
            return text.decode("utf-8", errors="replace")
        return "" if text is None else str(text)

    async def fetch_file(
        self, *, owner: str, repo: str, path: str, ref: str | None = None
    ) -> FetchedFile | None:
        """A file's text and blob SHA at `ref` (default branch when None); None on 404."""
        url_vars: dict[str, Any] = {"owner": owner, "repo": repo, "path": path}
        template = "/repos/{owner}/{repo}/contents/{+path}"
        if ref is not None:
            template += "{?ref}"
            url_vars["ref"] = ref
        try:
            item = await self._send(_Request("GET", template, url_vars=url_vars))
        except BadRequest as error:
            if error.status_code == 404:
                return None
            raise
        if not isinstance(item, dict) or item.get("type") != "file":
            return None  # a directory (list) or a submodule is not a config file
        sha = str(item["sha"])
        if item.get("encoding") == "base64":
            return FetchedFile(text=base64.b64decode(item["content"]).decode("utf-8"), sha=sha)
        # Over 1 MB the JSON carries no content; the raw media type still does.
        text = await self.read_text(contents_url=str(item["url"]))
        return FetchedFile(text=text, sha=sha)

    # -- GraphQL ----------------------------------------------------------------------

    async def graphql(self, *, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """One GraphQL request; GitHub's whole answer, `data` and `errors`.

        GitHub answers 200 even when parts of a query failed (`data` holds null there
        and `errors` says why), so reading the errors is the caller's job. HTTP errors
        (401, 5xx, rate limits) are handled like every other request.
        """
        data = {"query": query, "variables": dict(variables)}
        answer = await self._send(_Request("POST", graphql_url(self._app.api_url), data=data))
        if not isinstance(answer, dict) or not ("data" in answer or "errors" in answer):
            raise GraphQLFailed(f"not a GraphQL response: {str(answer)[:200]!r}")
        return answer

    async def review_context(self, request: ContextRequest) -> ReviewContext:
        """The config files, the pull request's state, the earlier reviews and the
        texts of `request.documents` a review needs, in one request (see
        `ghapp.prefetch`)."""
        answer = await self.graphql(query=request.query(), variables=request.variables())
        return read_context(answer, request)

    async def document_blobs(self, request: BlobsRequest) -> dict[str, DocumentBlob | None]:
        """Changed files' texts at a commit, in one request: those the review's context
        request could not carry (see `ghapp.prefetch`)."""
        answer = await self.graphql(query=request.query(), variables=request.variables())
        return read_blobs(answer, request)

    # -- check runs ---------------------------------------------------------------

    async def create_check_run(
        self,
        *,
        repository_url: str,
        name: str,
        head_sha: str,
        external_id: str = "",
        completion: CheckCompletion | None = None,
    ) -> CheckRun:
        """Create a check run on `head_sha`: completed, showing `completion`, or in
        progress when there is none (`complete_check_run` completes it later)."""
        status = "in_progress" if completion is None else "completed"
        data: dict[str, Any] = {"name": name, "head_sha": head_sha, "status": status}
        if external_id:
            data["external_id"] = external_id
        if completion is not None:
            data.update(_completion_fields(completion))
        created = await self._send(_Request("POST", f"{repository_url}/check-runs", data=data))
        return CheckRun(id=int(created["id"]), url=str(created["url"]))

    async def complete_check_run(self, *, check_run: CheckRun, completion: CheckCompletion) -> None:
        """Complete a check run created in progress."""
        data: dict[str, Any] = {"status": "completed", **_completion_fields(completion)}
        await self._send(_Request("PATCH", check_run.url, data=data))

    # -- issue comments, reactions, labels (the comment command) --------------------

    async def create_issue_comment(self, *, comments_url: str, body: str) -> dict[str, Any]:
        """Reply on a pull request's conversation (`issue.comments_url` of the payload)."""
        return cast(
            dict[str, Any], await self._send(_Request("POST", comments_url, data={"body": body}))
        )

    async def add_reaction(self, *, comment_url: str, content: str) -> None:
        """React to an issue comment (`comment.url` of the payload), e.g. "eyes", "rocket"."""
        await self._send(_Request("POST", f"{comment_url}/reactions", data={"content": content}))

    async def ensure_label(
        self, *, repository_url: str, name: str, color: str, description: str
    ) -> None:
        """Create the repository label unless it exists (GitHub answers 422
        `already_exists` then; names are case-insensitive). Created up front so the
        label has a colour and a description people can read on the PR."""
        data = {"name": name, "color": color, "description": description}
        try:
            await self._send(_Request("POST", f"{repository_url}/labels", data=data))
        except BadRequest as error:
            errors = getattr(error, "errors", None) or []
            exists = any(
                isinstance(item, Mapping) and item.get("code") == "already_exists"
                for item in errors
            )
            if error.status_code != 422 or not exists:
                raise

    async def add_labels(self, *, issue_url: str, labels: Sequence[str]) -> None:
        await self._send(_Request("POST", f"{issue_url}/labels", data={"labels": list(labels)}))

    async def remove_label(self, *, issue_url: str, name: str) -> None:
        """Remove a label from an issue or pull request; one that is not there is fine."""
        try:
            await self._send(
                _Request("DELETE", f"{issue_url}/labels/{{name}}", url_vars={"name": name})
            )
        except BadRequest as error:
            if error.status_code != 404:
                raise


def _completion_fields(completion: CheckCompletion) -> dict[str, Any]:
    """The fields that complete a check run, whether it is created or updated so."""
    fields: dict[str, Any] = {
        "conclusion": completion["conclusion"],
        "output": dict(completion["output"]),
    }
    if completion["actions"]:
        fields["actions"] = [dict(action) for action in completion["actions"]]
    return fields
