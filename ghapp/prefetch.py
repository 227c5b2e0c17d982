"""Everything a review needs besides the documents, in one GraphQL request.

One query reads, at once:

- the repository's `.github/product-review.yml` at its default branch (the
  settings) and at the pull request's head (its problems are annotated when the
  pull request changes the file; its settings never apply);
- the same file in the owner's `.github` repository (organisation defaults; that
  repository may not exist: GitHub then answers `null` with a NOT_FOUND error);
- the bodies of the earlier reviews written by bots on the pull request, and of
  their inline comments (the fingerprints of the questions already asked);
- the pull request's current head commit, draft state and labels: what a review
  started by a `check_suite` (whose payload has neither draft state nor labels)
  or by the comment command (whose payload has no head at all) needs to know
  before it starts. When the head is not known in advance, the head's config
  file is read through the pull request's last commit instead of by its SHA;
- the texts of the changed files that may need reading (`ContextRequest.documents`,
  at most `BLOBS_PER_REQUEST`), one aliased `object(expression: "REF:PATH")` each:
  the review lists the files first, so that its one request carries them too;
- a team's model file (`model: PATH` in the config), its blob SHA and size only, at
  the same commit: when the repository's config named one at its last load
  (`ContextRequest.model_path`). A model is over GitHub's 512 KB text limit anyway;
  the SHA tells whether the one parsed already is still the file (`ghapp.teammodel`).

This module only builds the query and reads the answer (`ghapp.github` sends it).
Whatever the answer lacks (an error on one part, a truncated or binary file, more
than 100 reviews) is simply not in the `ReviewContext`: the review then reads that
part through REST as it would without the prefetch, so a partial answer costs
calls, never correctness.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ghapp.pulls import PullState
from ghapp.repoconfig import CONFIG_PATH, ORG_CONFIG_REPO, FetchedFile, FileKey, file_key

# The query in three parts, so that documents' variables and aliases (when the
# request carries any) go between them: see `ContextRequest.query`.
_VARIABLES = """\
query ProductReviewContext(
  $owner: String!
  $name: String!
  $number: Int!
  $configPath: String!
  $configAtBase: String!
  $configAtHead: String
  $orgConfig: String!
  $headKnown: Boolean!
  $withOrg: Boolean!
  $withReviews: Boolean!
"""
_REPOSITORY = """\
) {
  repo: repository(owner: $owner, name: $name) {
"""
_CONTEXT = """\
    config: object(expression: $configAtBase) { ...ConfigFile }
    headConfig: object(expression: $configAtHead) @include(if: $headKnown) { ...ConfigFile }
    pullRequest(number: $number) {
      headRefOid
      isDraft
      labels(first: 100) {
        pageInfo { hasNextPage }
        nodes { name }
      }
      headCommit: commits(last: 1) @skip(if: $headKnown) {
        nodes {
          commit {
            oid
            file(path: $configPath) { object { ...ConfigFile } }
          }
        }
      }
      reviews(last: 100) @include(if: $withReviews) {
        pageInfo { hasPreviousPage }
        nodes {
          author { __typename login }
          body
          comments(first: 100) {
            pageInfo { hasNextPage }
            nodes { body }
          }
        }
      }
    }
  }
  org: repository(owner: $owner, name: ".github") @include(if: $withOrg) {
    config: object(expression: $orgConfig) { ...ConfigFile }
  }
}

