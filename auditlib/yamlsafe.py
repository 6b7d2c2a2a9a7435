"""The one YAML loader for every file a user or client supplies: safe tags, bounded aliases.

Why: YAML aliases let a few hundred bytes stand for millions of values (a "billion laughs"
file). PyYAML shares the aliased objects, so loading is quick, but whatever walks the data
afterwards (the report, a JSON dump, the HTML) expands them: a 300-byte notes.yaml made one
report run for 49 s and write 8 MB. This loader composes the node graph (with the C parser
when PyYAML has it), counts the nodes the aliases would add when expanded, and refuses the
file when that exceeds a small bound (`MAX_ALIAS_NODES`) or when an alias refers to itself.
Ordinary use of anchors (a shared block repeated a few times) stays allowed.

Only the safe constructors are used (no Python object tags).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# Nodes that alias expansion may add beyond those written in the file.
MAX_ALIAS_NODES = 10_000

_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class AliasBombError(yaml.YAMLError):
    """A YAML file whose aliases expand beyond the bound, or refer to themselves."""

    def __init__(self, message: str, source: str = ""):
        self.problem = message
        self.problem_mark = None
        self.source = source
        super().__init__(message)

    def __str__(self) -> str:   # the callers' messages name the file already
        return self.problem


def expanded_size(node: yaml.Node | None, source: str = "", limit: int | None = None) -> tuple[int, int]:
    """(nodes as written, nodes after expanding every alias); raises AliasBombError for a cycle
    or, with `limit`, as soon as the expansion adds more than `limit` nodes."""
    if node is None:
        return 0, 0
    written: set[int] = set()
    sizes: dict[int, int] = {}
    # Iterative post-order walk; a node met again while still open is a recursive alias.
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    open_nodes: set[int] = set()
    while stack:
        current, done = stack.pop()
        key = id(current)
        if done:
            open_nodes.discard(key)
            size = 1 + sum(sizes[id(c)] for c in _children(current))
            sizes[key] = size
            if limit is not None and size - len(written) > limit:
                raise AliasBombError(_too_many(limit), source)
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise AliasBombError("an alias refers to the block it is part of (recursive YAML alias)", source)
        open_nodes.add(key)
        written.add(key)
        stack.append((current, True))
        for child in _children(current):
            if id(child) in open_nodes:
                raise AliasBombError("an alias refers to the block it is part of (recursive YAML alias)", source)
            if id(child) not in sizes:
                stack.append((child, False))
    return len(written), sizes[id(node)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _too_many(limit: int) -> str:
    return (f"YAML aliases (*name) would expand to more than {limit:,} extra values; "
            "refused as a possible 'billion laughs' file (write the values out, or use fewer aliases)")


def check_node(node: yaml.Node | None, source: str = "", limit: int = MAX_ALIAS_NODES) -> None:
    """Raise AliasBombError when the aliases under `node` expand beyond `limit` extra nodes."""
    written, expanded = expanded_size(node, source, limit)
    if expanded - written > limit:
        raise AliasBombError(_too_many(limit), source)


def compose(text: str, source: str = "", *, fast: bool = False,
            limit: int = MAX_ALIAS_NODES) -> tuple[yaml.SafeLoader, yaml.Node | None]:
    """The checked node graph of a one-document YAML text and its loader (for line numbers);
    call `construct(loader, node)` next. The caller disposes of nothing: `construct` does."""
    loader = (_FAST_LOADER if fast else yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        check_node(node, source, limit)
    except BaseException:
        loader.dispose()
        raise
    return loader, node


def construct(loader: yaml.SafeLoader, node: yaml.Node | None) -> Any:
    """The Python data of a node from `compose` (None for an empty document)."""
    try:
        return None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


def load(text: str, source: str = "", *, fast: bool = True, limit: int = MAX_ALIAS_NODES) -> Any:
    """Like yaml.safe_load, with alias expansion bounded; `source` names the file in errors."""
    loader, node = compose(text, source, fast=fast, limit=limit)
    return construct(loader, node)


def load_path(path: str | Path, *, fast: bool = True, limit: int = MAX_ALIAS_NODES) -> Any:
    """A UTF-8 YAML file, loaded safely (OSError and UnicodeDecodeError pass to the caller)."""
    path = Path(path)
    return load(path.read_text(encoding="utf-8"), str(path), fast=fast, limit=limit)
