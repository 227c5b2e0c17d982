"""The `/product-review` comment command: parsing, who may run it, and the text of
the replies that are not about a single dimension or check (`ghapp.explain` has
those). Pure: no I/O; the handler in `ghapp.routers.comments` sends what these build.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from checks.config import Settings
from checks.markdown_text import code_safe, escape_cell, one_line
from ghapp.explain import explain_reply

COMMAND = "/product-review"
# The label that pauses automatic reviews on a pull request (the state lives on
# GitHub, not in the server).
PAUSED_LABEL = "product-review: paused"
PAUSED_LABEL_COLOR = "bfd4f2"
PAUSED_LABEL_DESCRIPTION = "Automatic product reviews are paused on this pull request"

# A table cell longer than this is clipped: `paths.include` alone can hold dozens
# of globs, and the reply should stay readable on a pull request.
_CELL_CHARS = 400

# GitHub's `author_association` values, as a person would name the group.
_ASSOCIATION_NAMES = {
    "OWNER": "repository owners",
    "MEMBER": "organisation members",
    "COLLABORATOR": "collaborators",
    "CONTRIBUTOR": "earlier contributors",
    "FIRST_TIME_CONTRIBUTOR": "first-time contributors",
    "FIRST_TIMER": "first-time GitHub users",
    "MANNEQUIN": "mannequins (imported users)",
    "NONE": "users with no association to the repository",
}


class Action(StrEnum):
    REVIEW = "review"
    FULL = "full"
    HELP = "help"
    EXPLAIN = "explain"
    CONFIG = "config"
    PAUSE = "pause"
    RESUME = "resume"
    UNKNOWN = "unknown"

    @property
    def answers_with_text(self) -> bool:
        """Commands answered by a reply; the others are acknowledged with 🚀."""
        return self in (Action.HELP, Action.EXPLAIN, Action.CONFIG, Action.UNKNOWN)


@dataclass(frozen=True)
class Command:
    action: Action
    argument: str = ""  # `explain`'s id; for UNKNOWN, the word that was not understood


_SUBCOMMANDS = {action.value: action for action in Action if action is not Action.UNKNOWN}
_SUBCOMMANDS.pop(Action.REVIEW.value)  # `/product-review` alone is the review


def parse_command(body: str) -> Command | None:
    """The command in a comment body, or None when the comment is not one.

    Only the first line counts, and it must start with `/product-review` (leading
    blanks aside) followed by a space or nothing: `/product-reviewer` and a
    command quoted later in a comment are not commands. The subcommand is the next
    word (any case); further words are `explain`'s argument and otherwise ignored.
    """
    first_line = body.lstrip().split("\n", 1)[0].strip()
    if not first_line.startswith(COMMAND):
        return None
    rest = first_line[len(COMMAND) :]
    if rest and not rest[0].isspace():
        return None
    words = rest.split()
    if not words:
        return Command(Action.REVIEW)
    action = _SUBCOMMANDS.get(words[0].lower())
    if action is None:
        return Command(Action.UNKNOWN, words[0])
    if action is Action.EXPLAIN:
        return Command(action, words[1] if len(words) > 1 else "")
    return Command(action)


def may_run(
    settings: Settings, *, association: str, commenter: str, pull_author: str | None
) -> bool:
    """Whether the comment's author may run the command on this pull request."""
    if settings.command_allow_author and pull_author and commenter.lower() == pull_author.lower():
        return True
    allowed = {item.upper() for item in settings.command_associations}
    return association.upper() in allowed


def who_may_run(settings: Settings) -> str:
    """Who may run the command, as a phrase: "the pull request's author, …"."""
    groups = [_ASSOCIATION_NAMES.get(item.upper(), item) for item in settings.command_associations]
    if settings.command_allow_author:
        groups.insert(0, "the pull request's author")
    if not groups:
        return "nobody (the `command` key of the configuration allows no one)"
    return _join_words(list(dict.fromkeys(groups)))


