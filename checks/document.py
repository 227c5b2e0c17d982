"""The document model: Markdown parsed into sections and prose blocks with lines.

The parser is pulldown-cmark (through `pyromark`), chosen by measurement: it
parses the whole 44 MB corpus with source ranges in about 0.7 s, where
markdown-it-py needs about 11 s (see bench/README.md). Ranges are UTF-8 byte
offsets, mapped to 1-based lines here.

Code blocks, inline code and HTML (comments included) never become prose; HTML
comments are only read for `product-review` directives, and unknown inline
"tags" such as `<describe the problem>` are kept as template leftovers.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, compress
from typing import Any

import pyromark

from checks import boundedyaml

_OPTIONS = (
    pyromark.Options.ENABLE_TABLES
    | pyromark.Options.ENABLE_YAML_STYLE_METADATA_BLOCKS
    | pyromark.Options.ENABLE_STRIKETHROUGH
    | pyromark.Options.ENABLE_TASKLISTS
    | pyromark.Options.ENABLE_FOOTNOTES
)

# Words, numbers (with a trailing % kept), and sentence ends as their own token.
# Possessive quantifiers: the same tokens, without backtracking (measured ~10% faster).
TOKEN_RE = re.compile(r"[a-z0-9]++(?:['’\-.][a-z0-9]++)*+%?|[.!?;:](?!\S)")
SENTENCE_END = frozenset({".", "!", "?", ";", ":"})


def sentence_spans(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """The (start, end) token ranges of the sentences in `tokens`, the end tokens
    (`SENTENCE_END`) left out; what the line rules and the line model both read."""
    spans: list[tuple[int, int]] = []
    start = 0
    # map/compress find the sentence ends in C: Python visits only those.
    for i in compress(range(len(tokens)), map(SENTENCE_END.__contains__, tokens)):
        if i > start:
            spans.append((start, i))
        start = i + 1
    if start < len(tokens):
        spans.append((start, len(tokens)))
    return spans


_DIGIT_RE = re.compile(r"\d")
_ASCII_DIGIT_RE = re.compile("[0-9]")
_DIRECTIVE_PREFIX = "product-review"
_ID_SEPARATOR_RE = re.compile(r"[,\s]+")
# A lone surrogate cannot be encoded as UTF-8, so the parser would refuse the text.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")

# Real HTML element names; any other `<word ...>` in prose is a template leftover.
_HTML_TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "blockquote",
        "br",
        "caption",
        "center",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "details",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "font",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "input",
        "ins",
        "kbd",
        "label",
        "li",
        "mark",
        "ol",
        "p",
        "picture",
        "pre",
        "q",
        "s",
        "samp",
        "section",
        "small",
        "source",
        "span",
        "strike",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "time",
        "tr",
        "tt",
        "u",
        "ul",
        "var",
        "video",
        "wbr",
        "audio",
        "iframe",
        "nobr",
    ]
)
_TAG_NAME_RE = re.compile(r"</?\s*([A-Za-z][A-Za-z0-9-]*)")


@dataclass(frozen=True)
class Directive:
    line: int
    action: str  # "off" | "on" | "disable"
    ids: frozenset[str] = frozenset()  # empty with "disable" means every check


@dataclass(slots=True)
class Block:
    """A unit of prose: a heading, a paragraph, a list item's own text, a table row."""

    kind: str
    line: int
    end_line: int
    text: str
    tokens: list[str]
    token_lines: list[int]
    section: int = -1  # index into Document.sections, -1 before any heading
    links: tuple[str, ...] = ()
    template_tags: tuple[tuple[int, str], ...] = ()  # (line, "<describe ...>")
    level: int = 0  # heading level (1-6) for headings, 0 otherwise
    quoted: bool = False  # inside a block quote
    has_number: bool = False
    word_count: int = 0  # tokens that are not sentence punctuation
    navigation: bool = False  # a table-of-contents entry: only links to #anchors
    # Phrase hits by table group, filled once by checks.vocabulary.hits().
    hits: dict[str, list[Any]] | None = field(default=None, repr=False, compare=False)


