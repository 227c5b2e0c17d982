"""Score the rule engine and the learned layer on the hand labels, cross-validated.

One command, two protocols, every method trained only on the training documents:

- 5-fold cross-validation split by document (fixed seed), test folds pooled;
- leave-one-family-out: train on four corpus families and the synthetic documents,
  test on the fifth; one row per held-out family.

Methods: `rules` (the rules alone; they learn nothing), `category` (the rules, with
the category decided by the learned layer's category model), `rules-dims` (what
`--rules` reviews with: that, plus the learned line model of `checks.learned`,
sentence findings on top of the line rules) and `learned` (the engine as it ships:
the whole learned layer of `checks.learned`, the dimensions too). Whatever is
learned is trained by `localreview.training` on the training folds only. Only
primary labels are used, never a second labeller's; documents the corpus reserves
are refused by the label loader.

Measures (a *gap* is a `weak` or `missing` label, a *flag* a `weak` or `missing`
status): gap precision and recall, the share of `present` labels called `missing`,
exact three-way agreement, macro-averaged per-dimension F1 of the gap class, category
accuracy, anti-pattern recall (an occurrence is found by a line finding of its kind
within one line), the share of near-misses flagged the same way, and line findings
per document (on the test documents, and on those labelled with no anti-pattern at
all; and once on the whole usable corpus, reserved documents refused, with the layer
trained on every label).

    python bench/evaluate.py [--corpus PATH] [--labels DIR] [--folds N] [--seed N]
                             [--methods rules,learned] [--no-corpus-count]
                             [--by-length LINES] [--no-families]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from corpus import usable_markdown
from labelled import Tally
from labelset import FAMILIES, Label, document_file, load_labels

from checks import DIMENSIONS, FindingKind, ReviewOptions, review_document
from checks.report import DocumentReport
from localreview.training import TrainingDocument

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus"
SEED = 20261
FOLDS = 5
LINE_TOLERANCE = 1


@dataclass(frozen=True)
class Example:
    label: Label
    text: str


@dataclass(frozen=True)
class Prediction:
    statuses: dict[str, str]
    category: str
    findings: tuple[tuple[str, int], ...]  # (check, line) of the line findings


Predictor = Callable[[str, str], Prediction]  # (text, path)
# A method: given the training examples, a predictor for the test examples.
Method = Callable[[Sequence[Example]], Predictor]


def _prediction(report: DocumentReport) -> Prediction:
    return Prediction(
        statuses={result.key: result.status.value for result in report.dimensions},
        category=report.category.value,
        findings=tuple(
            (finding.check, finding.line)
            for finding in report.findings
            if finding.kind is FindingKind.LINE
        ),
    )


def rules_method(train: Sequence[Example]) -> Predictor:
    del train  # the rules learn nothing
    options = ReviewOptions(model=None, category_model=None, line_model=None)

    def predict(text: str, path: str) -> Prediction:
        return _prediction(review_document(text, path, options))

    return predict


def category_method(train: Sequence[Example]) -> Predictor:
    """The rules, with the learned category (trained here on the training documents
    only, never the shipped model, which saw every label), and no line model."""
    from checks.learned import CategoryModel
    from localreview.training import train_category_model

    category = CategoryModel.from_json(
        train_category_model([training_document(e) for e in train])
    )
    options = ReviewOptions(model=None, category_model=category, line_model=None)

    def predict(text: str, path: str) -> Prediction:
        return _prediction(review_document(text, path, options))

    return predict


def rules_dims_method(train: Sequence[Example]) -> Predictor:
    """What `--rules` (`model: rules`) reviews with: the rules judge the dimensions,
    with the learned category and the learned line model on top of the line rules
    (both trained here on the training documents only)."""
    from checks.learned import CategoryModel, LineModel
    from localreview.training import train_default_parts

    parts = train_default_parts([training_document(e) for e in train])
    options = ReviewOptions(
        model=None,
        category_model=CategoryModel.from_json(parts),
        line_model=LineModel.from_json(parts["lines"]),
    )

    def predict(text: str, path: str) -> Prediction:
        return _prediction(review_document(text, path, options))

    return predict


def learned_method(train: Sequence[Example]) -> Predictor:
    """The engine as it ships: the whole learned layer (trained here on the training
    documents only, never the shipped model, which saw every label)."""
    from checks.learned import LearnedModel
    from localreview.training import train_model

    model = LearnedModel.from_json(train_model([training_document(e) for e in train]))
    options = ReviewOptions(model=model)

    def predict(text: str, path: str) -> Prediction:
        return _prediction(review_document(text, path, options))

    return predict


def training_document(example: Example) -> TrainingDocument:
    label = example.label
    return TrainingDocument(
        path=label.path,
        text=example.text,
        category=label.category,
        statuses={key: value.status for key, value in label.dimensions.items()},
        lines={key: value.lines for key, value in label.dimensions.items()},
        antipatterns=tuple((a.line, a.kind) for a in label.antipatterns or ()),
    )


METHODS: dict[str, Method] = {
    "rules": rules_method,
    "category": category_method,
    "rules-dims": rules_dims_method,
    "learned": learned_method,
}


@dataclass
class Scores:
    # Gaps against flags, overall and per dimension (as bench/labelled.py counts them).
    gaps: Tally = field(default_factory=Tally)
    per_dimension: dict[str, Tally] = field(
        default_factory=lambda: {key: Tally() for key in DIMENSIONS}
    )
    category_right: int = 0
    # Per labelled category: [documents, called right].
    per_category: dict[str, list[int]] = field(default_factory=dict)
    documents: int = 0
    antipatterns: int = 0
    antipatterns_found: int = 0
    near_misses: int = 0
    near_misses_flagged: int = 0
    line_findings: int = 0
    # Documents labelled with no anti-pattern at all, and the line findings on them.
    clean_documents: int = 0
    clean_findings: int = 0

    def add(self, label: Label, predicted: Prediction) -> None:
        self.documents += 1
        self.category_right += predicted.category == label.category.value
        tally = self.per_category.setdefault(label.category.value, [0, 0])
        tally[0] += 1
        tally[1] += predicted.category == label.category.value
        self.line_findings += len(predicted.findings)
        if label.antipatterns is not None and not label.antipatterns:
            self.clean_documents += 1
            self.clean_findings += len(predicted.findings)
        for key, labelled in label.dimensions.items():
            want, got = labelled.status.value, predicted.statuses[key]
            self.gaps.add(want, got)
            self.per_dimension[key].add(want, got)
        found = set(predicted.findings)

        def flagged(kind: str, line: int) -> bool:
            return any(
                (kind, line + delta) in found
                for delta in range(-LINE_TOLERANCE, LINE_TOLERANCE + 1)
            )

        for occurrence in label.antipatterns or ():
            self.antipatterns += 1
            self.antipatterns_found += flagged(occurrence.kind, occurrence.line)
        for near in label.near_misses or ():
            self.near_misses += 1
            self.near_misses_flagged += flagged(near.kind, near.line)

    def macro_f1(self) -> float:
        values = [tally.gap_f1() for tally in self.per_dimension.values()]
        return sum(values) / len(values)

    def category_macro_recall(self) -> float:
        recalls = [right / total for total, right in self.per_category.values() if total]
        return sum(recalls) / len(recalls) if recalls else 0.0

    def row(self, name: str) -> str:
        return (
            f"{name:22} {_pct(self.gaps.true_pos, self.gaps.true_pos + self.gaps.false_pos)}"
            f" {_pct(self.gaps.true_pos, self.gaps.true_pos + self.gaps.false_neg)}"
            f" {_pct(self.gaps.present_called_missing, self.gaps.present_labels)}"
            f" {_pct(self.gaps.exact, self.gaps.total)}"
            f" {self.macro_f1():6.1%}"
            f" {_pct(self.category_right, self.documents)}"
            f" {self.category_macro_recall():6.1%}"
            f" {_pct(self.antipatterns_found, self.antipatterns)}"
            f" {_pct(self.near_misses_flagged, self.near_misses)}"
            f" {self.line_findings / max(self.documents, 1):6.2f}"
            f" {self.clean_findings / max(self.clean_documents, 1):6.2f}"
            f"  {self.documents:4}"
        )


HEADER = (
    f"{'':22} {'g.prec':>6} {'g.rec':>6} {'P->M':>6} {'exact':>6} {'mF1':>6} {'categ':>6}"
    f" {'cat.mR':>6} {'ap.rec':>6} {'nm.fl':>6} {'lines':>6} {'clean':>6}  docs"
)


def _pct(num: int, den: int) -> str:
    return f"{num / den:6.1%}" if den else "   n/a"


def folds_by_document(examples: Sequence[Example], folds: int, seed: int) -> list[int]:
    """The fold of each example: documents shuffled with a fixed seed, dealt in turn."""
    order = sorted(range(len(examples)), key=lambda i: examples[i].label.path)
    random.Random(seed).shuffle(order)
    assigned = [0] * len(examples)
    for position, index in enumerate(order):
        assigned[index] = position % folds
    return assigned


def evaluate(
    method: Method,
    examples: Sequence[Example],
    splits: Sequence[Sequence[bool]],
    groups: dict[str, Scores] | None = None,
    group_of: Callable[[Example], str] | None = None,
) -> Scores:
    """Scores pooled over the splits; each split marks the test examples. With
    `groups` and `group_of`, each test example is also scored in its group's Scores."""
    scores = Scores()
    for is_test in splits:
        train = [e for e, test in zip(examples, is_test, strict=True) if not test]
        predict = method(train)
        for example, test in zip(examples, is_test, strict=True):
            if test:
                predicted = predict(example.text, example.label.path)
                scores.add(example.label, predicted)
                if groups is not None and group_of is not None:
                    groups.setdefault(group_of(example), Scores()).add(example.label, predicted)
    return scores


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of lines, not {value}")
    return number


