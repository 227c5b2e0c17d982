"""The config file on disk, as the CLI reads it (localreview.config)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checks.config import FailOn, Layer
from checks.configfile import MAX_CONFIG_BYTES
from localreview.config import (
    find_config,
    load_settings_file,
    repository_config,
    schema_text,
    validate_file,
)


def write(path: Path, content: str | bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def test_load_settings_file_applies_the_file_over_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path / "review.yml", "fail_on: warning\n_extends: org-settings\n")
    settings = load_settings_file(path)
    assert settings.errors == ()
    assert settings.fail_on is FailOn.WARNING
    assert settings.sources["fail_on"] == Layer.FILE.value
    assert settings.files == ((Layer.FILE.value, path),)


def test_validate_file_lists_problems_with_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path / "review.yml", "fail_on: error\ncomments:\n  mode: loud\n")
    (error,) = validate_file(path)
    assert str(error) == (
        f'{path}:3:3: comments.mode: found "loud"; allowed: "changed-lines", "file", "off"'
    )
    assert validate_file(write(tmp_path / "ok.yml", "drafts: true\n")) == []


def test_oversized_and_binary_files_are_refused_without_reading_them_whole(
    tmp_path: Path,
) -> None:
    big = write(tmp_path / "big.yml", "#" * (10 * MAX_CONFIG_BYTES))
    (error,) = validate_file(big)
    assert "larger than the limit" in error.message
    assert load_settings_file(big).errors == (error,)
    (error,) = validate_file(write(tmp_path / "latin1.yml", b"fail_on: caf\xe9\n"))
    assert "not UTF-8" in error.message


def test_an_unreadable_file_raises_for_the_cli_to_report(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        load_settings_file(str(tmp_path / "missing.yml"))
    with pytest.raises(OSError):
        validate_file(str(tmp_path))


def test_schema_text_is_the_json_schema() -> None:
    assert json.loads(schema_text())["properties"]["fail_on"]["enum"][0] == "never"


def test_find_config_walks_up_to_the_work_tree_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    config = write(tmp_path / ".github" / "product-review.yml", "drafts: true\n")
    nested = tmp_path / "docs" / "rfcs"
    nested.mkdir(parents=True)
    assert find_config(str(nested)) == str(Path(config).resolve())

    other = tmp_path / "elsewhere"
    (other / "sub").mkdir(parents=True)
    (other / ".git").mkdir()
    assert find_config(str(other / "sub")) is None


def test_only_the_work_tree_root_holds_the_repository_config(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root_config = tmp_path / ".github" / "product-review.yml"
    # A `.github` folder below the root (a vendored project, an example) is not the
    # repository's: `check` and `config validate` both read the root's file.
    write(tmp_path / "docs" / ".github" / "product-review.yml", "drafts: true\n")
    nested = tmp_path / "docs" / "rfcs"
    nested.mkdir()
    assert repository_config(nested) == root_config.resolve()
    assert find_config(str(nested)) is None
    write(root_config, "drafts: true\n")
    assert find_config(str(nested)) == str(root_config.resolve())


def test_outside_a_work_tree_the_config_is_the_start_folders(tmp_path: Path) -> None:
    # tmp_path is outside any git repository on the machines the tests run on.
    start = tmp_path / "notes"
    start.mkdir()
    write(tmp_path / ".github" / "product-review.yml", "drafts: true\n")
    assert repository_config(start) == start.resolve() / ".github" / "product-review.yml"
    assert find_config(str(start)) is None
