"""bench/labelset.py: both label formats load, and every kind of mistake is named.

The fixture corpus and document are written here; the real corpus is consulted only
for the name of one reserved document, never for its content.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
REAL_CORPUS = BENCH.parent.parent / "shared" / "corpus"

if str(BENCH) not in sys.path:  # bench scripts import their siblings by bare name
    sys.path.insert(0, str(BENCH))
labelset: ModuleType = importlib.import_module("labelset")
corpus_module: ModuleType = importlib.import_module("corpus")

DOCUMENT = """\
# Faster widget search

## Motivation

Finding a widget takes three clicks and a scroll; support counts 40 tickets a month.

## Goals

- Search returns results in real time for all users.

## Alternatives

Doing nothing keeps the ticket load.
"""
DOC_PATH = "rust-rfcs/0001-widget-search.md"
LINES = len(DOCUMENT.splitlines())


def _reserved_name() -> str:
    """A document the real corpus reserves (by name only), else a stand-in name."""
    names = sorted(corpus_module.reserved(REAL_CORPUS)) if REAL_CORPUS.is_dir() else []
    for name in names:
        if name.startswith("rust-rfcs/") and name.count("/") == 1:
            return str(name)
    return "rust-rfcs/9999-reserved-stand-in.md"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "rust-rfcs").mkdir(parents=True)
    (root / DOC_PATH).write_text(DOCUMENT, encoding="utf-8")
    (root / "RESERVED.md").write_text(f"# Reserved\n\n{_reserved_name()}\n", encoding="utf-8")
    return root


def _v2(status: str = "present", kind: str = "absolute-requirement", line: int = 5) -> str:
    dims = {key: "{status: missing, lines: [], why: ''}" for key in labelset.DIMENSIONS}
    dims["problem"] = f"{{status: {status}, lines: [{line}], why: 'three clicks'}}"
    dims["evidence"] = "{status: present, lines: [5], why: '40 tickets a month'}"
    dims["alternatives"] = "{status: present, lines: [13], why: 'doing nothing'}"
    body = "\n".join(f"  {key}: {value}" for key, value in dims.items())
    return (
        f"path: {DOC_PATH}\nformat: 2\nlabeller: B\ncategory: product\nnotes: 'fixture'\n"
        f"dimensions:\n{body}\n"
        f"antipatterns: [{{line: 9, kind: {kind}, why: 'real time for all users'}}]\n"
        "near_misses: []\n"
    )


V1 = f"""\
path: {DOC_PATH}
category: product
labeller_notes: "fixture"
dimensions:
  problem: {{status: present, line: 5, why: "three clicks"}}
  metrics: {{status: missing, line: null, why: ""}}
