"""What the server counts, served at `GET /metrics` in Prometheus' text format.

Each app has a `Metrics` of its own, with its own registry (never the library's
global one), so several apps in one process (tests do that) count apart. The
parts that count get it handed in: the webhook handler is wrapped by
`counting_deliveries`, `GitHubApp` hands it to every client it makes, and the
`Reviewer` records each review's result. A part given none counts into a
registry of its own that nobody reads.

Label values come from short fixed lists, never from a payload or a URL: an
event name GitHub does not send, a URL no route here describes, count as
"other", so a sender cannot grow the number of series.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from enum import StrEnum

from aiohttp import web
from aiohttp.web_log import AccessLogger
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Metric,
    generate_latest,
)
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

METRICS_PATH = "/metrics"
HEALTH_PATH = "/healthz"
OTHER = "other"

# The events GitHub sends this app: those it subscribes to, and those every app gets.
KNOWN_EVENTS = frozenset(
    {
        "pull_request",
        "issue_comment",
        "check_run",
        "check_suite",
        "ping",
        "installation",
        "installation_repositories",
        "installation_target",
        "github_app_authorization",
        "meta",
    }
)
_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})
_RATE_LIMIT_RESOURCES = frozenset(
    {"core", "graphql", "search", "code_search", "integration_manifest", "source_import"}
)

# The API routes the app calls, as GitHub's documentation names them. `{path}` may
# span segments; an identifier that GitHub numbers must be a number.
API_ROUTES = (
    "/app/installations/{installation_id}/access_tokens",
    "/graphql",
    "/repos/{owner}/{repo}/pulls/{pull_number}",
    "/repos/{owner}/{repo}/pulls/{pull_number}/files",
    "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
    "/repos/{owner}/{repo}/contents/{path}",
    "/repos/{owner}/{repo}/check-runs",
    "/repos/{owner}/{repo}/check-runs/{check_run_id}",
    "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
    "/repos/{owner}/{repo}/labels",
    "/repos/{owner}/{repo}/issues/{issue_number}/labels",
    "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
    "/app",
)
_NUMBERED = frozenset(
    {"installation_id", "pull_number", "check_run_id", "issue_number", "comment_id"}
)


def _route_pattern(route: str) -> re.Pattern[str]:
    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "path":
            return ".+"
        return r"\d+" if name in _NUMBERED else "[^/]+"

    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", placeholder, re.escape(route)) + "$")


_ROUTE_PATTERNS = tuple((_route_pattern(route), route) for route in API_ROUTES)


def endpoint_of(raw_path: str, *, base_path: Sequence[str], graphql_path: Sequence[str]) -> str:
    """The route (one of `API_ROUTES`, else "other") of a request's path, given the
    segments of the API's base path and of its GraphQL endpoint (which differ on
    Enterprise Server)."""
    segments = [segment for segment in raw_path.split("/") if segment]
    if segments == list(graphql_path):
        return "/graphql"
    if segments[: len(base_path)] != list(base_path):
        return OTHER
    return api_route("/" + "/".join(segments[len(base_path) :]))


def api_route(path: str) -> str:
    """The route of a path under the API's base (`/repos/acme/widgets/check-runs/5`
    is `/repos/{owner}/{repo}/check-runs/{check_run_id}`), else "other"."""
    for pattern, route in _ROUTE_PATTERNS:
        if pattern.match(path):
            return route
    return OTHER


class DeliveryOutcome(StrEnum):
    """How a webhook delivery was answered; the `outcome` label."""

    ACCEPTED = "accepted"  # 202: work started
    DUPLICATE = "duplicate"  # 200: in flight or handled already
    IGNORED = "ignored"  # 200: an event or action nothing handles
    PING = "ping"  # 200
    REFUSED_SIGNATURE = "refused-signature"  # 401
    MALFORMED = "malformed"  # 400: headers, JSON or payload
    FOREIGN_URL = "foreign-url"  # 400: the payload points outside the configured API
    CLIENT_GONE = "client-gone"  # the sender left before its body arrived
    TOO_LARGE = "too-large"  # 413
    TOO_SLOW = "too-slow"  # 408
    UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type"  # 415
    BUSY = "busy"  # 503: too many bodies being read
    ERROR = "error"  # the handler failed (a bug)
    CANCELLED = "cancelled"  # the handler was cancelled (the client left, a shutdown)


# Set by the webhook handler where its answer's status alone does not tell the outcome.
DELIVERY_OUTCOME = web.RequestKey("delivery_outcome", DeliveryOutcome)

_OUTCOME_BY_STATUS = {
    202: DeliveryOutcome.ACCEPTED,
    200: DeliveryOutcome.IGNORED,
    400: DeliveryOutcome.MALFORMED,
    401: DeliveryOutcome.REFUSED_SIGNATURE,
    408: DeliveryOutcome.TOO_SLOW,
    413: DeliveryOutcome.TOO_LARGE,
    415: DeliveryOutcome.UNSUPPORTED_MEDIA_TYPE,
    503: DeliveryOutcome.BUSY,
}

_DURATION_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
_DOCUMENT_BUCKETS = (1, 2, 3, 5, 10, 20, 50, 100, 200)
_FINDING_BUCKETS = (0, 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000)


class Metrics:
    """The app's instruments, in `registry` (a new one when none is given)."""

    CONTENT_TYPE = CONTENT_TYPE_LATEST  # of `exposition()`

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.deliveries = Counter(
            "product_review_deliveries",
            "Webhook deliveries, by event and by how they were answered.",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "product_review_queue_depth",
            "Jobs waiting or running.",
            registry=self.registry,
        )
        self.oldest_job_age = Gauge(
            "product_review_queue_oldest_job_age_seconds",
            "How long the oldest job waiting or running has been there; 0 when none is.",
            registry=self.registry,
        )
        self.jobs_recovered = Counter(
            "product_review_jobs_recovered",
            "Jobs found unfinished after a restart and taken up again.",
            registry=self.registry,
        )
        self.reviews = Counter(
            "product_review_reviews",
            "Reviews, by how they ended.",
            ["outcome"],
            registry=self.registry,
        )
        self.review_duration = Histogram(
            "product_review_review_duration_seconds",
            "How long a review took, whatever its outcome.",
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.review_documents = Histogram(
            "product_review_review_documents",
            "Design documents per review that reviewed some.",
            buckets=_DOCUMENT_BUCKETS,
            registry=self.registry,
        )
        self.review_findings = Histogram(
            "product_review_review_findings",
            "Findings per review that reviewed documents.",
            buckets=_FINDING_BUCKETS,
            registry=self.registry,
        )
        self.github_calls = Counter(
            "product_review_github_calls",
            "HTTP requests sent to GitHub, by route, method and the answer's status "
            "(or error, too-large, timeout when there was none to read).",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.github_retries = Counter(
            "product_review_github_retries",
            "Requests to GitHub sent again, by why.",
            ["reason"],
            registry=self.registry,
        )
        self.rate_limit_remaining = Gauge(
            "product_review_github_rate_limit_remaining",
            "X-RateLimit-Remaining of GitHub's latest answer, by its rate-limit resource.",
            ["resource"],
            registry=self.registry,
        )

    # -- deliveries and the queue ---------------------------------------------------

    def delivery(self, event: str, outcome: DeliveryOutcome) -> None:
        self.deliveries.labels(event if event in KNOWN_EVENTS else OTHER, outcome).inc()

    def set_queue_depth(self, depth: int, oldest_age_seconds: float) -> None:
        """Jobs waiting or running, and the age of the oldest of them."""
        self.queue_depth.set(depth)
        self.oldest_job_age.set(oldest_age_seconds)

    def note_recovered(self, n: int) -> None:
        """`n` unfinished jobs were found at start-up and queued again."""
        self.jobs_recovered.inc(n)

    # -- reviews ------------------------------------------------------------------------

    def review_finished(self, outcome: str, *, duration_seconds: float) -> None:
        self.reviews.labels(outcome).inc()
        self.review_duration.observe(duration_seconds)

    def documents_reviewed(self, *, documents: int, findings: int) -> None:
        self.review_documents.observe(documents)
        self.review_findings.observe(findings)

    # -- GitHub ---------------------------------------------------------------------------

    def github_call(
        self, *, endpoint: str, method: str, status: str, headers: Mapping[str, str] | None = None
    ) -> None:
        """One request sent to GitHub; `headers` (of its answer, when there was one)
        update the rate-limit gauge."""
        self.github_calls.labels(endpoint, method if method in _METHODS else OTHER, status).inc()
        if headers is None:
            return
        remaining = headers.get("x-ratelimit-remaining", "").strip()
        if remaining.isdigit():
            resource = headers.get("x-ratelimit-resource", "core")
            if resource not in _RATE_LIMIT_RESOURCES:
                resource = OTHER
            self.rate_limit_remaining.labels(resource).set(int(remaining))

    def github_retry(self, reason: str) -> None:
        self.github_retries.labels(reason).inc()

    # -- exposition -------------------------------------------------------------------

    def exposition(self) -> bytes:
        """Everything, in Prometheus' text format."""
        return generate_latest(self.registry)

    def exposition_with(self, reviews: str) -> bytes:
        """This web process's deliveries and queue, with everything else taken from
        `reviews`, the exposition of the process that reviews them ("" while it has
        written none: those families are then left out)."""
        try:
            theirs = [
                family
                for family in text_string_to_metric_families(reviews)
                # The text format gives a counter's `_created` a family of its own.
                if family.name.removesuffix("_created") not in self._web_families
            ]
        except ValueError:
            # Caught mid-write by a foreign editor, or damaged: the web's part stands.
            theirs = []
        ours = [family for family in self.registry.collect() if family.name in self._web_families]
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Families([*ours, *theirs]))
        return generate_latest(registry)

    @property
    def _web_families(self) -> frozenset[str]:
        return frozenset(
            metric._name for metric in (self.deliveries, self.queue_depth, self.oldest_job_age)
        )


class _Families(Collector):
    """Families collected elsewhere, served as they are."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def counting_deliveries(handler: Handler, metrics: Metrics) -> Handler:
    """The webhook handler, counting each delivery by its event and outcome: the one
    the handler set in `DELIVERY_OUTCOME`, else the one its answer's status says."""

    async def counted(request: web.Request) -> web.StreamResponse:
        event = request.headers.get("X-GitHub-Event", "")
        try:
            response = await handler(request)
        except asyncio.CancelledError:
            metrics.delivery(event, DeliveryOutcome.CANCELLED)
            raise
        except Exception:
            metrics.delivery(event, DeliveryOutcome.ERROR)
            raise
        outcome = request.get(DELIVERY_OUTCOME)
        if outcome is None:
            if response.status == 200 and event == "ping":
                outcome = DeliveryOutcome.PING
            else:
                outcome = _OUTCOME_BY_STATUS.get(response.status, DeliveryOutcome.ERROR)
        metrics.delivery(event, outcome)
        return response

    return counted


class AccessLogWithoutScrapes(AccessLogger):
    """aiohttp's access log, less the successful scrapes of `/metrics` and the health
    checks of `/healthz` at INFO: one every few seconds would drown the lines that
    matter. A health check answered 200 is logged at DEBUG."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if request.path == METRICS_PATH and response.status == 200:
            return
        if request.path == HEALTH_PATH and response.status == 200:
            if self.logger.isEnabledFor(logging.DEBUG):
                values = tuple(value for _, value in self._format_line(request, response, time))
                self.logger.debug(self._log_format % values)
            return
        super().log(request, response, time)
