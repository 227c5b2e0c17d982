"""Hand labels of design documents: load and validate them, and choose which to label.

Label files live in bench/labels/<family>/<stem>.yaml, one per document; a second
labeller's file for the same document is <stem>.<labeller>.yaml beside it.
bench/LABELLING.md describes both formats (v1: one line per dimension; v2: every
line, plus line-level anti-patterns and near-misses) and how to judge.

    python bench/labelset.py [--corpus PATH] [--labels DIR]   validate all labels, print counts
    python bench/labelset.py --assign [--corpus PATH]         rewrite labels/ASSIGNMENT.tsv
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from corpus import ReservedDocument, refuse_reserved, usable_markdown

from checks import DIMENSIONS, LINE_CHECKS, Category, Status

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus"
DEFAULT_LABELS = HERE / "labels"
ASSIGNMENT_FILE = "ASSIGNMENT.tsv"

FAMILIES: tuple[str, ...] = (
    "dotnet-designs",
    "go-proposals",
    "kubernetes-keps",
    "rust-rfcs",
    "swift-evolution",
)
# Synthetic documents are named relative to bench/, not to the corpus.
SYNTHETIC = "synthetic"
LABELLERS: tuple[str, ...] = ("A", "B", "C", "D", "E")

V1_KEYS = frozenset({"path", "category", "labeller_notes", "dimensions"})
V2_KEYS = frozenset(
    {"path", "format", "labeller", "category", "notes", "dimensions", "antipatterns", "near_misses"}
)
V2_OPTIONAL = frozenset({"notes"})
V1_DIMENSION_KEYS = frozenset({"status", "line", "why"})
V2_DIMENSION_KEYS = frozenset({"status", "lines", "why"})
LINE_LABEL_KEYS = frozenset({"line", "kind", "why"})

# --- the labelled set: which documents, and who labels them -------------------------

SEED = 20260
TARGET_TOTAL = 260
MIN_PER_FAMILY = 35
DOUBLE_PER_FAMILY = 9  # 45 documents labelled twice
MIN_LINES = 40
# Files of the corpus that are indexes or templates rather than design documents.
NOT_DESIGN_DOCS = frozenset({"go-proposals/go2draft.md", "kubernetes-keps/prod-readiness.md"})


@dataclass(frozen=True)
class Wave:
    """A later labelling wave: `total` more documents drawn (with `seed`) from what the
    earlier waves left, at least `min_per_family` per family, labelled once by new
    labellers, so that no one's habits weigh on most labels."""

    seed: int
    total: int
    min_per_family: int
    labellers: tuple[str, ...]


# Each wave is drawn after the ones before it, so adding one never changes them.
LATER_WAVES: tuple[Wave, ...] = (
    Wave(20262, 100, 15, ("F", "G", "H", "I", "J")),
    Wave(20263, 200, 25, ("K", "L", "M", "N", "O")),
    Wave(20265, 200, 25, ("Q", "R", "T", "U", "V")),  # S wrote the synthetic set
    Wave(20266, 200, 25, ("W", "X", "Y", "Z")),
    Wave(20267, 150, 25, ("AA", "AB", "AC", "AD", "AE")),
)


@dataclass(frozen=True)
class Recheck:
    """Second labels for a later wave: `per_labeller` documents of each of `of`'s
    primary labellers (drawn with `seed`), labelled blind by `second`, so that the later
    labellers' agreement is measured too."""

    seed: int
    of: tuple[str, ...]
    per_labeller: int
    second: str


# Drawn after every wave, from documents no one labels twice yet.
RECHECKS: tuple[Recheck, ...] = (
    Recheck(20264, ("G", "H", "I", "J"), 5, "P"),
    # The third to fifth waves' labellers, two documents each.
    Recheck(20268, tuple("KLMNOQRTUVWXYZ"), 2, "AF"),
)

