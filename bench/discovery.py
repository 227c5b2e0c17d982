"""How well `checks.discovery` tells design documents from other Markdown files.

    python bench/discovery.py [--mirrors DIR] [--corpus DIR] [--list-errors] [--no-classifier]

Reads `bench/discovery/negatives.tsv` (Markdown files that are not design documents)
and `bench/discovery/positives.tsv` (design documents from repositories outside the
shared corpus), each row `repo, commit, path, kind`. Every file is read from a bare
mirror of its repository, `DIR/<owner>+<name>/repo` (or `DIR/<owner>+<name>` itself
when that is the git directory); a repository whose mirror is missing is reported as
skipped. The shared corpus's usable documents (never a reserved one) are positives too,
and so are the synthetic documents written for this benchmark (`bench/synthetic`), judged
at `docs/<file name>`, the neutral folder a team would keep them in.

It reports, with `decide` and the default `Settings()`:

- recall on design documents at their real paths and by content alone;
- the false-positive rate on negatives at their real paths and by content alone, per kind;
- the content-score histogram of positives and negatives, and the best thresholds;
- the time `decide` takes per document, and on the file nearest 50 KB;
- next to the rule, a logistic regression on the same kind of features (heading words,
  metadata keys, front matter keys, a numbered name) under 5-fold cross-validation,
  when scikit-learn is installed (`pip install -e .[bench]`).

"By content alone" means what the content score says, `content_score(notes/<file name>)
>= THRESHOLD`: the decision `decide` makes when no path rule applies.
"""

from __future__ import annotations

import argparse
import importlib
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus import usable_markdown

from checks.config import Settings
from checks.discovery import THRESHOLD, Decision, content_score, decide
from checks.document import normalize_heading

HERE = Path(__file__).resolve().parent
LISTS = HERE / "discovery"
SYNTHETIC = HERE / "synthetic"
DEFAULT_MIRRORS = Path("/work/.mirror")
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus"
NEAR_SIZE = 50 * 1024
NEAR_SIZE_RUNS = 200
FOLDS = 5


@dataclass(frozen=True)
class Sample:
    source: str  # "corpus" or the repository
    path: str  # the path in its repository (or in the corpus)
    kind: str
    text: str
    design: bool

    @property
    def neutral_path(self) -> str:
        return f"notes/{self.path.rsplit('/', 1)[-1]}"

    @property
    def label(self) -> str:
        return f"{self.source}:{self.path}"


@dataclass(frozen=True)
class Judged:
    sample: Sample
    at_path: Decision
    score: int  # content score at the neutral path

    @property
    def by_content(self) -> bool:
        return self.score >= THRESHOLD


# --------------------------------------------------------------------------- loading


def read_list(path: Path) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if number == 0 or not line.strip():
            continue
        repo, commit, file_path, kind = line.split("\t")
        rows.append((repo, commit, file_path, kind))
    return rows


def mirror_of(mirrors: Path, repo: str) -> Path | None:
    folder = mirrors / repo.replace("/", "+")
    for candidate in (folder / "repo", folder):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    return None


def read_blobs(git_dir: Path, specs: Sequence[str]) -> dict[str, str]:
    """`commit:path` -> text, for every spec the mirror holds, in one `git cat-file`."""
    done = subprocess.run(
        ["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
        input="".join(f"{spec}\n" for spec in specs).encode(),
        capture_output=True,
        check=True,
    )
    out = done.stdout
    texts: dict[str, str] = {}
    at = 0
    for spec in specs:
        end = out.index(b"\n", at)
        header = out[at:end].split()
        at = end + 1
        if len(header) != 3 or header[1] != b"blob":
            continue  # "<spec> missing": the commit or the path is not in this mirror
        size = int(header[2])
        texts[spec] = out[at : at + size].decode("utf-8", errors="replace")
        at += size + 1
    return texts


def load_listed(
    list_path: Path, mirrors: Path, design: bool, skipped: set[str], missing: list[str]
) -> list[Sample]:
    by_repo: dict[str, list[tuple[str, str, str]]] = {}
    for repo, commit, file_path, kind in read_list(list_path):
        by_repo.setdefault(repo, []).append((commit, file_path, kind))
    samples: list[Sample] = []
    for repo, rows in sorted(by_repo.items()):
        git_dir = mirror_of(mirrors, repo)
        if git_dir is None:
            skipped.add(repo)
            continue
        texts = read_blobs(git_dir, [f"{commit}:{file_path}" for commit, file_path, _ in rows])
        for commit, file_path, kind in rows:
            text = texts.get(f"{commit}:{file_path}")
            if text is None:
                missing.append(f"{repo}:{file_path}@{commit[:10]}")
                continue
            samples.append(Sample(repo, file_path, kind, text, design))
    return samples


def load_corpus(corpus: Path) -> list[Sample]:
    if not corpus.is_dir():
        return []
    return [
        Sample(
            "corpus",
            path.relative_to(corpus).as_posix(),
            path.relative_to(corpus).parts[0],
            path.read_text(encoding="utf-8", errors="replace"),
            True,
        )
        for path in usable_markdown(corpus)
        # Files at the corpus's root (SOURCES.md) describe it; documents live in folders.
        if len(path.relative_to(corpus).parts) > 1
    ]


def load_synthetic(folder: Path) -> list[Sample]:
    """The synthetic design documents, placed in a neutral `docs/` folder."""
    if not folder.is_dir():
        return []
    return [
        Sample("synthetic", f"docs/{path.name}", "synthetic",
               path.read_text(encoding="utf-8"), True)
        for path in sorted(folder.glob("*.md"))
        if path.name != "README.md"
    ]


# --------------------------------------------------------------------------- figures


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}% ({part}/{whole})" if whole else "    -  (0/0)"


