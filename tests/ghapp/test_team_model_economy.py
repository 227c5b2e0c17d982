"""A team's own model file (`model: PATH`) in the App: read on the default branch
for one REST call at most, none once its blob is parsed; parsed once per blob; a bad
file leaves the review to the shipped layer and says why in the Check Run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from cachetools import LRUCache

from checks.options import ReviewOptions
from checks.report import DocumentReport
from ghapp import teammodel
from ghapp.repoconfig import CONFIG_PATH
from localreview import model as localmodel
from localreview.model import MAX_MODEL_BYTES
from tests.ghapp.conftest import AppFactory
from tests.ghapp.test_economy import PATCH, PUSHED, PUSHED_PATCH, TEXT, calls_made, doc
from tests.support.apptools import deliver, outcomes
from tests.support.builders import contrary_model_text, stub_engine
from tests.support.fakegithub import FakeGitHub, FakePull, FakeRepo, added_file_patch

SHIPPED = Path(__file__).resolve().parents[2] / "checks" / "model.json"
MODEL_PATH = ".github/product-review-model.json"
INCLUDE = 'paths:\n  include: ["notes/**/*.md"]\n'
SHIPPED_LAYER = "shipped"  # what `Recording` notes for the shipped model


class Recording:
    """The stub engine, noting the model each document was judged with (and using
    it, as the real engine does, so that a lazily parsed model is parsed)."""

    def __init__(self) -> None:
        self.models: list[object] = []

    def __call__(self, text: str, path: str, options: ReviewOptions) -> DocumentReport:
        model = options.model
        judge = None if model is None else SHIPPED_LAYER if model.shipped else len(model.dimensions)
        self.models.append(judge)
        return stub_engine(text, path, options)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every parse of a model's text, in any thread of this process."""
    counted: list[int] = []
    parse = localmodel.parse_model

    def counting(data: bytes | str) -> Any:
        counted.append(len(data))
        return parse(data)

    monkeypatch.setattr(localmodel, "parse_model", counting)
    # Nothing parsed by other tests.
    monkeypatch.setattr(localmodel, "_PARSED", LRUCache(maxsize=localmodel.PARSED_PER_PROCESS))
    return counted


def team_pr(
    fake: FakeGitHub, *, model: str | None, model_text: str | None
) -> tuple[FakeRepo, FakePull]:
    repo = fake.add_repo()
    config = INCLUDE + (f"model: {model}\n" if model else "")
    repo.contents[("main", CONFIG_PATH)] = config
    pull = fake.add_pull(repo, modified={doc(1): (TEXT.format(n=1), PATCH)})
    if model_text is not None and model is not None:
        repo.contents[(repo.default_branch, model)] = model_text
    return repo, pull


