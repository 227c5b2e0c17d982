"""Fuzz the config file and the front matter: any bytes in, never an exception out.

    pip install atheris
    python fuzz/fuzz_config.py -runs=20000           # or -max_total_time=60
    python fuzz/fuzz_config.py CORPUS_DIR            # keep what it finds

`test_one_input` is plain Python (the test suite calls it without atheris): it reads
the bytes as a config file and as a document's front matter, builds Settings, and
matches paths with them. Any exception it lets through is a bug.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from checks import review_document
from checks.config import Settings
from checks.configfile import parse_config, parse_settings, settings_from_layers
from checks.discovery import decide_by_path

PATHS = ("docs/rfcs/0001-a.md", "docs/[z-a]/x.md", "README.md", "a/b/c/d/e/f.md", "")


def _exercise(settings: Settings) -> None:
    for path in PATHS:
        decide_by_path(path, settings)
        settings.options_for(path)
    settings.provenance()
    for error in settings.errors:
        str(error)


def test_one_input(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    settings = parse_settings(text, source="fuzz.yml")
    _exercise(settings)
    # As two layers (the organisation's file under the repository's), so that
    # merging meets whatever the parser let through.
    layer = parse_config(text, source="org.yml")
    own = parse_config(text[::-1], source="repo.yml")
    _exercise(settings_from_layers([("organisation", layer), ("repository", own)]))
    report = review_document(f"---\n{text}\n---\n# Title\n\nSome text.\n", "docs/rfcs/x.md")
    for note in report.notes:
        str(note)


def main() -> None:
    # Only needed to fuzz; the test suite calls test_one_input directly.
    atheris: Any = importlib.import_module("atheris")
    # The engine and config modules are already imported above: instrument them in place.
    atheris.instrument_all()
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
