"""The learned layer: dimension statuses and the category from a trained model.

Per dimension, a linear classifier scores each prose block as evidence of the
dimension (hashed word unigrams and bigrams of the block and of its section's
heading); a small multinomial model then decides present / weak / missing from
those scores and from what the rules already computed (an alias heading, a hollow
section, the rule's own status, where the best block sits, its links and numbers,
whether the best evidence is under the dimension's own heading, the runner-up, the
expected number of evidence blocks, and the category known before any model). It
never calls `missing` what the rules found text on.
A document classifier scores the category from the words of the whole document, and
per anti-pattern kind a sentence classifier adds line findings to the rules'.

Training lives outside this package (`localreview.training`, with scikit-learn);
this module only reads the weights (a JSON mapping, see `LearnedModel.from_json`)
and scores in pure Python, deterministically. Hashing is `feature_index` below, the
one function training and inference share. The precise rules stay in charge where
they are exact: blocks of a hollow section never count as evidence, and the
engine still applies suppression comments and placeholders itself.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from itertools import accumulate, filterfalse, pairwise
from operator import ge
from struct import Struct
from typing import TYPE_CHECKING, Any

from checks.dimensions import heading_dimensions, is_hollow
from checks.document import SENTENCE_END, Block, Document, sentence_spans
from checks.enums import Category, Status
from checks.rules.absolute_requirement import ID as ABSOLUTE_REQUIREMENT
from checks.rules.absolute_requirement import REQUIREMENT_WORDS
from checks.rules.judging import Assessment
from checks.rules.unsupported_demand import ID as UNSUPPORTED_DEMAND

if TYPE_CHECKING:
    from checks.rules.scanning import RawFinding

FORMAT = 1
MODEL_RESOURCE = "model.json"
FEATURE_BITS = 15
WEIGHT_SCALE = 1000  # weights are stored as integers, in thousandths
STATUSES: tuple[Status, ...] = (Status.PRESENT, Status.WEAK, Status.MISSING)
_NO_SCORE = -8.0  # the block score of a document with no prose block
_BIGRAM_MIX = 0x01000193
_DIGIT_RE = re.compile(r"\d")


@lru_cache(maxsize=1 << 16)
def _word_hash(word: str) -> int:
    return zlib.crc32(word.encode("utf-8", "surrogatepass"))


class _TokenHashes(dict[str, int]):
    """token -> `_token_hash(token)`, filled on first use: a dict lookup through
    `map` stays in C, where a cached function costs a Python call per token."""

    def __missing__(self, token: str) -> int:
        if len(self) >= _TOKEN_CACHE_SIZE:  # bounded: a stranger's text has any words
            self.clear()
        value = self[token] = _token_hash(token)
        return value


_TOKEN_CACHE_SIZE = 1 << 16
_TOKEN_HASHES = _TokenHashes()


@lru_cache(maxsize=1 << 16)
def _token_hash(token: str) -> int:
    """The hash of a token as a word: numbers stand for themselves only as a kind."""
    if _DIGIT_RE.search(token):
        return _word_hash("#pct" if token.endswith("%") else "#num")
    return _word_hash(token)


def feature_index(parts: Sequence[str], bits: int = FEATURE_BITS) -> int:
    """The hashed feature of a word (one part) or a word pair (two parts)."""
    value = _word_hash(parts[0])
    for part in parts[1:]:
        value = ((value * _BIGRAM_MIX) ^ _word_hash(part)) & 0xFFFFFFFF
    return value & ((1 << bits) - 1)


@lru_cache(maxsize=1 << 12)
def _heading_features(norm_title: str, bits: int = FEATURE_BITS) -> tuple[int, ...]:
    return tuple(feature_index(("§h", w), bits) for w in norm_title.split())


def text_features(tokens: Sequence[str], bits: int = FEATURE_BITS) -> list[int]:
    """Unigram and bigram features of a block's tokens (sentence ends left out, repeats
    kept)."""
    mask = (1 << bits) - 1
    # Hashes are 32 bits wide (a bigram's is cut to 32): one mask does both cuts.
    mask &= 0xFFFFFFFF
    hashed = list(map(_TOKEN_HASHES.__getitem__, filterfalse(SENTENCE_END.__contains__, tokens)))
    features = [h & mask for h in hashed]
    features += [((a * _BIGRAM_MIX) ^ b) & mask for a, b in pairwise(hashed)]
    return features


def block_features(block: Block, heading: str, bits: int = FEATURE_BITS) -> list[int]:
    """A block's features: its words and word pairs, its section heading's words, and
    a few marks of its shape (a list item, a quote, a link, a number)."""
    features = text_features(block.tokens, bits)
    features.extend(_heading_features(heading, bits))
    features.append(feature_index((f"§kind:{block.kind}",), bits))
    if block.quoted:
        features.append(feature_index(("§quoted",), bits))
    if block.links or "http" in block.text:
        features.append(feature_index(("§link",), bits))
    if block.has_number:
        features.append(feature_index(("§number",), bits))
    return features


@dataclass(frozen=True)
class DocumentView:
    """What the learned layer reads of a parsed document, computed once."""

    blocks: list[Block]  # prose blocks (headings left out)
    features: list[list[int]]  # per prose block
    hollow: frozenset[int]  # positions in `blocks` under a hollow alias heading
    aliases: dict[str, tuple[bool, bool]]  # dimension -> (alias heading, only hollow ones)
    line_count: int
    # dimension -> positions in `blocks` inside a section (subsections too) its alias heads
    alias_blocks: Mapping[str, frozenset[int]]
    # `LearnedModel.all_block_scores`, per model (by identity), for this one view; the
    # lists are shared, never to be changed
    scores: dict[LearnedModel, dict[str, list[float]]] = field(
        default_factory=dict, compare=False, repr=False
    )


def document_view(
    doc: Document, extra_aliases: Mapping[str, tuple[str, ...]] | None = None
) -> DocumentView:
    aliases = extra_aliases or {}
    hollow_blocks: set[int] = set()
    seen: dict[str, list[bool]] = {}
    # block index -> the dimensions whose alias heads a section (or subsection) holding it
    under_primary: dict[int, set[str]] = {}
    for index, section in enumerate(doc.sections):
        mapped = heading_dimensions(section.norm_title, aliases)
        if not mapped:
            continue
        hollow = is_hollow(doc.section_blocks(index))
        if hollow:
            hollow_blocks.update(section.content_range)
        for key, primary in mapped.items():
            if primary:
                seen.setdefault(key, []).append(hollow)
                for block_index in section.content_range:
                    under_primary.setdefault(block_index, set()).add(key)
    blocks: list[Block] = []
    features: list[list[int]] = []
    hollow_positions: set[int] = set()
    alias_blocks: dict[str, set[int]] = {}
    for index, block in enumerate(doc.blocks):
        if block.kind == "heading" or block.navigation:
            continue
        if index in hollow_blocks:
            hollow_positions.add(len(blocks))
        for key in under_primary.get(index, ()):
            alias_blocks.setdefault(key, set()).add(len(blocks))
        heading = doc.sections[block.section].norm_title if block.section >= 0 else ""
        blocks.append(block)
        features.append(block_features(block, heading))
    return DocumentView(
        blocks=blocks,
        features=features,
        hollow=frozenset(hollow_positions),
        aliases={key: (True, all(flags)) for key, flags in seen.items()},
        line_count=doc.line_count,
        alias_blocks={key: frozenset(found) for key, found in alias_blocks.items()},
    )


DECISION_FEATURES: tuple[str, ...] = (
    "max_score",
    "top3_score",
    "evidence_blocks",
    "rule_present",
    "rule_weak",
    "alias_heading",
    "alias_hollow",
    "best_position",
    "best_link",
    "best_number",
    "length",
    "alias_max_score",
    "other_max_score",
    "second_score",
    "expected_blocks",
    "best_words",
    "alias_block",
    *(f"category_{category.value}" for category in Category),
    "bias",
)


def decision_features(
    view: DocumentView,
    scores: Sequence[float],
    rule_status: Status,
    key: str,
    category: Category,
) -> list[float]:
    """The document-level inputs of one dimension's decision, in DECISION_FEATURES order.
    `category` is what the engine knew before any model: the front matter's, the
    configured one, or the rules' guess from the text."""
    usable = [(s, i) for i, s in enumerate(scores) if i not in view.hollow]
    usable.sort(reverse=True)
    if usable:
        best_score, best = usable[0]
        top = [s for s, _ in usable[:3]]
        block = view.blocks[best]
        position = block.line / max(view.line_count, 1)
        link = 1.0 if block.links or "http" in block.text else 0.0
        number = 1.0 if block.has_number else 0.0
        best_words = math.log1p(len(block.tokens)) / 5.0
    else:
        best_score, top, position, link, number = _NO_SCORE, [_NO_SCORE], 0.0, 0.0, 0.0
        best_words = 0.0
    alias, alias_hollow = view.aliases.get(key, (False, False))
    # Where the best evidence sits: under the dimension's own heading, or elsewhere.
    under_alias = view.alias_blocks.get(key, frozenset())
    alias_scores = [s for s, i in usable if i in under_alias]
    other_scores = [s for s, i in usable if i not in under_alias]
    return [
        best_score,
        sum(top) / len(top),
        math.log1p(sum(1 for s, _ in usable if s > 0.0)),
        1.0 if rule_status is Status.PRESENT else 0.0,
        1.0 if rule_status is Status.WEAK else 0.0,
        1.0 if alias else 0.0,
        1.0 if alias_hollow else 0.0,
        position,
        link,
        number,
        math.log1p(view.line_count) / 5.0,
        max(alias_scores, default=_NO_SCORE),
        max(other_scores, default=_NO_SCORE),
        usable[1][0] if len(usable) > 1 else _NO_SCORE,
        math.log1p(sum(_sigmoid(s) for s, _ in usable)),
        best_words,
        1.0 if alias_scores else 0.0,
        *(1.0 if category is known else 0.0 for known in Category),
        1.0,
    ]