@dataclass(slots=True)
class Section:
    title: str
    norm_title: str
    level: int
    line: int
    end_line: int
    heading_block: int  # index of the heading in Document.blocks
    block_end: int  # one past the last block of the subtree
    parent: int = -1

    @property
    def content_range(self) -> range:
        return range(self.heading_block + 1, self.block_end)


@dataclass
class Document:
    path: str
    text: str
    line_count: int
    blocks: list[Block]
    sections: list[Section]
    front_matter: dict[str, Any] = field(default_factory=dict)
    directives: list[Directive] = field(default_factory=list)
    code_lines: int = 0
    parse_failed: bool = False  # the parser stopped early; the review covers what came before

    @property
    def title(self) -> str:
        for key in ("title", "name"):
            value = self.front_matter.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        for section in self.sections:
            if section.level == 1:
                return section.title
        return self.sections[0].title if self.sections else ""

    def section_blocks(self, index: int) -> list[Block]:
        section = self.sections[index]
        return [self.blocks[i] for i in section.content_range]


def _is_template_tag(value: str) -> bool:
    """`<describe the problem>` is a template prompt; `<details>` or `<br/>` is HTML."""
    if value.startswith("<!--") or " " not in value:
        return False
    match = _TAG_NAME_RE.match(value)
    return (
        match is not None
        and match.group(1).lower() not in _HTML_TAGS
        and not value.startswith("</")
        and " " in value.strip("<>/ ")
        and "=" not in value
        and "\n" not in value.strip()
    )


def _has_digit(text: str) -> bool:
    """Whether `text` has a digit (`\\d`): in ASCII text, a search for `[0-9]`, which
    skips the Unicode category test `\\d` makes of every character."""
    if text.isascii():
        return _ASCII_DIGIT_RE.search(text) is not None
    return _DIGIT_RE.search(text) is not None


def normalize_heading(title: str) -> str:
    """'2.1 Risks & Mitigations (Optional):' -> 'risks and mitigations'."""
    lowered = title.lower().replace("&", " and ")
    lowered = re.sub(r"\((?:optional|required|if applicable)\)", " ", lowered)
    words = re.findall(r"[a-z]++(?:['\-][a-z]++)*+", lowered)
    return " ".join(words)


class FrontMatter(dict[str, Any]):
    """The front matter's mapping, plus `notes`: why some or all of it was ignored (for
    the report). A dict, so everything that reads `Document.front_matter` still works."""

    notes: tuple[str, ...] = ()


def _parse_front_matter(raw: str) -> FrontMatter:
    """The front matter, bounded (`boundedyaml.FRONT_MATTER_LIMITS`): a refused one is
    ignored with a note, and so is each value that could not be read."""
    front = FrontMatter()
    loaded = boundedyaml.load(raw, boundedyaml.FRONT_MATTER_LIMITS, what="it")
    refusal = loaded.refusal
    if refusal is not None:
        message = refusal.message.removeprefix("YAML refused: ")
        where = f" (line {refusal.line} of the front matter)" if refusal.line else ""
        front.notes = (f"front matter ignored: {message}{where}",)
        return front
    if loaded.data is None:
        return front
    if not isinstance(loaded.data, dict):
        front.notes = ("front matter ignored: it is not a mapping of keys to values",)
        return front
    front.update(loaded.data)
    unreadable = list(_unreadable_values(loaded.data, limit=3))
    front.notes = tuple(
        f"front matter value ignored (line {value.line} of the front matter): "
        f"it could not be read ({value.message})"
        for value in unreadable
    )
    return front