fragment ConfigFile on Blob {
  oid
  byteSize
  isTruncated
  text
}
"""
# Without documents: everything but the texts.
QUERY = _VARIABLES + _REPOSITORY + _CONTEXT

# Where the head commit's config file sits in the answer when the head was not
# known in advance (GitHub answers a missing path there with a NOT_FOUND error).
_HEAD_COMMIT = ("repo", "pullRequest", "headCommit", "nodes", "0", "commit")


# -- the documents' texts -------------------------------------------------------------
# One aliased `object(expression: "REF:PATH")` per file, however many there are (up
# to `BLOBS_PER_REQUEST` in a request): in the context request, and in a request of
# their own (`BlobsRequest`) for any file the context request could not carry.

BLOBS_PER_REQUEST = 100

_BLOB_FIELDS = "fragment DocumentBlob on Blob {\n  byteSize\n  isBinary\n  isTruncated\n  text\n}\n"


@dataclass(frozen=True)
class DocumentBlob:
    """A changed file as GraphQL gave it."""

    byte_size: int
    # None: GraphQL cannot give the whole text (`unreadable` says why); REST can.
    text: str | None
    unreadable: str = ""


def _check_paths(paths: Sequence[str], *, at_least: int) -> None:
    if not at_least <= len(paths) <= BLOBS_PER_REQUEST:
        raise ValueError(
            f"{at_least} to {BLOBS_PER_REQUEST} paths per request, not {len(paths)}"
        )


def _blob_variables(paths: Sequence[str]) -> str:
    return "".join(f"  $e{index}: String!\n" for index in range(len(paths)))


def _blob_aliases(paths: Sequence[str]) -> str:
    # Paths travel as variables, never spliced into the query text.
    return "".join(
        f"    d{index}: object(expression: $e{index}) {{ ...DocumentBlob }}\n"
        for index in range(len(paths))
    )


def _blob_expressions(ref: str, paths: Sequence[str]) -> dict[str, str]:
    return {f"e{index}": f"{ref}:{path}" for index, path in enumerate(paths)}


# -- a team's model file ---------------------------------------------------------------

_MODEL_VARIABLE = "  $modelAt: String!\n"
_MODEL_ALIAS = "    model: object(expression: $modelAt) { ...ModelFile }\n"
_MODEL_FIELDS = "fragment ModelFile on Blob {\n  oid\n  byteSize\n  isBinary\n}\n"


@dataclass(frozen=True)
class ModelBlob:
    """What GraphQL said of a model file at a commit: its blob SHA and size, or
    (`oid` None) that there is no file at that path."""

    path: str
    ref: str
    oid: str | None
    byte_size: int = 0
    binary: bool = False


@dataclass(frozen=True)
class ContextRequest:
    """What to prefetch for one review, and how to file the answers."""

    owner: str
    repo: str
    number: int
    default_branch: str
    head_sha: str | None  # None: not known yet (the pull request's current head is wanted)
    earlier_reviews: bool  # False on `opened` or a full re-review: nothing to read
    # Changed files whose texts come too, at commit `documents_ref` (the head, or when
    # the head is not known yet, the commit the pull request's files were listed at).
    documents: tuple[str, ...] = ()
    documents_ref: str | None = None
    # The model file the repository's config named at its last load, to learn its blob
    # SHA at `model_ref` (the commit the documents are read at); None: not asked.
    model_path: str | None = None
    model_ref: str | None = None

    def __post_init__(self) -> None:
        _check_paths(self.documents, at_least=0)
        if self.documents and not self.documents_ref:
            raise ValueError("documents need the commit to read them at")
        if self.model_path is not None and not self.model_ref:
            raise ValueError("a model file needs the commit to read it at")

    @property
    def with_org(self) -> bool:
        # The organisation repository's own reviews have no separate organisation layer.
        return self.repo.lower() != ORG_CONFIG_REPO

    @property
    def head_known(self) -> bool:
        return self.head_sha is not None

    def query(self) -> str:
        """`QUERY`, with one aliased blob per document when there are any, and the
        model file when asked (GraphQL refuses a fragment that nothing uses)."""
        if not self.documents and self.model_path is None:
            return QUERY
        model = self.model_path is not None
        return (
            _VARIABLES
            + _blob_variables(self.documents)
            + (_MODEL_VARIABLE if model else "")
            + _REPOSITORY
            + _blob_aliases(self.documents)
            + (_MODEL_ALIAS if model else "")
            + _CONTEXT
            + ("\n" + _BLOB_FIELDS if self.documents else "")
            + ("\n" + _MODEL_FIELDS if model else "")
        )

    def variables(self) -> dict[str, Any]:
        documents = (
            _blob_expressions(self.documents_ref, self.documents) if self.documents_ref else {}
        )
        return {
            "owner": self.owner,
            "name": self.repo,
            "number": self.number,
            "configPath": CONFIG_PATH,
            "configAtBase": f"{self.default_branch}:{CONFIG_PATH}",
            "configAtHead": f"{self.head_sha}:{CONFIG_PATH}" if self.head_known else None,
            "orgConfig": f"HEAD:{CONFIG_PATH}",
            "headKnown": self.head_known,
            "withOrg": self.with_org,
            "withReviews": self.earlier_reviews,
            **documents,
            **({"modelAt": f"{self.model_ref}:{self.model_path}"} if self.model_path else {}),
        }


@dataclass(frozen=True)
class ReviewContext:
    """What the prefetch learnt; anything missing is read through REST instead."""

    # Config files by `repoconfig.file_key`; None: the file (or repository) does not exist.
    files: Mapping[FileKey, FetchedFile | None] = field(default_factory=dict)
    # Bodies of earlier bot reviews and their comments; None: not read, or incomplete.
    earlier_bodies: tuple[str, ...] | None = None
    # The pull request's current head, draft state and labels; None: not read.
    pull: PullState | None = None
    # GraphQL errors other than the expected "no `.github` repository", for the log.
    problems: tuple[str, ...] = ()
    # The documents' blobs by path, at commit `documents_ref`: every path asked for,
    # None where GraphQL said nothing usable (REST may know more).
    documents: Mapping[str, DocumentBlob | None] = field(default_factory=dict)
    documents_ref: str | None = None
    # The model file asked for (`ContextRequest.model_path`); None: not asked, or
    # GraphQL said nothing usable about it.
    model: ModelBlob | None = None


EMPTY_CONTEXT = ReviewContext()


def _path_of(error: Mapping[str, Any]) -> tuple[str, ...] | None:
    path = error.get("path")
    if not isinstance(path, list) or not path:
        return None
    return tuple(str(part) for part in path)


class _Answer:
    def __init__(self, answer: Mapping[str, Any]) -> None:
        data = answer.get("data")
        self.data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        errors = answer.get("errors")
        self.errors: list[Mapping[str, Any]] = [
            error
            for error in (errors if isinstance(errors, list) else [])
            if isinstance(error, Mapping)
        ]

    def failed(self, *path: str) -> bool:
        """An error touches `path` (above, at, or below it), or has no path at all."""
        for error in self.errors:
            where = _path_of(error)
            if where is None:
                return True
            common = min(len(where), len(path))
            if where[:common] == path[:common]:
                return True
        return False

    def get(self, *path: str) -> tuple[bool, Any]:
        """(found, value) at `path` of the data (list items by their index, as a
        string); not found when a key or an item is absent."""
        node: Any = self.data
        for key in path:
            if isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            elif isinstance(node, Mapping) and key in node:
                node = node[key]
            else:
                return False, None
        return True, node

    def not_found(self, *path: str) -> bool:
        """GitHub said NOT_FOUND at exactly `path`."""
        return any(
            error.get("type") == "NOT_FOUND" and _path_of(error) == path for error in self.errors
        )


def _blob(value: Any) -> tuple[bool, FetchedFile | None]:
    """(known, file) for an `object(expression:)` answer: null is a missing file; a
    tree is not a file either; a truncated or binary blob is unknown here."""
    if value is None:
        return True, None
    if not isinstance(value, Mapping):
        return False, None
    if "oid" not in value:
        return True, None  # a Tree or a Commit: the `... on Blob` fragment did not apply
    text = value.get("text")
    if value.get("isTruncated") or not isinstance(text, str):
        return False, None
    return True, FetchedFile(text=text, sha=str(value["oid"]))


def _bodies(answer: _Answer) -> tuple[str, ...] | None:
    if answer.failed("repo", "pullRequest", "reviews"):
        return None
    found, reviews = answer.get("repo", "pullRequest", "reviews")
    if not found or not isinstance(reviews, Mapping):
        return None
    if (reviews.get("pageInfo") or {}).get("hasPreviousPage"):
        return None  # more than 100 reviews: older ones need REST's pagination
    bodies: list[str] = []
    for review in reviews.get("nodes") or []:
        if not isinstance(review, Mapping):
            continue
        if (review.get("author") or {}).get("__typename") != "Bot":
            continue
        bodies.append(str(review.get("body") or ""))
        comments = review.get("comments") or {}
        if (comments.get("pageInfo") or {}).get("hasNextPage"):
            return None
        bodies.extend(
            str(comment.get("body") or "")
            for comment in comments.get("nodes") or []
            if isinstance(comment, Mapping)
        )
    return tuple(bodies)


def _pull_state(answer: _Answer) -> PullState | None:
    if any(answer.failed("repo", "pullRequest", key) for key in ("headRefOid", "isDraft")):
        return None
    found, pull = answer.get("repo", "pullRequest")
    if not found or not isinstance(pull, Mapping):
        return None
    head, draft = pull.get("headRefOid"), pull.get("isDraft")
    if not isinstance(head, str) or not head or not isinstance(draft, bool):
        return None
    labels = pull.get("labels")
    names: tuple[str, ...] | None = None
    complete = (
        isinstance(labels, Mapping)
        and not answer.failed("repo", "pullRequest", "labels")
        and not (labels.get("pageInfo") or {}).get("hasNextPage", True)
    )
    if complete and isinstance(labels, Mapping):
        names = tuple(
            str(node["name"])
            for node in labels.get("nodes") or []
            if isinstance(node, Mapping) and node.get("name")
        )
    return PullState(head_sha=head, draft=draft, labels=names)


def _head_commit_config(answer: _Answer, head_sha: str) -> tuple[bool, FetchedFile | None]:
    """(known, file) for the config file in the pull request's last commit, known
    only when that commit is the head (GitHub lists at most 250 commits)."""
    found, commit = answer.get(*_HEAD_COMMIT)
    if not found or not isinstance(commit, Mapping) or commit.get("oid") != head_sha:
        return False, None
    if answer.not_found(*_HEAD_COMMIT, "file"):
        return True, None  # no config file at the head
    if answer.failed(*_HEAD_COMMIT, "file"):
        return False, None
    found, entry = answer.get(*_HEAD_COMMIT, "file")
    if not found or (entry is not None and not isinstance(entry, Mapping)):
        return False, None
    return _blob(None if entry is None else entry.get("object"))


def read_context(answer: Mapping[str, Any], request: ContextRequest) -> ReviewContext:
    """The `ReviewContext` in GitHub's answer to `QUERY` with `request.variables()`."""
    parsed = _Answer(answer)
    pull = _pull_state(parsed)
    files: dict[FileKey, FetchedFile | None] = {}
    wanted: list[tuple[tuple[str, ...], FileKey]] = [
        (
            ("repo", "config"),
            file_key(request.owner, request.repo, CONFIG_PATH, request.default_branch),
        ),
    ]
    if request.head_known:
        wanted.append(
            (
                ("repo", "headConfig"),
                file_key(request.owner, request.repo, CONFIG_PATH, request.head_sha),
            )
        )
    elif pull is not None and pull.head_sha is not None:
        known, fetched = _head_commit_config(parsed, pull.head_sha)
        if known:
            files[file_key(request.owner, request.repo, CONFIG_PATH, pull.head_sha)] = fetched
    org_key = file_key(request.owner, ORG_CONFIG_REPO, CONFIG_PATH, None)
    org_missing = request.with_org and parsed.not_found("org")
    # Expected answers, not problems: no `.github` repository, no config file at the head.
    expected: set[tuple[str, ...]] = {("org",)} if org_missing else set()
    if not request.head_known:
        expected.add((*_HEAD_COMMIT, "file"))
    if org_missing:
        files[org_key] = None  # no `.github` repository, or the app cannot see it
    elif request.with_org:
        wanted.append((("org", "config"), org_key))
    for path, key in wanted:
        if parsed.failed(*path):
            continue
        found, value = parsed.get(*path)
        if not found:
            continue
        known, fetched = _blob(value)
        if known:
            files[key] = fetched
    problems = tuple(
        str(error.get("message") or error)
        for error in parsed.errors
        if not (error.get("type") == "NOT_FOUND" and _path_of(error) in expected)
    )
    return ReviewContext(
        files=files,
        earlier_bodies=_bodies(parsed) if request.earlier_reviews else None,
        pull=pull,
        problems=problems,
        documents=_blobs(parsed, request.documents),
        documents_ref=request.documents_ref,
        model=_model_blob(parsed, request),
    )