class LinearScorer:
    """A hashed linear model: weights in thousandths, dense, and an intercept."""

    def __init__(self, weights: Sequence[int], intercept: float) -> None:
        # Lists, not arrays: indexing them hands out the stored objects, unboxed once.
        # Equal weights share one int and one float (a model repeats few values: the
        # lists then cost a pointer per feature, not an object).
        ints: dict[int, int] = {}
        floats: dict[int, float] = {}
        self.thousandths = [ints.setdefault(w, w) for w in map(int, weights)]
        self.weights = [floats.setdefault(w, w / WEIGHT_SCALE) for w in self.thousandths]
        self.intercept = intercept

    def score(self, features: Sequence[int]) -> float:
        # The weights summed as integers, exactly: the same score whatever the order,
        # and the same as the packed sums of `LearnedModel.all_block_scores`.
        return self.intercept + sum(map(self.thousandths.__getitem__, features)) / WEIGHT_SCALE


def _softmax_argmax(rows: Sequence[Sequence[float]], inputs: Sequence[float]) -> int:
    totals = [sum(w * x for w, x in zip(row, inputs, strict=True)) for row in rows]
    return max(range(len(totals)), key=lambda i: (totals[i], -i))


@dataclass(frozen=True)
class DimensionModel:
    blocks: LinearScorer
    decision: tuple[tuple[float, ...], ...]  # one row per STATUSES entry


