"""The document model: headings, sections, blocks and lines from a real parser."""

from __future__ import annotations

from checks.document import normalize_heading, parse

SAMPLE = """---
title: Sample
category: platform
---
Setext title
============

Intro paragraph with `inline code` and <!-- a hidden note --> words.

## Motivation

Line one of a paragraph
continues on line two.

- first item
- second item

| Option | Cost |
|--------|------|
| Cache  | Low  |

```python
code_is_not_prose = "real-time TBD"
```

<!-- product-review off -->

### Nested heading

Tail paragraph.
"""


def test_front_matter_is_parsed_and_not_prose() -> None:
    doc = parse(SAMPLE)
    assert doc.front_matter == {"title": "Sample", "category": "platform"}
    assert all("category" not in block.tokens for block in doc.blocks)
    assert doc.title == "Sample"


def test_setext_and_atx_headings_form_nested_sections_with_line_ranges() -> None:
    doc = parse(SAMPLE)
    titles = [(s.title, s.level, s.line, s.parent) for s in doc.sections]
    assert titles == [
        ("Setext title", 1, 5, -1),
        ("Motivation", 2, 10, 0),
        ("Nested heading", 3, 28, 1),
    ]
    motivation = doc.sections[1]
    assert motivation.end_line == 30  # the subtree runs to the last block
    assert [b.text for b in doc.section_blocks(1)][-1] == "Tail paragraph."


def test_blocks_carry_the_line_of_each_token() -> None:
    doc = parse(SAMPLE)
    paragraph = next(b for b in doc.blocks if b.text.startswith("Line one"))
    assert (paragraph.line, paragraph.end_line) == (12, 13)
    assert paragraph.token_lines[paragraph.tokens.index("two")] == 13
    kinds = {b.text: b.kind for b in doc.blocks}
    assert kinds["first item"] == "item"
    assert kinds["Cache | Low"] == "table_row"


def test_code_inline_code_and_html_comments_are_never_prose() -> None:
    doc = parse(SAMPLE)
    all_tokens = {token for block in doc.blocks for token in block.tokens}
    assert "code_is_not_prose" not in all_tokens
    assert "tbd" not in all_tokens
    assert "inline" not in all_tokens  # the inline code span
    assert "hidden" not in all_tokens  # the HTML comment
    assert doc.code_lines == 3


def test_directives_are_read_from_html_comments() -> None:
    doc = parse(SAMPLE)
    assert [(d.line, d.action) for d in doc.directives] == [(26, "off")]


def test_lines_stay_right_after_multibyte_text() -> None:
    doc = parse("# Über café ☕\n\nZweite Zeile — ünïcode\n\n## Next\n")
    assert [(s.title, s.line) for s in doc.sections] == [("Über café ☕", 1), ("Next", 5)]
    assert doc.blocks[1].line == 3


def test_template_tags_are_kept_but_real_html_is_not() -> None:
    doc = parse("Write <describe the problem> here and <b>bold</b> there.\n")
    assert [tag for _, tag in doc.blocks[0].template_tags] == ["<describe the problem>"]


def test_normalize_heading_drops_numbering_and_optional_markers() -> None:
    assert normalize_heading("2.1 Risks & Mitigations (Optional):") == "risks and mitigations"
    assert normalize_heading("Non-Goals") == "non-goals"


def test_windows_line_endings_and_empty_input() -> None:
    doc = parse("# A\r\n\r\ntext\r\n")
    assert [b.line for b in doc.blocks] == [1, 3]
    empty = parse("")
    assert empty.blocks == [] and empty.line_count == 1
