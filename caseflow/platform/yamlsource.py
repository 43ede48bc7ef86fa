"""Load YAML files into pydantic models with errors that name file, line and reason."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class SourceError:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class SourceErrors(Exception):
    def __init__(self, errors: list[SourceError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


# What one document may cost: rule files are a few hundred lines. Aliases make a graph
# that expands on walking ("billion laughs"): its expanded size is counted on the graph
# (each node once) before anything is built, and nesting is limited before recursion.
MAX_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_NODES = 200_000
# libyaml composes in C (and refuses nesting deeper than 1000 by itself); the pure-Python
# loader is the fallback where PyYAML was built without it.
LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _refuse(name: str, node: yaml.Node, reason: str) -> SourceErrors:
    return SourceErrors([SourceError(name, node.start_mark.line + 1, reason)])


def _expanded(node: yaml.Node, name: str, depth: int, sizes: dict[int, int]) -> int:
    """How many values `node` stands for once its aliases are expanded."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    if depth > MAX_DEPTH:
        raise _refuse(name, node, f"nested deeper than {MAX_DEPTH}")
    size = 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _refuse(name, key_node, "a key must be plain text")
            size += _expanded(value_node, name, depth + 1, sizes)
    elif isinstance(node, yaml.SequenceNode):
        size += sum(_expanded(item, name, depth + 1, sizes) for item in node.value)
    if size > MAX_NODES:
        raise _refuse(name, node, f"more than {MAX_NODES} values once aliases are expanded")
    sizes[id(node)] = size
    return size


def _walk(
    node: yaml.Node, loc: Loc, lines: dict[Loc, int], constructor: yaml.constructor.SafeConstructor
) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            result[key] = _walk(value_node, (*loc, key), lines, constructor)
            lines[(*loc, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, (*loc, i), lines, constructor) for i, item in enumerate(node.value)]
    return constructor.construct_object(node, deep=True)


def _not_yaml(name: str, exc: yaml.YAMLError) -> SourceErrors:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else 1
    return SourceErrors([SourceError(name, line, f"not valid YAML: {exc}")])


def parse(text: str, name: str) -> tuple[Any, dict[Loc, int]]:
    """The document and, for every path inside it, the line it starts on."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise SourceErrors([SourceError(name, 1, f"larger than {MAX_BYTES} bytes")])
    try:
        node = yaml.compose(text, Loader=LOADER)
    except yaml.YAMLError as exc:
        raise _not_yaml(name, exc) from exc
    if node is None:
        return {}, {(): 1}
    _expanded(node, name, 0, {})
    lines: dict[Loc, int] = {}
    try:
        return _walk(node, (), lines, yaml.constructor.SafeConstructor()), lines
    except yaml.YAMLError as exc:  # a value the safe constructor refuses (an unknown tag)
        raise _not_yaml(name, exc) from exc


def line_of(loc: Loc, lines: dict[Loc, int]) -> int:
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc, 1)


def validate(model: type[M], text: str, name: str) -> M:
    data, lines = parse(text, name)
    return validate_data(model, data, lines, name)


def validate_data(model: type[M], data: Any, lines: dict[Loc, int], name: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            where = ".".join(str(p) for p in loc) or "document"
            errors.append(SourceError(name, line_of(loc, lines), f"{where}: {err['msg']}"))
        raise SourceErrors(errors) from exc


def read(model: type[M], path: Path) -> M:
    return validate(model, path.read_text(encoding="utf-8"), path.name)


@dataclass(frozen=True)
class Checked(Generic[M]):
    """One file of a rule set, parsed and valid against its model."""

    name: str
    model: M
    data: Any
    lines: dict[Loc, int]


def each_valid(
    model: type[M], texts: Mapping[str, str], errors: list[SourceError]
) -> Iterator[Checked[M]]:
    """Every file of a rule set ({name: YAML text}, in name order) that parses and fits the
    model; the problems of the others are added to `errors`, so all are reported together."""
    for name in sorted(texts):
        try:
            data, lines = parse(texts[name], name)
            checked = Checked(name, validate_data(model, data, lines, name), data, lines)
        except SourceErrors as exc:
            errors.extend(exc.errors)
            continue
        yield checked


def texts_of(directory: Path) -> dict[str, str]:
    """The YAML files of a directory, {file name: text}."""
    return {p.name: p.read_text(encoding="utf-8") for p in directory.glob("*.yaml")}
