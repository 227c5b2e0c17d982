"""fastText's supervised mode against the scikit-learn layer that ships, on the same labels.

    pip install fasttext-wheel        # not a dependency of the project
    python bench/fasttext_compare.py [--corpus PATH] [--labels DIR] [--epochs N]

The same protocols as `bench/evaluate.py` (5-fold cross-validation by document
with its seed, then leave-one-family-out, pooled), the same scores, and the same
label loader (which refuses the documents the corpus reserves). Methods:

- `category`: the rules with the learned category (the engine as it ships, but for
  its line model), trained here;
- `learned`: the whole scikit-learn layer (`checks.learned`), trained here;
- `fasttext`: one fastText classifier (word uni- and bigrams, one thread, so the
  run repeats exactly) for the category and one per dimension for its status
  (present / weak / missing), each trained on the documents' whole text. Line
  findings are the rules', so only the dimension and category columns compare.

fastText learns document labels from the document's words: it has no notion of
which line is the evidence, so it cannot say which line a status rests on, and
its model needs its C++ runtime to score. Those are the reasons the shipped layer
is scikit-learn's, scored in pure Python; this script measures what that costs or
gains in agreement.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evaluate import (
    DEFAULT_CORPUS,
    FOLDS,
    HEADER,
    HERE,
    SEED,
    Example,
    Method,
    Prediction,
    Predictor,
    Scores,
    _merge,
    category_method,
    evaluate,
    folds_by_document,
    learned_method,
    load_examples,
    rules_method,
)
from labelset import FAMILIES

from checks import DIMENSIONS

HEADER_NOTE = "only g.prec to cat.mR compare (line findings are the rules')"
_TOKEN = re.compile(r"[a-z0-9]+")
MAX_WORDS = 4000  # the longest documents' tails say little about their kind


def _words(text: str) -> str:
    return " ".join(_TOKEN.findall(text.lower())[:MAX_WORDS])


def fasttext_method(epochs: int) -> Method:
    # Imported by name: an optional package, without type information.
    fasttext = importlib.import_module("fasttext")

    def fit(rows: Sequence[tuple[str, str]]) -> Any:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as data:
            for label, words in rows:
                data.write(f"__label__{label} {words}\n")
            data.flush()
            return fasttext.train_supervised(
                input=data.name,
                epoch=epochs,
                lr=0.5,
                wordNgrams=2,
                dim=50,
                minCount=1,
                # fastText's default of 2 million n-gram buckets takes 400 MB per model.
                bucket=200_000,
                thread=1,
                verbose=0,
            )

    def method(train: Sequence[Example]) -> Predictor:
        words = [_words(example.text) for example in train]
        category = fit([(e.label.category.value, w) for e, w in zip(train, words, strict=True)])
        statuses = {
            key: fit(
                [
                    (e.label.dimensions[key].status.value, w)
                    for e, w in zip(train, words, strict=True)
                    if key in e.label.dimensions
                ]
            )
            for key in DIMENSIONS
        }
        rules = rules_method(train)

        def predict(text: str, path: str) -> Prediction:
            document = _words(text)
            by_rules = rules(text, path)

            def label_of(model: Any) -> str:
                # The binding's own call: fasttext-wheel's `predict` wrapper breaks on NumPy 2.
                ((_, label),) = model.f.predict(document, 1, 0.0, "strict")
                return str(label).removeprefix("__label__")

            return Prediction(
                statuses={key: label_of(model) for key, model in statuses.items()},
                category=label_of(category),
                findings=by_rules.findings,
            )

        return predict

    return method


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--labels", type=Path, default=HERE / "labels")
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"skipped: corpus not found at {args.corpus} (it lives beside the checkout)")
        return 0
    if importlib.util.find_spec("fasttext") is None:
        print("skipped: fastText is not installed (pip install fasttext-wheel)")
        return 0
    methods: dict[str, Method] = {
        "category": category_method,
        "learned": learned_method,
        "fasttext": fasttext_method(args.epochs),
    }
    examples = load_examples(args.labels, args.corpus)
    print(f"{len(examples)} labelled documents (primary labels); {HEADER_NOTE}")
    fold_of = folds_by_document(examples, FOLDS, SEED)
    cross = [[fold == k for fold in fold_of] for k in range(FOLDS)]
    print(f"\n{FOLDS}-fold cross-validation by document (seed {SEED}), pooled")
    print(HEADER)
    for name, method in methods.items():
        print(evaluate(method, examples, cross).row(name))
    print("\nleave-one-family-out (train: the other families + synthetic), pooled")
    print(HEADER)
    for name, method in methods.items():
        pooled = Scores()
        for family in FAMILIES:
            split = [[e.label.family == family for e in examples]]
            _merge(pooled, evaluate(method, examples, split))
        print(pooled.row(f"all families {name}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
