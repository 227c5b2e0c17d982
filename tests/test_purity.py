"""checks/ is pure: no network, no async, no clock, no processes, no file I/O."""

from __future__ import annotations

import ast
from pathlib import Path

CHECKS = Path(__file__).resolve().parent.parent / "checks"
FORBIDDEN_MODULES = {
    "aiohttp",
    "gidgethub",
    "asyncio",
    "socket",
    "ssl",
    "http",
    "urllib",
    "requests",
    "httpx",
    "subprocess",
    "multiprocessing",
    "concurrent",
    "threading",
    "time",
    "datetime",
    "os",
    "shutil",
    "tempfile",
    "ghapp",
    "random",
}
FORBIDDEN_CALLS = {"open", "input", "print", "exec", "eval"}
# Pure helpers inside otherwise forbidden packages.
ALLOWED_MODULES = {"urllib.parse"}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        found += [
            f"import {n}"
            for n in names
            if n.split(".")[0] in FORBIDDEN_MODULES and n not in ALLOWED_MODULES
        ]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FORBIDDEN_CALLS
        ):
            found.append(f"call {node.func.id}()")
        # The one read allowed: the package's own data (the config schema).
        if (
            isinstance(node, ast.Attribute)
            and node.attr in {"read_text", "read_bytes", "open"}
            and "resources.files(" not in ast.unparse(node.value)
        ):
            found.append(f".{node.attr}")
    return [f"{path.name}:{item}" for item in found]


def test_checks_package_is_pure() -> None:
    files = sorted(CHECKS.rglob("*.py"))  # checks/rules/ too
    assert len(files) >= 8
    problems = [v for path in files for v in _violations(path)]
    assert problems == []


def test_the_purity_scan_would_catch_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import aiohttp\nfrom time import time\nfrom urllib.request import urlopen\n"
        "open('x')\nfrom pathlib import Path\nPath('y').read_text()\n"
    )
    assert _violations(bad) == [
        "bad.py:import aiohttp",
        "bad.py:import time",
        "bad.py:import urllib.request",
        "bad.py:call open()",
        "bad.py:.read_text",
    ]