def judge(samples: Iterable[Sample], settings: Settings) -> list[Judged]:
    return [
        Judged(sample, decide(sample.path, sample.text, settings),
               content_score(sample.neutral_path, sample.text))
        for sample in samples
    ]


def print_recall(title: str, judged: Sequence[Judged]) -> None:
    at_path = sum(j.at_path.reviewed for j in judged)
    by_content = sum(j.by_content for j in judged)
    print(f"  {title:<34} at path {share(at_path, len(judged))}   "
          f"by content {share(by_content, len(judged))}")


def print_false_positives(negatives: Sequence[Judged]) -> None:
    kinds = sorted({j.sample.kind for j in negatives})
    for kind in [*kinds, "all"]:
        group = [j for j in negatives if kind in ("all", j.sample.kind)]
        at_path = sum(j.at_path.reviewed for j in group)
        by_content = sum(j.by_content for j in group)
        print(f"  {kind:<16} at path {share(at_path, len(group))}   "
              f"by content {share(by_content, len(group))}")


_BUCKETS: tuple[tuple[str, Callable[[int], bool]], ...] = (
    ("<= -2", lambda s: s <= -2),
    ("-1..0", lambda s: -1 <= s <= 0),
    ("1", lambda s: s == 1),
    ("2", lambda s: s == 2),
    ("3", lambda s: s == 3),
    ("4", lambda s: s == 4),
    ("5", lambda s: s == 5),
    ("6", lambda s: s == 6),
    ("7..8", lambda s: 7 <= s <= 8),
    ("9..12", lambda s: 9 <= s <= 12),
    (">= 13", lambda s: s >= 13),
)


def print_histogram(positives: Sequence[int], negatives: Sequence[int]) -> None:
    print(f"  {'score':>6}  {'positives':>9}  {'negatives':>9}")
    for name, test in _BUCKETS:
        pos = sum(map(test, positives))
        neg = sum(map(test, negatives))
        print(f"  {name:>6}  {pos:>9}  {neg:>9}   {'#' * round(40 * pos / len(positives)):<40}|"
              f"{'#' * round(40 * neg / len(negatives))}")


def print_thresholds(positives: Sequence[int], negatives: Sequence[int]) -> None:
    low, high = min([*positives, *negatives]), max([*positives, *negatives])
    rows = []
    for threshold in range(low, high + 2):
        recall = sum(s >= threshold for s in positives) / len(positives)
        fp = sum(s >= threshold for s in negatives) / len(negatives)
        rows.append((threshold, recall, fp))
    for threshold, recall, fp in rows:
        if -1 <= threshold <= 10:
            mark = "  <- THRESHOLD" if threshold == THRESHOLD else ""
            print(f"  >= {threshold:>3}: recall {100 * recall:5.1f}%  FP {100 * fp:5.1f}%{mark}")
    at_recall = [r for r in rows if r[1] >= 0.99]
    if at_recall:
        best = min(at_recall, key=lambda r: (r[2], -r[0]))
        print(f"  lowest FP at recall >= 99%: threshold {best[0]} "
              f"(recall {100 * best[1]:.1f}%, FP {100 * best[2]:.1f}%)")
    at_fp = [r for r in rows if r[2] <= 0.01]
    if at_fp:
        best = max(at_fp, key=lambda r: (r[1], r[0]))
        print(f"  highest recall at FP <= 1%: threshold {best[0]} "
              f"(recall {100 * best[1]:.1f}%, FP {100 * best[2]:.1f}%)")


