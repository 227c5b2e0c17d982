"""`GET /metrics` after real deliveries against the fake GitHub, and the log fields
every line of a review carries."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request
from gidgethub import sansio
from prometheus_client.parser import text_string_to_metric_families

from ghapp import logcontext
from ghapp.metrics import (
    API_ROUTES,
    METRICS_PATH,
    OTHER,
    AccessLogWithoutScrapes,
    Metrics,
    api_route,
    endpoint_of,
)
from ghapp.routers import ROUTER
from ghapp.server import CONTEXT_KEY, MAX_PAYLOAD_BYTES
from tests.support.apptools import deliver, outcomes, settled, sign, wait_until
from tests.support.fakegithub import FakeGitHub, FakePull, FakeRepo

WEBHOOK = "/api/github/webhooks"
DOC = "docs/rfcs/0001-offline-mode.md"
DOC_TEXT = "# Offline mode\n\n## Problem\nField staff lose work.\n\n## Rollout\nTBD\n"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(client: TestClient[Any, Any]) -> Samples:
    response = await client.get(METRICS_PATH)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return parse(await response.text())


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def counts(samples: Samples, name: str, *keys: str) -> dict[tuple[str, ...], float]:
    """The samples of `name`, by the values of its labels `keys`."""
    return {
        tuple(dict(labels)[key] for key in keys): count
        for (sample, labels), count in samples.items()
        if sample == name
    }


def a_pull(fake: FakeGitHub) -> tuple[FakeRepo, FakePull]:
    repo = fake.add_repo()
    return repo, fake.add_pull(repo, added={DOC: DOC_TEXT})


async def test_an_accepted_delivery_counts_its_review_and_every_call_github_received(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = a_pull(fake_github)
    response = await deliver(
        client, "pull_request", fake_github.pull_request_event(repo, pull, "opened")
    )
    assert response.status == 202
    (result,) = outcomes(client)
    assert result.outcome == "reviewed" and result.documents == 1 and result.findings > 0

    samples = await scrape(client)
    deliveries = counts(samples, "product_review_deliveries_total", "event", "outcome")
    assert deliveries == {("pull_request", "accepted"): 1.0}
    assert value(samples, "product_review_reviews_total", outcome="reviewed") == 1.0
    assert value(samples, "product_review_review_duration_seconds_count") == 1.0
    assert value(samples, "product_review_review_documents_count") == 1.0
    assert value(samples, "product_review_review_documents_sum") == 1.0
    assert value(samples, "product_review_review_findings_count") == 1.0
    assert value(samples, "product_review_review_findings_sum") == result.findings

    received = Counter((api_route(r.path), r.method, str(r.status)) for r in fake_github.requests)
    counted = counts(samples, "product_review_github_calls_total", "endpoint", "method", "status")
    assert counted == {key: float(count) for key, count in received.items()}
    assert OTHER not in {endpoint for endpoint, _, _ in counted}
    assert sum(counted.values()) == result.api_calls


async def test_the_commands_calls_are_counted_under_their_routes(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = a_pull(fake_github)
    for command in ("/product-review help", "/product-review pause", "/product-review resume"):
        payload = fake_github.issue_comment_event(repo, pull, command)
        assert (await deliver(client, "issue_comment", payload)).status == 202

    samples = await scrape(client)
    received = Counter((api_route(r.path), r.method, str(r.status)) for r in fake_github.requests)
    counted = counts(samples, "product_review_github_calls_total", "endpoint", "method", "status")
    assert counted == {key: float(count) for key, count in received.items()}
    assert {endpoint for endpoint, _, _ in counted} >= {
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
        "/repos/{owner}/{repo}/labels",
        "/repos/{owner}/{repo}/issues/{issue_number}/labels",
        "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
    }
    assert OTHER not in {endpoint for endpoint, _, _ in counted}


async def test_each_way_a_delivery_is_answered_has_its_outcome(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = a_pull(fake_github)
    opened = fake_github.pull_request_event(repo, pull, "opened")
    await deliver(client, "pull_request", opened, delivery_id="same")
    await deliver(client, "pull_request", opened, delivery_id="same")
    await deliver(client, "ping", {"zen": "Keep it logically awesome.", "hook_id": 1})
    await deliver(client, "installation", {"action": "created"})
    foreign = fake_github.pull_request_event(repo, pull, "synchronize")
    foreign["pull_request"]["url"] = "https://evil.example/repos/acme/widgets/pulls/7"
    assert (await deliver(client, "pull_request", foreign)).status == 400

    def post(body: bytes, event: str, **headers: str) -> Any:
        sent = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": "d-x",
            "X-Hub-Signature-256": sign(body),
            **headers,
        }
        return client.post(WEBHOOK, data=body, headers=sent)

    assert (await post(b"not json", "pull_request")).status == 400
    assert (await post(b"{}", "made_up_event", **{"X-Hub-Signature-256": "sha256=0"})).status == 401
    too_large = b"{" + b" " * MAX_PAYLOAD_BYTES + b"}"
    assert (await post(too_large, "pull_request")).status == 413
    assert (await post(b"{}", "pull_request", **{"Content-Type": "text/plain"})).status == 415
    await settled(client)

    samples = await scrape(client)
    deliveries = counts(samples, "product_review_deliveries_total", "event", "outcome")
    assert deliveries == {
        ("pull_request", "accepted"): 1.0,
        ("pull_request", "duplicate"): 1.0,
        ("ping", "ping"): 1.0,
        ("installation", "ignored"): 1.0,
        ("pull_request", "foreign-url"): 1.0,
        ("pull_request", "malformed"): 1.0,
        ("other", "refused-signature"): 1.0,  # an event name GitHub never sends
        ("pull_request", "too-large"): 1.0,
        ("pull_request", "unsupported-media-type"): 1.0,
    }


async def test_retries_and_the_rate_limit_left_are_counted(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = a_pull(fake_github)
    fake_github.fail("GET", r"/files$", status=502)
    fake_github.fail(
        "POST",
        r"/check-runs$",
        status=429,
        headers={"Retry-After": "1", "X-RateLimit-Remaining": "17", "X-RateLimit-Resource": "core"},
    )
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    assert outcomes(client)[-1].outcome == "reviewed"

    samples = await scrape(client)
    assert counts(samples, "product_review_github_retries_total", "reason") == {
        ("server-error",): 1.0,
        ("rate-limit",): 1.0,
    }
    files = "/repos/{owner}/{repo}/pulls/{pull_number}/files"
    calls = "product_review_github_calls_total"
    assert value(samples, calls, endpoint=files, method="GET", status="502") == 1.0
    assert value(samples, calls, endpoint=files, method="GET", status="200") == 1.0
    assert value(samples, "product_review_github_rate_limit_remaining", resource="core") == 17.0


async def test_a_rejected_token_is_a_retry(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = a_pull(fake_github)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    fake_github.expire_tokens()  # the cached token now gets 401
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "reopened"))
    samples = await scrape(client)
    assert value(samples, "product_review_github_retries_total", reason="token-rejected") >= 1.0


async def test_the_queue_depth_is_the_deliveries_being_handled(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = a_pull(fake_github)
    gate = fake_github.stall("POST", r"/check-runs$")
    event = fake_github.pull_request_event(repo, pull, "opened")
    await deliver(client, "pull_request", event, settle=False)
    await wait_until(lambda: bool(fake_github.calls("POST", "/check-runs")))
    during = await scrape(client)
    gate.set()
    await settled(client)
    after = await scrape(client)
    assert value(during, "product_review_queue_depth") == 1.0
    assert value(during, "product_review_queue_oldest_job_age_seconds") > 0.0
    assert value(after, "product_review_queue_depth") == 0.0
    assert value(after, "product_review_queue_oldest_job_age_seconds") == 0.0


async def test_apps_in_one_process_count_apart(make_client: Any, fake_github: FakeGitHub) -> None:
    first, second = await make_client(), await make_client()
    await deliver(first, "ping", {"zen": "z", "hook_id": 1})
    deliveries = "product_review_deliveries_total"
    assert counts(await scrape(first), deliveries, "event", "outcome") == {("ping", "ping"): 1.0}
    assert counts(await scrape(second), deliveries, "event", "outcome") == {}


def test_what_the_queue_reports_is_exposed() -> None:
    metrics = Metrics()
    metrics.set_queue_depth(3, 42.5)
    metrics.note_recovered(2)
    metrics.note_recovered(1)
    samples = parse(metrics.exposition().decode())
    assert value(samples, "product_review_queue_depth") == 3.0
    assert value(samples, "product_review_queue_oldest_job_age_seconds") == 42.5
    assert value(samples, "product_review_jobs_recovered_total") == 3.0


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/app/installations/42/access_tokens", API_ROUTES[0]),
        ("/repos/acme/widgets/pulls/7/files", "/repos/{owner}/{repo}/pulls/{pull_number}/files"),
        ("/repos/acme/widgets/contents/docs/a%20b/x.md", "/repos/{owner}/{repo}/contents/{path}"),
        ("/repos/acme/widgets/check-runs/1001", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
        (
            "/repos/acme/widgets/issues/comments/5/reactions",
            "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
        ),
        (
            "/repos/acme/widgets/issues/7/labels/needs%20work",
            "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
        ),
        ("/repos/acme/widgets/check-runs/not-a-number", OTHER),
        ("/repos/acme/widgets/hooks", OTHER),
        ("/user", OTHER),
    ],
)
def test_a_path_is_counted_under_its_route_never_under_its_ids(path: str, route: str) -> None:
    assert api_route(path) == route


def test_the_route_is_found_under_an_enterprise_base() -> None:
    base, graphql = ("api", "v3"), ("api", "graphql")
    assert endpoint_of("/api/graphql", base_path=base, graphql_path=graphql) == "/graphql"
    assert (
        endpoint_of("/api/v3/repos/a/b/check-runs", base_path=base, graphql_path=graphql)
        == "/repos/{owner}/{repo}/check-runs"
    )
    assert endpoint_of("/repos/a/b/check-runs", base_path=base, graphql_path=graphql) == OTHER


def test_successful_scrapes_stay_out_of_the_access_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    access = AccessLogWithoutScrapes(logging.getLogger("aiohttp.access"), '"%r" %s')
    access.log(make_mocked_request("GET", METRICS_PATH), web.Response(status=200), 0.001)
    assert caplog.records == []
    access.log(make_mocked_request("GET", METRICS_PATH), web.Response(status=500), 0.001)
    access.log(make_mocked_request("GET", "/healthz"), web.Response(status=200), 0.001)
    access.log(make_mocked_request("GET", "/healthz"), web.Response(status=503), 0.001)
    assert [record.getMessage() for record in caplog.records] == [
        '"GET /metrics HTTP/1.1" 500',
        '"GET /healthz HTTP/1.1" 503',
    ]


def test_health_checks_are_logged_at_debug_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp.access")
    access = AccessLogWithoutScrapes(logging.getLogger("aiohttp.access"), '"%r" %s')
    access.log(make_mocked_request("GET", "/healthz"), web.Response(status=200), 0.001)
    assert [(record.levelno, record.getMessage()) for record in caplog.records] == [
        (logging.DEBUG, '"GET /healthz HTTP/1.1" 200')
    ]


async def test_lines_logged_within_a_review_name_its_delivery_repo_pull_and_head(
    client: TestClient[Any, Any], fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(logcontext.ReviewFieldsFilter())  # as `main` installs it
    repo, pull = a_pull(fake_github)
    pull.unresolvable.add((DOC, 7))  # GitHub refuses a comment: a warning mid-review
    await deliver(
        client,
        "pull_request",
        fake_github.pull_request_event(repo, pull, "opened"),
        delivery_id="d-fields",
    )

    fields = f"delivery=d-fields repo=acme/widgets pr=7 head={pull.head_sha[:12]}"
    messages = [record.getMessage() for record in caplog.records]
    (rejected,) = [m for m in messages if m.startswith("review rejected (422")]
    assert rejected.endswith(" " + fields)
    # The result line has the fields already: they are not repeated.
    (result,) = [m for m in messages if m.startswith("review delivery=")]
    assert result.count("delivery=") == 1 and result.count("head=") == 1


async def test_the_fields_end_with_the_review(
    client: TestClient[Any, Any], fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(logcontext.ReviewFieldsFilter())
    repo, pull = a_pull(fake_github)
    event = sansio.Event(
        fake_github.pull_request_event(repo, pull, "opened"),
        event="pull_request",
        delivery_id="d-here",
    )
    # In this task, as a worker running one job after another would.
    await ROUTER.dispatch(event, client.app[CONTEXT_KEY])
    logging.getLogger("ghapp.test").info("the next job")
    assert outcomes(client)[-1].outcome == "reviewed"
    assert logcontext.current() is None
    assert caplog.records[-1].getMessage() == "the next job"


def test_the_filter_leaves_lines_outside_a_review_alone() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "plain %s", ("line",), None)
    assert logcontext.ReviewFieldsFilter().filter(record)
    assert record.getMessage() == "plain line"


def test_installing_twice_adds_one_filter() -> None:
    logger = logging.getLogger("ghapp.test.install")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        logcontext.install(logger)
        logcontext.install(logger)
        assert len(handler.filters) == 1
    finally:
        logger.removeHandler(handler)
