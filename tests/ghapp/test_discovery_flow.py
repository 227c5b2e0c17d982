"""Which files of a pull request the App reviews, end to end against the fake GitHub:
the path decides when it can, otherwise a Markdown file's content does, exactly as
`checks.discovery` decides for the command line; the Check Run says, in one line,
which Markdown files were not reviewed and why; and deciding by content judges at
most `CONTENT_READS_PER_REVIEW` files, each read once, in the review's one GraphQL
request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from checks.config import ConfigError, Settings
from checks.discovery import decide
from checks.markdown_text import byte_len
from ghapp.checkrun import (
    PassedOver,
    Unreviewed,
    render_check,
    render_skipped,
    unreviewed_line,
    with_config_problems,
)
from ghapp.fitting import BODY_LIMIT
from ghapp.github import PullFile
from ghapp.repoconfig import CONFIG_PATH
from ghapp.review import CONTENT_READS_PER_REVIEW, discover_by_path
from localreview.budget import Budget
from tests.ghapp.test_economy import shape
from tests.support.apptools import deliver, outcomes
from tests.support.builders import report
from tests.support.fakegithub import FakeGitHub, FakePull, FakeRepo

# An RFC as rust-lang/rfcs and reactjs/rfcs keep them: in `text/`, which no default
# glob names, so only its content makes it a design document.
RFC = "text/0042-thing.md"
RFC_TEXT = """# Thing

- Start Date: 2024-05-01
- RFC PR: #42

## Summary
Let teams share a thing.

## Motivation
Teams copy things by hand. Sync must be real-time.

## Detailed design
TBD

## Drawbacks
More to maintain.

## Rationale and alternatives
Keep copying by hand.

## Unresolved questions
Who owns it?
"""
# A how-to page: Markdown, no design folder, and nothing of a design document.
HOWTO = "docs/howto.md"
HOWTO_TEXT = """# How to install the widget

## Prerequisites
Python 3.11.

## Installation
Run `pip install widget`.

## Usage
Run `widget --help`.

## Troubleshooting
Ask on the forum.
"""
README_TEXT = "# Widgets\n\n## Installation\nRun `pip install widget`.\n"
DESIGN_DOC = "docs/rfcs/0001-offline-mode.md"  # a design doc by its path
DESIGN_TEXT = "# Offline mode\n\n## Problem\nSync must be real-time.\n\nTBD\n"


def modified(text: str) -> tuple[str, str]:
    """(text at the head, a patch touching its first line)."""
    first = text.split("\n", 1)[0]
    return text, f"@@ -1 +1 @@\n-{first}.\n+{first}"


def pr(fake: FakeGitHub, config: str | None = None, **files: Any) -> tuple[FakeRepo, FakePull]:
    repo = fake.add_repo()
    if config is not None:
        repo.contents[("main", CONFIG_PATH)] = config
    return repo, fake.add_pull(repo, **files)


async def open_pr(
    client: TestClient[Any, Any], fake: FakeGitHub, repo: FakeRepo, pull: FakePull
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Deliver `opened`; the check run and the shape of the review's API calls (the
    installation token, minted once, left out)."""
    await deliver(client, "pull_request", fake.pull_request_event(repo, pull, "opened"))
    (run,) = repo.check_runs.values()
    calls = shape([r for r in fake.requests if "/access_tokens" not in r.path])
    assert outcomes(client)[-1].api_calls == len(calls) + 1  # and the installation token
    return run, calls


def last_line(run: dict[str, Any]) -> str:
    return str(run["output"]["summary"]).rsplit("\n", 1)[-1]