def print_timing(samples: Sequence[Sample], settings: Settings) -> None:
    durations: list[float] = []
    for sample in samples:
        start = time.perf_counter()
        decide(sample.neutral_path, sample.text, settings)
        durations.append(time.perf_counter() - start)
    durations.sort()
    p99 = durations[min(len(durations) - 1, int(0.99 * len(durations)))]
    print(f"  per document ({len(durations)}, at neutral paths so the content is scored): "
          f"median {1e3 * statistics.median(durations):.3f} ms, p99 {1e3 * p99:.3f} ms")
    nearest = min(samples, key=lambda s: abs(len(s.text.encode()) - NEAR_SIZE))
    runs: list[float] = []
    for _ in range(NEAR_SIZE_RUNS):
        start = time.perf_counter()
        decide(nearest.neutral_path, nearest.text, settings)
        runs.append(time.perf_counter() - start)
    print(f"  file nearest 50 KB ({nearest.label}, {len(nearest.text.encode()) / 1024:.1f} KB): "
          f"median of {NEAR_SIZE_RUNS} runs {1e3 * statistics.median(runs):.3f} ms")


def print_errors(positives: Sequence[Judged], negatives: Sequence[Judged]) -> None:
    def line(j: Judged, how: str) -> str:
        return f"  score {j.score:>3}  {how:<8} {j.sample.kind:<15} {j.sample.label}"

    print("\ndesign documents missed at their paths:")
    for j in positives:
        if not j.at_path.reviewed:
            print(f"{line(j, 'path')}  [{j.at_path.reason}]")
    print("\ndesign documents missed by content (score < THRESHOLD):")
    for j in sorted(positives, key=lambda j: j.score):
        if not j.by_content:
            print(line(j, "content"))
    print("\nnegatives reviewed at their paths:")
    for j in negatives:
        if j.at_path.reviewed:
            print(f"{line(j, 'path')}  [{j.at_path.reason}]")
    print("\nnegatives that pass by content (score >= THRESHOLD):")
    for j in sorted(negatives, key=lambda j: -j.score):
        if j.by_content:
            print(line(j, "content"))


# --------------------------------------------------------------------------- classifier

_ATX = re.compile(r"[ ]{0,3}#{1,6}[ \t]+(.*)")
_METADATA_KEY = re.compile(
    r"[-*+]?[ \t]{0,4}(?:\*\*)?([A-Za-z][A-Za-z ()/-]{0,30}?)(?:\*\*)?[ \t]*:"
)
_FRONT_KEY = re.compile(r"([A-Za-z][A-Za-z0-9_-]{0,40})[ \t]*:")
_NUMBERED = re.compile(r"(?:\d{3,5}|rfc-?\d{1,5}|adr-?\d{1,5}|kep-?\d{1,5})[-_. ]", re.I)
_VERSION = re.compile(r"\[?v?\d+\.\d+")


def features(sample: Sample) -> dict[str, float]:
    """Heading words and phrases, metadata and front matter keys, a numbered name: the
    kind of evidence the rule reads, with no list of words chosen by hand."""
    found: dict[str, float] = {}
    lines = sample.text[:256 * 1024].split("\n")
    in_front = bool(lines) and lines[0].strip() == "---"
    in_fence = False
    for number, raw in enumerate(lines):
        line = raw.rstrip("\r")
        if in_front:
            if number > 0 and line.strip() in ("---", "..."):
                in_front = False
            elif number > 0 and (key := _FRONT_KEY.match(line)):
                found[f"front:{key.group(1).lower()}"] = 1.0
            continue
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        heading = _ATX.match(line)
        if heading:
            title = heading.group(1).strip().rstrip("#").strip()
            if _VERSION.match(title):
                found["version heading"] = found.get("version heading", 0.0) + 1.0
                continue
            normal = normalize_heading(title[:200])
            found[f"heading:{normal}"] = 1.0
            for word in normal.split():
                found[f"word:{word}"] = 1.0
            found["headings"] = found.get("headings", 0.0) + 1.0
        elif number < 60 and (key := _METADATA_KEY.match(line.lstrip())):
            found[f"meta:{normalize_heading(key.group(1))}"] = 1.0
    if _NUMBERED.match(sample.path.rsplit("/", 1)[-1]):
        found["numbered name"] = 1.0
    for counted in ("version heading", "headings"):
        if counted in found:
            found[counted] = min(found[counted], 20.0) / 20.0
    return found


