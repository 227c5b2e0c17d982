"""YAML from strangers, read with bounds: config files and front matter. Pure.

`load(text, limits)` never raises and never lets a small text grow into a large
value. It refuses, with a message and (where known) a line and column:

- a text over `limits.max_bytes`;
- nesting deeper than `limits.max_depth` (counted as written while composing, so
  PyYAML's recursive composer never gets deep; counted again with aliases followed);
- more than `limits.max_nodes` nodes once every alias is expanded (an alias bomb,
  "billion laughs", is a few hundred bytes and billions of nodes), and aliases that
  refer to a node containing them;
- syntax errors, and any error while building the whole document.

A single value that PyYAML cannot build (a number with thousands of digits, which
Python refuses to convert; February 30th; an unknown `!tag`) does not refuse the
document: it becomes an `Unreadable` in its place, so the caller can name its key
and use the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True)
class YamlLimits:
    max_bytes: int
    max_nodes: int  # with every alias expanded
    max_depth: int
    # Digits in one number: Python refuses to convert more than 4,300, and converting
    # long sexagesimal numbers (1:2:3:...) costs quadratic time. No setting needs 100.
    max_number_chars: int = 100


# A real front matter is a few hundred bytes, a few dozen nodes and two or three levels.
FRONT_MATTER_LIMITS = YamlLimits(max_bytes=16 * 1024, max_nodes=2_000, max_depth=16)


@dataclass(frozen=True, eq=False)
class Unreadable:
    """Stands in the data for one value that could not be built. `eq=False` keeps it
    hashable (it can be a mapping key) and never equal to anything else."""

    message: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"an unreadable value ({self.message})"


@dataclass(frozen=True)
class YamlRefusal:
    """Why a whole text was refused."""

    message: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class LoadedYaml:
    data: Any  # None when refused, or for an empty text
    root: yaml.Node | None  # the composed node graph (line numbers), None when refused
    refusal: YamlRefusal | None


class _Refused(Exception):
    def __init__(self, message: str, mark: yaml.Mark | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


def _describe(error: BaseException) -> str:
    if isinstance(error, yaml.MarkedYAMLError):
        text = error.problem or error.context or "invalid value"
    else:
        text = str(error) or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts nesting while composing and turns a value it cannot
    build into an `Unreadable`. Subclass it to change resolvers (the config file
    reads YAML 1.2 booleans)."""

    def __init__(self, stream: str, limits: YamlLimits) -> None:
        super().__init__(stream)
        self.limits = limits
        self._depth = 0
        self._composed = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        # Depth counts the collections above the node: the root is at depth 0.
        self._composed += 1
        if self._depth > self.limits.max_depth:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise _Refused(f"nested deeper than {self.limits.max_depth} levels", mark)
        if self._composed > self.limits.max_nodes:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise _Refused(f"more than {self.limits.max_nodes} YAML nodes", mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects:
            return self.constructed_objects[node]
        try:
            return super().construct_object(node, deep)
        except Exception as error:  # int(), datetime(), base64, unknown tags: anything
            mark = node.start_mark
            unreadable = Unreadable(_describe(error), mark.line + 1, mark.column + 1)
            # PyYAML marks a node as being built until it returns; forget that, so a
            # second alias to it gets the same stand-in instead of a "recursive" error.
            self.recursive_objects.pop(node, None)
            self.constructed_objects[node] = unreadable
            return unreadable

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        if len(node.value) > self.limits.max_number_chars:
            raise ValueError(
                f"a number of {len(node.value)} characters; "
                f"at most {self.limits.max_number_chars} are read"
            )
        value: int = super().construct_yaml_int(node)
        return value


BoundedLoader.add_constructor("tag:yaml.org,2002:int", BoundedLoader.construct_yaml_int)


def expanded_size(root: yaml.Node, limits: YamlLimits) -> int:
    """Node count with every alias expanded, without expanding anything.

    PyYAML shares aliased nodes, so an alias bomb is small in memory until something
    walks it (validation, copying, `str()`). Memoised per node; refuses recursive
    anchors and nesting deeper than the limit once aliases are followed.
    """
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            raise _Refused(
                "an alias refers to a node that contains it (recursive)", node.start_mark
            )
        if depth > limits.max_depth:
            raise _Refused(f"nested deeper than {limits.max_depth} levels", node.start_mark)
        in_progress.add(key)
        total = 1
        children: Iterable[yaml.Node] = ()
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = (part for pair in node.value for part in pair)
        for child in children:
            total += size(child, depth + 1)
            if total > limits.max_nodes:
                raise _Refused(
                    f"expands to more than {limits.max_nodes} YAML nodes "
                    "(aliases repeated too often)",
                    node.start_mark,
                )
        in_progress.discard(key)
        sizes[key] = total
        return total

    return size(root, 0)


def _refusal(message: str, mark: yaml.Mark | None) -> LoadedYaml:
    if mark is None:
        return LoadedYaml(None, None, YamlRefusal(message))
    return LoadedYaml(None, None, YamlRefusal(message, mark.line + 1, mark.column + 1))


def load(
    text: str,
    limits: YamlLimits,
    loader_class: type[BoundedLoader] = BoundedLoader,
    *,
    what: str = "the text",
) -> LoadedYaml:
    """One YAML document, bounded. Never raises (see the module docstring). `what`
    names the text in the size refusal ("the file is 70000 bytes; ...")."""
    # Characters never outnumber UTF-8 bytes, so a huge text is refused before encoding.
    size = len(text) if len(text) > limits.max_bytes else len(text.encode("utf-8", "replace"))
    if size > limits.max_bytes:
        return _refusal(f"{what} is {size} bytes; the limit is {limits.max_bytes} bytes", None)
    loader: BoundedLoader | None = None
    try:
        loader = loader_class(text, limits)
        root = loader.get_single_node()
        if root is None:  # empty, or only comments
            return LoadedYaml(None, None, None)
        expanded_size(root, limits)
        data = loader.construct_document(root)
    except _Refused as refusal:
        return _refusal(f"YAML refused: {refusal.message}", refusal.mark)
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        return LoadedYaml(
            None,
            None,
            YamlRefusal(f"YAML syntax error: {error.reason} (#x{error.character:04x})", line),
        )
    except yaml.constructor.ConstructorError as error:  # e.g. a list as a mapping key
        return _refusal(
            f"YAML refused: {_describe(error)}", error.problem_mark or error.context_mark
        )
    except yaml.MarkedYAMLError as error:
        problem = ": ".join(part for part in (error.context, error.problem) if part)
        return _refusal(
            f"YAML syntax error: {problem or 'invalid YAML'}",
            error.problem_mark or error.context_mark,
        )
    except RecursionError:  # a safety net: the depth bound comes first
        return _refusal(f"YAML refused: nested deeper than {limits.max_depth} levels", None)
    except Exception as error:  # anything else PyYAML or a constructor raises
        return _refusal(f"YAML refused: {_describe(error)}", None)
    finally:
        if loader is not None:
            loader.dispose()
    return LoadedYaml(data, root, None)