def _check_format(data: Mapping[str, Any]) -> None:
    if not isinstance(data, Mapping):
        raise ValueError("a model is a JSON object")
    if data.get("format") != FORMAT:
        raise ValueError(f"model format {_shown(data.get('format'))} is not {FORMAT}")
    bits = data.get("feature_bits")
    if bits != FEATURE_BITS:
        raise ValueError(f"model feature_bits {_shown(bits)} is not {FEATURE_BITS}")


# A model file can come from anyone with write access to a repository: every part
# the scoring indexes or zips is checked here, so a bad file is one ValueError with
# what is wrong, never an IndexError in the middle of a review.


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _part(data: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, kind):
        raise ValueError(f"{where}{key}: expected a {_KIND_NAMES[kind]}, found {_shown(value)}")
    return value


_KIND_NAMES: dict[type, str] = {Mapping: "mapping", list: "list"}


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite number, found {_shown(value)}")
    return float(value)


def _scorer(weights: object, intercept: object, where: str) -> LinearScorer:
    size = 1 << FEATURE_BITS
    if not isinstance(weights, list) or len(weights) != size:
        count = len(weights) if isinstance(weights, list) else _shown(weights)
        raise ValueError(f"{where} weights: expected {size} numbers, found {count}")
    # A trained model repeats few distinct weights: checking those checks them all.
    try:
        distinct = set(weights)
    except TypeError:  # a list or a mapping among them
        raise ValueError(f"{where} weights: expected numbers, found a list or a mapping") from None
    for weight in distinct:
        # Whole thousandths, as training writes them: the line model sums them exactly.
        if isinstance(weight, bool) or not isinstance(weight, int) or abs(weight) >= _FIELD_OFFSET:
            raise ValueError(
                f"{where} weights: expected whole numbers (thousandths) smaller than "
                f"{_FIELD_OFFSET} in size, found {_shown(weight)}"
            )
    bias = _number(intercept, f"{where} intercept")
    # Far beyond any trained intercept (an absent class gets -1000); it keeps the line
    # model's integer pre-test exact and every score finite.
    if abs(bias) > MAX_INTERCEPT:
        raise ValueError(
            f"{where} intercept: expected at most {MAX_INTERCEPT:g} in size, found {bias:g}"
        )
    return LinearScorer(weights, bias)


MAX_INTERCEPT = 1e6


