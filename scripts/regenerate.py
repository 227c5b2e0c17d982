"""Regenerate what is derived from the rule registry (`checks/rules/`).

    python scripts/regenerate.py           # rewrite the files that are out of date
    python scripts/regenerate.py --check   # only say which are; exit 1 if any

It writes the config's JSON Schema (`checks/product-review.schema.json`), the
rubric and checks tables of README.md, and the README's example summary (the
Check Run the App posts for `docs/examples/rfcs/`). Run it after adding or
changing a rule; the test suite fails while any of them is out of date. The
picture of that summary (`docs/summary.png`) is a screenshot: retake it by hand.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checks import review_document  # noqa: E402  (after the path is set)
from checks.config import DEFAULT_SETTINGS  # noqa: E402
from checks.configfile import SCHEMA_RESOURCE  # noqa: E402
from checks.rule_tables import with_tables  # noqa: E402
from checks.schema import config_schema_text  # noqa: E402
from ghapp.checkrun import render_check  # noqa: E402

EXAMPLE_SUMMARY = re.compile(
    r"(The same summary as raw Markdown.*?```markdown\n)(.*?)(\n```)", re.DOTALL
)


def with_example_summary(readme: str) -> str:
    """The README with its example summary rendered again from docs/examples/rfcs."""
    paths = sorted((ROOT / "docs" / "examples" / "rfcs").glob("*.md"))
    reports = [
        review_document(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
        for path in paths
    ]
    summary = render_check(reports, settings=DEFAULT_SETTINGS).summary.rstrip()
    if not EXAMPLE_SUMMARY.search(readme):
        raise ValueError("README.md lost its example summary")
    return EXAMPLE_SUMMARY.sub(lambda m: m.group(1) + summary + m.group(3), readme, count=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    readme = ROOT / "README.md"
    schema = ROOT / "checks" / SCHEMA_RESOURCE
    try:
        wanted = {
            schema: config_schema_text(),
            readme: with_example_summary(with_tables(readme.read_text(encoding="utf-8"))),
        }
    except ValueError as error:  # the README lost a table's markers or its example
        print(error, file=sys.stderr)
        return 2
    stale = [path for path, text in wanted.items() if path.read_text(encoding="utf-8") != text]
    for path in stale:
        if args.check:
            print(f"{path.relative_to(ROOT)} is out of date", file=sys.stderr)
        else:
            path.write_text(wanted[path], encoding="utf-8")
            print(f"rewrote {path.relative_to(ROOT)}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
