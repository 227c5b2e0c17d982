"""The learned category is the engine's default judge of the category the text gives;
the shipped model travels between processes as a reference, not as its weights."""

from __future__ import annotations

import json
import pickle
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

import localreview.budget  # noqa: F401  registers the pool's pickling of read-only mappings
from checks import Category, ReviewOptions, review_document
from checks.document import parse
from checks.learned import CategoryModel, shipped_category_model, shipped_model
from checks.options import DEFAULT_OPTIONS

SHIPPED = Path(__file__).resolve().parents[2] / "checks" / "model.json"

# A language proposal whose "control flow" reads to the rules' phrase signals as
# neither platform nor anything else, so they fall back to product.
LANGUAGE_PROPOSAL = """# Proposal: labelled continue in select statements

## Background

Control flow inside a `select` is awkward: a `continue` applies to the loop, and
programmers add flags to control which loop continues. Such controls spread
through the function and hide the control flow.

## Proposal

Allow a label on `continue` inside `select`, as in a `for` loop. The compiler
checks the label; the spec gains one sentence.

## Compatibility

Existing programs keep compiling.
"""


def test_by_default_the_learned_category_decides_what_the_text_gives() -> None:
    shipped = review_document(LANGUAGE_PROPOSAL, "x.md")
    rules_alone = review_document(
        LANGUAGE_PROPOSAL, "x.md", ReviewOptions(model=None, category_model=None)
    )
    assert shipped.category is Category.PLATFORM
    assert rules_alone.category is Category.PRODUCT
    assert shipped.category_source == rules_alone.category_source == "text"


def test_the_category_the_front_matter_or_config_gives_is_kept() -> None:
    text = "---\ncategory: research\n---\n" + LANGUAGE_PROPOSAL
    assert review_document(text, "x.md").category is Category.RESEARCH
    configured = review_document(
        LANGUAGE_PROPOSAL, "x.md", ReviewOptions(category=Category.STABILIZATION)
    )
    assert configured.category is Category.STABILIZATION


def test_the_whole_learned_layer_brings_its_own_category_model() -> None:
    options = ReviewOptions(model=shipped_model(), category_model=None)
    assert review_document(LANGUAGE_PROPOSAL, "x.md", options).category is Category.PLATFORM


def test_the_shipped_models_pickle_as_references() -> None:
    for model in (shipped_category_model(), shipped_model()):
        data = pickle.dumps(model)
        assert len(data) < 200
        assert pickle.loads(data) is model
    # The default options go to a worker process with every document, through the
    # pickler of the process pool (which knows the options' read-only mappings).
    assert len(ForkingPickler.dumps(DEFAULT_OPTIONS)) < 2_000


def test_a_model_read_from_a_file_pickles_its_weights_and_judges_the_same() -> None:
    model = CategoryModel.from_json(json.loads(SHIPPED.read_text(encoding="utf-8")))
    copy = pickle.loads(pickle.dumps(model))
    assert copy is not model and not copy.shipped
    doc = parse(LANGUAGE_PROPOSAL, "x.md")
    for guess in Category:
        assert copy.category(doc, guess) is model.category(doc, guess)