def _decision(rows: object, where: str) -> tuple[tuple[float, ...], ...]:
    width = len(DECISION_FEATURES)
    if not isinstance(rows, list) or len(rows) != len(STATUSES):
        raise ValueError(f"{where} decision: expected {len(STATUSES)} rows of {width} numbers")
    checked: list[tuple[float, ...]] = []
    for row in rows:
        if not isinstance(row, list) or len(row) != width:
            raise ValueError(f"{where} decision: expected {len(STATUSES)} rows of {width} numbers")
        checked.append(tuple(_number(x, f"{where} decision") for x in row))
    return tuple(checked)


class CategoryModel:
    """The kind of work a document is, from the words of the whole document and the
    rules' own guess; the part of the model the engine uses by default."""

    def __init__(self, rows: Mapping[Category, LinearScorer]) -> None:
        self.rows = dict(rows)
        self.shipped = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CategoryModel:
        _check_format(data)
        entries = _part(data, "category", Mapping, "")
        if not entries:
            raise ValueError("category: no category to choose from")
        known = {category.value for category in Category}
        rows: dict[Category, LinearScorer] = {}
        for name, entry in entries.items():
            if name not in known:
                raise ValueError(f"category: unknown category {_shown(name)}")
            if not isinstance(entry, Mapping):
                raise ValueError(f"category {name}: expected a mapping, found {_shown(entry)}")
            where = f"category {name}"
            rows[Category(name)] = _scorer(entry.get("weights"), entry.get("intercept"), where)
        return cls(rows)

    def category(self, doc: Document, rule_category: Category) -> Category:
        features = category_features(doc)
        norm = 1.0 / math.sqrt(len(features)) if features else 0.0
        rule = rule_category_feature(rule_category)
        scored = {
            category: scorer.intercept
            + norm * sum(map(scorer.weights.__getitem__, features))
            + scorer.weights[rule]
            for category, scorer in self.rows.items()
        }
        return max(sorted(scored, key=lambda c: c.value), key=lambda c: scored[c])

    def __reduce__(self) -> str | tuple[Any, ...]:
        # Options travel to worker processes with every document: the shipped model
        # goes as a reference, read once in each process, not as its weights.
        if self.shipped:
            return (shipped_category_model, ())
        return (CategoryModel, (self.rows,))