_NOT_DESIGN_STEM = re.compile(r"(?i)^(?:readme|index)$|(?:^|[-_])template$")
# Labelled before the set was drawn (format 1), and the calibration sheet's worked
# examples: always in the set, so that the draw never depends on later labels.
ANCHORS: tuple[str, ...] = (
    "dotnet-designs/accepted__2018__package-doc__package-doc.md",
    "dotnet-designs/accepted__2018__sdk-version-scheme.md",
    "dotnet-designs/accepted__2019__support-for-memory-limits.md",
    "dotnet-designs/accepted__2020__single-file__extract.md",
    "dotnet-designs/accepted__2020__workloads__workloads.md",
    "dotnet-designs/accepted__2021__blazor-wasm-crypto.md",
    "dotnet-designs/accepted__2022__simplify-rid-model.md",
    "dotnet-designs/proposed__sdk-analysis-level.md",
    "go-proposals/14951-soft-heap-limit.md",
    "go-proposals/25719-go15vendor.md",
    "go-proposals/2775-binary-only-packages.md",
    "go-proposals/4899-testing-helper.md",
    "go-proposals/55022-pgo.md",
    "go-proposals/74609-goroutine-leak-detection-gc.md",
    "kubernetes-keps/sig-api-machinery__4420-retry-generate-name.md",
    "kubernetes-keps/sig-cli__859-kubectl-headers.md",
    "kubernetes-keps/sig-network__4974-deprecate-endpoints.md",
    "kubernetes-keps/sig-node__5999-h2c-container-probes.md",
    "kubernetes-keps/sig-release__1498-kubernetes-yearly-support-period.md",
    "kubernetes-keps/sig-release__3744-stay-on-supported-go-versions.md",
    "kubernetes-keps/sig-storage__1682-csi-driver-skip-permission.md",
    "rust-rfcs/0169-use-path-as-id.md",
    "rust-rfcs/0503-prelude-stabilization.md",
    "rust-rfcs/1200-cargo-install.md",
    "rust-rfcs/1513-less-unwinding.md",
    "rust-rfcs/1977-public-private-dependencies.md",
    "rust-rfcs/2045-target-feature.md",
    "rust-rfcs/2657-roadmap-2019.md",
    "rust-rfcs/2700-associated-constants-on-ints.md",
    "swift-evolution/0075-import-test.md",
    "swift-evolution/0084-trailing-commas.md",
    "swift-evolution/0106-rename-osx-to-macos.md",
    "swift-evolution/0226-package-manager-target-based-dep-resolution.md",
    "swift-evolution/0379-opt-in-reflection-metadata.md",
    "swift-evolution/0403-swiftpm-mixed-language-targets.md",
    "swift-evolution/0409-access-level-on-imports.md",
    # worked examples of LABELLING.md not labelled before
    "kubernetes-keps/sig-network__2448-Remove-kube-proxy-automatic-clean-up-logic.md",
    "kubernetes-keps/sig-storage__1489-csi-migration-cinder.md",
    "rust-rfcs/2044-license-rfcs.md",
    "rust-rfcs/2789-sparse-index.md",
)


