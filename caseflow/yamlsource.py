"""Load YAML files into pydantic models with errors that name file, line and reason."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

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


def parse(text: str, name: str) -> tuple[Any, dict[Loc, int]]:
    """The document and, for every path inside it, the line it starts on."""
    lines: dict[Loc, int] = {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise SourceErrors([SourceError(name, line, f"not valid YAML: {exc}")]) from exc
    if node is None:
        return {}, {(): 1}
    return _walk(node, (), lines, yaml.constructor.SafeConstructor()), lines


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