class LearnedModel:
    """The trained layer, read from its JSON mapping; scoring is pure and deterministic."""

    def __init__(
        self,
        dimensions: Mapping[str, DimensionModel],
        category_model: CategoryModel,
        bits: int,
        lines: LineModel | None = None,
    ) -> None:
        self.dimensions = dict(dimensions)
        self.category_model = category_model
        self.bits = bits
        # The line model: None in a model file trained before it (or without it).
        self.lines = lines
        self.shipped = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, with_parts: bool = True) -> LearnedModel:
        """The model in `data` (a model file's JSON), checked part by part: a
        ValueError says what does not fit this version. `with_parts=False` (the shipped
        model) takes the category and line parts already read instead of its own."""
        # Imported here: the rule registry builds on modules that import this one.
        from checks.rules import DIMENSION_BY_ID

        _check_format(data)
        if data.get("decision_features") != list(DECISION_FEATURES):
            raise ValueError("model decision features do not match this version")
        entries = _part(data, "dimensions", Mapping, "")
        if set(entries) != set(DIMENSION_BY_ID):
            missing = sorted(set(DIMENSION_BY_ID) - set(entries))
            unknown = sorted(map(str, set(entries) - set(DIMENSION_BY_ID)))
            raise ValueError(
                "dimensions: expected one entry per dimension"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; unknown: {', '.join(unknown)[:200]}" if unknown else "")
            )
        dimensions: dict[str, DimensionModel] = {}
        for key, entry in entries.items():
            where = f"dimension {key}"
            if not isinstance(entry, Mapping):
                raise ValueError(f"{where}: expected a mapping, found {_shown(entry)}")
            blocks = _scorer(entry.get("block_weights"), entry.get("block_intercept"), where)
            dimensions[key] = DimensionModel(blocks, _decision(entry.get("decision"), where))
        if not with_parts:
            return cls(dimensions, shipped_category_model(), FEATURE_BITS, shipped_line_model())
        lines = LineModel.from_json(data["lines"]) if "lines" in data else None
        return cls(dimensions, CategoryModel.from_json(data), FEATURE_BITS, lines)

    def __reduce__(self) -> str | tuple[Any, ...]:
        if self.shipped:
            return (shipped_model, ())
        return (LearnedModel, (self.dimensions, self.category_model, self.bits, self.lines))

    def block_scores(self, view: DocumentView, key: str) -> list[float]:
        return self.all_block_scores(view)[key]

    def all_block_scores(self, view: DocumentView) -> dict[str, list[float]]:
        """Every dimension's score of every prose block of `view`, as each dimension's
        `LinearScorer.score` gives it: one sum per block serves all dimensions (each
        weight sits in its dimension's bit field), computed once per view."""
        cached = view.scores.get(self)
        if cached is not None:
            return cached
        keys, intercepts, packed = self._packed
        unpack_fields = _fields_struct(len(keys)).unpack
        field_bytes = len(keys) * _FIELD_BITS // 8
        weight = packed.__getitem__
        columns: list[list[float]] = [[] for _ in keys]
        appends = [column.append for column in columns]
        for features in view.features:
            total = sum(map(weight, features))
            offset = len(features) * _FIELD_OFFSET
            fields = unpack_fields(total.to_bytes(field_bytes, "little"))
            for append, intercept, summed in zip(appends, intercepts, fields, strict=True):
                append(intercept + (summed - offset) / WEIGHT_SCALE)
        scores = dict(zip(keys, columns, strict=True))
        view.scores[self] = scores
        return scores

    @property
    def _packed(self) -> tuple[tuple[str, ...], tuple[float, ...], list[int]]:
        """The dimensions, their block intercepts, and per feature one integer holding
        every dimension's block weight (offset to be non-negative) in a field of its own."""
        keys = tuple(self.dimensions)
        intercepts, packed = _packed_scorers(tuple(self.dimensions[key].blocks for key in keys))
        return keys, intercepts, packed

    def judge(
        self, view: DocumentView, assessed: Mapping[str, Assessment], category: Category
    ) -> dict[str, Assessment]:
        """Each dimension's status from its block scores and the rules' assessment
        (`category`: as `decision_features` takes it); the rules' line and note stay
        when the status agrees with theirs. The model never calls `missing` what the
        rules found text on: that is `weak` at least."""
        judged: dict[str, Assessment] = {}
        for key, rule in assessed.items():
            model = self.dimensions.get(key)
            if model is None:
                judged[key] = rule
                continue
            scores = self.all_block_scores(view)[key]
            inputs = decision_features(view, scores, rule.status, key, category)
            status = STATUSES[_softmax_argmax(model.decision, inputs)]
            if status is rule.status:
                judged[key] = rule
            elif status is Status.MISSING:
                # `missing` says nothing in the document touches the dimension: where
                # the rules found text on it, the floor is `weak`, resting on that text.
                judged[key] = rule if rule.status is Status.WEAK else (
                    Assessment(Status.WEAK, rule.line, _FLOOR_NOTE)
                )
            else:
                judged[key] = Assessment(status, _best_line(view, scores) or rule.line, _NOTE)
        return judged

_NOTE = "judged by the learned model"
_FLOOR_NOTE = "judged weak by the learned model, on the text the rules found"


def _best_line(view: DocumentView, scores: Sequence[float]) -> int | None:
    usable = [(s, -i) for i, s in enumerate(scores) if i not in view.hollow]
    if not usable:
        return None
    return view.blocks[-max(usable)[1]].line


def category_features(doc: Document) -> list[int]:
    """Unigrams of every prose block and heading (headings marked): each distinct
    feature once, valued 1/sqrt(how many there are)."""
    mask = (1 << FEATURE_BITS) - 1
    features: set[int] = set()
    words: set[str] = set()
    for block in doc.blocks:
        if block.kind == "heading":
            heading = (t for t in block.tokens if t not in SENTENCE_END)
            features.update(_heading_features(" ".join(heading)))
        else:
            words.update(block.tokens)
    # Each distinct word hashed once: a document repeats most of its words.
    words -= SENTENCE_END
    features.update(h & mask for h in map(_TOKEN_HASHES.__getitem__, words))
    return sorted(features)


def rule_category_feature(rule_category: Category) -> int:
    """The feature of the rules' own guess at the category, valued 1."""
    return feature_index((f"§rule:{rule_category.value}",))


@lru_cache(maxsize=1)
def _shipped_data() -> Mapping[str, Any]:
    text = resources.files("checks").joinpath(MODEL_RESOURCE).read_text(encoding="utf-8")
    data: Mapping[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=1)
def shipped_model() -> LearnedModel:
    """The model shipped in the package, read once."""
    model = LearnedModel.from_json(_shipped_data(), with_parts=False)
    model.shipped = True
    return model


@lru_cache(maxsize=1)
def shipped_category_model() -> CategoryModel:
    """The shipped model's category part, read once: the engine's default judge of
    the category when only the text gives it."""
    model = CategoryModel.from_json(_shipped_data())
    model.shipped = True
    return model