def length_group(lines: int) -> Callable[[Example], str]:
    """The group of a document by its length: shorter than `lines` lines, or not."""

    def group_of(example: Example) -> str:
        count = len(example.text.splitlines())
        return f"< {lines} lines" if count < lines else f">= {lines} lines"

    return group_of


def corpus_line_findings(method: Method, examples: Sequence[Example], corpus: Path) -> str:
    predict = method(examples)
    documents = findings = 0
    for path in usable_markdown(corpus):
        relative = path.relative_to(corpus).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        findings += len(predict(text, relative).findings)
        documents += 1
    return f"{findings / max(documents, 1):.2f} per document over {documents} documents"


def load_examples(labels_dir: Path, corpus: Path) -> list[Example]:
    labels, errors = load_labels(labels_dir, corpus)
    if errors:
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2)
    primaries = [label for label in labels if not label.second]
    return [
        Example(label, document_file(label.path, corpus).read_text(encoding="utf-8"))
        for label in primaries
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--labels", type=Path, default=HERE / "labels")
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument(
        "--no-corpus-count", action="store_true", help="skip line findings on the whole corpus"
    )
    parser.add_argument(
        "--by-length",
        type=_positive,
        metavar="LINES",
        help="also score the cross-validated documents shorter than LINES lines apart",
    )
    parser.add_argument(
        "--no-families", action="store_true", help="skip leave-one-family-out"
    )
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"skipped: corpus not found at {args.corpus} (it lives beside the checkout)")
        return 0
    unknown = [name for name in args.methods.split(",") if name not in METHODS]
    if unknown:
        parser.error(f"unknown method {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    methods = {name: METHODS[name] for name in args.methods.split(",")}
    examples = load_examples(args.labels, args.corpus)
    families = sorted({e.label.family for e in examples})
    print(
        f"{len(examples)} labelled documents (primary labels), families: "
        + ", ".join(f"{f} {sum(e.label.family == f for e in examples)}" for f in families)
    )
    print(
        "g.prec/g.rec: gap precision/recall; P->M: present called missing; exact: three-way "
        "agreement; mF1: macro F1 of the gap class over dimensions; categ: category "
        "accuracy; cat.mR: category recall averaged over the labelled categories; "
        "ap.rec: anti-pattern recall (kind, line ±1); nm.fl: near-misses "
        "flagged; lines: line findings per document; clean: line findings per document "
        "labelled with no anti-pattern"
    )
    fold_of = folds_by_document(examples, args.folds, args.seed)
    cross = [[fold == k for fold in fold_of] for k in range(args.folds)]
    print(f"\n{args.folds}-fold cross-validation by document (seed {args.seed}), pooled")
    print(HEADER)
    by_length: dict[str, dict[str, Scores]] = {}
    for name, method in methods.items():
        groups = by_length.setdefault(name, {})
        group_of = length_group(args.by_length) if args.by_length else None
        print(evaluate(method, examples, cross, groups, group_of).row(name))
    if args.by_length:
        print(f"\nthe same, by document length ({args.by_length} lines)")
        print(HEADER)
        for name, groups in by_length.items():
            for group, scores in sorted(groups.items()):
                print(scores.row(f"{name} {group}"))
    if not args.no_families:
        print("\nleave-one-family-out (train: the other families + synthetic)")
        print(HEADER)
        pooled = {name: Scores() for name in methods}
        for family in FAMILIES:
            split = [[e.label.family == family for e in examples]]
            for name, method in methods.items():
                scores = evaluate(method, examples, split)
                print(scores.row(f"{family[:13]} {name}"))
                _merge(pooled[name], scores)
        for name in methods:
            print(pooled[name].row(f"all families {name}"))
    if not args.no_corpus_count:
        print("\nline findings on the whole usable corpus (learned: trained on every label)")
        for name, method in methods.items():
            print(f"{name:22} {corpus_line_findings(method, examples, args.corpus)}")
    return 0


def _merge(into: Scores, scores: Scores) -> None:
    into.gaps.merge(scores.gaps)
    for key, dimension in scores.per_dimension.items():
        into.per_dimension[key].merge(dimension)
    for name in (
        "category_right", "documents", "antipatterns",
        "antipatterns_found", "near_misses", "near_misses_flagged", "line_findings",
        "clean_documents", "clean_findings",
    ):
        setattr(into, name, getattr(into, name) + getattr(scores, name))
    for name, (total, right) in scores.per_category.items():
        tally = into.per_category.setdefault(name, [0, 0])
        tally[0] += total
        tally[1] += right


if __name__ == "__main__":
    sys.exit(main())
