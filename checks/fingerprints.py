"""Fingerprints of findings, and the hidden marker that carries them in review text.

A fingerprint identifies a finding across pushes: it leaves line numbers out, so
moving or re-wrapping the text that raised it keeps it the same. The review keeps
the first `REVIEW_FINGERPRINT_CHARS` hex digits of the digest (stored in the hidden
markers of comments already posted, so these values must never change); SARIF's
`partialFingerprints` keeps a longer prefix of the same digest.

Every question posted in a review carries its fingerprint in a hidden HTML comment
(`<!-- product-review:fp=1a2b3c4d5e6f -->`), and the review body's marker lists
every fingerprint of that review (inline ones too), so `asked_fingerprints` over
earlier review bodies knows everything asked.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter
from collections.abc import Iterable

from checks.report import DocumentReport, FindingKind

REVIEW_FINGERPRINT_CHARS = 12
SARIF_FINGERPRINT_CHARS = 32

_MARKER_OPEN = "<!-- product-review:fp="
_MARKER_CLOSE = " -->"
_MARKER = re.compile(re.escape(_MARKER_OPEN) + "([0-9a-f,]*)" + re.escape(_MARKER_CLOSE))


def finding_fingerprints(
    report: DocumentReport, hex_chars: int = REVIEW_FINGERPRINT_CHARS
) -> tuple[str, ...]:
    """Hashes of the report's findings (same order), `hex_chars` long, that survive
    pushes: they ignore line numbers on purpose.

    A gap is identified by (path, dimension, status), so a gap that goes from
    `missing` to `weak` is a new question. A line finding is identified by (path,
    check, the words that raised it, normalised), so moving or re-wrapping the text
    does not make it new; when the same words raise the same check more than once
    in a document, the occurrence number (in document order) tells them apart.
    """
    findings = report.findings
    # The same words come back in many findings (every `TBD`): normalised once each.
    normalise = functools.lru_cache(maxsize=None)(_normalise)
    occurrences: Counter[tuple[str, ...]] = Counter()
    by_finding = [""] * len(findings)
    for index in sorted(range(len(findings)), key=lambda i: (findings[i].sort_key(), i)):
        finding = findings[index]
        if finding.kind is FindingKind.GAP:
            try:
                status = report.dimension(finding.check).status.value
            except KeyError:
                status = ""
            parts: tuple[str, ...] = (report.path, finding.check, status)
        else:
            region = normalise(finding.excerpt) or normalise(finding.message)
            parts = (report.path, finding.check, region)
        seen_before = occurrences[parts]
        occurrences[parts] += 1
        if seen_before:
            parts = (*parts, str(seen_before))
        # A file name that is not valid UTF-8 reaches the command line with lone
        # surrogates; `surrogatepass` hashes it (and any valid text as plain UTF-8).
        material = "\x1f".join(parts).encode("utf-8", "surrogatepass")
        by_finding[index] = hashlib.sha256(material).hexdigest()[:hex_chars]
    return tuple(by_finding)


def fingerprint_marker(fingerprints: Iterable[str]) -> str:
    """The hidden HTML comment that carries `fingerprints` in a review or comment."""
    return f"{_MARKER_OPEN}{','.join(fingerprints)}{_MARKER_CLOSE}"


def asked_fingerprints(bodies: Iterable[str | None]) -> frozenset[str]:
    """Fingerprints found in the hidden markers of earlier reviews and comments."""
    found: set[str] = set()
    for body in bodies:
        if not body:
            continue
        for match in _MARKER.finditer(body):
            found.update(fp for fp in match.group(1).split(",") if fp)
    return frozenset(found)


def _normalise(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))
