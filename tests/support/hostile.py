"""Hostile inputs generated on the fly (never stored as files)."""

from __future__ import annotations

import itertools


def alias_bomb(levels: int = 9, width: int = 9) -> tuple[str, str]:
    """`a: &a [lol, ...]`, `b: &b [*a, ...]`, ...: a few hundred bytes, width**levels nodes.
    Returns the YAML and the name of the last (largest) anchor."""
    names = [f"n{level}" for level in range(levels)]
    lines = [f"{names[0]}: &{names[0]} [" + ", ".join(["lol"] * width) + "]"]
    for previous, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * width) + "]")
    return "\n".join(lines) + "\n", names[-1]
