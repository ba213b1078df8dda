"""Spec strings: ``name``, ``name(key=value, ...)``, compact forms and ``+`` chains.

Grammar (parsed with :mod:`ast`, never ``eval``)::

    chain  := item ("+" item)*
    item   := NAME | NAME "(" [kwarg ("," kwarg)*] ")"
    kwarg  := IDENT "=" literal
    literal:= Python literal | inf | -inf | nan | number "/" number

Compact forms such as ``featsqueeze5`` are plain names here; the registry resolves them through
the aliases the owning plugin declares.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any

from feint.errors import SpecSyntaxError

__all__ = ["SpecItem", "parse_spec", "parse_value"]


@dataclass(frozen=True)
class SpecItem:
    """One parsed component reference: a name and its keyword arguments."""

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    offset: int = 0

    def __str__(self) -> str:
        from feint.contracts.component import format_value

        if not self.kwargs:
            return self.name
        return self.name + "(" + ", ".join(f"{k}={format_value(v)}" for k, v in self.kwargs.items()) + ")"


_NAMED_CONSTANTS = {"inf": math.inf, "nan": math.nan, "True": True, "False": False, "None": None}


def _number(node: ast.AST) -> float | int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name) and node.id in ("inf", "nan"):
        return _NAMED_CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _number(node.operand)
        if inner is not None:
            return -inner if isinstance(node.op, ast.USub) else inner
    return None


def _literal(node: ast.AST, text: str) -> Any:
    num = _number(node)
    if num is not None:
        return num
    if isinstance(node, ast.Name) and node.id in _NAMED_CONSTANTS:
        return _NAMED_CONSTANTS[node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        a, b = _number(node.left), _number(node.right)
        if a is not None and b is not None:
            if b == 0:
                raise SpecSyntaxError(text, node.right.col_offset, "division by zero")
            return a / b
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        items = [_literal(e, text) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else (set(items) if isinstance(node, ast.Set) else items)
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise SpecSyntaxError(text, node.col_offset, "'**' is not allowed in a dict literal")
        return {_literal(k, text): _literal(v, text) for k, v in zip(node.keys, node.values)}
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise SpecSyntaxError(
            text, getattr(node, "col_offset", 0),
            f"expected a literal value (number, string, bool, None, inf, a/b, tuple, list), "
            f"got {type(node).__name__} {ast.get_source_segment(text, node)!r}",
        ) from None


def parse_value(text: str) -> Any:
    """Parse one literal value with the spec grammar (``8/255``, ``inf``, ``(0, 1)``...)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise SpecSyntaxError(text, (exc.offset or 1) - 1, exc.msg) from None
    return _literal(tree.body, text.strip())


def _items(node: ast.AST, text: str) -> list[SpecItem]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _items(node.left, text) + _items(node.right, text)
    if isinstance(node, ast.Name):
        if node.id in _NAMED_CONSTANTS:
            raise SpecSyntaxError(text, node.col_offset, f"{node.id!r} is a value, not a component name")
        return [SpecItem(node.id, {}, node.col_offset)]
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise SpecSyntaxError(text, node.func.col_offset,
                                  "a component name must be a plain identifier such as 'fgsm'")
        if node.args:
            raise SpecSyntaxError(text, node.args[0].col_offset,
                                  "positional arguments are not allowed; write key=value")
        kwargs: dict[str, Any] = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise SpecSyntaxError(text, kw.value.col_offset - 2, "'**' arguments are not allowed")
            if kw.arg in kwargs:
                raise SpecSyntaxError(text, kw.value.col_offset, f"argument {kw.arg!r} given twice")
            kwargs[kw.arg] = _literal(kw.value, text)
        return [SpecItem(node.func.id, kwargs, node.col_offset)]
    what = {ast.Attribute: "attribute access", ast.Subscript: "subscripts",
            ast.Constant: "a bare literal", ast.Lambda: "lambdas"}.get(type(node), type(node).__name__)
    raise SpecSyntaxError(text, getattr(node, "col_offset", 0),
                          f"{what} not allowed; expected name, name(key=value, ...) or a '+' chain")


def parse_spec(text: str) -> list[SpecItem]:
    """Parse a spec string into the chain of items it names, in order.

    Raises
    ------
    SpecSyntaxError
        With the text and a caret under the first fault.
    """
    if not isinstance(text, str):
        raise SpecSyntaxError(repr(text), 0, f"a spec must be a str, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise SpecSyntaxError(text, 0, "empty spec")
    if "\n" in stripped:
        raise SpecSyntaxError(text, stripped.index("\n"), "a spec is one line")
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        raise SpecSyntaxError(stripped, (exc.offset or 1) - 1, exc.msg or "syntax error") from None
    return _items(tree.body, stripped)
