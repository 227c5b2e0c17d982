"""The learned layer: shared hashing, byte-for-byte training, hollow sections, model files."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from checks import ReviewOptions, Status, review_document
from checks.document import Block, parse
from checks.enums import Category
from checks.learned import (
    DECISION_FEATURES,
    FEATURE_BITS,
    LearnedModel,
    LineModel,
    LineUnit,
    decision_features,
    document_view,
    feature_index,
    line_units,
    may_be_kind,
    shipped_model,
    text_features,
)
from localreview.config import load_settings_file
from localreview.main import main
from localreview.training import LabelFileError, model_bytes, read_labels, train_model

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "learned"
CHECKOUT = Path(__file__).resolve().parents[2]
CORPUS = CHECKOUT.parent / "shared" / "corpus"
SHIPPED = CHECKOUT / "checks" / "model.json"
# sha256 of the model trained on the four fixture documents (their second label left out;
# one anti-pattern label, so the line part is trained too).
FIXTURE_MODEL_SHA256 = "a79b82a5b634463d4f13d1d00ef290cd9b99cb0ed373cc5ae1f0621424f1c323"

needs_sklearn = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None, reason="training needs scikit-learn"
)


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("users",), 9705),
        (("users", "want"), 14569),
        (("§h", "risks"), 31792),
    ],
)
def test_feature_index_is_fixed(parts: tuple[str, ...], expected: int) -> None:
    assert feature_index(parts) == expected
    assert 0 <= feature_index(parts) < 1 << FEATURE_BITS


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        (["cut", "p95"], [feature_index(("cut",)), feature_index(("#num",)),
                          feature_index(("cut", "#num"))]),
        (["to", "40%", "."], [feature_index(("to",)), feature_index(("#pct",)),
                              feature_index(("to", "#pct"))]),
        ([".", ";"], []),
    ],
)
def test_text_features_are_words_and_pairs(tokens: list[str], expected: list[int]) -> None:
    assert text_features(tokens) == expected


@needs_sklearn
def test_training_reproduces_the_fixture_model_byte_for_byte(tmp_path: Path) -> None:
    documents = read_labels(FIXTURES / "labels", tmp_path, FIXTURES)
    assert [d.path for d in documents] == [
        "synthetic/a-search-filters.md",
        "synthetic/b-cache-rewrite.md",
        "synthetic/c-audit-export.md",
        "synthetic/d-faster-builds.md",
    ]
    data = model_bytes(train_model(documents))
    assert hashlib.sha256(data).hexdigest() == FIXTURE_MODEL_SHA256
    LearnedModel.from_json(json.loads(data))  # and it loads


@needs_sklearn
@pytest.mark.skipif(not CORPUS.is_dir(), reason="the corpus lives beside the checkout")
def test_the_shipped_model_is_reproduced_from_the_committed_labels(tmp_path: Path) -> None:
    target = tmp_path / "model.json"
    code = main(["train", str(CHECKOUT / "bench" / "labels"), "--corpus", str(CORPUS),
                 "-o", str(target)])
    assert code == 0
    assert target.read_bytes() == SHIPPED.read_bytes()


@needs_sklearn
def test_block_fits_in_worker_processes_equal_the_serial_fits() -> None:
    from localreview import training

    rows = [[1, 5, 9], [2, 5], [1, 9, 30], [7], [2, 7, 30], [1, 5], [9, 30], [2]]
    matrix = training._matrix(rows)
    jobs: list[tuple[list[int] | None, list[int]]] = [
        (None, [1, 0, 1, 0, 0, 1, 1, 0]),
        ([0, 1, 2, 3, 4, 5], [1, 0, 1, 0, 0, 1]),
        ([2, 3, 4, 5, 6, 7], [1, 1, 0, 0, 1, 0]),
        (None, [0, 0, 0, 0, 0, 0, 0, 0]),  # one class: a constant scorer
    ]
    serial = training._fit_all_blocks(matrix, jobs, workers=1)
    pooled = training._fit_all_blocks(matrix, jobs, workers=2)
    assert [(s.weights, s.intercept) for s in pooled] == [(s.weights, s.intercept) for s in serial]
    assert serial[0].weights != serial[1].weights  # the jobs really differ
    assert set(serial[3].weights) == {0.0} and serial[3].intercept < 0


def openblas_in_this_process() -> list[tuple[str, int]]:
    """(kernel set, threads) of each OpenBLAS that NumPy, SciPy and scikit-learn load."""
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import threadpoolctl

    return [
        (str(info.get("architecture")), int(info["num_threads"]))
        for info in threadpoolctl.threadpool_info()
        if info["internal_api"] == "openblas"
    ]


@needs_sklearn
def test_fits_run_where_blas_kernels_are_pinned_whatever_this_machine_is() -> None:
    """Kernels round differently: the same labels give the same bytes only where
    every fit uses one kernel set and one thread, whatever the CPU offers."""
    import os
    import platform
    import subprocess
    import sys

    from localreview import training

    kernels = training.PINNED_KERNELS.get(platform.machine().lower())
    if kernels is None:
        pytest.skip(f"no kernel set is pinned on {platform.machine()}")
    names = ["OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS"]
    here = [os.environ.get(name) for name in names]
    (in_worker,) = training._in_pinned_workers([(openblas_in_this_process, ())], workers=1)
    # What a process started with those kernels forced by hand runs with.
    forced = subprocess.run(
        [sys.executable, "-c", "from tests.checks.test_learned import openblas_in_this_process"
         " as f; print(f())"],
        env={**os.environ, "OPENBLAS_CORETYPE": kernels, "OPENBLAS_NUM_THREADS": "1"},
        cwd=CHECKOUT, capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert in_worker and all(threads == 1 for _, threads in in_worker)
    assert repr(in_worker) == forced
    assert [os.environ.get(name) for name in names] == here  # this process's, as it was


def test_training_with_a_config_reads_documents_as_its_reviews_do(tmp_path: Path) -> None:
    config = tmp_path / "product-review.yml"
    # "Design" heads no dimension by default; here it heads alternatives.
    config.write_text("aliases:\n  alternatives: [design]\n", encoding="utf-8")
    target = tmp_path / "model.json"
    args = ["train", str(FIXTURES / "labels"), "--corpus", str(FIXTURES), "-o", str(target)]
    assert main([*args, "--config", str(config)]) == 0
    documents = read_labels(FIXTURES / "labels", tmp_path, FIXTURES)
    settings = load_settings_file(str(config))
    assert target.read_bytes() == model_bytes(train_model(documents, settings.options_for))
    assert target.read_bytes() != model_bytes(train_model(documents))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("aliases:\n  alternativs: [design]\n", "alternativs"),
        (None, "config file not found"),
    ],
)
def test_training_stops_on_a_config_it_cannot_use_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str | None, message: str
) -> None:
    path = tmp_path / "product-review.yml"
    if config is not None:
        path.write_text(config, encoding="utf-8")
    target = tmp_path / "model.json"
    code = main(["train", str(FIXTURES / "labels"), "--corpus", str(FIXTURES),
                 "--config", str(path), "-o", str(target)])
    assert code == 2 and not target.exists()
    assert message in capsys.readouterr().err


def test_a_label_on_a_reserved_document_is_refused(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    labels = tmp_path / "labels" / "rust-rfcs"
    labels.mkdir(parents=True)
    corpus.mkdir()
    (corpus / "RESERVED.md").write_text("rust-rfcs/0001-kept.md\n", encoding="utf-8")
    (labels / "0001-kept.yaml").write_text("path: rust-rfcs/0001-kept.md\n", encoding="utf-8")
    with pytest.raises(LabelFileError, match="reserved"):
        read_labels(tmp_path / "labels", corpus, tmp_path)


PLACED = (
    "# Cache\n\nWe cache tokens.\n\n## Alternatives\n\nA proxy was weighed and rejected.\n\n"
    "It costs a hop.\n\n## Plan\n\nShip it behind a flag.\n"
)


@pytest.mark.parametrize(
    ("scores", "key", "expected"),
    [
        # blocks: "We cache", the two under Alternatives, "Ship it"
        ([0.5, 2.0, -1.0, 3.0], "alternatives",
         {"alias_max_score": 2.0, "other_max_score": 3.0, "second_score": 2.0,
          "alias_block": 1.0, "max_score": 3.0}),
        ([0.5, 2.0, -1.0, 3.0], "risks",  # no Risks heading: every block is elsewhere
         {"alias_max_score": -8.0, "other_max_score": 3.0, "alias_block": 0.0}),
        ([0.0, 0.0, 0.0, 0.0], "alternatives",  # four blocks at probability one half
         {"expected_blocks": pytest.approx(1.0986, abs=1e-4)}),
    ],
)
def test_decision_inputs_say_where_the_best_evidence_sits(
    scores: list[float], key: str, expected: dict[str, float]
) -> None:
    view = document_view(parse(PLACED))
    assert [b.text.split()[0] for b in view.blocks] == ["We", "A", "It", "Ship"]
    inputs = dict(zip(DECISION_FEATURES, decision_features(
        view, scores, Status.MISSING, key, Category.PLATFORM), strict=True))
    for name, value in expected.items():
        assert inputs[name] == value, name


NESTED = (
    "# Cache\n\nWe cache tokens.\n\n## Alternatives\n\n### A proxy\n\nWeighed and rejected.\n\n"
    "## Plan\n\nShip it behind a flag.\n"
)


def test_a_subsection_of_the_dimensions_heading_counts_as_under_it() -> None:
    view = document_view(parse(NESTED))
    assert [b.text.split()[0] for b in view.blocks] == ["We", "Weighed", "Ship"]
    assert view.alias_blocks["alternatives"] == {1}
    inputs = dict(zip(DECISION_FEATURES, decision_features(
        view, [0.5, 2.0, 3.0], Status.MISSING, "alternatives", Category.PLATFORM), strict=True))
    assert inputs["alias_max_score"] == 2.0 and inputs["other_max_score"] == 3.0


@pytest.mark.parametrize("category", list(Category))
def test_decision_inputs_name_the_prior_category_once(category: Category) -> None:
    view = document_view(parse(PLACED))
    inputs = dict(zip(DECISION_FEATURES, decision_features(
        view, [0.0] * 4, Status.PRESENT, "problem", category), strict=True))
    marked = [name for name, value in inputs.items() if name.startswith("category_") and value]
    assert marked == [f"category_{category.value}"]


def test_decision_inputs_of_a_document_without_prose() -> None:
    view = document_view(parse("# Title\n"))
    inputs = dict(zip(DECISION_FEATURES, decision_features(
        view, [], Status.MISSING, "problem", Category.PRODUCT), strict=True))
    assert inputs["max_score"] == inputs["second_score"] == inputs["alias_max_score"] == -8.0
    assert inputs["expected_blocks"] == 0.0 and inputs["best_words"] == 0.0


HOLLOW = "# Cache\n\n## Alternatives\n\nNone.\n\n## Drawbacks\n\nTBD\n"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (HOLLOW, "alternatives"),
        (HOLLOW, "risks"),
        ((FIXTURES / "synthetic" / "b-cache-rewrite.md").read_text(encoding="utf-8"),
         "alternatives"),
    ],
)
def test_a_hollow_section_is_never_evidence(text: str, key: str) -> None:
    view = document_view(parse(text))
    hollow_lines = {view.blocks[i].line for i in view.hollow}
    assert hollow_lines  # the hollow sections were found
    report = review_document(text, "x.md", ReviewOptions(model=shipped_model()))
    assert report.dimension(key).status is not Status.PRESENT


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("---\ncategory: research\n---\n# Spike\n\nWe build a library for engineers.\n",
         "research"),  # front matter wins over the model
    ],
)
def test_front_matter_category_wins_over_the_model(text: str, category: str) -> None:
    report = review_document(text, "x.md", ReviewOptions(model=shipped_model()))
    assert report.category.value == category


def test_the_model_is_deterministic() -> None:
    text = (FIXTURES / "synthetic" / "d-faster-builds.md").read_text(encoding="utf-8")
    options = ReviewOptions(model=LearnedModel.from_json(json.loads(SHIPPED.read_text())))
    first = review_document(text, "x.md", options)
    assert review_document(text, "x.md", ReviewOptions(model=shipped_model())) == first


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"format": 99}, "format"),
        ({"format": 1, "feature_bits": 3}, "feature_bits"),
        ({"format": 1, "feature_bits": FEATURE_BITS, "decision_features": ["x"]}, "decision"),
    ],
)
def test_a_model_of_another_version_is_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LearnedModel.from_json(data)


@pytest.mark.parametrize(
    ("flags", "code"),
    [
        (["--learned"], 0),
        (["--model", str(SHIPPED)], 0),
        (["--model", "does-not-exist.json"], 2),
        (["--learned", "--model", str(SHIPPED)], 2),
        (["--rules"], 0),
        (["--rules", "--learned"], 2),
        (["--rules", "--model", str(SHIPPED)], 2),
    ],
)
def test_check_with_a_model(
    flags: list[str], code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    document = str(FIXTURES / "synthetic" / "a-search-filters.md")
    assert main(["check", document, "--format", "json", "--include", "**", *flags]) == code
    if code == 0:
        out = json.loads(capsys.readouterr().out)
        assert len(out["documents"]) == 1


def _shipped_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SHIPPED.read_text(encoding="utf-8"))
    return data


def _broken(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = _shipped_data()
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["dimensions"].pop("metrics"), "one entry per dimension; missing: metrics"),
        (lambda d: d["dimensions"].update(extra={}), "unknown: extra"),
        (lambda d: d["dimensions"]["risks"].update(block_weights=[0] * 7), "found 7"),
        (lambda d: d["dimensions"]["risks"]["block_weights"].__setitem__(3, "x"), "found 'x'"),
        (lambda d: d["dimensions"]["risks"]["block_weights"].__setitem__(3, [1]), "a list or"),
        (lambda d: d["dimensions"]["risks"].update(block_intercept=float("nan")), "intercept"),
        (lambda d: d["lines"]["placeholder"].update(intercept=-1e306),
         "lines placeholder intercept: expected at most 1e+06 in size, found -1e+306"),
        (lambda d: d["dimensions"]["risks"].update(decision=[[0.0] * 23] * 2), "3 rows of 23"),
        (lambda d: d["dimensions"]["risks"]["decision"][0].append(True), "3 rows of 23"),
        (lambda d: d["dimensions"]["risks"]["decision"][0].__setitem__(0, True), "found True"),
        (lambda d: d.update(dimensions=[]), "dimensions: expected a mapping, found []"),
        (lambda d: d.update(category={}), "no category to choose from"),
        (lambda d: d["category"].update(other=d["category"]["product"]), "category 'other'"),
        (lambda d: d["category"]["product"].update(weights=None), "expected 32768 numbers"),
        (lambda d: d["lines"]["unsupported-demand"]["weights"].__setitem__(5, 2**31),
         "smaller than 2147483648 in size, found 2147483648"),
        (lambda d: d["dimensions"]["risks"]["block_weights"].__setitem__(5, 0.5),
         "expected whole numbers (thousandths)"),
    ],
)
def test_a_model_file_that_does_not_fit_is_refused_with_what_is_wrong(
    change: Callable[[dict[str, Any]], object], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        LearnedModel.from_json(_broken(change))


def _always_missing(key: str) -> LearnedModel:
    """The shipped model, except that its decision for `key` always says missing."""
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    width = len(DECISION_FEATURES)
    data["dimensions"][key]["decision"] = [[0.0] * width, [0.0] * width,
                                           [0.0] * (width - 1) + [10.0]]
    return LearnedModel.from_json(data)


ALTERNATIVES = (
    "# Cache\n\n## Alternatives\n\nWe weighed a read-through proxy and rejected it: it adds "
    "a network hop to every request and a second deployment to run.\n"
)


@pytest.mark.parametrize(
    ("text", "key", "status", "line", "note"),
    [
        # the rules found it: weak at least, on their line
        (ALTERNATIVES, "alternatives", Status.WEAK, 5, "on the text the rules found"),
        # a hollow Drawbacks heading stays the rules' own weak, note and all
        (HOLLOW, "risks", Status.WEAK, 7, "has no real content"),
        ("# Cache\n\nWe cache tokens.\n", "alternatives", Status.MISSING, None, ""),
    ],
)
def test_the_model_never_calls_missing_what_the_rules_found_text_on(
    text: str, key: str, status: Status, line: int | None, note: str
) -> None:
    result = review_document(text, "x.md", ReviewOptions(model=_always_missing(key))).dimension(key)
    assert (result.status, result.line) == (status, line)
    assert note in result.note and (note or not result.note)


def _deciding_on_the_category(key: str, category: Category) -> LearnedModel:
    """The shipped model, except that its category part always says platform and its
    decision for `key` says present exactly when the category it reads is `category`."""
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    for name, entry in data["category"].items():
        entry["weights"] = [0] * len(entry["weights"])
        entry["intercept"] = 10.0 if name == Category.PLATFORM.value else -10.0
    column = DECISION_FEATURES.index(f"category_{category.value}")
    present = [0.0] * len(DECISION_FEATURES)
    present[column] = 10.0
    missing = [0.0] * (len(DECISION_FEATURES) - 1) + [5.0]
    data["dimensions"][key]["decision"] = [present, [0.0] * len(DECISION_FEATURES), missing]
    return LearnedModel.from_json(data)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        # the text alone: the rules' guess (product) is what the decision reads,
        # though the category model then names the document platform
        ("# Cache\n\nWe cache tokens.\n", Status.PRESENT),
        # front matter says platform, and the decision reads platform
        ("---\ncategory: platform\n---\n# Cache\n\nWe cache tokens.\n", Status.MISSING),
    ],
)
def test_the_decision_reads_the_category_known_before_any_model(
    text: str, status: Status
) -> None:
    model = _deciding_on_the_category("metrics", Category.PRODUCT)
    report = review_document(text, "x.md", ReviewOptions(model=model))
    assert report.category is Category.PLATFORM
    assert report.dimension("metrics").status is status


LINE_TEXT = (
    "# Export\n\nCustomers keep asking for this, and everyone wants it now.\n\n"
    "- It must never lose a single event; p99 stays under 300 ms.\n"
    "- We will move to Kafka. It is modern.\n\n| who | what |\n|---|---|\n"
    "| support | exports by hand |\n"
)


@pytest.mark.parametrize("extreme", [False, True])
def test_line_findings_score_each_kind_as_its_own_scorer_does(extreme: bool) -> None:
    """Every kind is scored in one pass over a sentence's features; each probability
    must be the one that kind's scorer alone gives, even at the largest weights."""
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))["lines"]
    for number, entry in enumerate(data.values()):
        entry["threshold"] = 1e-9  # report every sentence, with its probability
        if extreme:  # the largest weights a file may hold, of either sign, by kind
            big = 2**31 - 1
            size = len(entry["weights"])
            entry["weights"] = [big if (i + number) % 2 else -big for i in range(size)]
            entry["weights"][feature_index(("it",))] = 7  # a sentence scored mostly by one word
    model = LineModel.from_json(data)
    doc = parse(LINE_TEXT)
    def probability(kind: str, unit: LineUnit) -> float:
        logit = model.scorers[kind].score(unit.features)
        return 1.0 / (1.0 + math.exp(-logit)) if logit > -60 else 0.0

    def block_of(unit: LineUnit) -> Block:
        return next(b for b in doc.blocks if b.line <= unit.line <= b.end_line)

    expected = [
        (kind, unit.line, unit.excerpt, round(probability(kind, unit), 3))
        for unit in line_units(doc, {})
        for kind in model.scorers
        if probability(kind, unit) >= 1e-9 and may_be_kind(kind, block_of(unit))
    ]
    found = [(kind, u.line, u.excerpt, p) for kind, u, p in model.findings(doc, {})]
    assert sorted(found) == sorted(expected)
    assert {kind for kind, *_ in found} == set(model.scorers)


