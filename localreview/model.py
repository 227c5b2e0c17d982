"""Reading a learned-layer model file: for the command line (`--model FILE`,
`--learned`, the config's `model: PATH`) and for the App (a repository's model file,
read through the API, as `TeamModel`).

A model file comes from anyone who can commit to a repository: it is read with a
size bound (`MAX_MODEL_BYTES`), decoded, parsed and checked part by part
(`LearnedModel.from_json`), and any problem is one `ModelFileError` line.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cachetools import LRUCache

from checks.learned import LearnedModel, shipped_model

SHIPPED_MODEL = ":shipped:"  # the model that ships in the package (`--learned`)
RULES_ONLY = ":rules:"  # no model: the rules judge the dimensions (`--rules`)
# A trained model is about 1.5 MB (dense weights, whatever the number of documents).
MAX_MODEL_BYTES = 5 * 1024 * 1024
MAX_MODEL_MB = MAX_MODEL_BYTES // (1024 * 1024)


class ModelFileError(ValueError):
    """A model file that cannot be read or is not a model of this version."""


def parse_model(data: bytes | str) -> LearnedModel:
    """The model in a model file's bytes; ValueError (a `ModelFileError`) says why not."""
    if len(data) > MAX_MODEL_BYTES:
        raise ModelFileError(f"the file is larger than {MAX_MODEL_MB} MB")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        loaded = json.loads(text)
        if not isinstance(loaded, dict):
            raise ValueError("not a JSON object")
        return LearnedModel.from_json(loaded)
    except UnicodeDecodeError as error:
        raise ModelFileError(f"not UTF-8 text (byte {error.start})") from None
    except RecursionError:  # JSON nested thousands of levels deep
        raise ModelFileError("not a model file: JSON nested too deeply") from None
    except (ValueError, KeyError, TypeError) as error:
        detail = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise ModelFileError(f"not a usable model file: {detail}") from None


def read_model_file(path: str) -> bytes:
    """The file's bytes, one past `MAX_MODEL_BYTES` at most."""
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_MODEL_BYTES + 1)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: model file not found") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: a folder, not a model file") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read: {error.strerror or error}") from None


def load_model(path: str) -> LearnedModel:
    if path == SHIPPED_MODEL:
        return shipped_model()
    data = read_model_file(path)
    try:
        return parse_model(data)
    except ModelFileError as error:
        raise ModelFileError(f"{path}: {error}") from None


def model_root(config_path: str | None, start: Path) -> Path:
    """The folder a config's `model: PATH` is relative to: the repository root, the
    folder holding the config's `.github/`. For a config file elsewhere (`--config
    FILE`), the git work tree around it, else its own folder; without a config file,
    the git work tree around `start`."""
    from localreview.config import find_repository_root

    if config_path is None:
        folder = start.resolve()
        return find_repository_root(folder) or folder
    config = Path(config_path).resolve()
    if config.parent.name == ".github":
        return config.parent.parent
    return find_repository_root(config.parent) or config.parent


# --- the App's team models ------------------------------------------------------------


def blob_sha(data: bytes) -> str:
    """Git's blob SHA of `data`: the key GitHub gives the same file."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


# Parsed team models of this process, by key (repository and blob SHA): a worker
# process parses a file once, whatever the number of documents that use it.
PARSED_PER_PROCESS = 4
_PARSED: LRUCache[str, LearnedModel] = LRUCache(maxsize=PARSED_PER_PROCESS)


def parsed_team_model(key: str, text: str) -> LearnedModel:
    """The model in `text`, parsed at most once per process for `key`."""
    model = _PARSED.get(key)
    if model is None:
        model = _PARSED[key] = parse_model(text)
    return model


def check_team_model(key: str, text: str) -> str | None:
    """Why the model in `text` cannot be used (one line), or None: a job for the
    review's worker processes, which also keeps the parsed model there."""
    try:
        parsed_team_model(key, text)
    except ModelFileError as error:
        return str(error)
    return None


class TeamModel(LearnedModel):
    """A repository's model file, as the App hands it to the engine: its key and its
    (already checked) text. It crosses to the worker processes as those two, 1.5 MB
    copied rather than 4 MB of pickled weights, and is parsed where it is first used,
    once per process (`parsed_team_model`): the process that runs the review itself
    never parses it."""

    def __init__(self, key: str, text: str) -> None:  # no weights until first used
        self.key = key
        self.text = text
        self.shipped = False

    def __getattr__(self, name: str) -> Any:
        if name not in ("dimensions", "category_model", "bits", "lines"):
            raise AttributeError(name)
        parsed = parsed_team_model(self.key, self.text)
        self.dimensions = parsed.dimensions
        self.category_model = parsed.category_model
        self.bits = parsed.bits
        self.lines = parsed.lines
        return getattr(self, name)

    def __reduce__(self) -> str | tuple[Any, ...]:
        return (TeamModel, (self.key, self.text))
