"""The README's example summary is the renderer's real output for docs/examples."""

from __future__ import annotations

import re
from pathlib import Path

from checks import review_document
from checks.config import DEFAULT_SETTINGS
from ghapp.checkrun import render_check

ROOT = Path(__file__).resolve().parent.parent.parent


def test_readme_summary_matches_the_renderer() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(
        r"The same summary as raw Markdown.*?```markdown\n(.*?)\n```", readme, re.DOTALL
    )
    assert match, "the README lost its example summary"
    paths = sorted((ROOT / "docs/examples/rfcs").glob("*.md"))
    assert len(paths) == 2
    reports = [
        review_document(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT))) for p in paths
    ]
    output = render_check(reports, settings=DEFAULT_SETTINGS)
    assert output.summary.rstrip() == match.group(1).rstrip()
    assert (ROOT / "docs/summary.png").stat().st_size > 10_000
