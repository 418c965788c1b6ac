"""YAML parsing that remembers where every value came from.

Mappings load as `MarkedDict` and sequences as `MarkedList`: plain `dict` and `list`
subclasses (so the JSON Schema validator sees ordinary objects and arrays) that also carry
the 1-based line of the node, of each key, and of each value. Duplicate keys inside one
mapping are recorded instead of silently overwritten. Timestamps stay strings: the schema
and the placeholder types decide what a date is, not YAML 1.1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


class MarkedDict(dict[str, Any]):
    line: int
    key_lines: dict[str, int]
    value_lines: dict[str, int]
    block_values: set[str]


class MarkedList(list[Any]):
    line: int
    item_lines: list[int]


@dataclass(frozen=True, slots=True)
class YamlProblem:
    line: int
    message: str


class YamlSyntaxError(Exception):
    def __init__(self, *, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _marking(base: type[yaml.SafeLoader]) -> Any:
    """A loader on `base`'s parser whose mappings and sequences keep their lines."""

    class MarkingLoader(base):  # type: ignore[valid-type,misc]
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.problems: list[YamlProblem] = []

        def construct_marked_mapping(self, node: MappingNode) -> MarkedDict:
            result = MarkedDict()
            result.line = node.start_mark.line + 1
            result.key_lines = {}
            result.value_lines = {}
            result.block_values = set()
            self.flatten_mapping(node)
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, str):
                    key = str(key)
                key_line = key_node.start_mark.line + 1
                if key in result:
                    self.problems.append(
                        YamlProblem(
                            line=key_line,
                            message=(
                                f"clé « {key} » en double "
                                f"(déjà définie ligne {result.key_lines[key]})"
                            ),
                        )
                    )
                    continue
                result[key] = self.construct_object(value_node, deep=True)
                result.key_lines[key] = key_line
                result.value_lines[key] = value_node.start_mark.line + 1
                if isinstance(value_node, ScalarNode) and value_node.style in ("|", ">"):
                    result.block_values.add(key)
            return result

        def construct_timestamp_as_text(self, node: ScalarNode) -> str:
            return str(self.construct_scalar(node))

        def construct_marked_sequence(self, node: SequenceNode) -> MarkedList:
            result = MarkedList(self.construct_object(child, deep=True) for child in node.value)
            result.line = node.start_mark.line + 1
            result.item_lines = [child.start_mark.line + 1 for child in node.value]
            return result

    MarkingLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, MarkingLoader.construct_marked_mapping
    )
    MarkingLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, MarkingLoader.construct_marked_sequence
    )
    MarkingLoader.add_constructor(
        "tag:yaml.org,2002:timestamp", MarkingLoader.construct_timestamp_as_text
    )
    return MarkingLoader


# Pure Python: slow, but its words for a syntax error are the ones users are shown.
_MarkingLoader = _marking(yaml.SafeLoader)
# libyaml's parser when PyYAML was built with it: the same nodes and lines, many times faster.
_FastMarkingLoader = _marking(getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def parse_yaml(text: str) -> tuple[Any, list[YamlProblem]]:
    """Parse one YAML document; raise `YamlSyntaxError` when it is not well-formed. libyaml
    parses; a document it refuses is parsed again in Python, whose message is reported."""
    try:
        return _parsed(_FastMarkingLoader(text))
    except YamlSyntaxError:
        return _parsed(_MarkingLoader(text))


def _parsed(loader: Any) -> tuple[Any, list[YamlProblem]]:
    try:
        node: Node | None = loader.get_single_node()
        document = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = error.problem or str(error)
        raise YamlSyntaxError(line=line, message=f"YAML mal formé : {problem}") from error
    except yaml.YAMLError as error:
        raise YamlSyntaxError(line=1, message=f"YAML mal formé : {error}") from error
    finally:
        loader.dispose()
    problems: list[YamlProblem] = loader.problems
    return document, problems


def line_of(document: Any, path: Sequence[str | int]) -> int:
    """The line of the deepest node along `path` (a JSON Schema error path) that we know."""
    line = getattr(document, "line", 1)
    node: Any = document
    for step in path:
        if isinstance(node, MarkedDict) and isinstance(step, str) and step in node:
            line = node.value_lines[step] if _is_leaf(node[step]) else node.key_lines[step]
            node = node[step]
        elif isinstance(node, MarkedList) and isinstance(step, int) and step < len(node):
            line = node.item_lines[step]
            node = node[step]
        else:
            break
    return line


def _is_leaf(value: Any) -> bool:
    return not isinstance(value, MarkedDict | MarkedList)
