"""Sandboxed rendering of message templates.

Templates are Jinja2 text, but a deliberately small Jinja: placeholders (`{{ communes }}`),
the French filters of `playbooks.filters`, `{% if %}` and `{% for %}`. Before anything is
rendered the template is analysed: every name must be a declared placeholder, no attribute or item
access (except `loop.*`), no call, include or macro; then every value is checked against
its placeholder type. Only then does the sandbox render it — and the sandbox itself refuses
any attribute access, so a template that slipped past the analysis still cannot reach
Python internals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Literal

from jinja2 import StrictUndefined, Template, nodes
from jinja2.exceptions import (
    SecurityError,
    TemplateError,
    TemplateSyntaxError,
)
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from playbooks.filters import FILTER_TYPES, FILTERS, wrap
from playbooks.model import PLACEHOLDER_TYPES, Placeholder
from playbooks.placeholders import TYPE_LABELS, type_problem

ProblemCode = Literal[
    "missing_value", "unknown_placeholder", "wrong_type", "syntax_error", "forbidden"
]


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    code: ProblemCode
    message: str
    name: str = ""
    line: int = 1  # line inside the template text, 1-based


class TemplateRenderError(Exception):
    def __init__(self, problems: Sequence[TemplateProblem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = tuple(problems)


_LOOP_ATTRIBUTES = frozenset({"index", "index0", "first", "last", "length", "revindex"})
_ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.Filter,
    nodes.If,
    nodes.For,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.Compare,
    nodes.Operand,
    nodes.CondExpr,
    nodes.Concat,
    nodes.Test,
)


class _Sandbox(ImmutableSandboxedEnvironment):
    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return isinstance(obj, LoopContext) and attr in _LOOP_ATTRIBUTES

    def is_safe_callable(self, obj: Any) -> bool:
        return False


@cache
def sandbox(*, html: bool = False) -> ImmutableSandboxedEnvironment:
    """The rendering environment: no globals, our filters only, undefined names fail."""
    environment = _Sandbox(
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    environment.globals.clear()
    environment.filters.clear()
    environment.filters.update(FILTERS)
    environment.tests = {name: environment.tests[name] for name in ("defined", "number")}
    return environment


@dataclass(frozen=True, slots=True)
class Analysis:
    """What a template uses: placeholder names (with their first line) and filters applied."""

    names: dict[str, int]
    filtered: tuple[tuple[str, str, int], ...]  # (filter, placeholder, line)
    problems: tuple[TemplateProblem, ...]


@lru_cache(maxsize=2048)
def analyse(source: str) -> Analysis:
    """The placeholder names a template uses, and what it does that is not allowed."""
    try:
        tree = sandbox().parse(source)
    except TemplateSyntaxError as error:
        message = f"modèle mal formé : {error.message}"
        problem = TemplateProblem(code="syntax_error", message=message, line=error.lineno)
        return Analysis(names={}, filtered=(), problems=(problem,))
    problems: list[TemplateProblem] = []
    used: dict[str, int] = {}
    filtered: list[tuple[str, str, int]] = []
    stored = {"loop"}
    for node in tree.find_all(nodes.Node):
        line = getattr(node, "lineno", 1) or 1
        if isinstance(node, nodes.Getattr) and _is_loop_attribute(node):
            continue
        if isinstance(node, nodes.Name) and node.ctx == "store":
            stored.add(node.name)
        elif isinstance(node, nodes.Name):
            used.setdefault(node.name, line)
        if not isinstance(node, _ALLOWED_NODES):
            problems.append(_forbidden(node, line))
        elif isinstance(node, nodes.Filter):
            if node.name not in FILTERS:
                message = f"filtre inconnu « {node.name} »"
                problems.append(TemplateProblem(code="forbidden", message=message, line=line))
            elif isinstance(node.node, nodes.Name):
                filtered.append((node.name, node.node.name, line))
    names = {name: line for name, line in used.items() if name not in stored}
    return Analysis(names=names, filtered=tuple(filtered), problems=tuple(problems))


def value_problems(
    source: str,
    *,
    placeholders: Mapping[str, Placeholder],
    values: Mapping[str, object],
) -> list[TemplateProblem]:
    """Everything that prevents rendering `source` with `values` (empty when it can)."""
    analysis = analyse(source)
    problems = list(analysis.problems)
    lines = analysis.names
    for name in sorted(lines):
        placeholder = placeholders.get(name)
        if placeholder is None:
            message = f"champ inconnu « {name} » : il n'est pas déclaré dans « placeholders »"
            problems.append(
                TemplateProblem(
                    code="unknown_placeholder", message=message, name=name, line=lines[name]
                )
            )
            continue
        value = effective_value(placeholder, values)
        if value is None:
            message = f"valeur manquante pour « {name} » ({placeholder.label})"
            problems.append(
                TemplateProblem(code="missing_value", message=message, name=name, line=lines[name])
            )
            continue
        wrong = type_problem(placeholder.type, value)
        if wrong is not None:
            message = f"valeur invalide pour « {name} » : {wrong}"
            problems.append(
                TemplateProblem(code="wrong_type", message=message, name=name, line=lines[name])
            )
    for filter_name, name, line in analysis.filtered:
        placeholder = placeholders.get(name)
        if placeholder is not None and placeholder.type not in FILTER_TYPES.get(
            filter_name, PLACEHOLDER_TYPES
        ):
            message = (
                f"le filtre « {filter_name} » ne s'applique pas à « {name} » "
                f"({TYPE_LABELS[placeholder.type]})"
            )
            problems.append(
                TemplateProblem(code="wrong_type", message=message, name=name, line=line)
            )
    return problems


def effective_value(placeholder: Placeholder, values: Mapping[str, object]) -> object | None:
    """The given value, else the placeholder's default; blank text or empty lists count as none."""
    value = values.get(placeholder.name)
    if _is_blank(value):
        value = placeholder.default
    return None if _is_blank(value) else value