def test_packed_block_scores_are_each_scorers_own_for_every_model_on_one_view() -> None:
    text = (CHECKOUT / "tests" / "checks" / "fixtures" / "complete-prd.md").read_text("utf-8")
    view = document_view(parse(text, "prd.md"))
    width = 1 << FEATURE_BITS
    shipped = shipped_model()
    extreme = json.loads(SHIPPED.read_text(encoding="utf-8"))
    limit = (1 << 31) - 1
    for number, entry in enumerate(extreme["dimensions"].values()):
        entry["block_weights"] = [
            limit if (i + number) % 3 == 0 else -limit if i % 5 == 0 else 7 for i in range(width)
        ]
    other = LearnedModel.from_json(extreme)
    for model in (shipped, other, shipped):  # the second `shipped` reads the cache
        scores = model.all_block_scores(view)
        for key, dimension in model.dimensions.items():
            assert scores[key] == [dimension.blocks.score(f) for f in view.features]
    assert shipped.all_block_scores(view) != other.all_block_scores(view)


def test_copies_of_a_team_model_share_one_packed_table() -> None:
    import pickle

    from localreview.model import TeamModel

    team = TeamModel("acme/widgets@abc", SHIPPED.read_text(encoding="utf-8"))
    first, second = (pickle.loads(pickle.dumps(team)) for _ in range(2))
    assert first is not second
    assert first._packed[2] is second._packed[2]