def _model_blob(parsed: _Answer, request: ContextRequest) -> ModelBlob | None:
    if request.model_path is None or request.model_ref is None:
        return None
    if parsed.failed("repo", "model"):
        return None
    found, value = parsed.get("repo", "model")
    if not found:
        return None
    path, ref = request.model_path, request.model_ref
    if value is None or (isinstance(value, Mapping) and "oid" not in value):
        return ModelBlob(path, ref, None)  # no file there (or a folder)
    if not isinstance(value, Mapping):
        return None
    oid, size = value.get("oid"), value.get("byteSize")
    if not isinstance(oid, str) or not oid or not isinstance(size, int):
        return None
    return ModelBlob(path, ref, oid, size, bool(value.get("isBinary")))


def describe(problems: Sequence[str], *, limit: int = 3) -> str:
    """A short account of GraphQL errors for a log line."""
    shown = "; ".join(problem[:200] for problem in problems[:limit])
    more = len(problems) - limit
    return shown + (f" (+{more} more)" if more > 0 else "")


@dataclass(frozen=True)
class BlobsRequest:
    """The texts of `paths` at commit `ref`, in a request of their own (at most
    `BLOBS_PER_REQUEST` of them): the files the context request did not carry."""

    owner: str
    repo: str
    ref: str
    paths: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_paths(self.paths, at_least=1)

    def query(self) -> str:
        return (
            "query ProductReviewDocuments(\n  $owner: String!\n  $name: String!\n"
            + _blob_variables(self.paths)
            + ") {\n  repo: repository(owner: $owner, name: $name) {\n"
            + _blob_aliases(self.paths)
            + "  }\n}\n\n"
            + _BLOB_FIELDS
        )

    def variables(self) -> dict[str, Any]:
        return {"owner": self.owner, "name": self.repo, **_blob_expressions(self.ref, self.paths)}


