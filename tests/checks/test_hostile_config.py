"""Hostile config files and front matter: bounded, and never an exception.

Every pathological input is generated here. A watchdog (SIGALRM) turns a regression
to exponential work into a failure instead of a hang; no test asserts a duration.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks import boundedyaml, review_document
from checks.config import ConfigError, Settings
from checks.configfile import (
    MAX_EXPANDED_NODES,
    MAX_NESTING,
    parse_config,
    parse_settings,
    settings_from_document,
    settings_from_layers,
)
from checks.discovery import decide_by_path
from checks.formats import OutputFormat, render
from tests.support.hostile import alias_bomb
from tests.support.watchdog import watchdog_for_each_test

SOURCE = "acme/app:.github/product-review.yml"
PATHS = ("docs/rfcs/0001-a.md", "docs/a/b.md", "docs/[z-a]/c.md", "README.md", "")
WATCHDOG_SECONDS = 20

watchdog = watchdog_for_each_test(WATCHDOG_SECONDS)


def exercise(settings_: Settings) -> None:
    for path in PATHS:
        decide_by_path(path, settings_)
        settings_.category_for(path)
        settings_.options_for(path)


def only_error(text: str) -> ConfigError:
    errors = parse_config(text, source=SOURCE).errors
    assert len(errors) == 1, errors
    return errors[0]


# --------------------------------------------------------------------- config YAML


def test_an_alias_bomb_in_the_config_is_refused_with_its_line() -> None:
    bomb, last = alias_bomb()
    error = only_error(bomb + f"paths: {{include: *{last}}}\n")
    assert f"more than {MAX_EXPANDED_NODES} YAML nodes" in error.message
    assert error.line is not None and error.line > 1


@pytest.mark.parametrize("depth", [MAX_NESTING + 2, 500, 20_000])
def test_deep_nesting_is_refused_not_a_recursion_error(depth: int) -> None:
    error = only_error("paths: " + "[" * depth + "]" * depth + "\n")
    assert f"nested deeper than {MAX_NESTING} levels" in error.message
    assert error.line == 1


def test_a_number_with_thousands_of_digits_is_a_problem_of_its_key() -> None:
    settings_ = parse_settings(
        "fail_on: warning\ncomments:\n  max_inline: " + "9" * 5000 + "\n", source=SOURCE
    )
    (error,) = settings_.errors
    assert (error.key_path, error.line) == ("comments.max_inline", 3)
    assert "could not be read" in error.message and "5000 characters" in error.message
    assert settings_.max_inline == Settings().max_inline  # the default for that key
    assert settings_.fail_on.value == "warning"  # the rest of the file applies


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("0x" + "f" * 20_000, "characters"),  # hexadecimal escapes Python's digit limit
        ("1" + ":30" * 5_000, "characters"),  # sexagesimal: quadratic to convert
        ("2024-02-30", "day is out of range"),
        ("!unknown-tag x", "could not determine a constructor"),
    ],
)
def test_values_pyyaml_cannot_build_are_per_key_problems(value: str, words: str) -> None:
    error = only_error(f"drafts: {value}\n")
    assert error.key_path == "drafts" and words in error.message and error.line == 1


def test_an_unreadable_key_is_reported_and_its_siblings_still_apply() -> None:
    settings_ = parse_settings(
        "comments:\n  " + "9" * 200 + ": 1\n  max_inline: 4\n", source=SOURCE
    )
    (error,) = settings_.errors
    assert error.key_path == "comments" and "a key could not be read" in error.message
    assert (error.line, settings_.max_inline) == (2, 4)


@pytest.mark.parametrize(
    "text",
    [
        "? [a, b]\n: c\n",  # a list as a key
        "a: {<<: 1}\n",  # a merge of a scalar
        "a: &x [*x]\n",  # a recursive alias
        "a: b: c\n",  # syntax
        "a: \x07\n",  # a control character
        "!!binary 'bm90IGEgbWFwcGluZw=='\n",
    ],
)
def test_a_refused_file_is_one_error_never_an_exception(text: str) -> None:
    settings_ = parse_settings(text, source=SOURCE)
    assert len(settings_.errors) == 1 and settings_.errors[0].source == SOURCE
    exercise(settings_)


# --------------------------------------------------------------------------- globs

BAD_GLOBS = ["docs/[z-a]/*.md", "docs/[]/x", "docs/\\", "[b-a]"]


@pytest.mark.parametrize("glob", BAD_GLOBS)
@pytest.mark.parametrize("key", ["include", "exclude"])
def test_an_invalid_path_glob_is_a_problem_and_matching_never_raises(glob: str, key: str) -> None:
    settings_ = parse_settings(
        f"fail_on: warning\npaths:\n  {key}: [{json.dumps(glob)}, 'docs/**/*.md']\n",
        source=SOURCE,
    )
    problems = [error for error in settings_.errors if error.key_path == f"paths.{key}[0]"]
    if glob_fails_to_compile(glob):
        assert problems and "not a valid glob" in problems[0].message
        assert problems[0].line == 3
    assert settings_.fail_on.value == "warning"
    exercise(settings_)


@pytest.mark.parametrize("glob", BAD_GLOBS)
def test_an_invalid_category_glob_is_a_problem_and_matching_never_raises(glob: str) -> None:
    settings_ = parse_settings(
        f"categories:\n  {json.dumps(glob)}: platform\n  'docs/p/**': research\n", source=SOURCE
    )
    if glob_fails_to_compile(glob):
        (error,) = settings_.errors
        assert error.key_path == f"categories.{json.dumps(glob)}"
    exercise(settings_)
    assert settings_.category_for("docs/p/x.md") is not None


def glob_fails_to_compile(glob: str) -> bool:
    import pathspec

    try:
        pathspec.PathSpec.from_lines("gitignore", [glob])
    except Exception:
        return True
    return False


def test_settings_built_by_hand_with_bad_globs_still_match() -> None:
    settings_ = Settings(
        include=("docs/[z-a]/*.md", "docs/**/*.md"),
        exclude=("[b-a]",),
        categories=(("[z-a]", "platform"), ("docs/p/**", "research")),  # type: ignore[arg-type]
    )
    assert settings_.is_included("docs/a/b.md") and not settings_.is_excluded("docs/a/b.md")
    assert str(settings_.category_for("docs/p/x.md")) == "research"
    exercise(settings_)


def test_a_document_that_skipped_validation_is_interpreted_key_by_key() -> None:
    broken: dict[str, Any] = {
        "paths": {"include": "docs/**", "exclude": [1, 2]},
        "fail_on": "sometimes",
        "comments": {"max_inline": "ten", "mode": 3},
        "drafts": "yes",
        "dimensions": {"nonsense": {}, "product": {"metrics": "required", "users": {"x": 1}}},
        "checks": {"placeholder": {"enabled": "no", "severity": "fatal"}},
        "aliases": {"metrics": "kpi"},
        "questions": {"metrics": ["a list"]},
        "categories": {"[z-a]": "platform", "docs/**": "unknown"},
        "command": {"associations": None, "allow_author": 1},
    }
    settings_ = settings_from_document(broken, sources=MappingProxyType({}))
    paths = {error.key_path for error in settings_.errors}
    assert {
        "paths.include",
        "paths.exclude",
        "fail_on",
        "comments.max_inline",
        "comments.mode",
        "drafts",
        "dimensions.nonsense",
        "dimensions.product.metrics",
        "checks.placeholder",
        "aliases.metrics",
        "questions.metrics",
        'categories."docs/**"',
        "command.associations",
        "command.allow_author",
    } <= paths
    assert settings_.include == Settings().include and settings_.fail_on == Settings().fail_on
    exercise(settings_)


# ----------------------------------------------------------------- property tests

CONFIG_KEYS = [
    "paths",
    "include",
    "exclude",
    "categories",
    "fail_on",
    "comments",
    "max_inline",
    "mode",
    "drafts",
    "command",
    "associations",
    "allow_author",
    "dimensions",
    "product",
    "metrics",
    "requirement",
    "severity",
    "checks",
    "placeholder",
    "enabled",
    "aliases",
    "questions",
    "_extends",
    "<<",
]
RAW_SCALARS = [
    "9" * 5000,
    "-" + "9" * 120,
    "0x" + "f" * 300,
    "1" + ":59" * 200,
    "2024-02-30",
    "2024-13-01T99:99:99",
    ".nan",
    "-.inf",
    "1e999999",
    "!!binary '%%%'",
    "!!binary 'aGVsbG8='",
    "!unknown x",
    "!!set {a, b}",
    "!!omap [a, b]",
    "!!python/object:os.system x",
    "*undefined",
    "~",
    "off",
    "yes",
    "true",
    "'docs/[z-a]/*.md'",
    "'[b-a]'",
    "'docs/\\'",
    "'**/**/**/**/x'",
    "'***?*?'",
    "error",
    "platform",
    "required",
    "owner/repo:path/../x.yml",
]
GLOB_ALPHABET = "abz-/*?[]!\\.^"


def yaml_scalar() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(RAW_SCALARS),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.text(GLOB_ALPHABET, max_size=12).map(json.dumps),
        st.text(max_size=12).map(json.dumps),
    )


def yaml_key() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(CONFIG_KEYS),
        st.text(GLOB_ALPHABET, min_size=1, max_size=12).map(json.dumps),
        st.sampled_from(["1", "2024-02-30", "9" * 200, "~", "true"]),
    )


def yaml_value() -> st.SearchStrategy[str]:
    """Flow-style YAML text: nested mappings, lists and odd scalars (some invalid)."""
    return st.recursive(
        yaml_scalar(),
        lambda children: st.one_of(
            st.lists(children, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
            st.lists(st.tuples(yaml_key(), children), max_size=4).map(
                lambda pairs: "{" + ", ".join(f"{key}: {value}" for key, value in pairs) + "}"
            ),
        ),
        max_leaves=12,
    )


def glob_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(GLOB_ALPHABET, max_size=16),
        st.sampled_from(["docs/[z-a]/*.md", "[b-a]", "docs/\\", "docs/**/*.md", "**/rfcs/**"]),
    ).map(json.dumps)


def shaped_config() -> st.SearchStrategy[str]:
    """The real keys, with random globs and odd leaves: gets past the top level."""
    globs = st.lists(glob_text(), max_size=4).map(lambda items: "[" + ", ".join(items) + "]")
    leaf = st.one_of(yaml_scalar(), yaml_value())
    sections = st.fixed_dictionaries(
        {},
        optional={
            "paths": st.tuples(globs, globs).map(
                lambda pair: f"{{include: {pair[0]}, exclude: {pair[1]}}}"
            ),
            "categories": st.lists(st.tuples(glob_text(), leaf), max_size=3).map(
                lambda pairs: "{" + ", ".join(f"{glob}: {value}" for glob, value in pairs) + "}"
            ),
            "comments": st.tuples(leaf, leaf).map(
                lambda pair: f"{{max_inline: {pair[0]}, mode: {pair[1]}}}"
            ),
            "fail_on": leaf,
            "drafts": leaf,
            "dimensions": st.tuples(leaf, leaf).map(
                lambda pair: f"{{product: {{metrics: {pair[0]}, users: {{severity: {pair[1]}}}}}}}"
            ),
            "checks": leaf.map(lambda value: f"{{placeholder: {value}}}"),
            "aliases": leaf.map(lambda value: f"{{metrics: {value}}}"),
            "questions": leaf.map(lambda value: f"{{metrics: {value}}}"),
            "command": st.tuples(leaf, leaf).map(
                lambda pair: f"{{associations: {pair[0]}, allow_author: {pair[1]}}}"
            ),
            "_extends": leaf,
        },
    )
    return sections.map(lambda found: "\n".join(f"{key}: {value}" for key, value in found.items()))


def yaml_config() -> st.SearchStrategy[str]:
    line = st.tuples(yaml_key(), yaml_value()).map(lambda pair: f"{pair[0]}: {pair[1]}")
    return st.one_of(st.lists(line, max_size=6).map("\n".join), shaped_config())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=yaml_config(), second=yaml_config())
def test_no_config_text_makes_settings_raise(first: str, second: str) -> None:
    for text in (first, second):
        settings_ = parse_settings(text, source=SOURCE)
        exercise(settings_)
        assert all(isinstance(error, ConfigError) for error in settings_.errors)
        # Each problem is a specific one, never the safety net's "could not be read".
        assert not [e for e in settings_.errors if "the defaults apply instead" in e.message]
    layers = [
        ("organisation", parse_config(first, source="org")),
        ("repository", parse_config(second, source="repo")),
    ]
    exercise(settings_from_layers(layers))


python_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(GLOB_ALPHABET, max_size=10),
    st.sampled_from(["error", "platform", "required", "off", "file", "OWNER"]),
)


@settings(max_examples=150, deadline=None)
@given(
    document=st.dictionaries(
        st.sampled_from(CONFIG_KEYS),
        st.recursive(
            python_scalar,
            lambda children: st.one_of(
                st.lists(children, max_size=3),
                st.dictionaries(
                    st.one_of(st.sampled_from(CONFIG_KEYS), st.text(GLOB_ALPHABET, max_size=8)),
                    children,
                    max_size=3,
                ),
            ),
            max_leaves=10,
        ),
        max_size=6,
    )
)
def test_no_document_makes_settings_from_document_raise(document: dict[str, Any]) -> None:
    exercise(settings_from_document(document))


# ------------------------------------------------------------------ front matter


def with_front_matter(front: str) -> str:
    return f"---\n{front}\n---\n# Faster checkout\n\nWe will make checkout real-time.\n"


def test_a_front_matter_alias_bomb_is_ignored_with_a_note() -> None:
    bomb, last = alias_bomb()
    report = review_document(
        with_front_matter(bomb + f"product_review: {{disable: [*{last}]}}"), "d.md"
    )
    assert report.findings  # reviewed, nothing disabled
    (note,) = report.notes
    limit = boundedyaml.FRONT_MATTER_LIMITS.max_nodes
    assert note.startswith("front matter ignored") and f"more than {limit} YAML nodes" in note


@pytest.mark.parametrize("depth", [20, 500, 5_000])
def test_deeply_nested_front_matter_is_ignored_with_a_note(depth: int) -> None:
    report = review_document(
        with_front_matter("product_review: " + "[" * depth + "]" * depth), "d.md"
    )
    (note,) = report.notes
    assert "nested deeper than" in note and report.findings


def test_oversized_front_matter_is_ignored_with_a_note() -> None:
    front = "category: research\nfiller: " + "x" * (boundedyaml.FRONT_MATTER_LIMITS.max_bytes)
    report = review_document(with_front_matter(front), "d.md")
    assert report.category_source != "front-matter"
    assert any("bytes; the limit is" in note for note in report.notes)


def test_an_unreadable_front_matter_value_is_noted_and_the_rest_applies() -> None:
    report = review_document(
        with_front_matter("category: research\nrevision: " + "9" * 5000), "d.md"
    )
    assert (report.category.value, report.category_source) == ("research", "front-matter")
    (note,) = report.notes
    assert "line 2 of the front matter" in note and "could not be read" in note


@pytest.mark.parametrize(
    ("front", "words"),
    [
        ("product_review: skp", "`product_review` ignored: found 'skp'"),
        ("product_review: 42", "`product_review` ignored: found a number"),
        ("product_review: {skip: [1]}", "`product_review.skip` ignored: found a list"),
        ("product_review: {disable: 7}", "`product_review.disable` ignored"),
        ("product_review: {disable: [metrics, 1, {a: b}]}", "2 item(s)"),
    ],
)
def test_product_review_values_that_are_not_text_are_ignored_with_a_note(
    front: str, words: str
) -> None:
    report = review_document(with_front_matter(front), "d.md")
    assert not report.skipped
    assert any(words in note for note in report.notes), report.notes


def test_only_text_disable_ids_apply() -> None:
    plain = review_document(with_front_matter("title: x"), "d.md")
    assert any(finding.check == "metrics" for finding in plain.findings)
    report = review_document(
        with_front_matter("product_review: {disable: [metrics, [metrics], 3]}"), "d.md"
    )
    assert not any(finding.check == "metrics" for finding in report.findings)


@pytest.mark.parametrize("front", ["product_review: skip", "product_review: {skip: true}"])
def test_skip_still_works(front: str) -> None:
    assert review_document(with_front_matter(front), "d.md").skipped


def test_the_front_matter_note_reaches_every_output_format() -> None:
    bomb, last = alias_bomb()
    report = review_document(with_front_matter(bomb + f"title: *{last}"), "docs/d.md")
    (note,) = report.notes
    text = render(OutputFormat.TEXT, [report])
    assert f"note: {note}" in text
    payload = json.loads(render(OutputFormat.JSON, [report]))
    assert payload["documents"][0]["notes"] == [note]
    sarif = json.loads(render(OutputFormat.SARIF, [report]))
    notifications = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notifications] == [note]
    github = render(OutputFormat.GITHUB, [report])
    assert "::notice file=docs/d.md,title=product-review%3A note::front matter ignored" in github


def test_the_note_of_a_skipped_document_is_shown_too() -> None:
    report = review_document(
        with_front_matter("product_review: {skip: true, disable: 3}"), "docs/d.md"
    )
    assert report.skipped
    text = render(OutputFormat.TEXT, [report])
    assert "note: front matter `product_review.disable` ignored" in text


@settings(max_examples=100, deadline=None)
@given(front=yaml_config())
def test_no_front_matter_makes_the_review_raise(front: str) -> None:
    report = review_document(with_front_matter(front), "docs/d.md")
    assert all(isinstance(note, str) and len(note) < 500 for note in report.notes)


# --------------------------------------------------------------------------- fuzz


def load_fuzz_entry_point() -> Any:
    path = Path(__file__).resolve().parents[2] / "fuzz" / "fuzz_config.py"
    spec = importlib.util.spec_from_file_location("fuzz_config", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # atheris is imported only when fuzzing
    return module


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xfe\x00garbage",
        b"paths: {include: ['docs/[z-a]/*.md']}\ncategories: {'[b-a]': platform}\n",
        b"comments: {max_inline: " + b"9" * 5000 + b"}\n",
        alias_bomb()[0].encode() + b"product_review: {disable: [*n8]}\n",
        b"paths: " + b"[" * 500 + b"]" * 500,
    ],
)
def test_the_fuzz_entry_point_accepts_hostile_inputs(data: bytes) -> None:
    load_fuzz_entry_point().test_one_input(data)