def _unreadable_values(data: object, *, limit: int) -> Iterator[boundedyaml.Unreadable]:
    """The first `limit` values that could not be read, anywhere in the (bounded) data."""
    found = 0
    pending = [data]
    seen: set[int] = set()  # aliases share values: visit each once
    while pending and found < limit:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, boundedyaml.Unreadable):
            found += 1
            yield value
        elif isinstance(value, dict):
            pending.extend([*value.keys(), *value.values()])
        elif isinstance(value, list):
            pending.extend(value)


def _parse_directive(body: str, line: int) -> Directive | None:
    words = body.strip()
    lowered = words.lower()
    if lowered == "off":
        return Directive(line, "off")
    if lowered == "on":
        return Directive(line, "on")
    if lowered.startswith("disable"):
        rest = words[len("disable") :].strip().lstrip("=").strip()
        ids = frozenset(part.lower() for part in _ID_SEPARATOR_RE.split(rest) if part)
        return Directive(line, "disable", ids)
    return None


class _Collector:
    __slots__ = ("first", "kind", "link_chars", "links", "pieces", "quoted", "start", "tags")

    def __init__(self, kind: str, start: int, quoted: bool = False) -> None:
        self.kind = kind
        self.quoted = quoted
        self.start = start
        self.first = -1  # byte offset of the first piece of text
        self.pieces: list[str] = []
        self.links: list[str] = []
        self.link_chars = 0  # characters of text inside links
        self.tags: list[tuple[int, str]] = []


class _LineIndex:
    def __init__(self, data: bytes) -> None:
        # Start offset of every line: 0, then one past each newline.
        lengths = map(len, data.split(b"\n"))
        self.starts = [0, *accumulate(map((1).__add__, lengths))][:-1]

    def line(self, offset: int) -> int:
        return bisect_right(self.starts, offset)


def _directive_bodies(html: str) -> Iterator[str]:
    """The text after `product-review` in each `<!-- product-review ... -->` comment.

    A hand scan, linear in the input: each comment is found with str.find and
    read once, so an unclosed `<!--` costs one pass, not one pass per opening.
    Of nested openings the innermost counts: `<!-- note <!-- product-review off -->`.
    """
    position = 0
    while (start := html.find("<!--", position)) >= 0:
        end = html.find("-->", start + 4)
        if end < 0:
            return  # no comment closes after this one: none can be a directive
        start = html.rfind("<!--", start, end)
        body = html[start + 4 : end].lstrip()
        if body[: len(_DIRECTIVE_PREFIX)].lower() == _DIRECTIVE_PREFIX:
            yield body[len(_DIRECTIVE_PREFIX) :].strip()
        position = end + 3


def _readable_text(text: str) -> tuple[str, str]:
    """(lines_text, parser_text) for any Python string.

    Both have lone surrogates and NUL replaced by U+FFFD and CRLF turned into LF.
    `lines_text` keeps a lone CR as it is, because git and GitHub only end a line at
    LF; `parser_text` turns it into LF, because Markdown ends a line there. The two
    have the same UTF-8 byte offsets, so an offset from the parser is found in
    either line index.
    """
    if not text.isascii():
        try:
            # Only a lone surrogate fails to encode: most texts need no regex pass.
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = _SURROGATE_RE.sub("\ufffd", text)
    text = text.replace("\r\n", "\n").replace("\x00", "\ufffd")
    return text, text.replace("\r", "\n")


