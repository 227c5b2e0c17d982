"""bench/semantic_compare.py: what the decision reads of a semantic block scorer, and when
the comparison is skipped. The documents are written here; the corpus is never read.
"""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

from checks.document import parse
from checks.learned import document_view

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:  # bench scripts import their siblings by bare name
    sys.path.insert(0, str(BENCH))
semantic_compare: ModuleType = importlib.import_module("semantic_compare")

DOCUMENT = """# Shard the queue

## Problem

Users lose data when the disk fills.

## Alternatives

TBD

## Notes

We could also shard.
"""


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_block_inputs_leave_out_hollow_sections_and_split_by_heading() -> None:
    view = document_view(parse(DOCUMENT))
    assert [b.text for b in view.blocks] == [
        "Users lose data when the disk fills.",
        "TBD",
        "We could also shard.",
    ]
    # The hollow Alternatives section's block scores highest, and is never evidence.
    inputs = semantic_compare._block_inputs(view, [1.0, 5.0, 2.0], "problem")
    assert inputs == pytest.approx([2.0, 1.5, 1.0, 2.0, math.log1p(_sigmoid(2.0) + _sigmoid(1.0))])
    # With no block under its own heading, the dimension's heading score is the floor.
    assert semantic_compare._block_inputs(view, [1.0, 5.0, 2.0], "risks")[2] == -8.0


def test_block_inputs_of_a_document_without_prose() -> None:
    view = document_view(parse("# Only a title\n"))
    assert semantic_compare._block_inputs(view, [], "problem") == [-8.0, -8.0, -8.0, -8.0, 0.0]


def test_skipped_without_the_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert semantic_compare.main(["--corpus", str(tmp_path / "absent")]) == 0
    assert capsys.readouterr().out.startswith("skipped: corpus not found")


def test_skipped_without_the_embedder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(semantic_compare.EMBEDDER_MODULES, "wordllama", "no_such_module_here")
    assert semantic_compare.main(["--corpus", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("skipped: wordllama is not installed")


def test_an_unknown_embedder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        semantic_compare.main(["--corpus", str(tmp_path), "--embedders", "word2vec"])
    assert exit_info.value.code == 2
