"""GitHub App economy and responsiveness, measured against the in-process fake
GitHub API of the test suite (loopback only, the real engine and the real app).

    python bench/app_economy.py [--corpus PATH] [--deliveries N] [--json FILE] [--team-model]

Prints, for pull requests with 1, 10 and 50 changed design docs (newly added and
modified), the API calls each review made, for every way a review starts:
`opened`; a push announced by `synchronize`, or by `check_suite requested` when
that arrives first; the `/product-review` comment command; and GitHub's Re-run
(`check_run rerequested`). A push comes before each but `opened`, so every
review has a new question to post: the most calls a review makes. Each review
is split into its GraphQL requests (one: the config files, earlier reviews, the
pull request's head, draft state and labels, and the modified docs' texts), REST
requests and token minting; a command's own calls (its reactions) are counted
apart from the review it starts (the prefetch it makes to check who may run it is
the review's own, handed to it). Also the time the webhook endpoint takes to
answer (median and 95th percentile) while reviews run in the background.

Every repository here has an organisation `.github` repository with a config
file and a config file of its own, so the config loader has all its layers
to read. With `--team-model`, the repository's config also names a model file
(`model: .github/product-review-model.json`, a copy of the shipped model at the
pull request's head), which the first review of each repository reads once.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import importlib
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from corpus import usable_markdown
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ghapp.queue import InMemoryReviewQueue
from ghapp.repoconfig import CONFIG_PATH
from ghapp.server import BACKGROUND_KEY, CONTEXT_KEY, create_app
from ghapp.settings import ServerSettings

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus"
SECRET = "bench-secret"
APP_ID = "1"
# The file list, one GraphQL request (the docs' texts with the rest), the check's
# creation and completion, the review; the first review's token minting on top.
REVIEW_BUDGET = 5
TEAM_MODEL_PATH = ".github/product-review-model.json"


def _sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def _docs(corpus: Path, count: int) -> list[tuple[str, str]]:
    found = [path for path in usable_markdown(corpus) if path.parent.name == "rust-rfcs"][:count]
    if len(found) < count:
        # No corpus at hand: a small doc with a few questions in it.
        text = "# Offline sync\n\n## Problem\nUsers lose work.\n\n## Plan\nReal-time sync.\nTBD\n"
        return [(f"docs/rfcs/{n:04d}-doc.md", text) for n in range(count)]
    return [(f"docs/rfcs/{path.name}", path.read_text(encoding="utf-8")) for path in found]


def _modified_patch(text: str) -> str:
    """A one-hunk patch that changes the document's last line."""
    lines = text.rstrip("\n").split("\n")
    last = len(lines)
    return f"@@ -{last} +{last} @@\n-old\n+{lines[-1]}"


# Every way a review starts, in the order the bench runs them on one pull request
# (a push before each but the first, so each review has something new to ask).
TRIGGERS = (
    "opened",
    "synchronize",
    "check_suite requested",  # a push whose check_suite arrives before its synchronize
    "/product-review",
    "check_run rerequested",
)


def _trigger(fake: Any, repo: Any, pull: Any, action: str) -> tuple[str, dict[str, Any]]:
    """The (event, payload) GitHub sends for `action`."""
    if action in ("opened", "synchronize"):
        return "pull_request", fake.pull_request_event(repo, pull, action)
    if action == "check_suite requested":
        return "check_suite", fake.check_suite_event(repo, pull, "requested")
    if action == "/product-review":
        return "issue_comment", fake.issue_comment_event(repo, pull, action)
    return "check_run", fake.check_run_event(repo, pull, "rerequested")


async def _deliver(client: TestClient[Any, Any], event: str, payload: dict[str, Any]) -> float:
    body = json.dumps(payload).encode()
    started = time.perf_counter()
    response = await client.post(
        "/api/github/webhooks",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": _sign(body),
        },
    )
    elapsed = time.perf_counter() - started
    response.release()
    if response.status >= 300:
        raise RuntimeError(f"webhook answered {response.status}")
    return elapsed


def _split(requests: list[Any], *, review_calls: int) -> dict[str, int]:
    """One delivery's requests: the review's (`review_calls`, from its outcome) by
    kind, and what a command made of its own besides (its reactions), which come
    first and last, around the review."""
    outside = len(requests) - review_calls
    graphql = sum(1 for r in requests if r.path == "/graphql")
    tokens = sum(1 for r in requests if "/access_tokens" in r.path)
    return {
        "total": review_calls,
        "graphql": graphql,
        "tokens": tokens,
        "rest": review_calls - graphql - tokens,
        "outside_review": outside,
    }