"""


def _write(labels: Path, text: str, name: str = "0001-widget-search.yaml") -> Path:
    folder = labels / "rust-rfcs"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_text(text, encoding="utf-8")
    return target


def _load(corpus: Path, labels: Path, source: Path) -> object:
    return labelset.load_label(source, corpus, labels_root=labels)


def test_a_v1_label_loads_with_its_one_line_and_no_antipatterns(
    corpus: Path, tmp_path: Path
) -> None:
    labels = tmp_path / "labels"
    label = _load(corpus, labels, _write(labels, V1))
    assert label.format == 1 and label.labeller is None and not label.second
    assert label.dimensions["problem"].lines == (5,)
    assert label.dimensions["metrics"].lines == ()
    assert set(label.dimensions) == {"problem", "metrics"}
    assert label.antipatterns is None and label.near_misses is None  # not labelled
    assert label.category == "product"


def test_a_v2_label_loads_every_field(corpus: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels"
    label = _load(corpus, labels, _write(labels, _v2()))
    assert label.format == 2 and label.labeller == "B" and label.notes == "fixture"
    assert list(label.dimensions) == list(labelset.DIMENSIONS)
    assert label.dimensions["alternatives"].lines == (13,)
    assert [(a.line, a.kind) for a in label.antipatterns] == [(9, "absolute-requirement")]
    assert label.near_misses == ()


def test_a_second_labellers_file_is_told_apart(corpus: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels"
    _write(labels, _v2())
    _write(labels, _v2(), name="0001-widget-search.B.yaml")
    loaded, errors = labelset.load_labels(labels, corpus)
    assert errors == []
    assert sorted(label.second for label in loaded) == [False, True]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_v2(status="strong"), "status 'strong' is not one of present|weak|missing"),
        (_v2(kind="vague-goal"), "kind 'vague-goal' is not a line check"),
        (_v2(line=LINES + 1), f"line {LINES + 1} is outside the document (1..{LINES})"),
        (_v2(status="missing"), "a missing dimension has no lines"),
        (_v2().replace("category: product", "category: marketing"), "category 'marketing'"),
        (_v2().replace("format: 2", "format: 3"), "format 3 is not 1 or 2"),
        (_v2() + "reviewed: yes\n", "unknown key(s) reviewed"),
        (V1.replace("problem:", "novelty:"), "dimensions.novelty: unknown dimension"),
    ],
)
def test_a_mistake_gives_a_clear_error(
    corpus: Path, tmp_path: Path, text: str, message: str
) -> None:
    labels = tmp_path / "labels"
    with pytest.raises(labelset.LabelError) as caught:
        _load(corpus, labels, _write(labels, text))
    assert message in str(caught.value)
    assert "0001-widget-search.yaml" in str(caught.value)  # names the file to fix


def test_a_label_in_the_wrong_file_is_refused(corpus: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels"
    with pytest.raises(labelset.LabelError) as caught:
        _load(corpus, labels, _write(labels, _v2(), name="widget.yaml"))
    assert "must be named 0001-widget-search.yaml" in str(caught.value)


def test_a_reserved_document_is_refused_before_it_is_read(
    corpus: Path, tmp_path: Path
) -> None:
    labels = tmp_path / "labels"
    reserved = _reserved_name()
    stem = reserved.split("/")[1].removesuffix(".md")
    source = _write(labels, _v2().replace(DOC_PATH, reserved), name=f"{stem}.yaml")
    # The fixture corpus does not hold the document: refusal comes first.
    with pytest.raises(labelset.ReservedLabel, match="reserved for independent measurement"):
        _load(corpus, labels, source)
    loaded, errors = labelset.load_labels(labels, corpus)
    assert loaded == [] and len(errors) == 1


def _eligible(*sizes: int) -> dict[str, list[str]]:
    """Made-up eligible documents, `sizes` per family in FAMILIES order."""
    return {
        family: [f"{family}/{number:04d}-doc.md" for number in range(size)]
        for family, size in zip(labelset.FAMILIES, sizes, strict=True)
    }


def test_the_assignment_is_deterministic_and_balanced() -> None:
    eligible = _eligible(30, 60, 600, 500, 450)
    eligible["rust-rfcs"] += [a for a in labelset.ANCHORS if a.startswith("rust-rfcs/")]
    both = labelset.choose_assignments(eligible)
    assert both == labelset.choose_assignments(eligible)
    first = [a for a in both if a.labeller in labelset.LABELLERS]
    assert len(first) == labelset.TARGET_TOTAL
    families = [a.path.split("/")[0] for a in first]
    assert families.count("dotnet-designs") == 30  # fewer than the minimum: all of them
    assert families.count("go-proposals") >= labelset.MIN_PER_FAMILY
    counts = [sum(a.labeller == who for a in first) for who in labelset.LABELLERS]
    assert max(counts) - min(counts) <= 1
    doubled = [a for a in first if a.second]
    assert len(doubled) == 5 * labelset.DOUBLE_PER_FAMILY
    assert all(a.second != a.labeller for a in doubled)
    assert all(a in {b.path for b in first} for a in labelset.ANCHORS if a.startswith("rust-"))


def test_each_later_wave_draws_from_what_the_waves_before_it_left() -> None:
    eligible = _eligible(160, 200, 600, 500, 450)
    assignments = labelset.choose_assignments(eligible)
    taken = {a.path for a in assignments if a.labeller in labelset.LABELLERS}
    waves_total = len(taken)
    for wave in labelset.LATER_WAVES:
        drawn = [a for a in assignments if a.labeller in wave.labellers]
        waves_total += len(drawn)
        assert len(drawn) == wave.total
        assert not taken & {a.path for a in drawn}
        rechecking = {r.second for r in labelset.RECHECKS}
        assert all(a.second in rechecking | {""} for a in drawn)
        families = [a.path.split("/")[0] for a in drawn]
        assert min(families.count(f) for f in labelset.FAMILIES) >= wave.min_per_family
        counts = [sum(a.labeller == who for a in drawn) for who in wave.labellers]
        assert max(counts) - min(counts) <= 1
        taken |= {a.path for a in drawn}
    assert waves_total == len(assignments)


def test_a_recheck_only_adds_second_labellers(monkeypatch: pytest.MonkeyPatch) -> None:
    eligible = _eligible(80, 120, 600, 500, 450)
    rechecked = labelset.choose_assignments(eligible)
    rechecks = labelset.RECHECKS
    assert rechecks
    monkeypatch.setattr(labelset, "RECHECKS", ())
    plain = labelset.choose_assignments(eligible)
    assert [(a.path, a.labeller) for a in rechecked] == [(a.path, a.labeller) for a in plain]
    changed = [(a, b) for a, b in zip(rechecked, plain, strict=True) if a != b]
    assert all(b.second == "" for _, b in changed)  # none was labelled twice before
    for recheck in rechecks:
        mine = [a for a, _ in changed if a.second == recheck.second]
        for labeller in recheck.of:
            assert sum(a.labeller == labeller for a in mine) == recheck.per_labeller
    assert len(changed) == sum(len(r.of) * r.per_labeller for r in rechecks)


def test_a_family_with_fewer_left_than_its_minimum_gives_all_it_has() -> None:
    eligible = _eligible(50, 60, 600, 500, 450)
    assignments = labelset.choose_assignments(eligible)
    wave_two, wave_three = labelset.LATER_WAVES[:2]
    dotnet = [a for a in assignments if a.path.startswith("dotnet-designs/")]
    # 35 in the first wave leave 15: the second takes them all, the third finds none
    assert sum(a.labeller in wave_two.labellers for a in dotnet) == 15
    assert sum(a.labeller in wave_three.labellers for a in dotnet) == 0
    assert len(dotnet) == 50