def compare_classifier(samples: Sequence[Sample], judged: dict[str, Judged]) -> None:
    try:
        linear: Any = importlib.import_module("sklearn.linear_model")
        selection: Any = importlib.import_module("sklearn.model_selection")
        extraction: Any = importlib.import_module("sklearn.feature_extraction")
    except ImportError:
        print("  skipped: scikit-learn is not installed (pip install -e .[bench])")
        return
    labels = [int(s.design) for s in samples]
    matrix = extraction.DictVectorizer().fit_transform([features(s) for s in samples])
    groups = [s.source if s.source != "corpus" else s.kind for s in samples]
    splits: list[tuple[str, Any]] = [
        ("stratified 5-fold", selection.StratifiedKFold(FOLDS, shuffle=True, random_state=0)
         .split(matrix, labels)),
        ("repos held out (5-fold)", selection.GroupKFold(FOLDS)
         .split(matrix, labels, groups)),
    ]
    rule = [judged[s.label].by_content for s in samples]
    rule_error = report_rates("rule (content score >= THRESHOLD)", rule, labels)
    held_out_error = rule_error
    for name, split in splits:
        predicted = [False] * len(samples)
        for train, test in split:
            model = linear.LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
            model.fit(matrix[train], [labels[i] for i in train])
            for index, guess in zip(test, model.predict(matrix[test]), strict=True):
                predicted[int(index)] = bool(guess)
        held_out_error = report_rates(f"logistic regression, {name}", predicted, labels)
    # Documents of one repository share a template, so a random split lets the model
    # learn the template; holding whole repositories out is the fair comparison.
    better = "the rule" if rule_error <= held_out_error else "the classifier"
    print(f"  better on repositories it has not seen (mean of miss rate and FP rate): {better} "
          f"({100 * rule_error:.1f}% vs {100 * held_out_error:.1f}%)")


def report_rates(name: str, predicted: Sequence[bool], labels: Sequence[int]) -> float:
    """Print recall and FP rate; return the mean of the miss rate and the FP rate."""
    positives = sum(labels)
    negatives = len(labels) - positives
    hits = sum(p and bool(y) for p, y in zip(predicted, labels, strict=True))
    false = sum(p and not y for p, y in zip(predicted, labels, strict=True))
    print(f"  {name:<46} recall {share(hits, positives)}   FP {share(false, negatives)}")
    return ((positives - hits) / max(positives, 1) + false / max(negatives, 1)) / 2


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--list-errors", action="store_true")
    parser.add_argument("--no-classifier", action="store_true")
    args = parser.parse_args(argv)

    skipped: set[str] = set()
    missing: list[str] = []
    negatives = load_listed(LISTS / "negatives.tsv", args.mirrors, False, skipped, missing)
    extra = load_listed(LISTS / "positives.tsv", args.mirrors, True, skipped, missing)
    corpus = load_corpus(args.corpus)
    synthetic = load_synthetic(SYNTHETIC)
    if skipped:
        print(f"skipped (no mirror under {args.mirrors}): {', '.join(sorted(skipped))}")
    if missing:
        print(f"skipped (not in the mirror at the listed commit): {len(missing)} files")
    if not negatives or not (extra or corpus or synthetic):
        print("skipped: no negatives or no design documents to measure")
        return 0

    settings = Settings()
    judged_negatives = judge(negatives, settings)
    judged_extra = judge(extra, settings)
    judged_corpus = judge(corpus, settings)
    judged_synthetic = judge(synthetic, settings)
    positives = [*judged_corpus, *judged_extra, *judged_synthetic]
    print(f"{len(negatives)} negatives from {len({s.source for s in negatives})} repositories, "
          f"{len(extra)} extra design documents from {len({s.source for s in extra})}, "
          f"{len(corpus)} usable corpus documents, {len(synthetic)} synthetic documents; "
          f"THRESHOLD = {THRESHOLD}")

    print("\nrecall on design documents")
    print_recall("(a,b) shared corpus", judged_corpus)
    for family in sorted({j.sample.kind for j in judged_corpus}):
        print_recall(f"      {family}", [j for j in judged_corpus if j.sample.kind == family])
    print_recall("(c,d) extra positives", judged_extra)
    for source in sorted({j.sample.source for j in judged_extra}):
        print_recall(f"      {source}", [j for j in judged_extra if j.sample.source == source])
    print_recall("(e,f) synthetic", judged_synthetic)

    print("\nfalse-positive rate on negatives")
    print_false_positives(judged_negatives)

    positive_scores = [j.score for j in positives]
    negative_scores = [j.score for j in judged_negatives]
    print("\ncontent score (at neutral paths): positives | negatives, bars scaled per side")
    print_histogram(positive_scores, negative_scores)
    print("\nthresholds by content (all positives, all negatives)")
    print_thresholds(positive_scores, negative_scores)

    print("\ndecision time")
    print_timing([*negatives, *extra, *corpus, *synthetic], settings)

    if not args.no_classifier:
        print("\nrule vs a trained classifier, by content, all positives and negatives")
        every = [*positives, *judged_negatives]
        compare_classifier([j.sample for j in every], {j.sample.label: j for j in every})

    if args.list_errors:
        print_errors(positives, judged_negatives)
    return 0


if __name__ == "__main__":
    sys.exit(main())
