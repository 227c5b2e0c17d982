"""Which Markdown files are design documents: one decision for the App, the command
line and the pre-commit hook, so a file is reviewed by all three or by none.

In order, the first rule that applies decides:

1. `paths.exclude` (the config's, or the defaults: changelogs, templates,
   `node_modules`) keeps a file out;
2. `paths.include` set in a config (or `--include` on the command line) brings a
   file in, whatever its content;
3. well-known files that are never design documents (README, CONTRIBUTING,
   CODE_OF_CONDUCT, LICENSE, CHANGELOG, SECURITY, SUPPORT, templates) stay out,
   except that inside a folder the default globs name the content decides for
   all but templates (a KEP is `keps/sig-x/123-name/README.md`; `rfcs/README.md`
   is an index);
4. the default path globs (`rfcs/`, `keps/`, `design/`, `adr/`, `*-rfc.md`, ...)
   bring a file in;
5. otherwise the content decides: the headings design documents use (Motivation,
   Alternatives, Drawbacks, Non-goals, Decision, ...), the metadata lines and
   front matter keys of their templates (`Status:`, `Authors:`, `Start Date:`),
   and a numbered file name (`0123-name.md`) add up to a score.

Front matter `product_review: skip` is the engine's to honour: such a file is a
design document whose review is skipped. Reading is bounded: only the first
`SCANNED_CHARS` characters of a document are scored, in one pass over its lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import pathspec

from checks.config import Settings, compile_globs
from checks.document import normalize_heading

MARKDOWN_SUFFIXES = (".md", ".markdown")
# Enough for the headings of any real design doc; a longer file is judged on its start.
SCANNED_CHARS = 256 * 1024
# A score at or above this makes a document a design document by its content.
THRESHOLD = 3


class Reason(StrEnum):
    """Why a file is, or is not, reviewed. The value is what people read."""

    INCLUDED_BY_CONFIG = "included by config"
    DESIGN_BY_PATH = "design document by its path"
    DESIGN_BY_CONTENT = "design document by its content"
    EXCLUDED_BY_CONFIG = "excluded by config"
    WELL_KNOWN_FILE = "not a design document (a well-known project file)"
    NOT_DESIGN_BY_CONTENT = "not a design document by its content"
    NOT_MARKDOWN = "not a Markdown file"


@dataclass(frozen=True)
class Decision:
    reviewed: bool
    reason: Reason
    score: int = 0  # the content score, when the content decided


# Headings that mostly appear in design documents, and ones that also appear in
# READMEs and guides (they only count alongside others). Compared after
# `normalize_heading`.
_STRONG_HEADINGS = frozenset(
    {
        "motivation",
        "alternatives",
        "alternatives considered",
        "considered alternatives",
        "alternative designs",
        "alternatives and rationale",
        "rationale and alternatives",
        "rationale",
        "drawbacks",
        "non goals",
        "goals and non goals",
        "decision",
        "decision outcome",
        "decision drivers",
        "considered options",
        "consequences",
        "context and problem statement",
        "proposal",
        "proposed solution",
        "proposed design",
        "proposed change",
        "detailed design",
        "detailed proposal",
        "design details",
        "guide level explanation",
        "reference level explanation",
        "prior art",
        "unresolved questions",
        "future possibilities",
        "future work",
        "risks and mitigations",
        "graduation criteria",
        "problem statement",
        "source compatibility",
        "effect on abi stability",
        "effect on api resilience",
        "alternatives rejected",
        "rejected alternatives",
        "success metrics",
        "open questions",
        "user stories",
        "impact on existing code",
        "backwards compatibility",
        "backward compatibility",
        "compatibility",
        "security considerations",
        "implementation plan",
        "rollout plan",
        "out of scope",
        "scope",
        "requirements",
        "non functional requirements",
        "stakeholders",
        "scenarios",
        "test plan",
        "upgrade downgrade strategy",
        "version skew strategy",
        "production readiness review questionnaire",
        "why now",
        "risks",
        # Product templates: Shape Up pitches, PR/FAQs, research spikes.
        "appetite",
        "rabbit holes",
        "no gos",
        "press release",
        "external faq",
        "internal faq",
        "customer faq",
        "hypothesis",
        "timebox",
        "exit criteria",
        "success criteria",
    }
)
_WEAK_HEADINGS = frozenset(
    {
        "summary",
        "abstract",
        "background",
        "context",
        "goals",
        "design",
        "overview",
        "implementation",
        "status",
        "introduction",
        "problem",
        "solution",
        "discussion",
        "references",
        "costs",
        "metrics",
        "timeline",
        "milestones",
        "migration",
        "testing",
        "examples",
    }
)
# Headings of READMEs, guides, changelogs and reference pages.
_OTHER_HEADINGS = frozenset(
    {
        "installation",
        "install",
        "getting started",
        "quick start",
        "quickstart",
        "usage",
        "license",
        "contributing",
        "changelog",
        "table of contents",
        "contents",
        "faq",
        "support",
        "api reference",
        "parameters",
        "returns",
        "options",
        "configuration",
        "prerequisites",
        "requirements and installation",
        "build",
        "building",
        "features",
        "bug fixes",
        "breaking changes",
        "fixed",
        "added",
        "changed",
        "removed",
        "deprecated",
        "attendees",
        "agenda",
        "action items",
        "notes",
        "steps to reproduce",
        "expected behavior",
        "actual behavior",
        "troubleshooting",
        "acknowledgements",
        "authors",
        "credits",
        "see also",
    }
)
# "- Start Date: 2020-01-01", "* Status: **Implemented**", "Author(s): ...",
# "Authors: ...": the metadata block of a template, near the top.
_METADATA_LINE = re.compile(
    r"[-*+]?[ \t]{0,4}(?:\*\*)?("
    r"feature name|start date|rfc pr|rfc issue|tracking issue|rust issue|proposal|"
    r"authors?|author\(s\)|status|review manager|implementation|decision date|"
    r"deciders|consulted|informed|champions?|last updated|discussion at|"
    r"kep number|owning sig|participating sigs|reviewers|approvers|creation date|"
    r"sponsor|shepherd|supersedes|superseded by|discussion|date|type"
    r")(?:\*\*)?[ \t]{0,4}:",
    re.IGNORECASE,
)
# Keys of design-doc templates; not `title`, `author` or `date`, which every page
# of a static site has.
_FRONT_MATTER_KEYS = frozenset(
    {
        "status",
        "authors",
        "deciders",
        "consulted",
        "informed",
        "kep-number",
        "owning-sig",
        "participating-sigs",
        "creation-date",
        "reviewers",
        "approvers",
        "stage",
        "supersedes",
        "superseded-by",
        "replaces",
        "discussion",
        "product_review",
        "category",
    }
)
# Words that make a heading read like a design doc's even when it is not one of
# the template headings above ("API Proposal", "Alternative solutions").
_DESIGN_WORDS = frozenset(
    {
        "proposal",
        "proposed",
        "alternative",
        "alternatives",
        "motivation",
        "rationale",
        "drawbacks",
        "decision",
        "goal",
        "goals",
        "scenarios",
        "requirements",
        "tradeoffs",
        "trade",
    }
)
# Wording of a document that proposes or decides something, looked for in its
# first `_PROSE_CHARS` characters (lowercased).
_PROSE_MARKERS = (
    "this document proposes",
    "this proposal",
    "we propose",
    "i propose",
    "this rfc",
    "this kep",
    "this adr",
    "this design",
    "design doc",
    "design proposal",
    "proposed design",
    "the proposed",
    "non-goals",
    "out of scope",
    "trade-off",
    "tradeoff",
    "alternatives considered",
    "we considered",
    "we decided",
    "we will ",
    "drawbacks",
    "**owner**",
    "**owners**",
    "**status**",
)
_PROSE_CHARS = 20_000
_FRONT_MATTER_KEY = re.compile(r"([A-Za-z][A-Za-z0-9_-]{0,40})[ \t]*:")
_NUMBERED_NAME = re.compile(r"(?:\d{3,5}|rfc-?\d{1,5}|adr-?\d{1,5}|kep-?\d{1,5})[-_. ]", re.I)
_VERSION_HEADING = re.compile(r"\[?v?\d+\.\d+")
_ATX_HEADING = re.compile(r"[ ]{0,3}(#{1,6})[ \t]+(.*)")

_WELL_KNOWN_STEMS = frozenset(
    {
        "readme",
        "contributing",
        "code_of_conduct",
        "code-of-conduct",
        "conduct",
        "license",
        "licence",
        "copying",
        "changelog",
        "changes",
        "history",
        "news",
        "releases",
        "release-notes",
        "release_notes",
        "security",
        "support",
        "governance",
        "maintainers",
        "codeowners",
        "authors",
        "contributors",
        "notice",
        "pull_request_template",
        "issue_template",
        "template",
        "funding",
    }
)
_WELL_KNOWN_FOLDERS = ("ISSUE_TEMPLATE/", "PULL_REQUEST_TEMPLATE/", "templates/", "template/")


def is_markdown(path: str) -> bool:
    return path.lower().endswith(MARKDOWN_SUFFIXES)


def is_well_known(path: str) -> bool:
    """README.md, CONTRIBUTING.md, LICENSE.md, issue templates...: never design docs."""
    stem = _stem(path)
    return stem in _WELL_KNOWN_STEMS or is_template(path)


def is_template(path: str) -> bool:
    """A template to copy (`adr-template.md`, `.github/ISSUE_TEMPLATE/bug.md`): never
    a design doc, even in a design-doc folder, where it reads like one."""
    stem = _stem(path)
    if stem == "template" or stem.endswith(("-template", "_template")):
        return True
    lowered = f"/{path}".lower()
    return any(f"/{folder.lower()}" in lowered for folder in _WELL_KNOWN_FOLDERS)


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()


@lru_cache(maxsize=64)
def _globs(globs: tuple[str, ...]) -> pathspec.PathSpec[pathspec.Pattern]:
    """Command-line globs, compiled once per distinct set."""
    return compile_globs(globs)


def decide_by_path(
    path: str, settings: Settings, *, include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()
) -> Decision | None:
    """The decision when the path alone settles it, else None (the content decides).

    `include` and `exclude` are globs given on the command line; they count as the
    config's own."""
    forced = _explicitly_included(path, settings, include)
    if not forced and not is_markdown(path):
        return Decision(False, Reason.NOT_MARKDOWN)
    if settings.is_excluded(path) or (exclude and _globs(exclude).match_file(path)):
        return Decision(False, Reason.EXCLUDED_BY_CONFIG)
    if forced:
        return Decision(True, Reason.INCLUDED_BY_CONFIG)
    if is_template(path):
        return Decision(False, Reason.WELL_KNOWN_FILE)
    in_design_folder = settings.is_included(path)
    if is_well_known(path):
        # A KEP is `keps/sig-x/123-name/README.md`, while `rfcs/README.md` is an
        # index: in a design folder the content tells them apart.
        return None if in_design_folder else Decision(False, Reason.WELL_KNOWN_FILE)
    return Decision(True, Reason.DESIGN_BY_PATH) if in_design_folder else None


