"""The config file on a local disk, for the CLI (`product-review check --config FILE`,
`product-review config validate [FILE]`, `product-review config schema`).

Functions for the command (localreview/main.py):
    load_settings_file(path: str) -> Settings
        Defaults + the file. Problems in the file are in `Settings.errors` (the
        review still runs with the valid parts); raises OSError when the file
        cannot be read at all (exit 2).
    validate_file(path: str) -> list[ConfigError]
        The file's problems, in line order; empty when valid. Raises OSError.
    schema_text() -> str
        The JSON Schema of the file (what `config schema` prints).
    find_config(start: str = ".") -> str | None
        `.github/product-review.yml` of the git repository around `start`, if any
        (what `check` uses without `--config`).
    repository_config(start: Path) -> Path
        Where that file is, whether or not it exists (what `config validate` reads
        without FILE).
    find_repository_root(start: Path) -> Path | None
        The top of the git work tree around `start`.

`_extends` is not followed here (it needs the GitHub API); its form is validated.
Each ConfigError prints as `FILE:LINE:COLUMN: key.path: message` with str().
"""

from __future__ import annotations

from pathlib import Path

from checks import configfile
from checks.config import ConfigError, Settings
from checks.configfile import CONFIG_PATH, MAX_CONFIG_BYTES, parse_config, parse_settings

__all__ = [
    "CONFIG_PATH",
    "find_config",
    "find_repository_root",
    "load_settings_file",
    "repository_config",
    "schema_text",
    "validate_file",
]


def _read(path: str) -> str | ConfigError:
    with open(path, "rb") as handle:
        # One byte over the limit is enough to refuse; never read a huge file whole.
        data = handle.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        return ConfigError(
            path, "", f"the file is larger than the limit of {MAX_CONFIG_BYTES} bytes"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        return ConfigError(path, "", f"not UTF-8 text (byte {error.start})")


def load_settings_file(path: str) -> Settings:
    text = _read(path)
    if isinstance(text, ConfigError):
        return Settings(errors=(text,))
    return parse_settings(text, source=path)


def validate_file(path: str) -> list[ConfigError]:
    text = _read(path)
    if isinstance(text, ConfigError):
        return [text]
    return list(parse_config(text, source=path).errors)


def schema_text() -> str:
    return configfile.schema_text()


def find_repository_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding `.git` (a folder, or a file for
    worktrees and submodules)."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def repository_config(start: Path) -> Path:
    """The config file of the git work tree around `start` (of `start` itself outside
    one), whether or not it exists: `check` and `config validate` read the same file."""
    folder = start.resolve()
    return (find_repository_root(folder) or folder) / CONFIG_PATH


def find_config(start: str = ".") -> str | None:
    """The repository config of the git work tree containing `start`, if it has one."""
    config = repository_config(Path(start))
    return str(config) if config.is_file() else None
