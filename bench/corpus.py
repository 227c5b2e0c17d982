"""The shared corpus beside the checkout, without the documents it reserves.

`RESERVED.md` in the corpus lists documents kept for independent measurement: no
script here may read them, so every script lists corpus files through this module.
"""

from __future__ import annotations

from pathlib import Path

from localreview.training import RESERVED_LIST
from localreview.training import reserved_documents as reserved


class ReservedDocument(ValueError):
    """A script was asked to read a document the corpus reserves."""


def usable_markdown(corpus: Path) -> list[Path]:
    """Every Markdown file of the corpus that is neither reserved nor the list itself."""
    kept = reserved(corpus)
    return sorted(
        path
        for path in corpus.rglob("*")
        if path.suffix.lower() in (".md", ".markdown")
        and path.is_file()
        and path.relative_to(corpus).as_posix() not in kept
        and path.relative_to(corpus).as_posix() != RESERVED_LIST
    )


def refuse_reserved(corpus: Path, relative: str) -> None:
    """Raise ReservedDocument when `relative` is one of the corpus's reserved documents."""
    if relative in reserved(corpus):
        raise ReservedDocument(f"{relative} is reserved for independent measurement")


def usable_view(corpus: Path, into: Path) -> Path:
    """A folder under `into` mirroring the corpus with symbolic links to its usable
    documents only, for tools that walk a folder (the CLI, markdownlint-cli2)."""
    view = into / corpus.name
    for path in usable_markdown(corpus):
        link = view / path.relative_to(corpus)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(path)
    return view