async def _measure(corpus: Path, deliveries: int, *, team_model: bool = False) -> dict[str, Any]:
    sys.path.insert(0, str(HERE.parent))
    fakegithub: Any = importlib.import_module("tests.support.fakegithub")

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    fake = fakegithub.FakeGitHub(app_id=APP_ID, public_key=key.public_key())
    fake_server = TestServer(fake.app)
    await fake_server.start_server()
    fake.url = str(fake_server.make_url("")).rstrip("/")
    settings = ServerSettings(
        app_id=APP_ID, private_key=pem, webhook_secret=SECRET, github_api_url=fake.url
    )
    app: web.Application = create_app(settings)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    results: dict[str, Any] = {"api_calls": {}, "ack_seconds": {}}
    try:
        number = 0
        for count in (1, 10, 50):
            docs = _docs(corpus, count)
            for kind in ("added", "modified"):
                number += 1
                org = fake.add_repo(owner=f"org{number}", name=".github")
                org.contents[("main", CONFIG_PATH)] = "comments:\n  max_inline: 10\n"
                repo = fake.add_repo(owner=f"org{number}", name="repo")
                repo.contents[("main", CONFIG_PATH)] = "fail_on: never\n" + (
                    f"model: {TEAM_MODEL_PATH}\n" if team_model else ""
                )
                files: dict[str, Any]
                if kind == "added":
                    files = {"added": dict(docs)}
                else:
                    files = {"modified": {p: (t, _modified_patch(t)) for p, t in docs}}
                pull = fake.add_pull(repo, number=number, **files)
                if team_model:  # on the default branch, where the App reads it
                    model_text = (HERE.parent / "checks" / "model.json").read_text("utf-8")
                    repo.contents[(repo.default_branch, TEAM_MODEL_PATH)] = model_text
                for push, action in enumerate(TRIGGERS):
                    if push:  # one more placeholder each time: a new question to ask
                        points = "".join(f"\nTBD: open point {n}.\n" for n in range(1, push + 1))
                        edited = {p: t + points for p, t in docs}
                        fake.push(
                            repo,
                            pull,
                            modified={
                                p: (
                                    t,
                                    fakegithub.added_file_patch(t)
                                    if kind == "added"
                                    else _modified_patch(t),
                                )
                                for p, t in edited.items()
                            },
                        )
                    queue = app[CONTEXT_KEY].queue
                    assert isinstance(queue, InMemoryReviewQueue)
                    outcomes = queue.results
                    reviews_before = len(outcomes)
                    before = len(fake.requests)
                    await _deliver(client, *_trigger(fake, repo, pull, action))
                    await app[BACKGROUND_KEY].join()
                    if len(outcomes) != reviews_before + 1 or outcomes[-1].outcome != "reviewed":
                        raise RuntimeError(f"{action}: expected one completed review")
                    label = f"{count} doc(s), {kind}, {action}"
                    results["api_calls"][label] = _split(
                        fake.requests[before:], review_calls=outcomes[-1].api_calls
                    )
                    if action == "check_suite requested":
                        # Its synchronize follows and finds the head already reviewed.
                        before = len(fake.requests)
                        event = fake.pull_request_event(repo, pull, "synchronize")
                        await _deliver(client, "pull_request", event)
                        await app[BACKGROUND_KEY].join()
                        if len(fake.requests) != before:
                            raise RuntimeError("the push was reviewed twice")

        # Acknowledgement time, first with the server idle (each review finishes
        # before the next delivery), then back to back with reviews piling up.
        repo = fake.add_repo(owner="ack", name="repo")
        docs = _docs(corpus, 5)
        for mode in ("idle", "busy"):
            timings = []
            for _ in range(deliveries):
                pull = fake.add_pull(repo, number=1000 + len(repo.pulls), added=dict(docs))
                event = fake.pull_request_event(repo, pull, "opened")
                timings.append(await _deliver(client, "pull_request", event))
                if mode == "idle":
                    await app[BACKGROUND_KEY].join()
            await app[BACKGROUND_KEY].join()
            timings.sort()
            results["ack_seconds"][mode] = {
                "deliveries": deliveries,
                "median_ms": round(statistics.median(timings) * 1000, 2),
                "p95_ms": round(timings[int(0.95 * (len(timings) - 1))] * 1000, 2),
                "max_ms": round(timings[-1] * 1000, 2),
            }
    finally:
        await client.close()
        await fake_server.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--deliveries", type=int, default=50)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--team-model", action="store_true", help="the repositories' configs name a model file"
    )
    args = parser.parse_args()
    results = asyncio.run(_measure(args.corpus, args.deliveries, team_model=args.team_model))
    print(
        f"API calls per review (budget: {REVIEW_BUDGET}, whatever the number of docs; "
        "the installation token, minted once an hour, on top)"
    )
    for label, split in results["api_calls"].items():
        # A team's model file: one raw read the first time its blob is seen.
        budget = REVIEW_BUDGET + (1 if args.team_model and label.endswith(", opened") else 0)
        over = "  OVER BUDGET" if split["total"] - split["tokens"] > budget else ""
        outside = split["outside_review"]
        print(
            f"  {label:<42} {split['total']:>2} (budget {budget:>2}){over}"
            f" = GraphQL {split['graphql']} + REST {split['rest']:>2}"
            f" + token {split['tokens']}"
            + (f"; and the command's own calls: {outside}" if outside else "")
        )
    for mode, ack in results["ack_seconds"].items():
        print(
            f"Webhook acknowledgement, {mode} server, {ack['deliveries']} deliveries "
            f"(5-doc PRs): median {ack['median_ms']} ms, p95 {ack['p95_ms']} ms, "
            f"max {ack['max_ms']} ms"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
