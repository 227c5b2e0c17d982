"""Score the engine against the hand-labelled development set in bench/labels/.

Each label file names a document (relative to ../shared/corpus, or a synthetic
one in bench/synthetic) and a human status for each of the nine dimensions;
bench/labelset.py reads and validates them (bench/LABELLING.md has the formats).
Only primary labels are scored, not a second labeller's. A *gap* is a `weak` or `missing`
label; a *flag* is a `weak` or `missing` engine status. Prints, per dimension
and overall, precision and recall of flags against gaps, and the share of
dimensions labelled `present` that the engine calls `missing`.

    python bench/labelled.py [--corpus PATH] [--verbose]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from labelset import document_file, load_labels

from checks import DIMENSIONS, ReviewOptions, review_document

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus"
# The shipped category model was trained on these very labels: scoring it here would
# be scoring it on its training set. bench/evaluate.py measures it on held-out folds.
RULES_ALONE = ReviewOptions(model=None, category_model=None, line_model=None)


@dataclass
class Tally:
    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0
    present_labels: int = 0
    present_called_missing: int = 0
    exact: int = 0
    total: int = 0

    def add(self, label: str, status: str) -> None:
        gap, flag = label != "present", status != "present"
        self.total += 1
        self.exact += label == status
        if gap and flag:
            self.true_pos += 1
        elif flag:
            self.false_pos += 1
        elif gap:
            self.false_neg += 1
        if label == "present":
            self.present_labels += 1
            self.present_called_missing += status == "missing"

    def merge(self, other: Tally) -> None:
        """Add `other`'s counts to these."""
        for name in (
            "true_pos", "false_pos", "false_neg", "present_labels",
            "present_called_missing", "exact", "total",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def gap_f1(self) -> float:
        counted = 2 * self.true_pos + self.false_pos + self.false_neg
        return 2 * self.true_pos / counted if counted else 0.0

    @staticmethod
    def _ratio(num: int, den: int) -> str:
        return f"{num / den:6.1%}" if den else "   n/a"

    def row(self, name: str) -> str:
        precision = self._ratio(self.true_pos, self.true_pos + self.false_pos)
        recall = self._ratio(self.true_pos, self.true_pos + self.false_neg)
        missing = self._ratio(self.present_called_missing, self.present_labels)
        exact = self._ratio(self.exact, self.total)
        return f"{name:14} {precision}  {recall}  {missing}  {exact}   n={self.total}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--labels", type=Path, default=HERE / "labels")
    parser.add_argument("--verbose", action="store_true", help="list every disagreement")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"skipped: corpus not found at {args.corpus} (it lives beside the checkout)")
        return 0
    labels, errors = load_labels(args.labels, args.corpus)
    if errors:  # a label on a reserved document, or a malformed one: a mistake to fix
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        return 2
    labels = [label for label in labels if not label.second]
    per_dim = {key: Tally() for key in DIMENSIONS}
    overall = Tally()
    categories = {"agree": 0, "total": 0}
    for label in labels:
        doc_path = document_file(label.path, args.corpus)
        report = review_document(doc_path.read_text(encoding="utf-8"), label.path, RULES_ALONE)
        categories["total"] += 1
        categories["agree"] += report.category == label.category
        for key, labelled in label.dimensions.items():  # may lack dimensions added later
            want = labelled.status.value
            got = report.dimension(key).status.value
            per_dim[key].add(want, got)
            overall.add(want, got)
            if args.verbose and want != got:
                result = report.dimension(key)
                print(
                    f"{label.path}: {key}: label {want} "
                    f"(line {labelled.first_line}) vs engine {got} "
                    f"(line {result.line}; {result.note})"
                )
    print(f"{len(labels)} labelled documents, {overall.total} dimension labels")
    print(f"{'dimension':14} {'prec.':>6}  {'recall':>6}  {'P->M':>6}  {'exact':>6}")
    for key in DIMENSIONS:
        print(per_dim[key].row(key))
    print(overall.row("overall"))
    print(
        f"category agreement (the rules' signals alone): "
        f"{categories['agree']}/{categories['total']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
