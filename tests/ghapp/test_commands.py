"""The `/product-review` command without the network: parsing, who may run it, and
the text replies (help, config, denial)."""

from __future__ import annotations

import pytest

from checks.config import Settings
from checks.configfile import parse_config, settings_from_layers
from ghapp.commands import (
    HELP_TEXT,
    PAUSED_LABEL,
    Action,
    Command,
    config_reply,
    denied_reply,
    help_reply,
    is_paused,
    may_run,
    parse_command,
    text_reply,
    who_may_run,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/product-review", Command(Action.REVIEW)),
        ("/product-review\n\nThanks, I rewrote the metrics.", Command(Action.REVIEW)),
        ("  /product-review  ", Command(Action.REVIEW)),
        ("/product-review full", Command(Action.FULL)),
        ("/product-review FULL", Command(Action.FULL)),
        ("/product-review help", Command(Action.HELP)),
        ("/product-review explain metrics", Command(Action.EXPLAIN, "metrics")),
        ("/product-review explain", Command(Action.EXPLAIN, "")),
        ("/product-review config", Command(Action.CONFIG)),
        ("/product-review pause for now", Command(Action.PAUSE)),
        ("/product-review resume", Command(Action.RESUME)),
        ("/product-review\tresume", Command(Action.RESUME)),
        ("/product-review please", Command(Action.UNKNOWN, "please")),
        ("/product-review review", Command(Action.UNKNOWN, "review")),
        ("/product-review unknown", Command(Action.UNKNOWN, "unknown")),
    ],
)
def test_parses_commands_at_the_start_of_a_comment(body: str, expected: Command) -> None:
    assert parse_command(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "",
        "LGTM",
        "Please run /product-review on this",
        "> /product-review\nquoted from someone else",
        "`/product-review`",
        "/product-reviewer",
        "/product-review-full",
        "First line\n/product-review",
        "/Product-Review",
    ],
)
def test_other_comments_are_not_commands(body: str) -> None:
    assert parse_command(body) is None


def test_text_commands_are_the_ones_that_reply() -> None:
    assert {action for action in Action if action.answers_with_text} == {
        Action.HELP,
        Action.EXPLAIN,
        Action.CONFIG,
        Action.UNKNOWN,
    }
    settings = Settings()
    for action in Action:
        reply = text_reply(Command(action), settings)
        assert (reply is not None) is action.answers_with_text


def test_help_lists_every_subcommand_and_an_unknown_word_is_named() -> None:
    for word in ("full", "help", "explain ID", "config", "pause", "resume"):
        assert f"`/product-review {word}`" in HELP_TEXT
    assert PAUSED_LABEL in HELP_TEXT
    unknown = help_reply("plz`")
    assert unknown.startswith("I don't know the subcommand `plz'`")
    assert unknown.endswith(HELP_TEXT)
    # A reply must never look like a command itself (the app ignores bots anyway).
    assert parse_command(unknown) is None
    assert parse_command(HELP_TEXT) is None


def test_default_permissions_pr_author_and_owner_member_collaborator() -> None:
    settings = Settings()

    def allowed(association: str, commenter: str = "mallory") -> bool:
        return may_run(
            settings, association=association, commenter=commenter, pull_author="octocat"
        )

    assert allowed("OWNER") and allowed("MEMBER") and allowed("COLLABORATOR")
    assert not allowed("CONTRIBUTOR")
    assert not allowed("FIRST_TIME_CONTRIBUTOR")
    assert not allowed("NONE")
    assert allowed("NONE", commenter="OctoCat")  # the author; logins are case-insensitive
    assert not may_run(settings, association="NONE", commenter="x", pull_author=None)


def test_permissions_follow_the_command_setting() -> None:
    settings = Settings(command_associations=("OWNER",), command_allow_author=False)
    assert may_run(settings, association="OWNER", commenter="a", pull_author="a")
    assert not may_run(settings, association="MEMBER", commenter="a", pull_author="a")
    assert who_may_run(settings) == "repository owners"
    nobody = Settings(command_associations=(), command_allow_author=False)
    assert not may_run(nobody, association="OWNER", commenter="a", pull_author="a")
    assert who_may_run(nobody).startswith("nobody")


def test_the_denial_says_who_may() -> None:
    reply = denied_reply(Settings(), commenter="mallory")
    assert reply.startswith("Sorry @mallory")
    assert (
        "the pull request's author, repository owners, organisation members and collaborators"
        in reply
    )
    assert "`command`" in reply


def test_config_reply_shows_each_value_and_its_layer() -> None:
    org = parse_config("fail_on: warning\ncomments: {max_inline: 3}\n", source="acme/.github:c.yml")
    own = parse_config(
        "comments: {mode: file}\npaths: {include: ['docs/**/*.md']}\ndrafts: 12\n",
        source="acme/widgets:.github/product-review.yml",
    )
    settings = settings_from_layers([("organisation", org), ("repository", own)])
    reply = config_reply(settings)
    rows = {line.split(" | ")[0].strip("| `"): line for line in reply.splitlines() if "| `" in line}
    assert rows["fail_on"] == "| `fail_on` | `warning` | organisation |"
    assert rows["comments.max_inline"] == "| `comments.max_inline` | `3` | organisation |"
    assert rows["comments.mode"] == "| `comments.mode` | `file` | repository |"
    assert rows["paths.include"] == "| `paths.include` | `docs/**/*.md` | repository |"
    assert rows["drafts"] == "| `drafts` | `false` | default |"
    assert "- organisation: `acme/.github:c.yml`" in reply
    assert "- repository: `acme/widgets:.github/product-review.yml`" in reply
    # The invalid value is reported, and its default applies.
    assert "**Problems** (1" in reply
    assert "drafts" in reply.split("**Problems**")[1]


def test_config_reply_keeps_cells_short_and_the_table_intact() -> None:
    many = [f"docs/area-{n:02d}/**/*.md" for n in range(40)]
    own = parse_config(
        "paths:\n  include: [" + ", ".join(f"'{glob}'" for glob in many) + "]\n"
        "questions: {metrics: 'Which | number?'}\n",
        source="acme/widgets:.github/product-review.yml",
    )
    reply = config_reply(settings_from_layers([("repository", own)]))
    include_row = next(line for line in reply.splitlines() if line.startswith("| `paths.include`"))
    assert len(include_row) < 500
    assert "more)" in include_row
    assert include_row.count("`") % 2 == 0  # no code span left open
    question_row = next(line for line in reply.splitlines() if "questions.metrics" in line)
    assert "Which \\| number?" in question_row  # a pipe would split the cell


def test_config_reply_without_provenance_or_files() -> None:
    reply = config_reply(Settings())
    assert "built-in default" in reply
    assert "No configuration file applies" in reply


def test_paused_label_is_found_case_insensitively() -> None:
    assert is_paused([{"name": "bug"}, {"name": "Product-Review: Paused"}])
    assert not is_paused([{"name": "bug"}])
    assert not is_paused([])