def render_text(
    source: str,
    *,
    placeholders: Mapping[str, Placeholder],
    values: Mapping[str, object],
    html: bool = False,
) -> str:
    """Render one template text; raise `TemplateRenderError` listing every problem first."""
    problems = value_problems(source, placeholders=placeholders, values=values)
    if problems:
        raise TemplateRenderError(problems)
    context: dict[str, object] = {}
    for name, placeholder in placeholders.items():
        value = effective_value(placeholder, values)
        if value is not None:
            context[name] = wrap(placeholder.type, value)
    try:
        return _compiled(source, html=html).render(context).strip()
    except SecurityError as error:
        message = f"opération interdite dans le modèle : {error}"
        raise TemplateRenderError([TemplateProblem(code="forbidden", message=message)]) from error
    except TemplateError as error:
        message = f"le modèle ne peut pas être rendu : {error}"
        raise TemplateRenderError(
            [TemplateProblem(code="syntax_error", message=message)]
        ) from error


@lru_cache(maxsize=2048)
def _compiled(source: str, *, html: bool) -> Template:
    return sandbox(html=html).from_string(source)


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple) and len(value) == 0


def _is_loop_attribute(node: nodes.Getattr) -> bool:
    return (
        isinstance(node.node, nodes.Name)
        and node.node.name == "loop"
        and node.attr in _LOOP_ATTRIBUTES
    )


def _forbidden(node: nodes.Node, line: int) -> TemplateProblem:
    what = {
        "Getattr": "accès à un attribut",
        "Getitem": "accès à un élément",
        "Call": "appel de fonction",
    }.get(type(node).__name__, f"construction « {type(node).__name__} »")
    message = f"{what} interdit dans un modèle : seuls les champs déclarés et filtres sont permis"
    return TemplateProblem(code="forbidden", message=message, line=line)
