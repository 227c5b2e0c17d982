"""Score the engine against the hand-labelled development set in bench/labels/.

Each label file names a corpus document (relative to ../shared/corpus) and a
human status for each of the nine dimensions. A *gap* is a `weak` or `missing`
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
from typing import Any

import yaml
from corpus import ReservedDocument, refuse_reserved

from checks import DIMENSIONS, review_document

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus"


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

    @staticmethod
    def _ratio(num: int, den: int) -> str:
        return f"{num / den:6.1%}" if den else "   n/a"

    def row(self, name: str) -> str:
        precision = self._ratio(self.true_pos, self.true_pos + self.false_pos)
        recall = self._ratio(self.true_pos, self.true_pos + self.false_neg)
        missing = self._ratio(self.present_called_missing, self.present_labels)
        exact = self._ratio(self.exact, self.total)
        return f"{name:14} {precision}  {recall}  {missing}  {exact}   n={self.total}"


def load_labels(labels_dir: Path) -> list[dict[str, Any]]:
    labels = []
    for path in sorted(labels_dir.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "path" in data and "dimensions" in data:
            labels.append(data)
    return labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--labels", type=Path, default=HERE / "labels")
    parser.add_argument("--verbose", action="store_true", help="list every disagreement")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"skipped: corpus not found at {args.corpus} (it lives beside the checkout)")
        return 0
    labels = load_labels(args.labels)
    per_dim = {key: Tally() for key in DIMENSIONS}
    overall = Tally()
    categories = {"agree": 0, "total": 0}
    for label in labels:
        try:
            refuse_reserved(args.corpus, label["path"])
        except ReservedDocument as refused:  # a label on one is a mistake to fix
            print(f"error: {refused}", file=sys.stderr)
            return 2
        doc_path = args.corpus / label["path"]
        report = review_document(doc_path.read_text(encoding="utf-8"), label["path"])
        categories["total"] += 1
        categories["agree"] += report.category.value == label.get("category")
        for key in DIMENSIONS:
            if key not in label["dimensions"]:  # a dimension newer than this label
                continue
            want = label["dimensions"][key]["status"]
            got = report.dimension(key).status.value
            per_dim[key].add(want, got)
            overall.add(want, got)
            if args.verbose and want != got:
                result = report.dimension(key)
                print(
                    f"{label['path']}: {key}: label {want} "
                    f"(line {label['dimensions'][key].get('line')}) vs engine {got} "
                    f"(line {result.line}; {result.note})"
                )
    print(f"{len(labels)} labelled documents, {overall.total} dimension labels")
    print(f"{'dimension':14} {'prec.':>6}  {'recall':>6}  {'P->M':>6}  {'exact':>6}")
    for key in DIMENSIONS:
        print(per_dim[key].row(key))
    print(overall.row("overall"))
    print(f"category agreement: {categories['agree']}/{categories['total']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