def read_blobs(
    answer: Mapping[str, Any], request: BlobsRequest
) -> dict[str, DocumentBlob | None]:
    """The blobs in GitHub's answer to `request.query()`, by path."""
    return _blobs(_Answer(answer), request.paths)


def _blobs(parsed: _Answer, paths: Sequence[str]) -> dict[str, DocumentBlob | None]:
    """The aliased blobs `d0`, `d1`... of an answer, by path: None for a path GraphQL
    said nothing usable about (an error, null, not a blob), which REST may know."""
    blobs: dict[str, DocumentBlob | None] = dict.fromkeys(paths)
    for index, path in enumerate(paths):
        alias = ("repo", f"d{index}")
        if parsed.failed(*alias):
            continue
        found, value = parsed.get(*alias)
        if not found or not isinstance(value, Mapping):
            continue
        size, text = value.get("byteSize"), value.get("text")
        if not isinstance(size, int):
            continue  # a Tree or a Commit: the `... on Blob` fragment did not apply
        if value.get("isTruncated"):
            blobs[path] = DocumentBlob(size, None, "truncated")
        elif value.get("isBinary") or not isinstance(text, str):
            blobs[path] = DocumentBlob(size, None, "binary")
        else:
            blobs[path] = DocumentBlob(size, text)
    return blobs