# --- line-level anti-patterns -----------------------------------------------------

LINE_KINDS: tuple[str, ...] = (
    "unquantified-goal",
    "placeholder",
    "unsupported-demand",
    "absolute-requirement",
    "solution-first",
    "technology-first",
)
# Units near a number make a target ("300 ms"): a mark of their own, beside the number.
_UNITS = frozenset(
    """ms s sec secs second seconds minute minutes min mins hour hours h day days week
    weeks month months year years % percent x kb mb gb tb qps rps rpm p50 p90 p95 p99
    users requests""".split()
)
_MARKS = tuple(feature_index((mark,)) for mark in ("§first", "§number", "§unit"))
LINE_SCORE_DIGITS = 3  # a line finding's score, in [0, 1], to this many digits


@dataclass(frozen=True)
class LineUnit:
    """One sentence of a prose block: the unit the line model scores."""

    line: int
    end_line: int
    excerpt: str
    features: list[int]


def line_units(doc: Document, rule_lines: Mapping[int, frozenset[str]]) -> list[LineUnit]:
    """Every sentence of the document's prose blocks with its features: its words and
    word pairs, its section heading's words, its block's shape (a list item, a table
    row, a quote), numbers and units in it or its block, and the rules' own verdict on
    its lines (`rule_lines`: line -> the line checks the rules raised there)."""
    return [
        LineUnit(line, end_line, " ".join(tokens[:6]), features)
        for line, end_line, tokens, features in _sentences(doc, rule_lines)
    ]


class _BlockFeatures:
    """What every sentence of one prose block shares: its words and word pairs hashed
    once (a sentence takes its slice: its tokens hold no sentence end, so the pairs
    inside it are consecutive tokens), and the features of its heading and shape."""

    __slots__ = ("block", "pairs", "shared", "words")

    def __init__(self, doc: Document, block: Block) -> None:
        mask = (1 << FEATURE_BITS) - 1
        heading = doc.sections[block.section].norm_title if block.section >= 0 else ""
        hashed = list(map(_TOKEN_HASHES.__getitem__, block.tokens))
        self.block = block
        self.words = [h & mask for h in hashed]
        self.pairs = [(((a * _BIGRAM_MIX) ^ b) & 0xFFFFFFFF) & mask for a, b in pairwise(hashed)]
        self.shared = _shape_features(heading, block.kind, block.quoted, block.has_number)

    def features(self, start: int, end: int, marks: list[int]) -> list[int]:
        return [*self.words[start:end], *self.pairs[start : end - 1], *self.shared, *marks]

    def sentences(
        self, rule_lines: Mapping[int, frozenset[str]]
    ) -> Iterator[tuple[int, int, int, int, list[str], list[int]]]:
        """(start, end, line, end line, the rules' verdicts, marks) of each sentence:
        its token range in the block, its lines, and what `_marks` gives it."""
        block = self.block
        for position, (start, end) in enumerate(sentence_spans(block.tokens)):
            line, end_line = block.token_lines[start], block.token_lines[end - 1]
            verdicts = _verdicts(rule_lines, line, end_line)
            marks = _marks(block, position, start, end, verdicts)
            yield start, end, line, end_line, verdicts, marks


@lru_cache(maxsize=1 << 12)
def _shape_features(heading: str, kind: str, quoted: bool, has_number: bool) -> tuple[int, ...]:
    """The features every sentence of a block shares: its heading's words, its kind,
    and whether it is quoted or holds a number."""
    shared = [*_heading_features(heading), feature_index((f"§kind:{kind}",))]
    if quoted:
        shared.append(feature_index(("§quoted",)))
    if has_number:
        shared.append(feature_index(("§block_number",)))
    return tuple(shared)


def _marks(block: Block, position: int, start: int, end: int, verdicts: Sequence[str]) -> list[int]:
    """A sentence's own marks: first in its block, a number, a unit, and the rules'
    verdicts on its lines (`verdicts`, sorted)."""
    first_mark, number_mark, unit_mark = _MARKS
    tokens = block.tokens[start:end]
    marks = [first_mark] if position == 0 else []
    if block.has_number and any(_DIGIT_RE.search(t) for t in tokens):
        marks.append(number_mark)
    if not _UNITS.isdisjoint(tokens):
        marks.append(unit_mark)
    if verdicts:
        marks.extend(feature_index((f"§rule:{kind}",)) for kind in verdicts)
        marks.append(feature_index(("§rule",)))
    return marks


def _prose_blocks(doc: Document) -> Iterator[_BlockFeatures]:
    for block in doc.blocks:
        if block.kind != "heading" and not block.navigation:
            yield _BlockFeatures(doc, block)


