"""Reading a learned-layer model file for the command line (`--model FILE`, `--learned`)."""

from __future__ import annotations

import json
from pathlib import Path

from checks.learned import LearnedModel, shipped_model

SHIPPED_MODEL = ":shipped:"  # the model that ships in the package (`--learned`)


class ModelFileError(ValueError):
    """A model file that cannot be read or is not a model of this version."""


def load_model(path: str) -> LearnedModel:
    if path == SHIPPED_MODEL:
        return shipped_model()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return LearnedModel.from_json(data)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise ModelFileError(f"{path}: not a usable model file: {error}") from None