async def test_an_added_rfc_in_text_is_reviewed_by_its_content_without_a_read(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = pr(fake_github, added={RFC: RFC_TEXT})

    run, calls = await open_pr(client, fake_github, repo, pull)

    assert calls == [
        ("GET", "files"),
        ("POST", "graphql"),
        ("POST", "check-runs"),
        ("POST", "reviews"),
        ("PATCH", "check-run"),
    ]
    assert fake_github.texts_requested() == []  # an added file's patch is its text
    assert run["conclusion"] == "neutral"
    assert RFC in run["output"]["summary"]
    assert "not reviewed" not in run["output"]["summary"]
    assert {a["path"] for a in run["output"]["annotations"]} == {RFC}
    assert outcomes(client)[-1].documents == 1


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # Both added: the patches are the texts, nothing to read; one call for the check.
        (
            {"added": {"README.md": README_TEXT, HOWTO: HOWTO_TEXT}},
            [("GET", "files"), ("POST", "graphql"), ("POST", "check-runs")],
        ),
        # The how-to page modified: read once to decide, in the review's GraphQL
        # request, so the check is created already completed as skipped.
        (
            {"added": {"README.md": README_TEXT}, "modified": {HOWTO: modified(HOWTO_TEXT)}},
            [("GET", "files"), ("POST", "graphql"), ("POST", "check-runs")],
        ),
    ],
    ids=["added", "modified"],
)
async def test_a_readme_and_a_howto_page_conclude_skipped_and_say_why(
    client: TestClient[Any, Any],
    fake_github: FakeGitHub,
    files: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    repo, pull = pr(fake_github, added={"src/app.py": "print('hi')\n"} | files.get("added", {}))
    for path, (text, patch) in files.get("modified", {}).items():
        fake_github.push(repo, pull, modified={path: (text, patch)})

    run, calls = await open_pr(client, fake_github, repo, pull)

    assert calls == expected
    # Only the modified page is read, once, at the head; an added file's patch is its text.
    read = [[f"{pull.head_sha}:{HOWTO}"]] if "modified" in files else []
    assert fake_github.texts_requested() == read
    assert fake_github.calls("GET", "/contents/") == []
    assert run["conclusion"] == "skipped"
    assert run["output"]["title"] == "No design documents changed"
    summary = run["output"]["summary"]
    assert "- `README.md`: a well-known project file" in summary
    assert f"- `{HOWTO}`: not a design document by its content" in summary
    assert "src/app.py" not in summary  # not Markdown: never mentioned
    assert last_line(run) == (
        "ℹ️ **2 Markdown files not reviewed:** not a design document by its content (1), "
        f"a well-known project file (1): list one under `paths.include` in `{CONFIG_PATH}` "
        "to review it."
    )
    assert pull.reviews == []
    assert outcomes(client)[-1].outcome == "no-design-docs"


async def test_a_design_doc_and_a_readme_get_the_review_and_the_one_line(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    repo, pull = pr(fake_github, added={DESIGN_DOC: DESIGN_TEXT, "README.md": README_TEXT})

    run, calls = await open_pr(client, fake_github, repo, pull)

    assert len(calls) == 5  # an added doc: nothing to read
    assert run["conclusion"] == "neutral"
    summary = run["output"]["summary"]
    assert DESIGN_DOC in summary
    assert summary.count("not reviewed") == 1
    assert last_line(run) == (
        "ℹ️ **1 Markdown file not reviewed:** a well-known project file (1): "
        f"list one under `paths.include` in `{CONFIG_PATH}` to review it."
    )
    (review,) = pull.reviews
    assert "README" not in review["body"]


async def test_paths_exclude_keeps_a_design_doc_out_and_the_line_names_it(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    config = 'paths:\n  exclude: ["text/**"]\n'
    repo, pull = pr(fake_github, config, added={RFC: RFC_TEXT})

    run, calls = await open_pr(client, fake_github, repo, pull)

    assert calls == [("GET", "files"), ("POST", "graphql"), ("POST", "check-runs")]
    assert run["conclusion"] == "skipped"
    assert f"- `{RFC}`: excluded by config" in run["output"]["summary"]
    assert last_line(run) == (
        "ℹ️ **1 Markdown file not reviewed:** excluded by config (1): "
        f"`paths.exclude` in `{CONFIG_PATH}` decides it (a `!glob` line takes one back)."
    )


async def test_paths_include_forces_a_readme_in(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    config = 'paths:\n  include: ["README.md"]\n'
    repo, pull = pr(fake_github, config, modified={"README.md": modified(README_TEXT + "TBD\n")})

    run, calls = await open_pr(client, fake_github, repo, pull)

    assert calls == [
        ("GET", "files"),
        # The design doc's own text with the config that makes it one: a well-known
        # file's text comes too, since a config may include it.
        ("POST", "graphql"),
        ("POST", "check-runs"),
        ("POST", "reviews"),
        ("PATCH", "check-run"),
    ]
    assert fake_github.texts_requested() == [[f"{pull.head_sha}:README.md"]]
    assert fake_github.calls("GET", "/contents/") == []
    assert "README.md" in run["output"]["summary"]
    assert "not reviewed" not in run["output"]["summary"]
    assert {a["path"] for a in run["output"]["annotations"]} == {"README.md"}


async def test_a_modified_rfc_is_read_once_to_decide_and_reviewed_from_that_text(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    text, _ = modified(RFC_TEXT)
    # The patch touches the placeholder's line, so the review can comment on it.
    patch = "@@ -13,1 +13,1 @@\n-Later.\n+TBD"
    repo, pull = pr(fake_github, modified={RFC: (text, patch), HOWTO: modified(HOWTO_TEXT)})

    run, calls = await open_pr(client, fake_github, repo, pull)

    assert calls == [
        ("GET", "files"),
        # Both texts, read to decide: the RFC is reviewed from its text, the how-to
        # page is not a design doc.
        ("POST", "graphql"),
        ("POST", "check-runs"),
        ("POST", "reviews"),
        ("PATCH", "check-run"),
    ]
    # Read once: in that one request, never again, not through REST either; the one
    # named like a design doc first.
    head = pull.head_sha
    assert fake_github.texts_requested() == [[f"{head}:{RFC}", f"{head}:{HOWTO}"]]
    assert [e for _, e in fake_github.graphql.objects_read].count(f"{head}:{RFC}") == 1
    assert fake_github.calls("GET", "/contents/") == []
    assert {a["path"] for a in run["output"]["annotations"]} == {RFC}
    (post,) = fake_github.calls("POST", "/reviews")
    assert [(c["path"], c["line"]) for c in post.body["comments"]] == [(RFC, 13)]
    assert last_line(run).startswith("ℹ️ **1 Markdown file not reviewed:** not a design")


async def test_reading_to_decide_stops_at_the_cap_and_the_rest_are_not_inspected(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    pages = CONTENT_READS_PER_REVIEW + 5
    site = {f"site/page-{n:03d}.md": modified(HOWTO_TEXT) for n in range(pages)}
    # Listed last but named like a design doc (an RFC's path): read before the pages.
    rfc_named = "text/0300-page.md"
    site[rfc_named] = modified(HOWTO_TEXT)
    # Added pages cost no read, so they do not count against the cap.
    added = {f"site/new-{n:03d}.md": HOWTO_TEXT for n in range(10)}
    repo, pull = pr(fake_github, modified=site, added=added)

    run, calls = await open_pr(client, fake_github, repo, pull)

    # Every modified page's text comes in the review's one request (a config could
    # make any of them a design doc), the one named like a design doc first, then
    # the pages in the listed order; an added page's patch is its text.
    (read,) = fake_github.texts_requested()
    head = pull.head_sha
    assert read == [f"{head}:{rfc_named}"] + [f"{head}:site/page-{n:03d}.md" for n in range(pages)]
    assert fake_github.calls("GET", "/contents/") == []
    assert calls == [("GET", "files"), ("POST", "graphql"), ("POST", "check-runs")]
    # Exactly CONTENT_READS_PER_REVIEW of them are judged by their content (the
    # counts below: 30 of those and the 10 added pages; the other 6 not inspected).
    assert run["conclusion"] == "skipped"
    summary = run["output"]["summary"]
    assert "- `site/page-029.md`: not inspected (too many files to read to decide)" in summary
    assert "- `site/page-034.md`: not inspected (too many files to read to decide)" in summary
    assert f"- `{rfc_named}`: not a design document by its content" in summary
    assert last_line(run) == (
        f"ℹ️ **{pages + 1 + 10} Markdown files not reviewed:** "
        "not a design document by its content (40), "
        "not inspected (too many files to read to decide) (6): "
        f"list one under `paths.include` in `{CONFIG_PATH}` to review it."
    )


async def test_the_app_reviews_exactly_the_files_the_shared_decision_reviews(
    client: TestClient[Any, Any], fake_github: FakeGitHub
) -> None:
    texts = {
        RFC: RFC_TEXT,
        HOWTO: HOWTO_TEXT,
        "README.md": README_TEXT,
        "CONTRIBUTING.md": HOWTO_TEXT,
        "CHANGELOG.md": README_TEXT,
        DESIGN_DOC: DESIGN_TEXT,
        "docs/rfcs/0000-template.md": RFC_TEXT,
        "proposals/0007-sync.md": RFC_TEXT,
        "notes/meeting.md": HOWTO_TEXT,
    }
    repo, pull = pr(fake_github, added=texts)

    run, _ = await open_pr(client, fake_github, repo, pull)

    settings = Settings()
    expected = {path for path, text in texts.items() if decide(path, text, settings).reviewed}
    assert expected == {RFC, DESIGN_DOC, "proposals/0007-sync.md"}
    assert {a["path"] for a in run["output"]["annotations"]} == expected
    assert outcomes(client)[-1].documents == len(expected)
    assert last_line(run).startswith(f"ℹ️ **{len(texts) - len(expected)} Markdown files")


# ------------------------------------------------------------------- rendering


def test_the_line_groups_every_reason_and_counts_opted_out_documents() -> None:
    passed = [
        PassedOver("docs/a.md", Unreviewed.NOT_DESIGN_BY_CONTENT),
        PassedOver("docs/b.md", Unreviewed.NOT_DESIGN_BY_CONTENT),
        PassedOver("README.md", Unreviewed.WELL_KNOWN_FILE),
        PassedOver("site/x.md", Unreviewed.NOT_INSPECTED),
        PassedOver("CHANGELOG.md", Unreviewed.EXCLUDED_BY_CONFIG),
    ]
    output = render_check(
        [report("docs/rfcs/1.md"), report("docs/rfcs/2.md", skipped=True)],
        settings=Settings(),
        passed_over=passed,
    )
    line = output.summary.rsplit("\n", 1)[-1]
    assert (
        line
        == output.last_line
        == (
            "ℹ️ **6 Markdown files not reviewed:** not a design document by its content (2), "
            "a well-known project file (1), not inspected (too many files to read to decide) (1): "
            f"list one under `paths.include` in `{CONFIG_PATH}` to review it; "
            f"excluded by config (1): `paths.exclude` in `{CONFIG_PATH}` decides it "
            "(a `!glob` line takes one back); "
            "opted out with front matter `product_review: skip` (1): "
            "remove that front matter to review one."
        )
    )
    assert unreviewed_line([]) == ""
    assert render_check([report()], settings=Settings()).last_line == ""


def test_the_line_stays_last_after_config_problems_and_within_the_limit() -> None:
    passed = [
        PassedOver(f"site/{n:05d}-{'x' * 200}.md", Unreviewed.NOT_INSPECTED) for n in range(3000)
    ]
    skipped = render_skipped(passed)
    assert byte_len(skipped.summary) <= BODY_LIMIT
    assert "more file" in skipped.summary  # the list was cut, and says so
    assert skipped.summary.endswith(skipped.last_line)
    assert "**3000 Markdown files not reviewed:**" in skipped.last_line

    problem = ConfigError(f"acme/widgets:{CONFIG_PATH}", "fail_on", "'sometimes' is not a level")
    with_problem = with_config_problems(render_skipped(passed[:2]), [problem])
    assert with_problem.conclusion == "neutral"
    assert "sometimes" in with_problem.summary
    assert with_problem.summary.endswith("\n\n" + with_problem.last_line)


def test_the_readme_states_the_cap_the_app_uses() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"At most **{CONTENT_READS_PER_REVIEW}** files are read per review" in readme


def test_when_only_some_files_can_be_read_those_named_like_design_docs_come_first() -> None:
    pages = [
        PullFile(f"docs/page-{n:02}.md", "modified", None, f"https://x/{n}", "@@ -1 +1 @@\n-a\n+b")
        for n in range(CONTENT_READS_PER_REVIEW)
    ]
    rfc = PullFile("text/0300-thing.md", "modified", None, "https://x/rfc", "@@ -1 +1 @@\n-a\n+b")
    found, known = discover_by_path([*pages, rfc], Settings())
    assert known == []
    assert found.to_read[0] is rfc
    assert len(found.to_read) == CONTENT_READS_PER_REVIEW
    (skipped,) = found.passed_over
    assert skipped.path == pages[-1].filename


async def test_a_file_too_large_to_read_to_decide_is_said_to_be_over_the_limit(
    make_client: Any, fake_github: FakeGitHub
) -> None:
    client = await make_client(budget=Budget(max_document_kb=1))
    big = HOWTO_TEXT + "\n" + "More words about the page.\n" * 200
    repo, pull = pr(fake_github, modified={"site/big.md": modified(big)})

    run, _ = await open_pr(client, fake_github, repo, pull)

    assert run["conclusion"] == "skipped"
    assert "- `site/big.md`: not inspected (larger than the document size limit)" in (
        run["output"]["summary"]
    )
