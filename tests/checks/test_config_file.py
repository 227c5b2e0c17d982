"""Parsing and validating `.github/product-review.yml` (checks.configfile)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.config import (
    DEFAULT_EXCLUDE,
    DEFAULT_INCLUDE,
    DEFAULT_SETTINGS,
    CommentMode,
    ConfigError,
    FailOn,
    Layer,
    Settings,
)
from checks.configfile import (
    CONFIG_PATH,
    MAX_CONFIG_BYTES,
    ExtendsTarget,
    glob_problem,
    merge_layers,
    parse_config,
    parse_extends,
    parse_settings,
    render_key_path,
    schema,
    schema_text,
)
from checks.engine import review_document
from checks.learned import shipped_model
from checks.options import CheckPolicy, DimensionPolicy
from checks.report import DIMENSIONS, LINE_CHECKS, Category, Requirement, Severity
from checks.rules import DIMENSION_BY_ID

SOURCE = "acme/app:.github/product-review.yml"


def settings_of(text: str) -> Settings:
    return parse_settings(textwrap.dedent(text), source=SOURCE)


def only_error(text: str) -> ConfigError:
    errors = parse_config(textwrap.dedent(text), source=SOURCE).errors
    assert len(errors) == 1, [str(error) for error in errors]
    return errors[0]


# ------------------------------------------------------------------------ schema


def test_schema_is_a_valid_json_schema_shipped_as_package_data() -> None:
    loaded = json.loads(schema_text())
    jsonschema.validators.validator_for(loaded).check_schema(loaded)
    assert loaded == schema()


def test_schema_names_every_dimension_check_and_category_of_the_engine() -> None:
    defs = schema()["$defs"]
    properties = schema()["properties"]
    assert list(defs["dimensionTable"]["properties"]) == list(DIMENSIONS)
    assert list(properties["checks"]["properties"]) == list(LINE_CHECKS)
    assert list(properties["dimensions"]["properties"]) == [c.value for c in Category]
    assert list(properties["aliases"]["properties"]) == list(DIMENSIONS)
    assert list(properties["questions"]["properties"]) == list(DIMENSIONS)
    assert properties["comments"]["properties"]["mode"]["enum"] == [m.value for m in CommentMode]
    assert properties["fail_on"]["enum"] == [f.value for f in FailOn]


def test_schema_refuses_unknown_keys_at_every_level() -> None:
    def objects(node: Any) -> list[dict[str, Any]]:
        found = []
        if isinstance(node, dict):
            if node.get("type") == "object":
                found.append(node)
            for value in node.values():
                found.extend(objects(value))
        elif isinstance(node, list):
            for value in node:
                found.extend(objects(value))
        return found

    for node in objects(dict(schema())):
        # `categories` is the one free-form mapping: its keys are globs, checked apart.
        assert node.get("additionalProperties") is False or "propertyNames" in node, node


# --------------------------------------------------------------------- good files

GOOD_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("empty file", "", {}),
    ("explicit null document", "~\n", {}),
    ("only comments", "# nothing configured yet\n", {}),
    (
        "paths",
        """
        paths:
          include: ["docs/rfcs/**/*.md", "proposals/*.md"]
          exclude: ["docs/rfcs/0000-template.md"]
        """,
        {
            "include": ("docs/rfcs/**/*.md", "proposals/*.md"),
            "exclude": ("docs/rfcs/0000-template.md",),
        },
    ),
    (
        "categories keep their order",
        """
        categories:
          "docs/platform/**": platform
          "docs/**": product
        """,
        {"categories": (("docs/platform/**", Category.PLATFORM), ("docs/**", Category.PRODUCT))},
    ),
    ("fail_on", "fail_on: warning\n", {"fail_on": FailOn.WARNING}),
    ("fail_on suggestion", "fail_on: suggestion\n", {"fail_on": FailOn.SUGGESTION}),
    (
        "comments",
        "comments:\n  max_inline: 3\n  mode: file\n",
        {"max_inline": 3, "comment_mode": CommentMode.FILE},
    ),
    ("comments off", "comments: {mode: off}\n", {"comment_mode": CommentMode.OFF}),
    ("drafts", "drafts: true\n", {"drafts": True}),
    (
        "command",
        "command:\n  associations: [OWNER, MEMBER]\n  allow_author: false\n",
        {"command_associations": ("OWNER", "MEMBER"), "command_allow_author": False},
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), GOOD_CASES, ids=[c[0] for c in GOOD_CASES])
def test_good_files_set_exactly_what_they_say(
    name: str, text: str, expected: dict[str, Any]
) -> None:
    settings = settings_of(text)
    assert settings.errors == ()
    for attribute, value in expected.items():
        assert getattr(settings, attribute) == value, attribute
    for attribute in ("include", "exclude", "fail_on", "max_inline", "drafts", "comment_mode"):
        if attribute not in expected:
            assert getattr(settings, attribute) == getattr(DEFAULT_SETTINGS, attribute)


def test_dimensions_shorthand_and_mapping_become_policies() -> None:
    settings = settings_of(
        """
        dimensions:
          product:
            metrics: required
            evidence: {requirement: optional, severity: suggestion}
          compliance:
            incremental: off
            why_now: {requirement: required, severity: error}
        """
    )
    assert settings.errors == ()
    dimensions = settings.review.dimensions
    assert dimensions[Category.PRODUCT]["metrics"] == DimensionPolicy(
        Requirement.REQUIRED, Severity.WARNING
    )
    assert dimensions[Category.PRODUCT]["evidence"] == DimensionPolicy(
        Requirement.OPTIONAL, Severity.SUGGESTION
    )
    assert dimensions[Category.COMPLIANCE]["incremental"].requirement is Requirement.OFF
    assert dimensions[Category.COMPLIANCE]["why_now"] == DimensionPolicy(
        Requirement.REQUIRED, Severity.ERROR
    )
    assert Category.RESEARCH not in dimensions


def test_a_dimension_policy_leaves_out_what_the_engine_table_supplies() -> None:
    settings = settings_of(
        """
        dimensions:
          platform:
            why_now: {severity: error}
            risks: optional
        """
    )
    assert settings.errors == ()
    table = settings.review.dimensions[Category.PLATFORM]
    assert table["why_now"] == DimensionPolicy(
        DIMENSION_BY_ID["why_now"].requirements[Category.PLATFORM], Severity.ERROR
    )
    risks_severity = DIMENSION_BY_ID["risks"].severity
    assert table["risks"] == DimensionPolicy(Requirement.OPTIONAL, risks_severity)


def test_checks_accept_on_off_booleans_severities_and_mappings() -> None:
    settings = settings_of(
        """
        checks:
          placeholder: off
          solution-first: on
          absolute-requirement: error
          unquantified-goal: false
          unsupported-demand: {enabled: true, severity: suggestion}
          technology-first: {severity: warning}
        """
    )
    assert settings.errors == ()
    assert dict(settings.review.checks) == {
        "placeholder": CheckPolicy(enabled=False),
        "solution-first": CheckPolicy(enabled=True),
        "absolute-requirement": CheckPolicy(enabled=True, severity=Severity.ERROR),
        "unquantified-goal": CheckPolicy(enabled=False),
        "unsupported-demand": CheckPolicy(enabled=True, severity=Severity.SUGGESTION),
        "technology-first": CheckPolicy(enabled=True, severity=Severity.WARNING),
    }


def test_aliases_and_questions_stay_plain_phrases() -> None:
    settings = settings_of(
        """
        aliases:
          metrics: ["Definition of done", "(a+)+$"]
        questions:
          metrics: "Which number tells us this worked, and by when?"
        """
    )
    assert settings.errors == ()
    # Regex metacharacters are kept as written: the engine matches phrases, not patterns.
    assert settings.review.aliases["metrics"] == ("Definition of done", "(a+)+$")
    assert settings.review.questions == {
        "metrics": "Which number tells us this worked, and by when?"
    }


def test_extends_is_recorded_not_applied() -> None:
    parsed = parse_config("_extends: acme/settings:configs/review.yml\n", source=SOURCE)
    assert parsed.errors == ()
    assert parsed.extends == "acme/settings:configs/review.yml"
    assert "_extends" not in parsed.document


# ---------------------------------------------------------------------- bad files

BAD_CASES: list[tuple[str, str, str, list[str], int | None]] = [
    # (name, yaml, key path, words the message must contain, line)
    (
        "unknown top key",
        "fail_on: error\nfailon: warning\n",
        "failon",
        ["unknown key", "did you mean 'fail_on'"],
        2,
    ),
    (
        "unknown nested key",
        "paths:\n  exlude: [a]\n",
        "paths.exlude",
        ["unknown key", "include, exclude"],
        2,
    ),
    (
        "unknown dimension",
        "aliases:\n  metric: [x]\n",
        "aliases.metric",
        ["unknown key", "metrics"],
        2,
    ),
    (
        "unknown check",
        "checks:\n  placeholders: off\n",
        "checks.placeholders",
        ["unknown key", "placeholder"],
        2,
    ),
    (
        "unknown category",
        "dimensions:\n  products: {}\n",
        "dimensions.products",
        ["unknown key", "product"],
        2,
    ),
    (
        "bad enum",
        "fail_on: always\n",
        "fail_on",
        ['found "always"', '"never", "suggestion", "warning", "error"'],
        1,
    ),
    (
        "bad requirement",
        "dimensions:\n  product:\n    metrics: requird\n",
        "dimensions.product.metrics",
        ['found "requird"', '"required", "optional", "off"'],
        3,
    ),
    (
        "bad key in policy",
        "dimensions:\n  product:\n    users: {requirement: required, colour: red}\n",
        "dimensions.product.users.colour",
        ["unknown key", "requirement, severity"],
        3,
    ),
    (
        "bad check value",
        "checks:\n  placeholder: maybe\n",
        "checks.placeholder",
        ['found "maybe"', '"on", "off"'],
        2,
    ),
    (
        "bad check severity",
        "checks:\n  placeholder: {severity: fatal}\n",
        "checks.placeholder.severity",
        ['found "fatal"', '"suggestion", "warning", "error"'],
        2,
    ),
    (
        "wrong type",
        "paths:\n  include: docs/**\n",
        "paths.include",
        ['found "docs/**"', "a list"],
        2,
    ),
    (
        "too many inline",
        "comments:\n  max_inline: 500\n",
        "comments.max_inline",
        ["found 500", "from 0 to 50"],
        2,
    ),
    (
        "bad mode",
        "comments:\n  mode: inline\n",
        "comments.mode",
        ['found "inline"', '"changed-lines", "file", "off"'],
        2,
    ),
    ("yes is not a boolean", "drafts: yes\n", "drafts", ['found "yes"', "true or false"], 1),
    (
        "bad association",
        "command:\n  associations: [ADMIN]\n",
        "command.associations[0]",
        ['found "ADMIN"', '"OWNER"'],
        2,
    ),
    (
        "bad category value",
        "categories:\n  'docs/**': platfrom\n",
        'categories."docs/**"',
        ['found "platfrom"', '"platform"'],
        2,
    ),
    ("bad extends", "_extends: 'a b c'\n", "_extends", ['found "a b c"', "OWNER/REPO"], 1),
    ("extends path escapes", "_extends: 'settings:../secrets.yml'\n", "_extends", ["'..'"], 1),
    (
        "empty alias",
        "aliases:\n  metrics: ['']\n",
        "aliases.metrics[0]",
        ['found ""', "1 to 200 characters"],
        2,
    ),
    ("non-text key", "1: x\n", "1", ["keys must be text"], 1),
    (
        "nested non-text key",
        "dimensions:\n  product:\n    metrics: required\n    2: off\n",
        "dimensions.product.2",
        ["keys must be text"],
        4,
    ),
    ("duplicate key", "fail_on: error\nfail_on: warning\n", "fail_on", ["duplicate key"], 2),
    (
        "greedy glob",
        "paths:\n  include: ['*a*b*c*d.md']\n",
        "paths.include[0]",
        ["at most 3 '*'"],
        2,
    ),
    (
        "deep glob",
        "paths:\n  exclude: ['**/a/**/b/**/c/**/d']\n",
        "paths.exclude[0]",
        ["at most 3 '**'"],
        2,
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "key_path", "words", "line"), BAD_CASES, ids=[c[0] for c in BAD_CASES]
)
def test_bad_files_name_the_key_what_was_found_and_what_is_allowed(
    name: str, text: str, key_path: str, words: list[str], line: int | None
) -> None:
    error = only_error(text)
    assert error.source == SOURCE
    assert error.key_path == key_path
    for word in words:
        assert word in error.message
    assert error.line == line


def test_a_broken_config_keeps_its_valid_parts() -> None:
    settings = settings_of(
        """
        fail_on: error
        comments:
          max_inline: 3
          mode: inline
        checks:
          placeholder: off
          absolute-requirement: loud
        drafts: true
        unknown: 1
        """
    )
    assert {error.key_path for error in settings.errors} == {
        "comments.mode",
        "checks.absolute-requirement",
        "unknown",
    }
    assert settings.fail_on is FailOn.ERROR
    assert settings.max_inline == 3
    assert settings.comment_mode is CommentMode.CHANGED_LINES  # the default, mode was bad
    assert dict(settings.review.checks) == {"placeholder": CheckPolicy(enabled=False)}
    assert settings.drafts is True


def test_a_non_text_key_drops_only_itself() -> None:
    settings = settings_of("dimensions:\n  product:\n    metrics: off\n    2: off\n")
    assert [error.key_path for error in settings.errors] == ["dimensions.product.2"]
    assert settings.review.dimensions[Category.PRODUCT]["metrics"].requirement is Requirement.OFF


def test_a_bad_item_drops_its_whole_list_not_just_the_item() -> None:
    # Keeping half a list would review a different set of files than the team wrote.
    settings = settings_of("paths:\n  include: ['docs/**/*.md', 3]\n")
    assert [error.key_path for error in settings.errors] == ["paths.include[1]"]
    assert settings.include == DEFAULT_INCLUDE


def test_errors_come_in_line_order_and_print_with_position() -> None:
    errors = parse_config("drafts: maybe\nfail_on: soon\n", source=SOURCE).errors
    assert [error.line for error in errors] == [1, 2]
    assert str(errors[0]) == (
        'acme/app:.github/product-review.yml:1:1: drafts: found "maybe"; allowed: true or false'
    )
    assert errors[0].file_path == CONFIG_PATH


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("paths:\n  include: [a, b\nfail_on: x\n", 3, 8),
        ("fail_on: error\n  drafts: true\n", 2, 9),
        ("comments:\n\t mode: off\n", 2, 1),
        ("a: 1\n---\nb: 2\n", 2, 1),
    ],
)
def test_yaml_syntax_errors_give_line_and_column(text: str, line: int, column: int) -> None:
    error = only_error(text)
    assert error.message.startswith("YAML syntax error")
    assert (error.line, error.column) == (line, column)
    assert error.key_path == ""


@pytest.mark.parametrize(
    ("text", "found"),
    [("- a\n- b\n", "a list"), ("just words\n", '"just words"'), ("42\n", "42")],
)
def test_non_mapping_documents_are_refused(text: str, found: str) -> None:
    settings = settings_of(text)
    (error,) = settings.errors
    assert "must be a mapping" in error.message and found in error.message
    assert settings == DEFAULT_SETTINGS  # defaults apply, and the error is reported


def test_files_over_64_kb_are_refused_before_parsing() -> None:
    text = "fail_on: error\n" + "#" * MAX_CONFIG_BYTES
    settings = settings_of(text)
    (error,) = settings.errors
    assert "limit is 65536 bytes" in error.message
    assert settings.fail_on is FailOn.NEVER


def test_alias_bomb_is_refused() -> None:
    rows = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for name, previous in zip("bcdefgh", "abcdefg", strict=True):
        rows.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    error = only_error("\n".join(rows) + "\n")  # 10**8 nodes once expanded, 1 KB of text
    assert "YAML refused" in error.message and "aliases" in error.message


def test_a_few_aliases_are_fine() -> None:
    text = """
    aliases:
      metrics: &done ["Definition of done", "Exit criteria"]
      incremental: *done
    """
    settings = settings_of(text)
    assert settings.errors == ()
    assert settings.review.aliases["incremental"] == ("Definition of done", "Exit criteria")


def test_recursive_alias_is_refused() -> None:
    assert "recursive" in only_error("paths: &p {include: *p}\n").message


def test_deep_nesting_is_refused() -> None:
    assert "nested deeper" in only_error("a: " + "[" * 3000 + "]" * 3000 + "\n").message


def test_yaml_tags_that_build_objects_are_not_loaded() -> None:
    error = only_error("fail_on: !!python/object/apply:os.system ['true']\n")
    assert "YAML" in error.message


# ----------------------------------------------------------------------- _extends


@pytest.mark.parametrize(
    ("value", "target"),
    [
        ("settings", ExtendsTarget("acme", "settings", CONFIG_PATH)),
        ("other/settings", ExtendsTarget("other", "settings", CONFIG_PATH)),
        ("settings:review/base.yml", ExtendsTarget("acme", "settings", "review/base.yml")),
        ("other/settings:/base.yml", ExtendsTarget("other", "settings", "base.yml")),
        (".github", ExtendsTarget("acme", ".github", CONFIG_PATH)),
    ],
)
def test_extends_forms(value: str, target: ExtendsTarget) -> None:
    assert parse_config(f"_extends: '{value}'\n", source=SOURCE).errors == ()
    assert parse_extends(value, owner="acme") == target


# ------------------------------------------------------------------------ merging


def test_merge_is_deep_for_mappings_lists_replace_and_records_the_layer() -> None:
    merged, sources = merge_layers(
        [
            ("default", {"paths": {"include": ["a", "b"], "exclude": ["x"]}, "drafts": False}),
            ("organisation", {"paths": {"include": ["c"]}, "comments": {"mode": "file"}}),
            ("repository", {"comments": {"max_inline": 2}, "drafts": True}),
        ]
    )
    assert merged == {
        "paths": {"include": ["c"], "exclude": ["x"]},
        "drafts": True,
        "comments": {"mode": "file", "max_inline": 2},
    }
    assert sources == {
        "paths.include": "organisation",
        "paths.exclude": "default",
        "drafts": "repository",
        "comments.mode": "organisation",
        "comments.max_inline": "repository",
    }


def test_higher_layer_category_globs_are_tried_first() -> None:
    merged, _ = merge_layers(
        [
            ("organisation", {"categories": {"docs/**": "product"}}),
            ("repository", {"categories": {"docs/infra/**": "platform"}}),
        ]
    )
    assert list(merged["categories"]) == ["docs/infra/**", "docs/**"]


def test_a_shorthand_merges_with_a_lower_layers_mapping() -> None:
    lower = parse_config(
        "dimensions:\n  product:\n    metrics: {requirement: required, severity: error}\n",
        source="org",
    )
    higher = parse_config("dimensions:\n  product:\n    metrics: optional\n", source="repo")
    merged, sources = merge_layers(
        [("organisation", lower.document), ("repository", higher.document)]
    )
    assert merged["dimensions"]["product"]["metrics"] == {
        "requirement": "optional",
        "severity": "error",
    }
    assert sources["dimensions.product.metrics.requirement"] == "repository"
    assert sources["dimensions.product.metrics.severity"] == "organisation"


def test_provenance_lists_every_effective_value_with_its_layer() -> None:
    settings = settings_of("comments:\n  max_inline: 4\n")
    rows = {key: (value, layer) for key, value, layer in settings.provenance()}
    assert rows["comments.max_inline"] == (4, Layer.FILE.value)
    assert rows["comments.mode"] == ("changed-lines", Layer.DEFAULT.value)
    assert rows["paths.include"] == (DEFAULT_INCLUDE, Layer.DEFAULT.value)
    assert rows["paths.exclude"] == (DEFAULT_EXCLUDE, Layer.DEFAULT.value)
    assert settings.files == ((Layer.FILE.value, SOURCE),)


# --------------------------------------------------------------------- utilities


@pytest.mark.parametrize(
    ("path", "rendered"),
    [
        (("comments", "mode"), "comments.mode"),
        (("paths", "include", 2), "paths.include[2]"),
        (("categories", "docs/*.md"), 'categories."docs/*.md"'),
        (("checks", "solution-first"), "checks.solution-first"),
    ],
)
def test_key_paths_render_readably(path: tuple[str | int, ...], rendered: str) -> None:
    assert render_key_path(path) == rendered


@pytest.mark.parametrize(
    ("glob", "refused"),
    [
        ("**/*rfc*/**/*.md", False),
        ("docs/[abc]*.md", False),
        ("**/a/**/b/**/c.md", False),
        ("**/a/**/b/**/c/**", True),
        ("*a*b*c*.md", True),
        ("?a?b?c?", True),
    ],
)
def test_glob_guard(glob: str, refused: bool) -> None:
    assert (glob_problem(glob) is not None) is refused
    assert all(glob_problem(default) is None for default in (*DEFAULT_INCLUDE, *DEFAULT_EXCLUDE))


def test_the_readme_documents_every_key_with_an_example() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- SECTION:config -->", 1)[1].split("<!-- SECTION:", 1)[0]
    properties = schema()["properties"]
    keys = [
        f"{key}.{child}" if child else key
        for key, node in properties.items()
        for child in (node.get("properties") if key in ("paths", "comments", "command") else None)
        or [""]
    ]
    for key in keys:
        assert f"**`{key}`**" in section, key
        leaf = key.rsplit(".", 1)[-1]
        assert f"\n{leaf}:" in section or f"  {leaf}:" in section, key


# ------------------------------------------------------------------- properties

_WORDS = [
    *schema()["properties"],
    *DIMENSIONS,
    *LINE_CHECKS,
    *(category.value for category in Category),
    "include",
    "exclude",
    "mode",
    "max_inline",
    "associations",
    "allow_author",
    "requirement",
    "severity",
    "enabled",
    "required",
    "off",
    "on",
    "error",
    "docs/**/*.md",
    "OWNER",
]
_scalars = st.one_of(
    st.sampled_from(_WORDS),
    st.integers(-5, 100),
    st.booleans(),
    st.none(),
    st.text(max_size=8),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(_WORDS), inner, max_size=5),
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(_WORDS), _values, max_size=8))
def test_whatever_survives_validation_is_valid_and_converts(data: dict[str, Any]) -> None:
    parsed = parse_config(json.dumps(data), source=SOURCE)  # JSON is YAML
    kept = dict(parsed.document)
    if parsed.extends is not None:
        kept["_extends"] = parsed.extends
    assert list(jsonschema.Draft202012Validator(schema()).iter_errors(kept)) == []
    if not parsed.errors:  # then nothing was dropped (shorthands only change form)
        assert set(kept) == set(data)
        for key, value in data.items():
            if isinstance(value, dict):
                assert set(kept[key]) == set(value), key
    parse_settings(json.dumps(data), source=SOURCE)  # converts without raising


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_settings_or_errors_never_an_exception(text: str) -> None:
    result = parse_settings(text, source=SOURCE)
    assert all(isinstance(error, ConfigError) for error in result.errors)


def test_every_yaml_example_in_the_readme_is_valid() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- SECTION:config -->", 1)[1].split("<!-- SECTION:", 1)[0]
    examples = [block.split("```", 1)[0] for block in section.split("```yaml\n")[1:]]
    assert len(examples) >= 12
    for example in examples:
        assert parse_config(example, source="README").errors == (), example


def test_a_bad_value_next_to_an_unknown_key_is_still_reported() -> None:
    # Found by hypothesis: inside an anyOf branch, the type error of `enabled`
    # was dropped while the unknown key was reported.
    settings = parse_settings(
        "checks:\n  solution-first:\n    enabled: banana\n    x: 1\n", source="t.yml"
    )
    paths = {error.key_path for error in settings.errors}
    assert paths == {"checks.solution-first.enabled", "checks.solution-first.x"}


def test_the_shipped_layer_judges_the_dimensions_unless_the_config_says_rules() -> None:
    for config in ("", "model: learned\n"):
        settings = parse_settings(config, source="x.yml")
        assert settings.errors == () and settings.review.model is shipped_model()
        assert settings.values["model"] == "learned"
    text = "# Cache\n\n## Problem\n\nBuilds take 14 minutes and engineers wait.\n"
    judged = review_document(text, "x.md", parse_settings("", source="x.yml").review)
    # Where the rules found text the layer may keep their reading; elsewhere it judges.
    assert "judged by the learned model" in {d.note for d in judged.dimensions}
    rules = parse_settings("model: rules\n", source="x.yml").review
    assert rules.model is None
    plain = review_document(text, "x.md", rules)
    assert "judged by the learned model" not in {d.note for d in plain.dimensions}


def test_an_unknown_model_is_a_keyed_problem_and_the_shipped_layer_judges() -> None:
    settings = parse_settings("model: smart\n", source="x.yml")
    assert settings.review.model is shipped_model()
    assert settings.model_file is None
    assert [str(e) for e in settings.errors] == [
        'x.yml:1:1: model: found "smart"; allowed: "rules", "learned", or a model '
        "file's repository-relative path ending in .json"
    ]


def test_a_model_path_is_recorded_and_nothing_is_read() -> None:
    settings = parse_settings("model: .github/product-review-model.json\n", source="x.yml")
    assert settings.errors == ()
    assert settings.model_file == ".github/product-review-model.json"
    # The shipped layer judges until the CLI or the App has read the file.
    assert settings.review.model is shipped_model()
    assert settings.values["model"] == ".github/product-review-model.json"
    assert parse_settings("model: learned\n", source="x.yml").model_file is None


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("/etc/model.json", "the path must be relative to the repository root, not absolute"),
        ("'C:/models/team.json'", "the path must be relative to the repository root"),
        ("../other/model.json", "the path must not contain empty, '.' or '..' segments"),
        ("./model.json", "the path must not contain empty, '.' or '..' segments"),
        ("models//team.json", "the path must not contain empty, '.' or '..' segments"),
        (".github/model.yaml", "a model file's name ends in .json"),
        ("'models/team model.json'", "only letters, digits, '.', '_', '-' and '/'"),
        ("m" * 200 + ".json", "a path of at most 200 characters, not 205"),
        ("3", "found 3; allowed: "),
        ("[a.json]", "found a list; allowed: "),
    ],
)
def test_a_bad_model_path_is_one_keyed_problem(value: str, why: str) -> None:
    settings = parse_settings(f"fail_on: error\nmodel: {value}\n", source="x.yml")
    (error,) = settings.errors
    assert error.key_path == "model" and error.line == 2
    assert why in error.message and "allowed: " in error.message
    assert settings.model_file is None and settings.review.model is shipped_model()
    assert settings.fail_on.value == "error"  # the rest of the file applies


def test_the_schema_agrees_with_the_model_path_check() -> None:
    import re

    from checks.configfile import model_problem, schema

    pattern = re.compile(schema()["properties"]["model"]["pattern"])
    for value in (
        "rules",
        "learned",
        ".github/product-review-model.json",
        "models/team.json",
        "/abs.json",
        "../up.json",
        "./here.json",
        "a//b.json",
        "team.yaml",
        "smart",
    ):
        assert (pattern.search(value) is not None) == (model_problem(value) is None), value