async def opened_then_pushed(
    client: TestClient[Any, Any], fake: FakeGitHub, repo: FakeRepo, pull: FakePull
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The calls of the first review and of the review after a push."""
    await deliver(client, "pull_request", fake.pull_request_event(repo, pull, "opened"))
    first = calls_made(fake)
    fake.push(repo, pull, modified={doc(1): (PUSHED.format(n=1), PUSHED_PATCH)})
    await deliver(client, "pull_request", fake.pull_request_event(repo, pull, "synchronize"))
    return first, calls_made(fake)[len(first) :]


def latest_run(repo: FakeRepo) -> dict[str, Any]:
    return max(repo.check_runs.values(), key=lambda run: int(run["id"]))


async def test_a_model_file_costs_one_call_once_and_none_after(
    make_client: AppFactory, fake_github: FakeGitHub, parses: list[int]
) -> None:
    # The same pull request without a model file: the calls to match.
    plain = await make_client(engine=Recording())
    repo, pull = team_pr(fake_github, model=None, model_text=None)
    without_first, without_again = await opened_then_pushed(plain, fake_github, repo, pull)
    fake_github.requests.clear()

    engine = Recording()
    client = await make_client(engine=engine)
    text = SHIPPED.read_text(encoding="utf-8")
    repo, pull = team_pr(fake_github, model=MODEL_PATH, model_text=text)
    repo.name = "gadgets"  # another repository, with its own caches' keys
    fake_github.repos["acme/gadgets"] = repo
    first, again = await opened_then_pushed(client, fake_github, repo, pull)

    # The first review learns the path with the config: one raw read, then as before.
    read = ("GET", f"contents/{MODEL_PATH}")
    assert first == [*without_first[:3], read, *without_first[3:]]
    assert len(first) == len(without_first) + 1
    # The next one asks for the blob's SHA in its GraphQL request: no call more.
    assert again == without_again
    (_, context) = fake_github.calls("POST", "/graphql")
    assert context.body["variables"]["modelAt"] == f"{repo.default_branch}:{MODEL_PATH}"
    # The reviews count the same calls (the first one's installation token included).
    plain_calls = [o.api_calls for o in outcomes(plain)]
    assert [o.api_calls for o in outcomes(client)] == [plain_calls[0] + 1, plain_calls[1]]
    assert plain_calls[1] == len(again) == 5

    # Both reviews judged with the team's model, parsed once for both.
    assert engine.models == [9, 9]
    assert parses == [len(text)]
    run = latest_run(repo)
    assert "config has" not in run["output"]["title"]


async def test_a_model_file_changed_on_the_default_branch_is_read_and_parsed_again(
    make_client: AppFactory, fake_github: FakeGitHub, parses: list[int]
) -> None:
    client = await make_client(engine=Recording())
    text = SHIPPED.read_text(encoding="utf-8")
    repo, pull = team_pr(fake_github, model=MODEL_PATH, model_text=text)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    retrained = json.loads(text)
    retrained["documents"] = 1
    new_text = json.dumps(retrained)
    repo.contents[(repo.default_branch, MODEL_PATH)] = new_text  # a retrained model merged
    fake_github.push(repo, pull, modified={doc(1): (PUSHED.format(n=1), PUSHED_PATCH)})
    before = len(calls_made(fake_github))
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))
    assert ("GET", f"contents/{MODEL_PATH}") in calls_made(fake_github)[before:]
    assert parses == [len(text), len(new_text)]


async def test_a_pull_request_cannot_change_the_model_that_judges_it(
    make_client: AppFactory, fake_github: FakeGitHub, parses: list[int]
) -> None:
    # Like the config, the model comes from the default branch: a stranger's pull
    # request that commits a lenient model is still judged by the team's.
    engine = Recording()
    client = await make_client(engine=engine)
    text = SHIPPED.read_text(encoding="utf-8")
    repo, pull = team_pr(fake_github, model=MODEL_PATH, model_text=text)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    lenient = json.loads(text)
    lenient["documents"] = 1
    fake_github.push(
        repo,
        pull,
        modified={
            doc(1): (PUSHED.format(n=1), PUSHED_PATCH),
            MODEL_PATH: (json.dumps(lenient), "@@ -1 +1 @@\n-x\n+y"),
        },
    )
    before = len(calls_made(fake_github))
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "synchronize"))
    assert ("GET", f"contents/{MODEL_PATH}") not in calls_made(fake_github)[before:]
    assert parses == [len(text)]  # the default branch's file, parsed once


@pytest.mark.parametrize(
    ("model_text", "why"),
    [
        (None, "no such file on main"),
        ('{"format": 1, "feature_bits": 15}', "not a usable model file: model decision features"),
        ("[" * 50_000 + "]" * 50_000, "not a model file: JSON nested too deeply"),
        ("{" + " " * MAX_MODEL_BYTES + "}", "the file is larger than 5 MB"),
    ],
)
async def test_a_bad_model_file_leaves_the_review_to_the_shipped_layer_and_says_why(
    make_client: AppFactory,
    fake_github: FakeGitHub,
    parses: list[int],
    model_text: str | None,
    why: str,
) -> None:
    engine = Recording()
    client = await make_client(engine=engine)
    repo, pull = team_pr(fake_github, model=MODEL_PATH, model_text=model_text)
    first, again = await opened_then_pushed(client, fake_github, repo, pull)

    assert [o.outcome for o in outcomes(client)] == ["reviewed", "reviewed"]
    assert engine.models == [SHIPPED_LAYER, SHIPPED_LAYER]  # the default judged
    assert len(pull.reviews) == 2  # and the questions were still asked
    run = latest_run(repo)
    assert run["conclusion"] == "neutral"
    assert "config has 1 problem" in run["output"]["title"]
    (line,) = [line for line in run["output"]["summary"].splitlines() if "team's model" in line]
    assert (
        f"acme/widgets:{CONFIG_PATH}: model: the team's model {MODEL_PATH} "
        f"{teammodel.NOT_USED}: "
    ) in line
    assert why in line
    # One read in the first review; the next knows the blob (or its absence) by its
    # SHA from the GraphQL request, and that it was bad: no read again.
    assert ("GET", f"contents/{MODEL_PATH}") in first
    assert ("GET", f"contents/{MODEL_PATH}") not in again
    assert len(parses) <= 1


async def test_github_failing_on_the_model_file_is_a_review_by_the_shipped_layer(
    make_client: AppFactory, fake_github: FakeGitHub, parses: list[int]
) -> None:
    engine = Recording()
    client = await make_client(engine=engine)
    repo, pull = team_pr(fake_github, model=MODEL_PATH, model_text="{}")
    fake_github.fail("GET", f"/contents/{MODEL_PATH}", status=500, times=10)
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))

    assert outcomes(client)[-1].outcome == "reviewed"
    assert engine.models == [SHIPPED_LAYER]
    summary = latest_run(repo)["output"]["summary"]
    assert f"{teammodel.NOT_USED}: it could not be read" in summary


@pytest.mark.parametrize("added", [False, True])
async def test_the_comment_command_asks_for_the_models_sha_in_its_prefetch(
    make_client: AppFactory, fake_github: FakeGitHub, parses: list[int], added: bool
) -> None:
    engine = Recording()
    client = await make_client(engine=engine)
    repo, pull = team_pr(
        fake_github, model=MODEL_PATH, model_text=SHIPPED.read_text(encoding="utf-8")
    )
    if added:  # no text to carry: the head is learnt with the model's SHA all the same
        pull.files[0].status = "added"
        pull.files[0].patch = added_file_patch(TEXT.format(n=1))
    await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
    before = len(calls_made(fake_github))
    comment = fake_github.issue_comment_event(repo, pull, "/product-review full")
    await deliver(client, "issue_comment", comment)

    assert ("GET", f"contents/{MODEL_PATH}") not in calls_made(fake_github)[before:]
    assert "modelAt" in fake_github.calls("POST", "/graphql")[-1].body["variables"]
    assert engine.models == [9, 9] and len(parses) == 1


def test_the_pool_gets_the_text_not_the_weights() -> None:
    import pickle

    text = SHIPPED.read_text(encoding="utf-8")
    model = localmodel.TeamModel("acme/widgets@abc", text)
    data = pickle.dumps(model)
    assert len(data) < len(text) + 1_000  # the text, not 4 MB of pickled weights
    copy = pickle.loads(data)
    assert isinstance(copy, localmodel.TeamModel) and len(copy.dimensions) == 9
    assert teammodel.MODELS_CACHED >= 1


async def test_the_real_engine_in_worker_processes_judges_with_the_team_model(
    make_client: AppFactory, fake_github: FakeGitHub
) -> None:
    from ghapp.server import default_engine

    client = await make_client(engine=default_engine)
    # A document whose statuses the learned layer judges apart from the rules.
    sso = Path(__file__).resolve().parents[2] / "docs/examples/rfcs/0042-enterprise-sso.md"
    rows = []
    for name, model in (("by-rules", "rules"), ("by-default", "learned"), ("by-model", MODEL_PATH)):
        repo = fake_github.add_repo(name=name)
        repo.contents[("main", CONFIG_PATH)] = f"model: {model}\n"
        pull = fake_github.add_pull(
            repo, modified={"docs/rfcs/0042-sso.md": (sso.read_text(encoding="utf-8"), PATCH)}
        )
        repo.contents[(repo.default_branch, MODEL_PATH)] = contrary_model_text()
        await deliver(client, "pull_request", fake_github.pull_request_event(repo, pull, "opened"))
        assert outcomes(client)[-1].outcome == "reviewed"
        run = latest_run(repo)
        assert "config has" not in run["output"]["title"]
        (row,) = [r for r in run["output"]["summary"].splitlines() if "0042-sso.md` |" in r]
        rows.append(row)
    # The team's model judged, in the worker processes: unlike the rules and the
    # shipped layer (which judge unlike each other on this document too).
    assert len(set(rows)) == 3