def denied_reply(settings: Settings, *, commenter: str) -> str:
    return (
        f"Sorry @{commenter}, `{COMMAND}` can only be run on this pull request by "
        f"{who_may_run(settings)}. (The `command` key of `.github/product-review.yml` "
        "sets who may.)"
    )


HELP_TEXT = f"""\
**Product review commands** (comment on the pull request, at the start of the comment):

| Command | What it does |
|---|---|
| `{COMMAND}` | Review the design docs now, at the latest commit (only questions not asked before) |
| `{COMMAND} full` | The same, but ask every current question again |
| `{COMMAND} explain ID` | What a dimension or check looks for, why, how to silence it |
| `{COMMAND} config` | Show the configuration that applies here and where each value comes from |
| `{COMMAND} pause` | Stop automatic reviews on this pull request (label `{PAUSED_LABEL}`) |
| `{COMMAND} resume` | Start them again (removes the label) and review now |
| `{COMMAND} help` | This list |

The **Re-run review** button on the *Product review* check does what `{COMMAND}` does."""


def help_reply(unknown: str = "") -> str:
    if not unknown:
        return HELP_TEXT
    return f"I don't know the subcommand `{code_safe(unknown)}`.\n\n{HELP_TEXT}"


def config_reply(settings: Settings) -> str:
    """The effective configuration as a compact table: key, value, where it came from."""
    lines = ["**Configuration for this pull request** (read from the default branch)", ""]
    rows = settings.provenance()
    if rows:
        lines += ["| Key | Value | From |", "|---|---|---|"]
        lines += [
            f"| `{key}` | {_cell(value)} | {escape_cell(layer)} |" for key, value, layer in rows
        ]
    else:
        lines.append("Every value is the built-in default.")
    if settings.files:
        lines += ["", "Files applied, lowest precedence first:"]
        lines += [f"- {layer}: `{code_safe(source)}`" for layer, source in settings.files]
    else:
        lines += [
            "",
            "No configuration file applies: neither `.github/product-review.yml` in this "
            "repository nor one in the organisation's `.github` repository.",
        ]
    if settings.errors:
        lines += ["", f"**Problems** ({len(settings.errors)}; those parts use the defaults):"]
        lines += [f"- {one_line(str(error))}" for error in settings.errors[:20]]
        if len(settings.errors) > 20:
            lines.append(f"- … and {len(settings.errors) - 20} more")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, (tuple, list)):
        if not value:
            return "(none)"
        shown: list[str] = []
        for item in value:
            piece = f"`{code_safe(str(item))}`"
            if shown and sum(len(s) + 2 for s in shown) + len(piece) > _CELL_CHARS:
                break
            shown.append(piece)
        text = ", ".join(shown)
        if len(shown) < len(value):
            text += f" … ({len(value) - len(shown)} more)"
        return escape_cell(text)
    text = code_safe(str(value))
    if len(text) > _CELL_CHARS:
        text = text[: _CELL_CHARS - 1] + "…"
    return escape_cell(f"`{text}`")


def _join_words(items: Sequence[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"


def label_names(labels: Iterable[object]) -> set[str]:
    """Names of the labels in a webhook payload (`pull_request.labels`, `issue.labels`),
    lower-cased: GitHub treats label names case-insensitively."""
    names: set[str] = set()
    for label in labels:
        name = label.get("name") if isinstance(label, dict) else label
        if isinstance(name, str):
            names.add(name.lower())
    return names


def is_paused(labels: Iterable[object]) -> bool:
    return PAUSED_LABEL.lower() in label_names(labels)


def text_reply(command: Command, settings: Settings) -> str | None:
    """The reply for a command that answers with text; None for the others."""
    if command.action is Action.HELP:
        return help_reply()
    if command.action is Action.UNKNOWN:
        return help_reply(command.argument)
    if command.action is Action.EXPLAIN:
        return explain_reply(command.argument, settings)
    if command.action is Action.CONFIG:
        return config_reply(settings)
    return None
