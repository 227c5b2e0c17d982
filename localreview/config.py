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
    effective_fail_on(settings: Settings, flag: FailOn | None) -> tuple[FailOn, str]
        The failing level of `check` and the Action, and where it came from.
    effective_config(settings: Settings, fail_on: tuple[FailOn, str]) -> list[ConfigRow]
        Every key with its value and source, for `config show`.
    config_text(rows, config_path) -> str / config_json(rows, config_path) -> str
        What `config show` prints: `key: value  # source` lines, or one JSON object.

`_extends` is not followed here (it needs the GitHub API); its form is validated.
Each ConfigError prints as `FILE:LINE:COLUMN: key.path: message` with str().
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from checks import configfile
from checks.config import ConfigError, FailOn, Layer, Settings
from checks.configfile import CONFIG_PATH, MAX_CONFIG_BYTES, parse_config, parse_settings

__all__ = [
    "CONFIG_PATH",
    "DEFAULT_FAIL_ON",
    "ConfigRow",
    "config_json",
    "config_text",
    "effective_config",
    "effective_fail_on",
    "find_config",
    "find_repository_root",
    "load_settings_file",
    "repository_config",
    "schema_text",
    "validate_file",
    "yaml_value",
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


# The failing level of `check`, the pre-commit hook and the Action when neither the
# command line nor the config file sets one: a linter's exit code says whether
# something serious was found. The App's Check Run, informative by default, keeps
# the config's own default (`never`) when the file does not set `fail_on`.
DEFAULT_FAIL_ON = FailOn.ERROR
DEFAULT_SOURCE = "default"


def _file_of(settings: Settings, layer: str) -> str:
    """The file a layer came from (its path as given), else the layer's name."""
    return next((path for name, path in settings.files if name == layer), layer)


def effective_fail_on(
    settings: Settings, flag: FailOn | None, flag_name: str = "--fail-on"
) -> tuple[FailOn, str]:
    """The failing level and its source: the flag, else the config file when it sets
    `fail_on` (an invalid value is dropped, so it does not), else DEFAULT_FAIL_ON. A
    config file that leaves `fail_on` out changes nothing."""
    if flag is not None:
        return flag, flag_name
    layer = settings.sources.get("fail_on", Layer.DEFAULT.value)
    if layer != Layer.DEFAULT.value:
        return settings.fail_on, _file_of(settings, layer)
    return DEFAULT_FAIL_ON, DEFAULT_SOURCE


@dataclass(frozen=True)
class ConfigRow:
    key: str  # flat key path, "comments.max_inline"
    value: object  # in config-file form
    source: str  # "default", the file's path, or a flag such as "--fail-on"


def effective_config(
    settings: Settings,
    fail_on: tuple[FailOn, str],
) -> list[ConfigRow]:
    """Every key of the effective config, sorted, with where its value came from: the
    built-in defaults in full, the file's keys, and `fail_on` as `check` applies it."""
    defaults = configfile.settings_from_layers([])
    values = {**defaults.values, **settings.values}
    sources = {key: DEFAULT_SOURCE for key in defaults.values}
    sources.update(
        (key, DEFAULT_SOURCE if layer == Layer.DEFAULT.value else _file_of(settings, layer))
        for key, layer in settings.sources.items()
        if key in values
    )
    values["fail_on"], sources["fail_on"] = fail_on[0].value, fail_on[1]
    return [ConfigRow(key, values[key], sources.get(key, DEFAULT_SOURCE)) for key in sorted(values)]


def config_text(rows: Sequence[ConfigRow], config_path: str | None) -> str:
    """`key: value  # source`, one line a key, the values as YAML writes them."""
    width = max((len(row.key) for row in rows), default=0)
    lines = [f"# {config_path or 'no config file: every value is the built-in default'}"]
    lines += [
        f"{row.key + ':':<{width + 1}} {yaml_value(row.value)}  # {row.source}" for row in rows
    ]
    return "\n".join(lines) + "\n"


def config_json(rows: Sequence[ConfigRow], config_path: str | None) -> str:
    payload = {
        "config_file": config_path,
        "keys": {row.key: {"value": row.value, "source": row.source} for row in rows},
    }
    return json.dumps(payload, indent=2, ensure_ascii=False, default=list) + "\n"


def yaml_value(value: object) -> str:
    """A value as YAML would write it on one line (flow style)."""
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(yaml_value(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if _is_plain_scalar(value) else json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, default=str)


def _is_plain_scalar(text: str) -> bool:
    """Whether YAML would read `text`, unquoted inside a flow list, back as itself."""
    if not text or text.strip() != text or text[0] in "*!&#|>@`'\"%-?:":
        return False
    if any(char in text for char in ",[]{}\n") or ": " in text or " #" in text:
        return False
    # Quoted also where only YAML 1.1 readers (PyYAML) would take a boolean.
    if text.lower() in ("true", "false", "null", "~", "yes", "no", "on", "off", "y", "n"):
        return False
    try:
        float(text)
    except ValueError:
        return True
    return False