def decide(
    path: str,
    text: str,
    settings: Settings,
    *,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> Decision:
    """Whether the file at `path`, holding `text`, is a design document to review."""
    by_path = decide_by_path(path, settings, include=include, exclude=exclude)
    return by_path if by_path is not None else decide_by_content(path, text)


def decide_by_content(path: str, text: str) -> Decision:
    """The content's verdict, for a file whose path `decide_by_path` left undecided."""
    score = content_score(path, text)
    if score >= THRESHOLD:
        return Decision(True, Reason.DESIGN_BY_CONTENT, score)
    return Decision(False, Reason.NOT_DESIGN_BY_CONTENT, score)


def _explicitly_included(path: str, settings: Settings, include: tuple[str, ...]) -> bool:
    if include and _globs(include).match_file(path):
        return True
    return settings.include_is_configured and settings.is_included(path)


_DESIGN_PATH_WORDS = ("rfc", "adr", "kep", "design", "proposal", "decision", "spec", "text/")


def reading_priority(path: str) -> int:
    """Lower first: which undecided files are worth reading first when only some can
    be (a numbered name, a folder that sounds like design docs)."""
    name = path.rsplit("/", 1)[-1]
    lowered = path.lower()
    numbered = bool(_NUMBERED_NAME.match(name))
    worded = any(word in lowered for word in _DESIGN_PATH_WORDS)
    return 0 if numbered and worded else 1 if numbered or worded else 2


def content_score(path: str, text: str) -> int:
    """How much `text` (the file at `path`) reads like a design document; one pass
    over at most `SCANNED_CHARS` characters."""
    strong: set[str] = set()
    weak: set[str] = set()
    other = 0
    versions = 0
    metadata: set[str] = set()
    worded: set[str] = set()
    front_keys: set[str] = set()
    in_fence = ""
    lines = text[:SCANNED_CHARS].split("\n")
    in_front_matter = bool(lines) and lines[0].strip() == "---"
    for number, raw in enumerate(lines):
        line = raw.rstrip("\r")
        if in_front_matter:
            if number > 0 and line.strip() in ("---", "..."):
                in_front_matter = False
            elif number > 0 and not line.startswith((" ", "\t", "-")):
                key = _FRONT_MATTER_KEY.match(line)
                if key and key.group(1).lower() in _FRONT_MATTER_KEYS:
                    front_keys.add(key.group(1).lower())
            continue
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            if not in_fence:
                in_fence = fence
            elif fence == in_fence:
                in_fence = ""
            continue
        if in_fence:
            continue
        if stripped.startswith("#"):
            heading = _ATX_HEADING.match(line)
            if heading is None:
                continue
            title = heading.group(2).strip().rstrip("#").strip()
            if _VERSION_HEADING.match(title):
                versions += 1
                continue
            normal = normalize_heading(title[:200])
            if normal in _STRONG_HEADINGS:
                strong.add(normal)
            elif normal in _WEAK_HEADINGS:
                weak.add(normal)
            elif normal in _OTHER_HEADINGS:
                other += 1
            else:
                worded.update(_DESIGN_WORDS.intersection(normal.split()))
        elif number < 60:
            field_name = _METADATA_LINE.match(stripped)
            if field_name:  # distinct fields: a reference page repeats "Type:" per entry
                metadata.add(field_name.group(1).lower())
    opening = text[:_PROSE_CHARS].lower()
    prose = sum(1 for marker in _PROSE_MARKERS if marker in opening)
    score = 2 * len(strong) + min(len(weak), 3) + min(len(worded), 3) + min(prose, 4)
    score += 2 * min(len(metadata), 3) + min(len(front_keys), 3)
    if _NUMBERED_NAME.match(path.rsplit("/", 1)[-1]):
        score += 2
    score -= min(other, 4) + min(versions, 4)
    return score
