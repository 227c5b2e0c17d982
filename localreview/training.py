"""Train the learned layer (`checks.learned`) from hand-labelled documents.

Needs scikit-learn (`pip install -e ".[bench]"`); the engine never does. Training is
deterministic: documents are taken in path order, every solver is seeded, and the
weights are rounded before they are written, and every fit runs in a worker process
whose BLAS kernels are pinned (`_in_pinned_workers`), so the same labels give the same
file byte for byte (`model_bytes`) on any machine of one architecture.

Per dimension, the block classifier learns from the label's `lines`: a prose block
holding a line cited for the dimension is a positive, every other prose block a
negative. The decision model learns present / weak / missing from block scores the
block classifier gave *without* seeing that document (inner folds by document), so
it is trained on scores like those it will meet.

Per anti-pattern kind, the line model learns from the labels' `antipatterns`: a
sentence holding an occurrence of the kind is a positive, every other sentence
(the labelled near-misses among them) a negative.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import platform
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import yaml

from checks.category import detect_category, infer_category
from checks.dimensions import assess
from checks.document import Document, parse
from checks.enums import Category, Status
from checks.findings import find
from checks.learned import (
    DECISION_FEATURES,
    FEATURE_BITS,
    FORMAT,
    LINE_KINDS,
    STATUSES,
    WEIGHT_SCALE,
    DocumentView,
    LinearScorer,
    LineUnit,
    category_features,
    decision_features,
    document_view,
    line_units,
    rule_category_feature,
    rule_lines,
)
from checks.options import DEFAULT_OPTIONS, ReviewOptions
from checks.report import DIMENSIONS

SEED = 7
INNER_FOLDS = 3
BLOCK_C = 0.5
DECISION_C = 1.0
CATEGORY_C = 5.0
CLASS_BALANCE = 0.5
LINE_C = 2.0
LINE_POSITIVE_WEIGHT = 10.0  # anti-patterns are rare among sentences: each counts more
LINE_THRESHOLD = 0.25  # the probability a sentence needs to be a learned finding
_ABSENT = -1000.0  # the intercept of a class no training document has


@dataclass(frozen=True)
class TrainingDocument:
    path: str
    text: str
    category: Category
    statuses: Mapping[str, Status]
    lines: Mapping[str, tuple[int, ...]]  # per dimension, the lines that establish it
    antipatterns: tuple[tuple[int, str], ...] = ()  # (line, line check) of each occurrence


@dataclass
class _Prepared:
    source: TrainingDocument
    doc: Document
    view: DocumentView
    rule_status: dict[str, Status]
    rule_category: Category
    # The decision's input, as the engine has it before any model: the front matter's
    # category when it names one (unlike `rule_category`, the category model's input).
    prior_category: Category
    units: list[LineUnit]


def _sklearn() -> tuple[Any, Any]:
    linear: Any = importlib.import_module("sklearn.linear_model")
    sparse: Any = importlib.import_module("scipy.sparse")
    return linear, sparse


# The engine options a document is reviewed with (a team's `aliases`, and the category
# its `categories` globs give): training reads each document as the review will.
OptionsFor = Callable[[str], ReviewOptions]


def _no_config(path: str) -> ReviewOptions:
    del path
    return DEFAULT_OPTIONS


def _prepare(source: TrainingDocument, options_for: OptionsFor) -> _Prepared:
    doc = parse(source.text, source.path)
    options = options_for(source.path)
    assessed = assess(doc, source.category, options.aliases)
    return _Prepared(
        source=source,
        doc=doc,
        view=document_view(doc, options.aliases),
        rule_status={key: assessed[key].status for key in DIMENSIONS},
        rule_category=infer_category(doc),
        prior_category=detect_category(doc, options.category)[0],
        units=line_units(doc, rule_lines(find(doc, {}))),
    )


def _matrix(rows: Sequence[Sequence[int]], values: Sequence[float] | None = None) -> Any:
    _, sparse = _sklearn()
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for position, row in enumerate(rows):
        indices.extend(row)
        value = 1.0 if values is None else values[position]
        data.extend([value] * len(row))
        indptr.append(len(indices))
    matrix = sparse.csr_matrix((data, indices, indptr), shape=(len(rows), 1 << FEATURE_BITS))
    matrix.sum_duplicates()
    return matrix


def _quantized(values: Any) -> list[int]:
    return [round(float(v) * WEIGHT_SCALE) for v in values]


def _rounded(value: float) -> float:
    return float(f"{value:.6g}")


def _fit_blocks(matrix: Any, targets: Sequence[int]) -> LinearScorer:
    """A block classifier; with one class only, a constant score of that class."""
    if len(set(targets)) < 2:
        constant = 4.0 if targets and targets[0] else -4.0
        return LinearScorer([0] * (1 << FEATURE_BITS), constant)
    linear, _ = _sklearn()
    model = linear.LogisticRegression(
        C=BLOCK_C, max_iter=300, tol=1e-4, random_state=SEED, solver="liblinear"
    )
    model.fit(matrix, list(targets))
    return LinearScorer(_quantized(model.coef_[0]), _rounded(float(model.intercept_[0])))


# One block fit is a job: the matrix rows it learns from (None: all), and their targets.
_BlockJob = tuple[list[int] | None, list[int]]
# A fit to run in a worker: a module-level function and its arguments.
_Job = tuple[Callable[..., Any], tuple[Any, ...]]
_shared: Any = None  # what every job of one batch reads (a matrix), in each worker

# OpenBLAS picks its kernels by the CPU it finds, and kernels round differently, so a
# fit could differ in its last digits from one machine to the next. Fits therefore run
# in worker processes started with one kernel set every machine of the architecture
# has, and one thread: the same labels give the same bytes on any such machine.
PINNED_KERNELS = {"x86_64": "PRESCOTT", "amd64": "PRESCOTT", "aarch64": "ARMV8", "arm64": "ARMV8"}
_BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS")


@contextmanager
def _pinned_blas() -> Iterator[None]:
    """While open, processes started get the pinned kernels and one BLAS thread."""
    saved = {name: os.environ.get(name) for name in _BLAS_VARIABLES}
    kernels = PINNED_KERNELS.get(platform.machine().lower())
    if kernels is not None:
        os.environ["OPENBLAS_CORETYPE"] = kernels
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _share(value: Any) -> None:
    global _shared
    _shared = value


def _run_job(job: _Job) -> Any:
    function, arguments = job
    return function(*arguments)


def _in_pinned_workers(
    jobs: Sequence[_Job], shared: Any = None, workers: int | None = None
) -> list[Any]:
    """Every job's result, in `jobs` order, computed in worker processes with pinned
    BLAS kernels (`_pinned_blas`), `shared` readable there as `_shared`. Each fit is
    seeded and independent of the others, so the result is the same on any number of
    workers; where processes cannot start, the jobs run here, unpinned. A script that
    trains needs the `if __name__ == "__main__":` guard that spawned workers ask for
    (`product-review train` has it)."""
    if workers is None:
        workers = _usable_cores()
    workers = max(1, min(len(jobs), workers))
    if jobs:
        try:
            # spawn, not fork: a forked child of a process with threads can deadlock,
            # and a fresh process is what reads the pinned kernels.
            with _pinned_blas(), ProcessPoolExecutor(
                workers, mp_context=get_context("spawn"), initializer=_share, initargs=(shared,)
            ) as pool:
                return list(pool.map(_run_job, jobs))
        except (OSError, NotImplementedError, BrokenProcessPool, AssertionError):
            # No semaphores or subprocesses here (a sandbox, a daemonic worker, which
            # multiprocessing refuses with an AssertionError): the same fits, serially.
            pass
    _share(shared)
    try:
        return [_run_job(job) for job in jobs]
    finally:
        _share(None)


def _fit_shared_rows(rows: list[int] | None, targets: list[int]) -> LinearScorer:
    return _fit_blocks(_shared if rows is None else _shared[rows], targets)


def _fit_all_blocks(
    matrix: Any, jobs: Sequence[_BlockJob], workers: int | None = None
) -> list[LinearScorer]:
    """Every block fit, in `jobs` order, in pinned workers (`_in_pinned_workers`)."""
    return _in_pinned_workers(
        [(_fit_shared_rows, (rows, targets)) for rows, targets in jobs], matrix, workers
    )


def _usable_cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return max(len(affinity(0)), 1)
    return os.cpu_count() or 1


def _block_targets(prepared: _Prepared, key: str) -> list[int]:
    wanted = set(prepared.source.lines.get(key, ()))
    return [
        int(any(line in wanted for line in range(block.line, block.end_line + 1)))
        for block in prepared.view.blocks
    ]


def _scorer_json(scorer: LinearScorer) -> tuple[list[int], float]:
    return list(scorer.thousandths), scorer.intercept


def _class_weights(statuses: Sequence[Status]) -> dict[str, float]:
    """Halfway (geometrically) between equal weights and balanced classes: rare
    statuses count more, without trading away the precision of a gap."""
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status.value] = counts.get(status.value, 0) + 1
    total, classes = len(statuses), len(counts)
    return {
        value: _rounded((total / (classes * count)) ** CLASS_BALANCE)
        for value, count in sorted(counts.items())
    }


def _fit_decision(
    inputs: Sequence[Sequence[float]], statuses: Sequence[Status]
) -> list[list[float]]:
    """Rows of a multinomial model over DECISION_FEATURES (its last input is the bias),
    one per STATUSES entry; a status nobody has gets a row that never wins."""
    present = sorted({s.value for s in statuses})
    width = len(DECISION_FEATURES)
    if len(present) < 2:
        return [
            [0.0] * (width - 1) + [0.0 if s.value in present else _ABSENT] for s in STATUSES
        ]
    linear, _ = _sklearn()
    model = linear.LogisticRegression(
        C=DECISION_C, max_iter=2000, random_state=SEED, fit_intercept=False,
        class_weight=_class_weights(statuses),
    )
    model.fit([list(x) for x in inputs], [s.value for s in statuses])
    classes = list(model.classes_)
    rows: list[list[float]] = []
    for status in STATUSES:
        if status.value not in classes:
            rows.append([0.0] * (width - 1) + [_ABSENT])
            continue
        if len(classes) == 2:  # binary: one coefficient row, for classes_[1]
            sign = 1.0 if classes.index(status.value) == 1 else -1.0
            coefficients = [sign * float(c) / 2 for c in model.coef_[0]]
        else:
            coefficients = [float(c) for c in model.coef_[classes.index(status.value)]]
        rows.append([_rounded(c) for c in coefficients])
    return rows


def _category_job(prepared: Sequence[_Prepared]) -> _Job:
    """The category fit, as a job: each document's words, and the rules' guess."""
    rows = [category_features(p.doc) for p in prepared]
    rules = [rule_category_feature(p.rule_category) for p in prepared]
    targets = [p.source.category.value for p in prepared]
    return (_fit_category, (rows, rules, targets))


def _fit_category(
    rows: list[list[int]], rules: list[int], targets: list[str]
) -> dict[str, dict[str, Any]]:
    values = [1.0 / math.sqrt(len(row)) if row else 0.0 for row in rows]
    classes = sorted(set(targets))
    width = 1 << FEATURE_BITS
    if len(classes) < 2:
        return {
            c.value: {"weights": [0] * width, "intercept": 0.0 if c.value in classes else _ABSENT}
            for c in Category
        }
    linear, _ = _sklearn()
    model = linear.LogisticRegression(
        C=CATEGORY_C, max_iter=2000, random_state=SEED, class_weight="balanced"
    )
    _, sparse = _sklearn()
    matrix = _matrix(rows, values) + _matrix([[r] for r in rules])
    model.fit(sparse.csr_matrix(matrix), targets)
    fitted = list(model.classes_)
    result: dict[str, dict[str, Any]] = {}
    for category in Category:
        if category.value not in fitted:
            result[category.value] = {"weights": [0] * width, "intercept": _ABSENT}
            continue
        if len(fitted) == 2:
            sign = 1.0 if fitted.index(category.value) == 1 else -1.0
            coefficients = sign * model.coef_[0] / 2
            intercept = sign * float(model.intercept_[0]) / 2
        else:
            coefficients = model.coef_[fitted.index(category.value)]
            intercept = float(model.intercept_[fitted.index(category.value)])
        result[category.value] = {
            "weights": _quantized(coefficients),
            "intercept": _rounded(intercept),
        }
    return result


def _unit_targets(prepared: _Prepared, kind: str) -> list[int]:
    wanted = [line for line, k in prepared.source.antipatterns if k == kind]
    return [
        int(any(unit.line <= line <= unit.end_line for line in wanted))
        for unit in prepared.units
    ]


def _line_jobs(prepared: Sequence[_Prepared]) -> tuple[Any, list[_Job]]:
    """Per anti-pattern kind, a sentence classifier's fit, as a job (all of them read
    the sentence matrix, returned first): a sentence holding a labelled occurrence of
    the kind is a positive, every other sentence (the labelled near-misses among them)
    a negative. A kind with no occurrence is left out."""
    matrix = _matrix([unit.features for p in prepared for unit in p.units])
    jobs: list[_Job] = []
    for kind in LINE_KINDS:
        targets = [t for p in prepared for t in _unit_targets(p, kind)]
        if len(set(targets)) >= 2:
            jobs.append((_fit_line_kind, (kind, targets)))
    return matrix, jobs


def _fit_line_kind(kind: str, targets: list[int]) -> tuple[str, dict[str, Any]]:
    linear, _ = _sklearn()
    model = linear.LogisticRegression(
        C=LINE_C, max_iter=300, tol=1e-4, random_state=SEED, solver="liblinear",
        class_weight={0: 1.0, 1: LINE_POSITIVE_WEIGHT},
    )
    model.fit(_shared, targets)
    return kind, {
        "weights": _quantized(model.coef_[0]),
        "intercept": _rounded(float(model.intercept_[0])),
        "threshold": LINE_THRESHOLD,
    }


def _fit_parts(
    prepared: Sequence[_Prepared], decisions: Sequence[_Job] = (), category: bool = True,
    lines: bool = True,
) -> tuple[list[list[list[float]]], dict[str, Any] | None, dict[str, Any] | None]:
    """The decision fits given, the category and the line parts, in one batch of
    pinned workers: (decision rows per job, category part, line part)."""
    line_matrix, line_jobs = _line_jobs(prepared) if lines else (None, [])
    jobs = [*decisions, *([_category_job(prepared)] if category else []), *line_jobs]
    results = iter(_in_pinned_workers(jobs, line_matrix))  # in `jobs` order
    decided = [next(results) for _ in decisions]
    category_part = next(results) if category else None
    line_part = dict(results) if lines else None
    return decided, category_part, line_part


def _prepared(documents: Sequence[TrainingDocument], options_for: OptionsFor) -> list[_Prepared]:
    return [_prepare(d, options_for) for d in sorted(documents, key=lambda d: d.path)]


def train_default_parts(
    documents: Sequence[TrainingDocument], options_for: OptionsFor = _no_config
) -> dict[str, Any]:
    """The category and line parts of `train_model`'s mapping (what `CategoryModel`
    and `LineModel` read), trained the same way on `documents`, prepared once."""
    prepared = _prepared(documents, options_for)
    _, category, lines = _fit_parts(prepared)
    return {"format": FORMAT, "feature_bits": FEATURE_BITS, "category": category, "lines": lines}


def train_model(
    documents: Sequence[TrainingDocument], options_for: OptionsFor = _no_config
) -> dict[str, Any]:
    """The model's JSON mapping, trained on `documents` (taken in path order), each
    read with the options `options_for` gives its path (default: no config)."""
    prepared = _prepared(documents, options_for)
    matrix = _matrix([features for p in prepared for features in p.view.features])
    inner_of_row = [
        position % INNER_FOLDS for position, p in enumerate(prepared) for _ in p.view.blocks
    ]
    targets_of = {key: [t for p in prepared for t in _block_targets(p, key)] for key in DIMENSIONS}
    fold_rows = [
        [i for i, fold_of in enumerate(inner_of_row) if fold_of != fold]
        for fold in range(INNER_FOLDS)
    ]
    # Per dimension, one fit per inner fold (its scores of the held-out documents feed
    # the decision model), then the final fit on every row.
    jobs: list[_BlockJob] = []
    for key in DIMENSIONS:
        targets = targets_of[key]
        jobs += [(rows, [targets[i] for i in rows]) for rows in fold_rows]
        jobs.append((None, targets))
    fitted = iter(_fit_all_blocks(matrix, jobs))
    block_parts: dict[str, tuple[list[int], float]] = {}
    decision_jobs: list[_Job] = []
    for key in DIMENSIONS:
        held_out_scores: list[list[float]] = [[] for _ in prepared]
        for fold in range(INNER_FOLDS):
            scorer = next(fitted)
            for position, p in enumerate(prepared):
                if position % INNER_FOLDS == fold:
                    held_out_scores[position] = [scorer.score(f) for f in p.view.features]
        block_parts[key] = _scorer_json(next(fitted))
        inputs = [
            decision_features(p.view, scores, p.rule_status[key], key, p.prior_category)
            for p, scores in zip(prepared, held_out_scores, strict=True)
        ]
        decision_jobs.append((_fit_decision, (inputs, [p.source.statuses[key] for p in prepared])))
    decisions, category, lines = _fit_parts(prepared, decision_jobs)
    dimensions: dict[str, Any] = {}
    for key, decision in zip(DIMENSIONS, decisions, strict=True):
        weights, intercept = block_parts[key]
        dimensions[key] = {
            "block_weights": weights,
            "block_intercept": intercept,
            "decision": decision,
        }
    return {
        "format": FORMAT,
        "feature_bits": FEATURE_BITS,
        "decision_features": list(DECISION_FEATURES),
        "statuses": [s.value for s in STATUSES],
        "documents": len(prepared),
        "dimensions": dimensions,
        "category": category,
        "lines": lines,
    }


def train_category_model(
    documents: Sequence[TrainingDocument], options_for: OptionsFor = _no_config
) -> dict[str, Any]:
    """Only the category part of `train_model`'s mapping (what `CategoryModel`
    reads), trained the same way on `documents`."""
    prepared = _prepared(documents, options_for)
    _, category, _ = _fit_parts(prepared, lines=False)
    return {"format": FORMAT, "feature_bits": FEATURE_BITS, "category": category}


def model_bytes(model: Mapping[str, Any]) -> bytes:
    """The model file's exact bytes: compact, keys sorted, one trailing newline."""
    return (json.dumps(model, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")


# --- label files ------------------------------------------------------------------

RESERVED_LIST = "RESERVED.md"
SYNTHETIC = "synthetic/"


class LabelFileError(ValueError):
    """A label file that cannot be trained on: unreadable, malformed, or naming a
    document the corpus reserves."""


def reserved_documents(corpus: Path) -> frozenset[str]:
    """Paths (relative to the corpus, with `/`) that its `RESERVED.md` lists: kept for
    independent measurement, never read for labelling, training or tuning. The one
    reader of that list, for the training command and the bench scripts alike."""
    listing = corpus / RESERVED_LIST
    if not listing.is_file():
        return frozenset()
    return frozenset(
        line.strip()
        for line in listing.read_text(encoding="utf-8").splitlines()
        if line.strip().endswith((".md", ".markdown")) and not line.startswith("#")
    )


def read_labels(labels_dir: Path, corpus: Path, synthetic_root: Path) -> list[TrainingDocument]:
    """The primary label files under `labels_dir` (<family>/<stem>.yaml; a second
    labeller's <stem>.<letter>.yaml is left out) with their documents' text. A label on
    a reserved document is refused before the document is read."""
    reserved = reserved_documents(corpus)
    documents: list[TrainingDocument] = []
    for source in sorted(labels_dir.rglob("*.yaml")):
        try:
            data = yaml.safe_load(source.read_text(encoding="utf-8"))
            path = str(data["path"])
            if source.name != Path(path).stem + ".yaml":
                continue  # a second labeller's file
            if path in reserved:
                raise LabelFileError(f"{source}: {path} is reserved for independent measurement")
            root = synthetic_root if path.startswith(SYNTHETIC) else corpus
            text = (root / path).read_text(encoding="utf-8")
            statuses: dict[str, Status] = {}
            lines: dict[str, tuple[int, ...]] = {}
            for key, entry in data["dimensions"].items():
                statuses[str(key)] = Status(entry["status"])
                listed = entry["lines"] if "lines" in entry else [entry.get("line")]
                lines[str(key)] = tuple(int(n) for n in listed if n is not None)
            if set(statuses) != set(DIMENSIONS):
                raise LabelFileError(f"{source}: needs all nine dimensions")
            category = Category(data["category"])
            antipatterns = tuple(
                (int(entry["line"]), str(entry["kind"])) for entry in data.get("antipatterns") or ()
            )
        except LabelFileError:
            raise
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise LabelFileError(f"{source}: cannot read: {error}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise LabelFileError(f"{source}: malformed label: {error!r}") from None
        documents.append(TrainingDocument(path, text, category, statuses, lines, antipatterns))
    return documents
