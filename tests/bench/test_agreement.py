"""bench/agreement.py: kappa and agreement on tiny label pairs with hand-computed values.

The corpus, documents and labels are written here; the real corpus is never read.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:  # bench scripts import their siblings by bare name
    sys.path.insert(0, str(BENCH))
agreement: ModuleType = importlib.import_module("agreement")

P, W, M = "present", "weak", "missing"
DIMENSIONS = (
    "problem",
    "users",
    "why_now",
    "metrics",
    "evidence",
    "alternatives",
    "non_goals",
    "incremental",
    "risks",
)
DOCUMENT = "\n".join(f"Line {number} of a small design document." for number in range(1, 13))
RESERVED = "rust-rfcs/0003-reserved-stand-in.md"


# --- the measures on their own ---------------------------------------------------------


def test_kappa_is_one_for_perfect_agreement() -> None:
    pairs = [(P, P), (W, W), (M, M), (P, P)]
    assert agreement.cohen_kappa(pairs) == pytest.approx(1.0)
    assert agreement.exact_agreement(pairs) == pytest.approx(1.0)


def test_kappa_matches_a_hand_computed_case() -> None:
    # observed 7/10; marginals P 4/4, W 3/3, M 3/3 give chance (16 + 9 + 9) / 100 = 0.34;
    # kappa = (0.70 - 0.34) / (1 - 0.34) = 6/11
    pairs = [(P, P)] * 3 + [(P, W), (W, W), (W, W), (W, M), (M, M), (M, M), (M, P)]
    assert agreement.exact_agreement(pairs) == pytest.approx(0.7)
    assert agreement.cohen_kappa(pairs) == pytest.approx(6 / 11)


def test_kappa_is_zero_at_chance_level() -> None:
    assert agreement.cohen_kappa([(P, P), (P, W), (W, P), (W, W)]) == pytest.approx(0.0)


def test_kappa_is_undefined_without_variation_or_pairs() -> None:
    assert agreement.cohen_kappa([(P, P), (P, P)]) is None
    assert agreement.cohen_kappa([]) is None


def test_gap_f1_counts_weak_and_missing_as_the_gap_class() -> None:
    # gaps: first rater 3 (W, M, W), second 2 (M, W); both on two documents: 2·2 / (3 + 2)
    pairs = [(W, M), (M, W), (W, P), (P, P)]
    assert agreement.gap_f1(pairs) == pytest.approx(4 / 5)
    assert agreement.gap_f1([(a, b) for b, a in pairs]) == pytest.approx(4 / 5)
    assert agreement.gap_f1([(P, P), (P, P)]) is None  # no gap on either side
    assert agreement.gap_f1([(W, P), (P, M)]) == pytest.approx(0.0)
    assert agreement.exact_agreement([]) is None


def test_occurrences_match_by_kind_within_one_line() -> None:
    primary = [(10, "placeholder"), (20, "unquantified-goal")]
    assert agreement.matched_occurrences(primary, [(11, "placeholder")]) == 1
    assert agreement.matched_occurrences(primary, [(12, "placeholder")]) == 0
    assert agreement.matched_occurrences(primary, [(20, "placeholder")]) == 0
    # one-to-one: two second occurrences cannot both take the same primary one
    around = [(9, "placeholder"), (11, "placeholder")]
    assert agreement.matched_occurrences([(10, "placeholder")], around) == 1


def test_occurrences_use_the_largest_matching() -> None:
    # nearest-first would pair 11 with 11 and leave 10 and 12 apart; 10-11 and 11-12 is better
    primary = [(10, "placeholder"), (11, "placeholder")]
    second = [(11, "placeholder"), (12, "placeholder")]
    assert agreement.matched_occurrences(primary, second) == 2


# --- from label files to the report ----------------------------------------------------


def _label(
    path: str,
    labeller: str,
    category: str,
    statuses: dict[str, str],
    antipatterns: list[tuple[int, str]],
) -> str:
    lines = [
        f"path: {path}",
        "format: 2",
        f"labeller: {labeller}",
        f"category: {category}",
        'notes: ""',
        "dimensions:",
    ]
    for dimension in DIMENSIONS:
        status = statuses.get(dimension, P)
        where = "[]" if status == M else "[2]"
        lines.append(f'  {dimension}: {{status: {status}, lines: {where}, why: "x"}}')
    if antipatterns:
        lines.append("antipatterns:")
        lines += [f'  - {{line: {line}, kind: {kind}, why: "x"}}' for line, kind in antipatterns]
    else:
        lines.append("antipatterns: []")
    lines.append("near_misses: []")
    return "\n".join(lines) + "\n"


def _write(labels: Path, path: str, text: str, letter: str = "") -> Path:
    family, name = path.split("/")
    target = labels / family / (name[: -len(".md")] + (f".{letter}" if letter else "") + ".yaml")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


DOC_ONE = "rust-rfcs/0001-one.md"
DOC_TWO = "rust-rfcs/0002-two.md"
DOC_ONCE = "rust-rfcs/0004-once.md"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "rust-rfcs").mkdir(parents=True)
    for path in (DOC_ONE, DOC_TWO, DOC_ONCE):
        (root / path).write_text(DOCUMENT, encoding="utf-8")
    (root / "RESERVED.md").write_text(f"# Reserved\n\n{RESERVED}\n", encoding="utf-8")
    return root


@pytest.fixture
def labels(tmp_path: Path) -> Path:
    root = tmp_path / "labels"
    _write(
        root,
        DOC_ONE,
        _label(
            DOC_ONE, "A", "platform", {"metrics": M}, [(3, "unquantified-goal"), (5, "placeholder")]
        ),
    )
    _write(
        root,
        DOC_ONE,
        _label(
            DOC_ONE, "B", "platform", {"metrics": M}, [(4, "unquantified-goal"), (7, "placeholder")]
        ),
        "B",
    )
    _write(root, DOC_TWO, _label(DOC_TWO, "C", "product", {"problem": W, "users": M}, []))
    _write(
        root,
        DOC_TWO,
        _label(
            DOC_TWO, "D", "stabilization", {"problem": M, "users": M}, [(2, "unsupported-demand")]
        ),
        "D",
    )
    # a document labelled once takes no part
    _write(root, DOC_ONCE, _label(DOC_ONCE, "E", "research", {"risks": M}, [(1, "placeholder")]))
    return root


def _report(labels: Path, corpus: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert agreement.main(["--json", "--labels", str(labels), "--corpus", str(corpus)]) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


def _row(rows: object, key: str, value: str) -> dict[str, object]:
    assert isinstance(rows, list)
    found = [row for row in rows if row[key] == value]
    assert len(found) == 1
    return dict(found[0])


def test_report_compares_the_first_pass_with_the_second_labels(
    labels: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert agreement.main(["--snapshot", "--labels", str(labels), "--corpus", str(corpus)]) == 0
    capsys.readouterr()
    snapshot = (labels / agreement.SNAPSHOT_FILE).read_text(encoding="utf-8").splitlines()
    assert snapshot[0].split("\t") == ["path", "labeller", "field", "value"]
    assert f"{DOC_ONE}\tA\tantipatterns\t3:unquantified-goal,5:placeholder" in snapshot
    assert not any(row.startswith(DOC_ONCE) for row in snapshot)
    assert len(snapshot) == 1 + 2 * 11  # header, then category, nine statuses, anti-patterns
    result = _report(labels, corpus, capsys)
    assert result["pairs"] == 2
    problem = _row(result["dimensions"], "dimension", "problem")
    # (present, present) and (weak, missing): exact 1/2, both gaps on doc two, and
    # chance 1/4 from the marginals, so kappa (1/2 - 1/4) / (3/4) = 1/3
    assert problem["exact"] == pytest.approx(0.5)
    assert problem["gap"] == pytest.approx(1.0)
    assert problem["kappa"] == pytest.approx(1 / 3)
    assert problem["differing"] == 1
    users = _row(result["dimensions"], "dimension", "users")
    assert users["kappa"] == pytest.approx(1.0)
    risks = _row(result["dimensions"], "dimension", "risks")
    assert risks["exact"] == pytest.approx(1.0)
    assert risks["kappa"] is None  # both raters said present everywhere
    assert problem["gap_f1"] == pytest.approx(1.0)  # the one gap, seen by both
    assert risks["gap_f1"] is None
    defined = [
        row["gap_f1"]
        for row in result["dimensions"]
        if row["dimension"] != "all" and row["gap_f1"] is not None
    ]
    assert result["macro_gap_f1"] == pytest.approx(sum(defined) / len(defined))
    pooled = _row(result["dimensions"], "dimension", "all")
    assert pooled["documents"] == 18
    assert pooled["differing"] == 1
    category = result["category"]
    assert isinstance(category, dict)
    assert category["exact"] == pytest.approx(0.5)
    everything = _row(result["antipatterns"], "kind", "all")
    assert (everything["primary"], everything["second"], everything["matched"]) == (2, 3, 1)
    assert everything["precision"] == pytest.approx(1 / 3)
    assert everything["recall"] == pytest.approx(1 / 2)
    assert everything["documents_differing"] == 2
    goals = _row(result["antipatterns"], "kind", "unquantified-goal")
    assert (goals["precision"], goals["recall"]) == (1.0, 1.0)
    demand = _row(result["antipatterns"], "kind", "unsupported-demand")
    assert demand["recall"] is None
    assert demand["precision"] == pytest.approx(0.0)


def test_adjudication_does_not_change_the_report(
    labels: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert agreement.main(["--snapshot", "--labels", str(labels), "--corpus", str(corpus)]) == 0
    capsys.readouterr()
    before = _report(labels, corpus, capsys)
    # the primary label is settled to the second's reading after the snapshot
    _write(
        labels,
        DOC_TWO,
        _label(
            DOC_TWO, "C", "stabilization", {"problem": M, "users": M}, [(2, "unsupported-demand")]
        ),
    )
    assert _report(labels, corpus, capsys) == before


def test_the_report_can_keep_one_labellers_second_labels(
    labels: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert agreement.main(["--snapshot", "--labels", str(labels), "--corpus", str(corpus)]) == 0
    capsys.readouterr()
    arguments = ["--json", "--second", "D", "--labels", str(labels), "--corpus", str(corpus)]
    assert agreement.main(arguments) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pairs"] == 1  # DOC_TWO's second label is D's; DOC_ONE's is B's
    assert _row(result["dimensions"], "dimension", "problem")["exact"] == 0.0
    assert agreement.main([*arguments[:2], "Q", *arguments[3:]]) == 1
    assert "no second label by Q" in capsys.readouterr().err
    # names are comma-separated, and a name may be longer than a letter
    assert agreement.main([*arguments[:2], "B, D", *arguments[3:]]) == 0
    assert json.loads(capsys.readouterr().out)["pairs"] == 2
    assert agreement.main([*arguments[:2], "BD", *arguments[3:]]) == 1
    assert "no second label by BD" in capsys.readouterr().err


def test_the_snapshot_freezes_each_document_once(
    labels: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["--snapshot", "--labels", str(labels), "--corpus", str(corpus)]
    assert agreement.main(arguments) == 0
    frozen = (labels / agreement.SNAPSHOT_FILE).read_text(encoding="utf-8")
    # a primary settled after the snapshot is not frozen again
    _write(labels, DOC_TWO, _label(DOC_TWO, "C", "stabilization", {"problem": M}, []))
    assert agreement.main(arguments) == 0
    assert "0 more documents frozen" in capsys.readouterr().out
    assert (labels / agreement.SNAPSHOT_FILE).read_text(encoding="utf-8") == frozen
    # a document labelled twice later is frozen by the next run, after the rows before
    _write(labels, DOC_ONCE, _label(DOC_ONCE, "F", "research", {"risks": W}, []), "F")
    assert agreement.main(arguments) == 0
    assert "1 more documents frozen" in capsys.readouterr().out
    grown = (labels / agreement.SNAPSHOT_FILE).read_text(encoding="utf-8")
    assert grown.startswith(frozen)
    assert f"{DOC_ONCE}\tE\trisks\tmissing" in grown.removeprefix(frozen)


def test_the_report_needs_the_snapshot(
    labels: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert agreement.main(["--labels", str(labels), "--corpus", str(corpus)]) == 1
    assert "--snapshot" in capsys.readouterr().err


def test_the_table_names_every_dimension(
    labels: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert agreement.main(["--snapshot", "--labels", str(labels), "--corpus", str(corpus)]) == 0
    capsys.readouterr()
    assert agreement.main(["--labels", str(labels), "--corpus", str(corpus)]) == 0
    table = capsys.readouterr().out
    for name in (*DIMENSIONS, "all", "category:", "placeholder"):
        assert name in table


def test_a_reserved_document_is_refused(
    labels: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(labels, RESERVED, _label(RESERVED, "A", "platform", {}, []))
    assert agreement.main(["--snapshot", "--labels", str(labels), "--corpus", str(corpus)]) == 1
    assert "reserved" in capsys.readouterr().err
    assert not (labels / agreement.SNAPSHOT_FILE).exists()
    snapshot = labels / agreement.SNAPSHOT_FILE
    snapshot.write_text(
        f"path\tlabeller\tfield\tvalue\n{RESERVED}\tA\tcategory\tplatform\n", encoding="utf-8"
    )
    with pytest.raises(agreement.SnapshotError, match="reserved"):
        agreement.read_snapshot(snapshot, corpus)
