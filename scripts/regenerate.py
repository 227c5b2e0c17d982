"""Regenerate what is derived from the rule registry (`checks/rules/`).

    python scripts/regenerate.py           # rewrite the files that are out of date
    python scripts/regenerate.py --check   # only say which are; exit 1 if any

It writes the config's JSON Schema (`checks/product-review.schema.json`) and the
rubric and checks tables of README.md. Run it after adding or changing a rule;
the test suite fails while either file is out of date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checks.configfile import SCHEMA_RESOURCE  # noqa: E402  (after the path is set)
from checks.rule_tables import with_tables  # noqa: E402
from checks.schema import config_schema_text  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    readme = ROOT / "README.md"
    schema = ROOT / "checks" / SCHEMA_RESOURCE
    try:
        wanted = {
            schema: config_schema_text(),
            readme: with_tables(readme.read_text(encoding="utf-8")),
        }
    except ValueError as error:  # the README lost a table's markers
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