class LabelError(ValueError):
    """A label file that cannot be used, with the file and the reason."""

    def __init__(self, source: Path, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class ReservedLabel(LabelError):
    """A label names a document the corpus reserves for independent measurement."""


@dataclass(frozen=True)
class DimensionLabel:
    status: Status
    lines: tuple[int, ...]  # every line that establishes it; empty when missing
    why: str

    @property
    def first_line(self) -> int | None:
        return self.lines[0] if self.lines else None


@dataclass(frozen=True)
class LineLabel:
    line: int
    kind: str  # a LINE_CHECKS id
    why: str


@dataclass(frozen=True)
class Label:
    source: Path
    path: str  # relative to the corpus, or "synthetic/<file>" relative to bench/
    format: int
    labeller: str | None  # None in format 1
    category: Category
    notes: str
    dimensions: Mapping[str, DimensionLabel]  # format 1 may lack dimensions added later
    # None: not labelled (format 1); an empty tuple: labelled, none found.
    antipatterns: tuple[LineLabel, ...] | None
    near_misses: tuple[LineLabel, ...] | None
    second: bool  # a second labeller's file (double labelling), not the primary label

    @property
    def family(self) -> str:
        return self.path.split("/", 1)[0]


def document_file(path: str, corpus: Path, bench: Path = HERE) -> Path:
    """Where the document a label names lives (synthetic documents sit in bench/)."""
    return (bench if path.startswith(SYNTHETIC + "/") else corpus) / path


def _check_keys(
    source: Path, where: str, data: Mapping[object, object], allowed: frozenset[str],
    optional: frozenset[str] = frozenset(),
) -> None:
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise LabelError(source, f"{where}: unknown key(s) {', '.join(unknown)}")
    absent = sorted(allowed - optional - {str(key) for key in data})
    if absent:
        raise LabelError(source, f"{where}: missing key(s) {', '.join(absent)}")


def _mapping(source: Path, where: str, value: object) -> Mapping[object, object]:
    if not isinstance(value, dict):
        raise LabelError(source, f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _text(source: Path, where: str, value: object, *, allow_none: bool = False) -> str:
    if value is None and allow_none:
        return ""
    if not isinstance(value, str):
        raise LabelError(source, f"{where}: expected a string, got {value!r}")
    return value


def _line(source: Path, where: str, value: object, line_count: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LabelError(source, f"{where}: expected a line number, got {value!r}")
    if not 1 <= value <= line_count:
        raise LabelError(
            source, f"{where}: line {value} is outside the document (1..{line_count})"
        )
    return value


def _status(source: Path, where: str, value: object) -> Status:
    try:
        return Status(str(value))
    except ValueError:
        allowed = "|".join(status.value for status in Status)
        raise LabelError(source, f"{where}: status {value!r} is not one of {allowed}") from None


def _dimension(
    source: Path, key: object, value: object, version: int, line_count: int
) -> DimensionLabel:
    where = f"dimensions.{key}"
    if key not in DIMENSIONS:
        raise LabelError(source, f"{where}: unknown dimension (known: {', '.join(DIMENSIONS)})")
    entry = _mapping(source, where, value)
    allowed = V1_DIMENSION_KEYS if version == 1 else V2_DIMENSION_KEYS
    _check_keys(source, where, entry, allowed, optional=frozenset({"why"}))
    status = _status(source, where, entry["status"])
    if version == 1:
        single = entry["line"]
        raw_lines: list[object] = [] if single is None else [single]
    else:
        listed = entry["lines"]
        if not isinstance(listed, list):
            raise LabelError(source, f"{where}.lines: expected a list, got {listed!r}")
        raw_lines = listed
    lines = tuple(_line(source, f"{where}.lines", line, line_count) for line in raw_lines)
    if status is Status.MISSING and lines:
        raise LabelError(source, f"{where}: a missing dimension has no lines")
    if status is not Status.MISSING and not lines:
        raise LabelError(source, f"{where}: a {status} dimension needs the line(s) that show it")
    why = _text(source, f"{where}.why", entry.get("why", ""), allow_none=True)
    return DimensionLabel(status, lines, why)


def _line_labels(
    source: Path, where: str, value: object, line_count: int
) -> tuple[LineLabel, ...]:
    if not isinstance(value, list):
        raise LabelError(source, f"{where}: expected a list, got {value!r}")
    found = []
    for index, item in enumerate(value):
        here = f"{where}[{index}]"
        entry = _mapping(source, here, item)
        _check_keys(source, here, entry, LINE_LABEL_KEYS, optional=frozenset({"why"}))
        kind = entry["kind"]
        if kind not in LINE_CHECKS:
            raise LabelError(
                source, f"{here}: kind {kind!r} is not a line check ({', '.join(LINE_CHECKS)})"
            )
        line = _line(source, f"{here}.line", entry["line"], line_count)
        why = _text(source, f"{here}.why", entry.get("why", ""), allow_none=True)
        found.append(LineLabel(line, str(kind), why))
    return tuple(found)


def _document_path(source: Path, value: object) -> str:
    path = _text(source, "path", value)
    parts = path.split("/")
    if path.startswith("/") or ".." in parts or len(parts) != 2 or not path.endswith(".md"):
        raise LabelError(source, f"path {path!r} must be <family>/<file>.md")
    if parts[0] not in (*FAMILIES, SYNTHETIC):
        raise LabelError(source, f"path {path!r}: unknown family {parts[0]!r}")
    return path


def _is_second(source: Path, path: str, labeller: str | None, labels_root: Path | None) -> bool:
    """Whether the file is a second labeller's; raises when its place or name does not
    match the document (<family>/<stem>.yaml, or <family>/<stem>.<labeller>.yaml)."""
    family, file_name = path.split("/")
    stem = file_name[: -len(".md")]
    if source.name == f"{stem}.yaml":
        second = False
    elif labeller and source.name == f"{stem}.{labeller}.yaml":
        second = True
    else:
        expected = f"{stem}.yaml" + (f" or {stem}.{labeller}.yaml" if labeller else "")
        raise LabelError(source, f"a label of {path} must be named {expected}")
    if labels_root is not None and source.parent.resolve() != (labels_root / family).resolve():
        raise LabelError(source, f"a label of {path} belongs in {labels_root / family}")
    return second


def load_label(
    source: Path, corpus: Path, *, bench: Path = HERE, labels_root: Path | None = None
) -> Label:
    """Read and validate one label file (format 1 or 2) against the document it names.
    A reserved document is refused before anything of it is read."""
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise LabelError(source, f"cannot read: {error}") from None
    top = _mapping(source, "label", data)
    path = _document_path(source, top.get("path"))
    if not path.startswith(SYNTHETIC + "/"):
        try:
            refuse_reserved(corpus, path)
        except ReservedDocument as refused:
            raise ReservedLabel(source, f"refused: {refused}; remove this label") from None
    version = top.get("format", 1)
    if version not in (1, 2) or isinstance(version, bool):
        raise LabelError(source, f"format {version!r} is not 1 or 2")
    if version == 1:
        _check_keys(source, "label", top, V1_KEYS, optional=frozenset({"labeller_notes"}))
    else:
        _check_keys(source, "label", top, V2_KEYS, optional=V2_OPTIONAL)
    document = document_file(path, corpus, bench)
    try:
        line_count = len(document.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError) as error:
        raise LabelError(source, f"cannot read the document {path}: {error}") from None
    labeller = None
    if version == 2:
        labeller = _text(source, "labeller", top["labeller"]).strip()
        if not labeller:
            raise LabelError(source, "labeller: empty")
    category_text = _text(source, "category", top["category"])
    try:
        category = Category(category_text)
    except ValueError:
        allowed = "|".join(category.value for category in Category)
        raise LabelError(source, f"category {category_text!r} is not one of {allowed}") from None
    dimensions_data = _mapping(source, "dimensions", top["dimensions"])
    dimensions = {
        str(key): _dimension(source, key, value, version, line_count)
        for key, value in dimensions_data.items()
    }
    if version == 2 and len(dimensions) != len(DIMENSIONS):
        absent = [key for key in DIMENSIONS if key not in dimensions]
        raise LabelError(source, f"dimensions: missing {', '.join(absent)}")
    notes_key = "labeller_notes" if version == 1 else "notes"
    notes = _text(source, notes_key, top.get(notes_key, ""), allow_none=True)
    antipatterns = near_misses = None
    if version == 2:
        antipatterns = _line_labels(source, "antipatterns", top["antipatterns"], line_count)
        near_misses = _line_labels(source, "near_misses", top["near_misses"], line_count)
    second = _is_second(source, path, labeller, labels_root)
    ordered = {key: dimensions[key] for key in DIMENSIONS if key in dimensions}
    return Label(
        source, path, version, labeller, category, notes, ordered, antipatterns, near_misses,
        second,
    )


def load_labels(
    labels_dir: Path, corpus: Path, bench: Path = HERE
) -> tuple[list[Label], list[LabelError]]:
    """Every label under `labels_dir` (sorted by file), and the files that failed."""
    labels: list[Label] = []
    errors: list[LabelError] = []
    seen: dict[tuple[str, bool, str | None], Path] = {}
    for source in sorted(labels_dir.rglob("*.yaml")):
        try:
            label = load_label(source, corpus, bench=bench, labels_root=labels_dir)
        except LabelError as error:
            errors.append(error)
            continue
        key = (label.path, label.second, label.labeller if label.second else None)
        if key in seen:
            errors.append(LabelError(source, f"{label.path} is labelled again ({seen[key]})"))
            continue
        seen[key] = source
        labels.append(label)
    return labels, errors


# --- choosing the documents -----------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    path: str
    labeller: str
    second: str  # "" unless labelled twice


def is_design_doc(relative: str, line_count: int) -> bool:
    family, _, name = relative.partition("/")
    return (
        family in FAMILIES
        and "/" not in name
        and line_count >= MIN_LINES
        and relative not in NOT_DESIGN_DOCS
        and not _NOT_DESIGN_STEM.search(Path(name).stem)
    )


def eligible_documents(corpus: Path) -> dict[str, list[str]]:
    """Design documents of each family that may be labelled (usable, not reserved)."""
    by_family: dict[str, list[str]] = {family: [] for family in FAMILIES}
    for document in usable_markdown(corpus):
        relative = document.relative_to(corpus).as_posix()
        if relative.partition("/")[0] not in FAMILIES:
            continue
        lines = len(document.read_text(encoding="utf-8", errors="replace").splitlines())
        if is_design_doc(relative, lines):
            by_family[relative.partition("/")[0]].append(relative)
    return by_family


def family_quotas(sizes: Mapping[str, int], total: int, minimum: int) -> dict[str, int]:
    """Documents per family: in proportion to the family's size, at least `minimum`
    (all of a family smaller than that), summing to `total` (largest remainders)."""
    quotas: dict[str, int] = {}
    open_families = dict(sizes)
    while open_families:
        remaining = total - sum(quotas.values())
        pool = sum(open_families.values())
        small = {
            family: min(size, minimum)
            for family, size in open_families.items()
            if size <= minimum or remaining * size / pool < minimum
        }
        if not small:
            break
        quotas.update(small)
        for family in small:
            del open_families[family]
    remaining = total - sum(quotas.values())
    pool = sum(open_families.values()) or 1
    shares = {family: remaining * size / pool for family, size in open_families.items()}
    floors = {family: int(share) for family, share in shares.items()}
    left = remaining - sum(floors.values())
    by_remainder = sorted(shares, key=lambda family: (floors[family] - shares[family], family))
    for family in by_remainder[:left]:
        floors[family] += 1
    quotas.update(floors)
    return quotas


def choose_assignments(eligible: Mapping[str, list[str]]) -> list[Assignment]:
    """The labelled set: anchors plus a seeded draw per family, dealt round-robin to the
    labellers (families mixed), and DOUBLE_PER_FAMILY per family labelled twice."""
    sizes = {family: len(paths) for family, paths in eligible.items()}
    quotas = family_quotas(sizes, TARGET_TOTAL, MIN_PER_FAMILY)
    primary: dict[str, str] = {}
    doubled: list[str] = []
    dealt = 0
    for family in FAMILIES:
        rng = random.Random(f"{SEED}:{family}")
        # An anchor that the corpus has since reserved (or dropped) is left out.
        anchors = sorted(set(ANCHORS) & set(eligible[family]))
        candidates = sorted(set(eligible[family]) - set(anchors))
        drawn = rng.sample(candidates, max(quotas[family] - len(anchors), 0))
        chosen = sorted([*anchors, *drawn])
        rng.shuffle(chosen)
        for path in chosen:
            primary[path] = LABELLERS[dealt % len(LABELLERS)]
            dealt += 1
        doubled.extend(rng.sample(sorted(chosen), min(DOUBLE_PER_FAMILY, len(chosen))))
    load = Counter(primary.values())
    seconds: Counter[str] = Counter()
    second_of: dict[str, str] = {}
    for path in doubled:
        others = [labeller for labeller in LABELLERS if labeller != primary[path]]
        pick = min(others, key=lambda labeller: (seconds[labeller], load[labeller], labeller))
        seconds[pick] += 1
        load[pick] += 1
        second_of[path] = pick
    assignments = [
        Assignment(path, primary[path], second_of.get(path, "")) for path in sorted(primary)
    ]
    for wave in LATER_WAVES:
        assignments += _later_wave(wave, eligible, {a.path for a in assignments})
    for recheck in RECHECKS:
        assignments = _rechecked(recheck, assignments)
    return assignments


def _rechecked(recheck: Recheck, assignments: list[Assignment]) -> list[Assignment]:
    """`assignments` with `recheck.second` as the second labeller of its draw."""
    rng = random.Random(recheck.seed)
    chosen: set[str] = set()
    for labeller in recheck.of:
        theirs = sorted(a.path for a in assignments if a.labeller == labeller and not a.second)
        chosen.update(rng.sample(theirs, min(recheck.per_labeller, len(theirs))))
    return [
        Assignment(a.path, a.labeller, recheck.second) if a.path in chosen else a
        for a in assignments
    ]


def _later_wave(
    wave: Wave, eligible: Mapping[str, list[str]], taken: set[str]
) -> list[Assignment]:
    """`wave.total` more documents from those not `taken`, in proportion to what is left
    of each family (at least `wave.min_per_family`), dealt round-robin to the wave's
    labellers; labelled once."""
    left = {family: sorted(set(paths) - taken) for family, paths in eligible.items()}
    quotas = family_quotas(
        {family: len(paths) for family, paths in left.items()}, wave.total, wave.min_per_family
    )
    primary: dict[str, str] = {}
    dealt = 0
    for family in FAMILIES:
        rng = random.Random(f"{wave.seed}:{family}")
        chosen = rng.sample(left[family], min(quotas[family], len(left[family])))
        for path in chosen:
            primary[path] = wave.labellers[dealt % len(wave.labellers)]
            dealt += 1
    return [Assignment(path, primary[path], "") for path in sorted(primary)]


def write_assignments(assignments: Iterable[Assignment], target: Path) -> None:
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["path", "labeller", "second"])
        for assignment in assignments:
            writer.writerow([assignment.path, assignment.labeller, assignment.second])


def read_assignments(source: Path) -> list[Assignment]:
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [Assignment(row["path"], row["labeller"], row["second"] or "") for row in rows]


# --- command line ---------------------------------------------------------------------


def _print_counts(title: str, counts: Counter[str]) -> None:
    print(f"{title}: " + ", ".join(f"{key} {counts[key]}" for key in sorted(counts)))


def _assignment_problems(labels: list[Label], assignments: list[Assignment]) -> list[str]:
    """Labels whose labeller is not the one assigned (format 2 names its labeller)."""
    by_path = {assignment.path: assignment for assignment in assignments}
    problems = []
    for label in labels:
        assigned = by_path.get(label.path)
        if label.labeller is None or label.family == SYNTHETIC:
            continue
        if assigned is None:
            problems.append(f"{label.source}: {label.path} is not in {ASSIGNMENT_FILE}")
        elif label.labeller != (assigned.second if label.second else assigned.labeller):
            role = "second" if label.second else "labeller"
            problems.append(f"{label.source}: labeller {label.labeller} is not the assigned {role}")
    return problems


def validate(labels_dir: Path, corpus: Path) -> int:
    labels, errors = load_labels(labels_dir, corpus)
    problems = [str(error) for error in errors]
    assignment_file = labels_dir / ASSIGNMENT_FILE
    assignments = read_assignments(assignment_file) if assignment_file.is_file() else []
    problems += _assignment_problems(labels, assignments)
    print(f"{len(labels) + len(errors)} label files, {len(labels)} valid, {len(errors)} invalid")
    _print_counts("per family", Counter(label.family for label in labels))
    _print_counts("per format", Counter(f"v{label.format}" for label in labels))
    _print_counts("per labeller", Counter(label.labeller or "-" for label in labels))
    if assignments:
        done = {(label.path, label.second) for label in labels}
        first = sum((assignment.path, False) in done for assignment in assignments)
        twice = [assignment for assignment in assignments if assignment.second]
        again = sum((assignment.path, True) in done for assignment in twice)
        upgraded = {label.path for label in labels if label.format == 2 and not label.second}
        v2 = sum(assignment.path in upgraded for assignment in assignments)
        print(
            f"assigned: {len(assignments)} documents, {first} labelled ({v2} in format 2), "
            f"{again}/{len(twice)} second labels"
        )
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def assign(labels_dir: Path, corpus: Path) -> int:
    assignments = choose_assignments(eligible_documents(corpus))
    target = labels_dir / ASSIGNMENT_FILE
    write_assignments(assignments, target)
    print(f"wrote {target}: {len(assignments)} documents")
    _print_counts("per family", Counter(a.path.partition("/")[0] for a in assignments))
    _print_counts("per labeller", Counter(a.labeller for a in assignments))
    _print_counts("second", Counter(a.second for a in assignments if a.second))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument(
        "--assign", action="store_true", help=f"regenerate {ASSIGNMENT_FILE} (deterministic)"
    )
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"skipped: corpus not found at {args.corpus} (it lives beside the checkout)")
        return 0
    if args.assign:
        return assign(args.labels, args.corpus)
    return validate(args.labels, args.corpus)


if __name__ == "__main__":
    sys.exit(main())
