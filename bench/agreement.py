"""Agreement between the two labels of the double-labelled documents.

Agreement is measured before adjudication: the primary labels as their first
labellers wrote them are frozen once in labels/first-pass.tsv, and the report always
compares that first pass with the second labels (<stem>.<letter>.yaml), however the
primary files have been settled since.

    python bench/agreement.py --snapshot [--corpus PATH] [--labels DIR]  freeze the first pass
                                                   of the documents not frozen yet
    python bench/agreement.py [--json] [--second NAMES] [--corpus PATH] [--labels DIR]
                                                   print the agreement (of those seconds)

Per dimension: exact agreement on the three-way status, agreement on "gap" (weak or
missing) against present, Cohen's kappa on the three-way status, and the F1 of the gap
class (macro-averaged over the nine too, as evaluate.py scores the engine). Then category
agreement, and anti-pattern agreement: an occurrence of the second label matches one
of the first pass of the same kind within a line either side (precision and recall of
the second label against the first pass).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from corpus import ReservedDocument, refuse_reserved
from labelset import DEFAULT_CORPUS, DEFAULT_LABELS, SYNTHETIC, Label, LabelError, load_labels

from checks import DIMENSIONS, LINE_CHECKS, Category, Status

SNAPSHOT_FILE = "first-pass.tsv"
SNAPSHOT_COLUMNS = ("path", "labeller", "field", "value")
CATEGORY_FIELD = "category"
ANTIPATTERNS_FIELD = "antipatterns"
LINE_TOLERANCE = 1  # anti-pattern occurrences match within this many lines
GAP = frozenset({Status.WEAK, Status.MISSING})

Occurrence = tuple[int, str]  # (line, kind)


class SnapshotError(ValueError):
    """The first-pass snapshot is missing, unreadable or names a reserved document."""


@dataclass(frozen=True)
class FirstPass:
    """What a primary label said before adjudication."""

    path: str
    labeller: str
    category: Category
    statuses: Mapping[str, Status]
    antipatterns: tuple[Occurrence, ...]


# --- measures ---------------------------------------------------------------------------


def exact_agreement(pairs: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Share of pairs whose two values are equal (None without pairs)."""
    if not pairs:
        return None
    return sum(first == second for first, second in pairs) / len(pairs)


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's kappa of two raters, one pair of ratings per item. None without pairs,
    and when chance agreement is already certain (both raters used one single value),
    where kappa is undefined."""
    if not pairs:
        return None
    total = len(pairs)
    observed = sum(first == second for first, second in pairs) / total
    firsts = Counter(first for first, _ in pairs)
    seconds = Counter(second for _, second in pairs)
    expected = sum(firsts[value] * seconds[value] for value in firsts) / (total * total)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def is_gap(status: Status) -> bool:
    return status in GAP


def matched_occurrences(
    primary: Sequence[Occurrence], second: Sequence[Occurrence], tolerance: int = LINE_TOLERANCE
) -> int:
    """Largest number of one-to-one matches between two occurrence lists, a match being
    the same kind within `tolerance` lines (augmenting paths: greedy nearest-first can
    miss a match when windows overlap)."""
    candidates = [
        [
            index
            for index, (line, kind) in enumerate(primary)
            if kind == second_kind and abs(line - second_line) <= tolerance
        ]
        for second_line, second_kind in second
    ]
    owner: dict[int, int] = {}  # primary index -> second index

    def assign(second_index: int, visited: set[int]) -> bool:
        for primary_index in candidates[second_index]:
            if primary_index in visited:
                continue
            visited.add(primary_index)
            current = owner.get(primary_index)
            if current is None or assign(current, visited):
                owner[primary_index] = second_index
                return True
        return False

    return sum(assign(second_index, set()) for second_index in range(len(second)))


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def gap_f1(pairs: Sequence[tuple[Status, Status]]) -> float | None:
    """F1 of the gap class between two raters: 2·both / (gaps of one + gaps of the
    other). None when neither rater saw a gap."""
    both = sum(is_gap(first) and is_gap(second) for first, second in pairs)
    either = sum(is_gap(first) for first, _ in pairs) + sum(is_gap(second) for _, second in pairs)
    return ratio(2 * both, either)


# --- the report -------------------------------------------------------------------------


@dataclass(frozen=True)
class DimensionAgreement:
    dimension: str
    documents: int
    differing: int  # documents whose three-way status differs
    exact: float | None
    gap: float | None
    kappa: float | None
    # F1 of the gap class, one label read as the other's prediction (symmetric), so
    # that two labellers sit on the scale evaluate.py scores the engine on.
    gap_f1: float | None


@dataclass(frozen=True)
class CategoryAgreement:
    documents: int
    differing: int
    exact: float | None
    kappa: float | None


@dataclass(frozen=True)
class AntipatternAgreement:
    kind: str  # a LINE_CHECKS id, or "all"
    primary: int  # occurrences in the first pass
    second: int  # occurrences in the second labels
    matched: int
    precision: float | None  # matched / second
    recall: float | None  # matched / primary
    documents_differing: int  # documents whose lists of this kind do not match fully


@dataclass(frozen=True)
class AgreementReport:
    pairs: int  # (first pass, second label) pairs compared
    dimensions: tuple[DimensionAgreement, ...]  # the nine, then "all" pooled
    macro_gap_f1: float | None  # the mean of the nine dimensions' gap F1 (those defined)
    category: CategoryAgreement
    antipatterns: tuple[AntipatternAgreement, ...]  # per kind, then "all"


def _dimension_agreement(name: str, pairs: Sequence[tuple[Status, Status]]) -> DimensionAgreement:
    return DimensionAgreement(
        dimension=name,
        documents=len(pairs),
        differing=sum(first != second for first, second in pairs),
        exact=exact_agreement(pairs),
        gap=exact_agreement([(is_gap(first), is_gap(second)) for first, second in pairs]),
        kappa=cohen_kappa(pairs),
        gap_f1=gap_f1(pairs),
    )


def _occurrences(label: Label) -> tuple[Occurrence, ...]:
    return tuple((item.line, item.kind) for item in label.antipatterns or ())


def _antipattern_agreement(
    kind: str, compared: Sequence[tuple[FirstPass, Label]]
) -> AntipatternAgreement:
    primary_count = second_count = matched = differing = 0
    for first, second in compared:
        primary = [item for item in first.antipatterns if kind in ("all", item[1])]
        other = [item for item in _occurrences(second) if kind in ("all", item[1])]
        found = matched_occurrences(primary, other)
        primary_count += len(primary)
        second_count += len(other)
        matched += found
        differing += found != len(primary) or found != len(other)
    return AntipatternAgreement(
        kind=kind,
        primary=primary_count,
        second=second_count,
        matched=matched,
        precision=ratio(matched, second_count),
        recall=ratio(matched, primary_count),
        documents_differing=differing,
    )


def compare(first_pass: Mapping[str, FirstPass], seconds: Iterable[Label]) -> AgreementReport:
    """Agreement of every second label with the first pass of its document."""
    compared = [(first_pass[label.path], label) for label in seconds if label.path in first_pass]
    per_dimension = []
    pooled: list[tuple[Status, Status]] = []
    for dimension in DIMENSIONS:
        pairs = [
            (first.statuses[dimension], second.dimensions[dimension].status)
            for first, second in compared
            if dimension in first.statuses and dimension in second.dimensions
        ]
        pooled += pairs
        per_dimension.append(_dimension_agreement(dimension, pairs))
    defined = [row.gap_f1 for row in per_dimension if row.gap_f1 is not None]
    macro_gap_f1 = sum(defined) / len(defined) if defined else None
    per_dimension.append(_dimension_agreement("all", pooled))
    categories = [(first.category, second.category) for first, second in compared]
    category = CategoryAgreement(
        documents=len(categories),
        differing=sum(first != second for first, second in categories),
        exact=exact_agreement(categories),
        kappa=cohen_kappa(categories),
    )
    # Format 1 second labels carry no anti-patterns: they take no part in that measure.
    with_lines = [(first, second) for first, second in compared if second.antipatterns is not None]
    antipatterns = tuple(_antipattern_agreement(kind, with_lines) for kind in (*LINE_CHECKS, "all"))
    return AgreementReport(
        len(compared), tuple(per_dimension), macro_gap_f1, category, antipatterns
    )


# --- the first-pass snapshot ------------------------------------------------------------


def _format_occurrences(occurrences: Iterable[Occurrence]) -> str:
    return ",".join(f"{line}:{kind}" for line, kind in sorted(occurrences))


def _parse_occurrences(text: str) -> tuple[Occurrence, ...]:
    found = []
    for item in filter(None, text.split(",")):
        line, _, kind = item.partition(":")
        found.append((int(line), kind))
    return tuple(found)


def double_labelled(labels: Iterable[Label]) -> tuple[list[Label], list[Label]]:
    """The primary labels that have a second label, and those second labels."""
    labels = list(labels)
    seconds = sorted((label for label in labels if label.second), key=lambda label: label.path)
    twice = {label.path for label in seconds}
    primaries = sorted(
        (label for label in labels if not label.second and label.path in twice),
        key=lambda label: label.path,
    )
    return primaries, seconds


def write_snapshot(primaries: Iterable[Label], target: Path) -> int:
    """Freeze the statuses, category and anti-patterns of `primaries`, appended to
    `target` (created with its header); rows written."""
    rows = 0
    existing = target.read_text(encoding="utf-8") if target.exists() else ""
    with target.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        if not existing:
            writer.writerow(SNAPSHOT_COLUMNS)
        elif not existing.endswith("\n"):
            handle.write("\n")  # never glue the first new row onto the last one
        for label in primaries:
            labeller = label.labeller or ""
            writer.writerow([label.path, labeller, CATEGORY_FIELD, label.category.value])
            for dimension, entry in label.dimensions.items():
                writer.writerow([label.path, labeller, dimension, entry.status.value])
            occurrences = _format_occurrences(_occurrences(label))
            writer.writerow([label.path, labeller, ANTIPATTERNS_FIELD, occurrences])
            rows += len(label.dimensions) + 2
    return rows


def read_snapshot(source: Path, corpus: Path) -> dict[str, FirstPass]:
    """The first pass by document path; a reserved document in it is refused."""
    if not source.is_file():
        raise SnapshotError(f"{source} not found: run with --snapshot before adjudicating")
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    fields: dict[str, dict[str, str]] = {}
    labellers: dict[str, str] = {}
    for row in rows:
        path = row["path"]
        if not path.startswith(SYNTHETIC + "/"):
            try:
                refuse_reserved(corpus, path)
            except ReservedDocument as refused:
                raise SnapshotError(f"{source}: refused: {refused}") from None
        labellers[path] = row["labeller"]
        fields.setdefault(path, {})[row["field"]] = row["value"] or ""
    first_pass = {}
    for path, values in fields.items():
        try:
            first_pass[path] = FirstPass(
                path=path,
                labeller=labellers[path],
                category=Category(values[CATEGORY_FIELD]),
                statuses={
                    dimension: Status(values[dimension])
                    for dimension in DIMENSIONS
                    if dimension in values
                },
                antipatterns=_parse_occurrences(values.get(ANTIPATTERNS_FIELD, "")),
            )
        except (KeyError, ValueError) as error:
            raise SnapshotError(f"{source}: {path}: unreadable row ({error})") from None
    return first_pass


# --- command line -----------------------------------------------------------------------


def _cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def format_table(report: AgreementReport) -> str:
    lines = [
        f"{report.pairs} documents labelled twice, first pass vs second label",
        "",
        f"{'dimension':<14}{'docs':>5}{'differ':>8}{'exact':>8}{'gap':>8}{'kappa':>8}{'gap F1':>8}",
    ]
    for dimension in report.dimensions:
        if dimension.dimension == "all":
            lines.append("-" * 59)
        lines.append(
            f"{dimension.dimension:<14}{dimension.documents:>5}{dimension.differing:>8}"
            f"{_cell(dimension.exact):>8}{_cell(dimension.gap):>8}{_cell(dimension.kappa):>8}"
            f"{_cell(dimension.gap_f1):>8}"
        )
    category = report.category
    lines += [
        f"macro F1 of the gap class over the nine dimensions: {_cell(report.macro_gap_f1)}",
        "",
        f"category: {category.documents} documents, {category.differing} differ, "
        f"exact {_cell(category.exact)}, kappa {_cell(category.kappa)}",
        "",
        f"anti-patterns (same kind, line ±{LINE_TOLERANCE}; second label vs first pass)",
        f"{'kind':<22}{'first':>6}{'second':>8}{'matched':>9}{'precision':>11}{'recall':>8}"
        f"{'docs differ':>13}",
    ]
    for row in report.antipatterns:
        if row.kind == "all":
            lines.append("-" * 77)
        lines.append(
            f"{row.kind:<22}{row.primary:>6}{row.second:>8}{row.matched:>9}"
            f"{_cell(row.precision):>11}{_cell(row.recall):>8}{row.documents_differing:>13}"
        )
    return "\n".join(lines)


def _load(labels_dir: Path, corpus: Path) -> tuple[list[Label], list[LabelError]]:
    labels, errors = load_labels(labels_dir, corpus)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    return labels, errors


def snapshot(labels_dir: Path, corpus: Path) -> int:
    """Freeze the first pass of every double-labelled document not frozen yet; a frozen
    row is never rewritten, so adjudication after it cannot change the report."""
    target = labels_dir / SNAPSHOT_FILE
    try:
        frozen = set(read_snapshot(target, corpus)) if target.exists() else set()
    except SnapshotError as error:
        print(f"refused: {error}", file=sys.stderr)
        return 1
    labels, errors = _load(labels_dir, corpus)
    if errors:
        print("refused: fix the label files above before freezing the first pass", file=sys.stderr)
        return 1
    primaries, seconds = double_labelled(labels)
    without = sorted({label.path for label in seconds} - {label.path for label in primaries})
    for path in without:
        print(f"error: {path} has a second label but no primary label", file=sys.stderr)
    if without:
        return 1
    new = [label for label in primaries if label.path not in frozen]
    rows = write_snapshot(new, target) if new else 0
    print(f"{target}: {len(new)} more documents frozen ({rows} rows), {len(frozen)} already")
    return 0


def report(
    labels_dir: Path, corpus: Path, as_json: bool, second_by: frozenset[str] = frozenset()
) -> int:
    """Print the agreement; with `second_by`, only of the second labels by those labellers."""
    try:
        first_pass = read_snapshot(labels_dir / SNAPSHOT_FILE, corpus)
    except SnapshotError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    labels, errors = _load(labels_dir, corpus)
    _, seconds = double_labelled(labels)
    if second_by:
        seconds = [label for label in seconds if label.labeller in second_by]
        unknown = sorted(second_by - {label.labeller or "" for label in seconds})
        if unknown:
            print(f"error: no second label by {', '.join(unknown)}", file=sys.stderr)
            return 1
    unfrozen = sorted({label.path for label in seconds} - set(first_pass))
    for path in unfrozen:
        print(f"warning: {path} has a second label but no first-pass row", file=sys.stderr)
    result = compare(first_pass, seconds)
    print(json.dumps(asdict(result), indent=2) if as_json else format_table(result))
    return 1 if errors else 0


def _names(text: str) -> frozenset[str]:
    """Labeller names, comma-separated (a name may be more than one letter: AF)."""
    return frozenset(name.strip() for name in text.split(",") if name.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help=f"freeze in {SNAPSHOT_FILE} the primary labels of the documents labelled twice "
        "and not frozen yet (run it before adjudicating each batch)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable report")
    parser.add_argument(
        "--second",
        default="",
        metavar="NAMES",
        help="only the second labels by these labellers, comma-separated (e.g. P, or P,AF: "
        "later waves' rechecks)",
    )
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"skipped: corpus not found at {args.corpus} (it lives beside the checkout)")
        return 0
    if args.snapshot:
        return snapshot(args.labels, args.corpus)
    return report(args.labels, args.corpus, args.json, _names(args.second))


if __name__ == "__main__":
    sys.exit(main())
