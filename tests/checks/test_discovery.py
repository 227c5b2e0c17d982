"""The order of the rules in `checks.discovery.decide`: exclude beats include, a
configured include beats the well-known files, those beat the default globs, and the
default globs beat the content. Scores and the threshold are not pinned."""

from __future__ import annotations

from dataclasses import replace

from checks.config import DEFAULT_SETTINGS
from checks.discovery import Reason, decide

DESIGN_TEXT = """\
- Start Date: 2024-01-01
- Status: accepted

# Summary

One search box.

# Motivation

Finding documents is slow.

# Drawbacks

An index to run.

# Alternatives

Browse folders.

# Unresolved questions

How fresh?
"""

PLAIN_TEXT = "# Widget\n\n## Installation\n\npip install widget\n\n## Usage\n\nRun it.\n"

CONFIGURED = replace(
    DEFAULT_SETTINGS,
    include=("specs/**/*.md", "README.md"),
    sources={**DEFAULT_SETTINGS.sources, "paths.include": "file"},
)


def test_the_content_decides_when_no_path_rule_applies() -> None:
    assert decide("text/0001-search.md", DESIGN_TEXT, DEFAULT_SETTINGS).reason is (
        Reason.DESIGN_BY_CONTENT
    )
    assert decide("docs/usage.md", PLAIN_TEXT, DEFAULT_SETTINGS).reason is (
        Reason.NOT_DESIGN_BY_CONTENT
    )


def test_default_globs_beat_the_content() -> None:
    decision = decide("rfcs/0001-search.md", PLAIN_TEXT, DEFAULT_SETTINGS)
    assert decision.reviewed
    assert decision.reason is Reason.DESIGN_BY_PATH


def test_well_known_files_beat_the_default_globs() -> None:
    # In a design folder the name does not bring a README in by its path: the
    # content tells a KEP's README from a folder's index.
    for path in ("rfcs/README.md", "design/CONTRIBUTING.md"):
        decision = decide(path, PLAIN_TEXT, DEFAULT_SETTINGS)
        assert not decision.reviewed, path
        assert decision.reason is not Reason.DESIGN_BY_PATH
    assert decide("keps/sig-x/1234-y/README.md", DESIGN_TEXT, DEFAULT_SETTINGS).reason is (
        Reason.DESIGN_BY_CONTENT
    )


def test_well_known_files_outside_design_folders_stay_out_whatever_their_content() -> None:
    for path in ("README.md", "docs/CONTRIBUTING.md", "LICENSE.md", "SECURITY.md"):
        decision = decide(path, DESIGN_TEXT, DEFAULT_SETTINGS)
        assert not decision.reviewed, path
        assert decision.reason is Reason.WELL_KNOWN_FILE


def test_a_configured_include_beats_the_well_known_files() -> None:
    decision = decide("README.md", PLAIN_TEXT, CONFIGURED)
    assert decision.reviewed
    assert decision.reason is Reason.INCLUDED_BY_CONFIG
    assert decide("specs/plain.md", PLAIN_TEXT, CONFIGURED).reason is Reason.INCLUDED_BY_CONFIG


def test_a_command_line_include_counts_as_configured() -> None:
    decision = decide("README.md", PLAIN_TEXT, DEFAULT_SETTINGS, include=("README.md",))
    assert decision.reason is Reason.INCLUDED_BY_CONFIG


def test_the_default_include_does_not_force_well_known_files_in() -> None:
    # Only an include someone set forces a file in; the defaults are just paths.
    assert not decide("rfcs/README.md", PLAIN_TEXT, DEFAULT_SETTINGS).reviewed
    assert decide("rfcs/README.md", PLAIN_TEXT, CONFIGURED, include=("rfcs/**",)).reviewed


def test_exclude_beats_include() -> None:
    excluded = replace(CONFIGURED, exclude=("specs/old/**",))
    decision = decide("specs/old/a.md", DESIGN_TEXT, excluded)
    assert not decision.reviewed
    assert decision.reason is Reason.EXCLUDED_BY_CONFIG
    decision = decide(
        "README.md", DESIGN_TEXT, DEFAULT_SETTINGS, include=("README.md",), exclude=("*.md",)
    )
    assert decision.reason is Reason.EXCLUDED_BY_CONFIG


def test_default_excludes_beat_the_default_globs_and_the_content() -> None:
    assert decide("rfcs/0000-template.md", DESIGN_TEXT, DEFAULT_SETTINGS).reason is (
        Reason.EXCLUDED_BY_CONFIG
    )


def test_a_file_that_is_not_markdown_is_out_unless_included() -> None:
    assert decide("rfcs/0001.txt", DESIGN_TEXT, DEFAULT_SETTINGS).reason is Reason.NOT_MARKDOWN
    assert decide("rfcs/0001.txt", DESIGN_TEXT, DEFAULT_SETTINGS, include=("*.txt",)).reviewed


def test_templates_stay_out_even_in_a_design_folder_whatever_their_content() -> None:
    for path in ("docs/adr/adr-template.md", "rfcs/rfc_template.md", ".github/ISSUE_TEMPLATE/a.md"):
        decision = decide(path, DESIGN_TEXT, DEFAULT_SETTINGS)
        assert (decision.reviewed, decision.reason) == (False, Reason.WELL_KNOWN_FILE), path
