"""Layered loading of `.github/product-review.yml` (ghapp.repoconfig) with an
in-memory FileReader."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field

import pytest

from checks.config import CommentMode, FailOn, Layer, Settings
from checks.configfile import ParsedConfig, parse_config
from checks.options import CheckPolicy
from checks.report import Severity
from ghapp.repoconfig import (
    CONFIG_PATH,
    MAX_EXTENDS_DEPTH,
    FetchedFile,
    RepoConfigLoader,
)

DEFAULT_BRANCH = "main"


@dataclass
class FakeReader:
    """Files by (owner, repo, path, ref); ref None means the default branch."""

    files: dict[tuple[str, str, str, str | None], str] = field(default_factory=dict)
    calls: list[tuple[str, str, str, str | None]] = field(default_factory=list)

    def put(self, where: str, text: str, *, ref: str | None = None) -> None:
        repository, _, path = where.partition(":")
        owner, _, repo = repository.partition("/")
        self.files[(owner, repo, path or CONFIG_PATH, ref)] = text

    async def fetch_file(
        self, *, owner: str, repo: str, path: str, ref: str | None = None
    ) -> FetchedFile | None:
        self.calls.append((owner, repo, path, ref))
        await asyncio.sleep(0)
        # A branch name given for the default branch reads the same files as None.
        text = self.files.get((owner, repo, path, ref))
        if text is None and ref == DEFAULT_BRANCH:
            text = self.files.get((owner, repo, path, None))
        if text is None:
            return None
        return FetchedFile(text=text, sha=hashlib.sha1(text.encode()).hexdigest())


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def load(
    reader: FakeReader, loader: RepoConfigLoader | None = None, repo: str = "app"
) -> Settings:
    return await (loader or RepoConfigLoader()).load(
        reader, owner="acme", repo=repo, default_branch=DEFAULT_BRANCH
    )


async def test_no_files_anywhere_gives_the_defaults_in_two_calls() -> None:
    reader = FakeReader()
    settings = await load(reader)
    assert settings.errors == ()
    assert settings.fail_on is FailOn.NEVER
    assert settings.files == ()
    assert sorted(reader.calls, key=str) == sorted(
        [("acme", ".github", CONFIG_PATH, None), ("acme", "app", CONFIG_PATH, DEFAULT_BRANCH)],
        key=str,
    )


async def test_precedence_defaults_organisation_extends_repository() -> None:
    reader = FakeReader()
    reader.put(
        "acme/.github",
        "fail_on: error\ncomments: {max_inline: 1, mode: file}\ndrafts: true\n"
        "checks: {placeholder: off}\n",
    )
    reader.put(
        "acme/settings",
        "comments: {max_inline: 2}\nfail_on: warning\nchecks: {placeholder: error}\n",
    )
    reader.put("acme/app", "_extends: settings\nfail_on: suggestion\n")

    settings = await load(reader)

    assert settings.errors == ()
    assert settings.fail_on is FailOn.SUGGESTION  # repository beats everything
    assert settings.max_inline == 2  # _extends beats organisation
    assert settings.comment_mode is CommentMode.FILE  # organisation beats defaults
    assert settings.drafts is True
    assert settings.command_associations == ("OWNER", "MEMBER", "COLLABORATOR")  # default
    assert settings.review.checks["placeholder"] == CheckPolicy(True, Severity.ERROR)
    assert settings.sources["fail_on"] == Layer.REPOSITORY.value
    assert settings.sources["comments.max_inline"] == Layer.EXTENDS.value
    assert settings.sources["comments.mode"] == Layer.ORGANISATION.value
    assert settings.sources["command.associations"] == Layer.DEFAULT.value
    assert settings.files == (
        ("organisation", "acme/.github:.github/product-review.yml"),
        ("_extends", "acme/settings:.github/product-review.yml"),
        ("repository", "acme/app:.github/product-review.yml"),
    )


async def test_the_repository_file_is_read_from_the_default_branch_only() -> None:
    reader = FakeReader()
    reader.put("acme/app", "fail_on: error\n", ref=DEFAULT_BRANCH)
    reader.put("acme/app", "fail_on: never\ncomments: {mode: off}\n", ref="pr-head-sha")
    settings = await load(reader)
    assert settings.fail_on is FailOn.ERROR
    assert settings.comment_mode is CommentMode.CHANGED_LINES
    assert ("acme", "app", CONFIG_PATH, DEFAULT_BRANCH) in reader.calls
    assert all(call[3] != "pr-head-sha" for call in reader.calls)


@pytest.mark.parametrize(
    ("extends", "where"),
    [
        ("settings", "acme/settings:" + CONFIG_PATH),
        ("other/settings", "other/settings:" + CONFIG_PATH),
        ("settings:review/base.yml", "acme/settings:review/base.yml"),
        ("other/settings:review/base.yml", "other/settings:review/base.yml"),
    ],
)
async def test_extends_forms_read_the_named_file(extends: str, where: str) -> None:
    reader = FakeReader()
    reader.put(where, "drafts: true\n")
    reader.put("acme/app", f"_extends: '{extends}'\n")
    settings = await load(reader)
    assert settings.errors == ()
    assert settings.drafts is True
    assert settings.files[0] == ("_extends", where)


async def test_extends_chains_apply_deepest_first() -> None:
    reader = FakeReader()
    reader.put("acme/base", "fail_on: error\ndrafts: true\n")
    reader.put("acme/middle", "_extends: base\nfail_on: warning\n")
    reader.put("acme/app", "_extends: middle\n")
    settings = await load(reader)
    assert (settings.fail_on, settings.drafts) == (FailOn.WARNING, True)
    assert [source for _, source in settings.files] == [
        "acme/base:.github/product-review.yml",
        "acme/middle:.github/product-review.yml",
        "acme/app:.github/product-review.yml",
    ]


async def test_an_extends_cycle_is_refused_with_an_error() -> None:
    reader = FakeReader()
    reader.put("acme/a", "_extends: b\nfail_on: error\n")
    reader.put("acme/b", "_extends: A\ndrafts: true\n")  # names are case-insensitive
    reader.put("acme/app", "_extends: a\n")
    settings = await load(reader)
    (error,) = settings.errors
    assert error.key_path == "_extends"
    assert error.source == "acme/b:.github/product-review.yml"
    assert "cycle" in error.message and "acme/A:.github/product-review.yml" in error.message
    # What was read before the cycle still applies.
    assert (settings.fail_on, settings.drafts) == (FailOn.ERROR, True)


async def test_a_file_extending_itself_is_a_cycle() -> None:
    reader = FakeReader()
    reader.put("acme/app", "_extends: app\ndrafts: true\n")
    settings = await load(reader)
    (error,) = settings.errors
    assert "cycle" in error.message
    assert settings.drafts is True


async def test_extends_depth_is_bounded() -> None:
    reader = FakeReader()
    for level in range(MAX_EXTENDS_DEPTH + 3):
        reader.put(f"acme/level{level}", f"_extends: level{level + 1}\n")
    reader.put("acme/app", "_extends: level0\n")
    settings = await load(reader)
    (error,) = settings.errors
    assert f"more than {MAX_EXTENDS_DEPTH}" in error.message
    assert len(settings.files) == MAX_EXTENDS_DEPTH + 1
    assert len(reader.calls) == MAX_EXTENDS_DEPTH + 2  # + the organisation file


async def test_a_missing_extends_target_is_an_error_not_a_silent_skip() -> None:
    reader = FakeReader()
    reader.put("acme/app", "_extends: nowhere\nfail_on: error\n")
    settings = await load(reader)
    (error,) = settings.errors
    assert error.key_path == "_extends" and error.line == 1
    assert "acme/nowhere:.github/product-review.yml was not found" in error.message
    assert settings.fail_on is FailOn.ERROR


async def test_the_organisation_file_may_extend_too() -> None:
    reader = FakeReader()
    reader.put("acme/.github", "_extends: org-base\ncomments: {mode: file}\n")
    reader.put("acme/org-base", "drafts: true\ncomments: {mode: off}\n")
    settings = await load(reader)
    assert settings.drafts is True
    assert settings.comment_mode is CommentMode.FILE


async def test_the_dot_github_repository_is_read_once_as_the_repository() -> None:
    reader = FakeReader()
    reader.put("acme/.github", "drafts: true\n")
    settings = await load(reader, repo=".github")
    assert settings.drafts is True
    assert settings.files == (("repository", "acme/.github:.github/product-review.yml"),)
    assert reader.calls == [("acme", ".github", CONFIG_PATH, DEFAULT_BRANCH)]


async def test_a_file_named_twice_is_fetched_once_and_reports_once() -> None:
    reader = FakeReader()
    reader.put("acme/.github", "drafts: maybe\n")
    reader.put("acme/app", "_extends: .github\n")
    settings = await load(reader)
    assert [error.key_path for error in settings.errors] == ["drafts"]
    assert reader.calls.count(("acme", ".github", CONFIG_PATH, None)) == 1


async def test_invalid_files_keep_valid_parts_and_report_every_layer() -> None:
    reader = FakeReader()
    reader.put("acme/.github", "fail_on: sometimes\ndrafts: true\n")
    reader.put("acme/app", "comments:\n  max_inline: 4\n  mode: loud\n")
    settings = await load(reader)
    assert {(error.source, error.key_path) for error in settings.errors} == {
        ("acme/.github:.github/product-review.yml", "fail_on"),
        ("acme/app:.github/product-review.yml", "comments.mode"),
    }
    assert settings.drafts is True and settings.max_inline == 4
    assert settings.fail_on is FailOn.NEVER


async def test_files_outside_the_repository_are_cached_for_a_while() -> None:
    clock = Clock()
    loader = RepoConfigLoader(shared_ttl=60, timer=clock)
    reader = FakeReader()
    reader.put("acme/settings", "drafts: true\n")
    reader.put("acme/app", "_extends: settings\n")
    await load(reader, loader)
    assert len(reader.calls) == 3  # repository, organisation (absent), _extends target

    reader.calls.clear()
    clock.now = 30
    settings = await load(reader, loader)
    assert settings.drafts is True
    # The repository's own file is always read fresh; the others come from the cache.
    assert reader.calls == [("acme", "app", CONFIG_PATH, DEFAULT_BRANCH)]

    reader.calls.clear()
    clock.now = 61
    await load(reader, loader)
    assert len(reader.calls) == 3


async def test_parsed_files_are_cached_by_blob_sha(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real_parse = parse_config

    def counting_parse(text: str, *, source: str) -> ParsedConfig:
        parsed.append(source)
        return real_parse(text, source=source)

    monkeypatch.setattr("ghapp.repoconfig.parse_config", counting_parse)
    loader = RepoConfigLoader(shared_ttl=0)
    reader = FakeReader()
    reader.put("acme/app", "drafts: true\n")
    await load(reader, loader)
    await load(reader, loader)
    assert parsed == ["acme/app:.github/product-review.yml"]
    reader.put("acme/app", "drafts: false\n")  # a new blob is parsed again
    settings = await load(reader, loader)
    assert settings.drafts is False
    assert len(parsed) == 2


async def test_a_read_failure_propagates_and_leaves_nothing_running() -> None:
    class Boom(Exception):
        pass

    class FailingReader(FakeReader):
        async def fetch_file(
            self, *, owner: str, repo: str, path: str, ref: str | None = None
        ) -> FetchedFile | None:
            if repo == "app":
                raise Boom("502 from GitHub")
            await asyncio.sleep(0.01)
            return None

    with pytest.raises(Boom):
        await load(FailingReader())
    current = asyncio.current_task()
    assert [task for task in asyncio.all_tasks() if task is not current] == []


async def test_a_file_that_is_not_utf8_is_reported() -> None:
    class Latin1Reader(FakeReader):
        async def fetch_file(
            self, *, owner: str, repo: str, path: str, ref: str | None = None
        ) -> FetchedFile | None:
            if repo == "app":
                b"caf\xe9".decode("utf-8")
            return None

    settings = await load(Latin1Reader())
    (error,) = settings.errors
    assert error.message == "not UTF-8 text"


async def test_settings_and_the_errors_of_the_file_at_a_ref() -> None:
    loader = RepoConfigLoader()
    reader = FakeReader()
    reader.put("acme/app", "fail_on: error\n")
    reader.put("acme/app", "fail_on: someday\n", ref="head-sha")
    settings = await loader.load(reader, owner="acme", repo="app", default_branch="main")
    assert settings.fail_on is FailOn.ERROR
    errors = await loader.errors_at(reader, owner="acme", repo="app", ref="head-sha")
    assert [(error.key_path, error.line, error.file_path) for error in errors] == [
        ("fail_on", 1, CONFIG_PATH)
    ]
    assert await loader.errors_at(reader, owner="acme", repo="other", ref="head-sha") == ()


async def test_the_short_lived_cache_is_never_shared_between_owners() -> None:
    # Each owner is one installation: a file one installation could read must not
    # reach another through the cache.
    loader = RepoConfigLoader(shared_ttl=60, timer=Clock())
    reader = FakeReader()
    reader.put("shared/settings", "drafts: true\n")
    reader.put("acme/app", "_extends: shared/settings\n")
    reader.put("other/app", "_extends: shared/settings\n")
    await load(reader, loader)
    reader.calls.clear()
    settings = await loader.load(reader, owner="other", repo="app", default_branch="main")
    assert settings.drafts is True
    assert ("shared", "settings", CONFIG_PATH, None) in reader.calls