def _verdicts(rule_lines: Mapping[int, frozenset[str]], line: int, end_line: int) -> list[str]:
    """The line checks the rules raised on any of the lines, sorted."""
    if not rule_lines:
        return []
    found: set[str] = set()
    for n in range(line, end_line + 1):
        found.update(rule_lines.get(n, ()))
    return sorted(found)


def _sentences(
    doc: Document, rule_lines: Mapping[int, frozenset[str]]
) -> Iterator[tuple[int, int, list[str], list[int]]]:
    """(line, end line, tokens, features) of each sentence, as `line_units` describes."""
    for prose in _prose_blocks(doc):
        for start, end, line, end_line, _, marks in prose.sentences(rule_lines):
            yield line, end_line, prose.block.tokens[start:end], prose.features(start, end, marks)


def rule_lines(raws: Sequence[RawFinding]) -> dict[int, frozenset[str]]:
    """Line -> the line checks the rules raised on it (what `line_units` reads)."""
    by_line: dict[int, set[str]] = {}
    for raw in raws:
        for n in range(raw.line, raw.end_line + 1):
            by_line.setdefault(n, set()).add(raw.check)
    return {n: frozenset(checks) for n, checks in by_line.items()}


class LineModel:
    """Per anti-pattern kind, a linear scorer of sentences; a sentence whose
    probability reaches the kind's threshold is a finding of that kind."""

    def __init__(
        self, scorers: Mapping[str, LinearScorer], thresholds: Mapping[str, float]
    ) -> None:
        self.scorers = dict(scorers)
        self.thresholds = dict(thresholds)
        self.shipped = False

    def __reduce__(self) -> str | tuple[Any, ...]:
        # As the category model: the shipped one travels as a reference.
        if self.shipped:
            return (shipped_line_model, ())
        return (LineModel, (self.scorers, self.thresholds))

    @classmethod
    def from_json(cls, data: object) -> LineModel:
        if not isinstance(data, Mapping):
            raise ValueError(f"lines: expected a mapping, found {_shown(data)}")
        scorers: dict[str, LinearScorer] = {}
        thresholds: dict[str, float] = {}
        for kind, entry in data.items():
            if kind not in LINE_KINDS:
                raise ValueError(f"lines: unknown line check {_shown(kind)}")
            where = f"lines {kind}"
            if not isinstance(entry, Mapping):
                raise ValueError(f"{where}: expected a mapping, found {_shown(entry)}")
            scorers[kind] = _scorer(entry.get("weights"), entry.get("intercept"), where)
            threshold = _number(entry.get("threshold"), f"{where} threshold")
            if not 0.0 < threshold < 1.0:
                raise ValueError(f"{where} threshold: expected a probability, found {threshold}")
            thresholds[kind] = threshold
        return cls(scorers, thresholds)

    def findings(
        self, doc: Document, rule_lines: Mapping[int, frozenset[str]]
    ) -> list[tuple[str, LineUnit, float]]:
        """(kind, sentence, probability) of each sentence the model flags, in
        document order, leaving out the kinds the rules already raised there."""
        kinds, intercepts, packed = self._packed
        if not kinds:
            return []
        floors = self._logit_floors
        weighted_floors = self._weighted_floors
        unpack_fields = _fields_struct(len(kinds)).unpack
        field_bytes = len(kinds) * _FIELD_BITS // 8
        weight = packed.__getitem__
        flagged: list[tuple[str, LineUnit, float]] = []
        for prose in _prose_blocks(doc):
            block, shared = prose.block, prose.shared
            # Running sums of the packed weights of the block's words and word pairs:
            # a sentence's are a slice of its block's, so each sum is one subtraction.
            word_sums = list(accumulate(map(weight, prose.words), initial=0))
            pair_sums = list(accumulate(map(weight, prose.pairs), initial=0))
            shared_sum = sum(map(weight, shared))
            for start, end, line, end_line, verdicts, marks in prose.sentences(rule_lines):
                # One sum gives every kind's: each weight sits in its kind's bit field.
                total = (
                    word_sums[end]
                    - word_sums[start]
                    + pair_sums[end - 1]
                    - pair_sums[start]
                    + shared_sum
                    + sum(map(weight, marks))
                )
                count = (end - start) + (end - 1 - start) + len(shared) + len(marks)
                offset = count * _FIELD_OFFSET
                fields = unpack_fields(total.to_bytes(field_bytes, "little"))
                if not any(map(ge, fields, [offset + floor for floor in weighted_floors])):
                    continue  # every kind far below its threshold: no float work
                unit: LineUnit | None = None
                for index, kind in enumerate(kinds):
                    if kind in verdicts or not may_be_kind(kind, block):
                        continue
                    weighted = fields[index] - offset
                    logit = intercepts[index] + weighted / WEIGHT_SCALE
                    if logit < floors[index]:  # below the threshold: no sigmoid needed
                        continue
                    probability = _sigmoid(logit)
                    if probability >= self.thresholds[kind]:
                        if unit is None:
                            excerpt = " ".join(block.tokens[start : min(end, start + 6)])
                            features = prose.features(start, end, marks)
                            unit = LineUnit(line, end_line, excerpt, features)
                        flagged.append((kind, unit, round(probability, LINE_SCORE_DIGITS)))
        return flagged

    @cached_property
    def _packed(self) -> tuple[tuple[str, ...], tuple[float, ...], list[int]]:
        """The kinds in LINE_KINDS order, their intercepts, and per feature one integer
        holding every kind's weight (in thousandths, offset to be non-negative) in a
        bit field of its own: summing a sentence's integers sums every kind at once,
        exactly, since the weights are integers."""
        kinds = tuple(kind for kind in LINE_KINDS if kind in self.scorers)
        intercepts, packed = _packed_scorers(tuple(self.scorers[kind] for kind in kinds))
        return kinds, intercepts, packed

    @cached_property
    def _logit_floors(self) -> tuple[float, ...]:
        """Per kind (in `_packed` order), a score below which the probability is
        surely under the threshold; the threshold itself is still checked above it."""
        kinds = self._packed[0]
        return tuple(
            math.log(self.thresholds[k] / (1.0 - self.thresholds[k])) - 1e-6 for k in kinds
        )

    @cached_property
    def _weighted_floors(self) -> tuple[int, ...]:
        """Per kind, an integer weighted sum below which the score is surely under
        `_logit_floors`: one integer comparison rules a kind out, exactly."""
        intercepts = self._packed[1]
        return tuple(
            math.floor((floor - intercept) * WEIGHT_SCALE) - 1
            for floor, intercept in zip(self._logit_floors, intercepts, strict=True)
        )