def parse(text: str, path: str = "") -> Document:
    """Parse Markdown text into a Document. Never raises on any input string.

    Every line in the Document is a line as git counts them: only LF ends a line,
    and a final LF starts none.
    """
    lines_text, text = _readable_text(text)
    data = text.encode("utf-8")
    lines = _LineIndex(data if lines_text is text else lines_text.encode("utf-8"))
    line_of = lines.line
    starts = lines.starts
    line_count = len(lines.starts) - (1 if lines_text.endswith("\n") else 0)
    line_count = max(line_count, 1)
    # With lone CRs the parser sees more lines than git: its line k starts at
    # parser_starts[k - 1], an offset that lies on one of git's lines.
    remap = "\r" in lines_text
    parser_starts = _LineIndex(data).starts if remap else lines.starts

    blocks: list[Block] = []
    directives: list[Directive] = []
    front_matter: dict[str, Any] = {}
    stack: list[_Collector] = []
    skip_depth = 0  # inside code blocks / metadata: not prose
    in_metadata = False
    in_image = 0
    quote_depth = 0
    link_depth = 0
    code_lines = 0
    parse_failed = False

    def html(raw: str, offset: int) -> None:
        for body in _directive_bodies(raw):
            directive = _parse_directive(body, line_of(offset))
            if directive is not None:
                directives.append(directive)

    def emit(collector: _Collector, end_offset: int) -> None:
        if not collector.pieces and not collector.tags:
            return
        # Pieces carry "\n" for every source line break (soft breaks and skipped
        # inline code/HTML keep theirs), so line k of the text is first_line + k.
        raw = "".join(collector.pieces)
        start = collector.start
        first_line = bisect_right(parser_starts, collector.first if collector.first >= 0 else start)
        lowered = raw.lower()
        if "\n" not in lowered:  # most blocks are one line: no split, no loop
            tokens = TOKEN_RE.findall(lowered)
            line = first_line
            if remap and tokens:
                line = line_of(parser_starts[min(line, len(parser_starts)) - 1])
            token_lines = [line] * len(tokens)
            block_text = raw.strip()
        else:
            tokens = []
            token_lines = []
            for k, segment in enumerate(lowered.split("\n")):
                found = TOKEN_RE.findall(segment)
                if found:
                    tokens.extend(found)
                    line = first_line + k
                    if remap:
                        line = line_of(parser_starts[min(line, len(parser_starts)) - 1])
                    token_lines.extend([line] * len(found))
            block_text = raw.replace("\n", " ").strip()
        if not block_text and not collector.tags:
            return
        links = collector.links
        blocks.append(
            Block(
                collector.kind,
                bisect_right(starts, start),
                # The line of the block's last byte (a block ends where it starts at the earliest).
                bisect_right(starts, max(end_offset - 1, start)),
                block_text,
                tokens,
                token_lines,
                links=tuple(links),
                template_tags=tuple(collector.tags),
                quoted=collector.quoted,
                has_number=_has_digit(block_text),
                word_count=len(tokens) - sum(map(SENTENCE_END.__contains__, tokens)),
                navigation=bool(links)
                and all(link.startswith("#") for link in links)
                and len(block_text) <= 2 + collector.link_chars,
            )
        )

    try:
        events = pyromark.events_with_range(text, options=_OPTIONS)
        for raw_event, span in events:
            event: Any = raw_event  # pyromark types events as `object`
            if event.__class__ is str:
                if event in ("SoftBreak", "HardBreak") and stack and not skip_depth:
                    stack[-1].pieces.append("\n")
                continue
            value = event.get("Text")
            if value is not None:  # the most frequent event, handled first
                if in_metadata:
                    front_matter = _parse_front_matter(value)
                elif not skip_depth and stack and not in_image:
                    collector = stack[-1]
                    if collector.first < 0:
                        collector.first = span["start"]
                    collector.pieces.append(value)
                    if link_depth:
                        collector.link_chars += len(value)
                continue
            ((name, value),) = event.items()
            start = span["start"]
            if name == "Start":
                tag = value if isinstance(value, str) else next(iter(value))
                if tag in ("Paragraph", "Item", "TableHead", "TableRow"):
                    kind = {"Paragraph": "paragraph", "Item": "item"}.get(tag, "table_row")
                    stack.append(_Collector(kind, start, quote_depth > 0))
                elif tag == "Heading":
                    stack.append(_Collector("heading", start))
                elif tag == "TableCell":
                    if stack and stack[-1].pieces:
                        stack[-1].pieces.append(" | ")
                elif tag == "CodeBlock":
                    skip_depth += 1
                    code_lines += max(line_of(span["end"] - 1) - line_of(start) + 1, 0)
                elif tag == "MetadataBlock":
                    in_metadata = True
                elif tag == "Link":
                    link_depth += 1
                    if stack:
                        stack[-1].links.append(str(value[tag].get("dest_url", "")))
                elif tag == "Image":
                    in_image += 1
                elif tag == "BlockQuote":
                    quote_depth += 1
            elif name == "End":
                tag = value if isinstance(value, str) else next(iter(value))
                if tag in ("Paragraph", "Item", "TableHead", "TableRow") and stack:
                    emit(stack.pop(), span["end"])
                elif tag == "Heading" and stack:
                    collector = stack.pop()
                    level_name = value[tag] if isinstance(value, dict) else "H1"
                    before = len(blocks)
                    emit(collector, span["end"])
                    if len(blocks) > before:
                        blocks[-1].level = int(str(level_name)[-1])
                elif tag == "CodeBlock":
                    skip_depth = max(skip_depth - 1, 0)
                elif tag == "MetadataBlock":
                    in_metadata = False
                elif tag == "Image":
                    in_image = max(in_image - 1, 0)
                elif tag == "Link":
                    link_depth = max(link_depth - 1, 0)
                elif tag == "BlockQuote":
                    quote_depth = max(quote_depth - 1, 0)
            elif name in ("Html", "InlineHtml"):
                if "product-review" in value:  # cheap test before the directive regex
                    html(value, start)
                if name == "Html" and not skip_depth and _is_template_tag(value.strip()):
                    leftover = _Collector("paragraph", start)
                    leftover.tags.append((line_of(start), value.strip()))
                    emit(leftover, span["end"])
                if name == "InlineHtml" and stack and not skip_depth and "\n" in value:
                    stack[-1].pieces.append(" " + "\n" * value.count("\n"))
                if name == "InlineHtml" and stack and not skip_depth and _is_template_tag(value):
                    stack[-1].tags.append((line_of(start), value))
            elif name == "Code" and stack and not skip_depth:
                collector = stack[-1]
                if collector.first < 0:
                    collector.first = start
                collector.pieces.append(" " + "\n" * data.count(b"\n", start, span["end"]))
    except BaseException as exc:
        # pyo3 raises a Rust panic as PanicException, a BaseException. Keep what
        # was collected (part of a review beats none); anything else is a bug.
        if type(exc).__name__ != "PanicException":
            raise
        parse_failed = True

    blocks.sort(key=lambda b: (b.line, b.end_line))
    sections = _build_sections(blocks)
    return Document(
        path=path,
        text=text,
        line_count=line_count,
        blocks=blocks,
        sections=sections,
        front_matter=front_matter,
        directives=sorted(directives, key=lambda d: d.line),
        code_lines=code_lines,
        parse_failed=parse_failed,
    )


def _build_sections(blocks: list[Block]) -> list[Section]:
    sections: list[Section] = []
    open_stack: list[int] = []
    for index, block in enumerate(blocks):
        if block.kind != "heading":
            block.section = open_stack[-1] if open_stack else -1
            continue
        level = block.level or 1
        while open_stack and sections[open_stack[-1]].level >= level:
            closed = sections[open_stack.pop()]
            closed.block_end = index
        parent = open_stack[-1] if open_stack else -1
        sections.append(
            Section(
                title=block.text,
                norm_title=normalize_heading(block.text),
                level=level,
                line=block.line,
                end_line=block.end_line,
                heading_block=index,
                block_end=len(blocks),
                parent=parent,
            )
        )
        open_stack.append(len(sections) - 1)
        block.section = len(sections) - 1
    for position in open_stack:
        sections[position].block_end = len(blocks)
    for section in sections:
        last = blocks[section.block_end - 1] if section.block_end > 0 else None
        section.end_line = max(section.line, last.end_line if last else section.line)
    return sections
