"""Coverage-guided fuzzing of the review engine and of file decoding (atheris).

    pip install atheris
    python fuzz/fuzz_engine.py -runs=20000
    python fuzz/fuzz_engine.py -max_total_time=300 corpus/

For any bytes, `decode_text` returns text or raises UndecodableText; for any
text, `review_document` returns a report whose every line lies in the document
as git counts lines. A crash, another exception or a failed assertion is a bug.
`test_one_input` also runs without atheris (the test suite calls it).
"""

from __future__ import annotations

import importlib
import re
import sys
from typing import Any

# The first byte picks how the rest becomes a Python string, so the fuzzer
# reaches lone surrogates, NUL, lone CR and text in other encodings.
_DECODINGS = (
    ("utf-8", "surrogateescape"),  # invalid bytes become lone surrogates
    ("utf-8", "replace"),
    ("utf-16-le", "surrogatepass"),  # lone surrogates straight from the bytes
    ("utf-32-le", "replace"),
    ("latin-1", "strict"),  # every byte a character: NUL, CR and controls
)


def text_of(data: bytes) -> str:
    if not data:
        return ""
    encoding, errors = _DECODINGS[data[0] % len(_DECODINGS)]
    body = data[1:]
    unit = {"utf-16-le": 2, "utf-32-le": 4}.get(encoding, 1)
    return body[: len(body) - len(body) % unit].decode(encoding, errors)


def git_line_count(text: str) -> int:
    """Lines as git counts them: only LF ends a line; the engine reports at least 1."""
    return max(text.count("\n") + (0 if text.endswith("\n") else 1), 1)


def check_review(text: str) -> None:
    from checks import DIMENSIONS, review_document

    report = review_document(text, "fuzz.md")
    count = report.line_count
    assert count == git_line_count(text), (count, git_line_count(text))
    assert tuple(d.key for d in report.dimensions) == DIMENSIONS
    for result in report.dimensions:
        assert result.line is None or 1 <= result.line <= count, result
    for finding in report.findings:
        assert 1 <= finding.line <= finding.end_line <= count, finding
        if finding.column is not None:  # where the excerpt starts on its first line
            line = text.split("\n")[finding.line - 1][finding.column - 1 :]
            assert re.match(re.escape(finding.excerpt), line, re.IGNORECASE), finding
    for question in report.top_questions:
        assert question.line is None or 1 <= question.line <= count, question


def check_decoding(data: bytes) -> None:
    from checks.decoding import UndecodableText, decode_text

    try:
        utf8: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    plain_utf8 = utf8 is not None and "\x00" not in utf8
    try:
        text = decode_text(data)
    except UndecodableText as error:
        assert not plain_utf8, f"valid UTF-8 refused: {error}"
        assert str(error), "a refusal says why"
        return
    assert "\x00" not in text
    if plain_utf8:
        assert utf8 is not None and text == utf8.removeprefix("\ufeff")


def test_one_input(data: bytes) -> None:
    check_decoding(data)
    check_review(text_of(data))


def main() -> None:
    atheris: Any = importlib.import_module("atheris")
    with atheris.instrument_imports():
        import checks.decoding
        import checks.engine  # noqa: F401
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