# Each field: weights are below 2**31 thousandths in magnitude (`_scorer` and `_pack`
# check it), and a sentence or block has far fewer than 2**32 features (a document is
# a few MB at most), so a field's sum never reaches the next field.
_FIELD_OFFSET = 1 << 31
_FIELD_BITS = 64


def may_be_kind(kind: str, block: Block) -> bool:
    """Whether a sentence of `block` can be the kind at all, by the kind's own
    definition: a demand claim is unsupported only with no count beside it (a number
    in its paragraph), and an absolute is a requirement only where the paragraph
    requires something (a word the rule reads as one: must, will, goal, support...)."""
    if kind == UNSUPPORTED_DEMAND:
        return not block.has_number
    if kind == ABSOLUTE_REQUIREMENT:
        return not REQUIREMENT_WORDS.isdisjoint(block.tokens)
    return True


def _pack(columns: Sequence[Sequence[int]]) -> list[int]:
    """Per feature, one integer holding each column's weight, offset by
    `_FIELD_OFFSET` to be non-negative, in a `_FIELD_BITS` field of its own: summing
    a unit's integers sums every column at once, exactly."""
    for column in columns:
        if any(abs(value) >= _FIELD_OFFSET for value in set(column)):
            raise ValueError(f"a weight does not fit a packed field (at most {_FIELD_OFFSET})")
    # Each feature's fields laid out as little-endian words, read back as one integer.
    pack = _fields_struct(len(columns)).pack
    offset_columns = [[value + _FIELD_OFFSET for value in column] for column in columns]
    return [
        int.from_bytes(pack(*values), "little") for values in zip(*offset_columns, strict=True)
    ]


@lru_cache(maxsize=8)
def _packed_scorers(scorers: tuple[LinearScorer, ...]) -> tuple[tuple[float, ...], list[int]]:
    """The scorers' intercepts and packed weights (`_pack`), built once per set of
    scorers: copies of one team model (one per document a worker reviews) share
    their parsed scorers, and so this table."""
    return tuple(s.intercept for s in scorers), _pack([s.thousandths for s in scorers])


@lru_cache(maxsize=16)
def _fields_struct(count: int) -> Struct:
    return Struct(f"<{count}Q")


def _sigmoid(value: float) -> float:
    if value < -60.0:
        return 0.0
    return 1.0 / (1.0 + math.exp(-value))


@lru_cache(maxsize=1)
def shipped_line_model() -> LineModel | None:
    """The shipped model's line part, read once (None in a model without one)."""
    data = _shipped_data()
    if "lines" not in data:
        return None
    model = LineModel.from_json(data["lines"])
    model.shipped = True
    return model
