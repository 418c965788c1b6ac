"""JSON Schema validation of a parsed playbook, with French messages placed on the right line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from playbooks.yamlsource import MarkedDict, line_of

SCHEMA_PATH = Path(__file__).parent / "schema" / "playbook.schema.json"


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    line: int
    message: str


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def schema_problems(document: Any) -> list[SchemaProblem]:
    """Every schema violation, sorted by line; for `if`/`then` the innermost error wins."""
    problems = {
        problem
        for error in _validator().iter_errors(document)
        for problem in _problems(document, error)
    }
    return sorted(problems, key=lambda problem: (problem.line, problem.message))


def _problems(document: Any, error: ValidationError) -> Iterator[SchemaProblem]:
    path = list(error.absolute_path)
    where = _where(path)
    if error.validator == "additionalProperties" and isinstance(error.instance, MarkedDict):
        allowed = (
            set(error.schema.get("properties", {})) if isinstance(error.schema, dict) else set()
        )
        for extra in sorted(set(error.instance) - allowed):
            yield SchemaProblem(
                line=error.instance.key_lines.get(extra, line_of(document, path)),
                message=f"{where}champ inconnu « {extra} »",
            )
        return
    yield SchemaProblem(line=line_of(document, path), message=f"{where}{_message(error)}")


def _where(path: list[str | int]) -> str:
    if not path:
        return ""
    dotted = ".".join(f"[{step}]" if isinstance(step, int) else str(step) for step in path)
    return f"{dotted.replace('.[', '[')} : "


def _message(error: ValidationError) -> str:
    value: Any = error.validator_value
    match error.validator:
        case "required":
            found = re.match(r"'(.+)' is a required property", error.message)
            name = found.group(1) if found else str(value)
            return f"champ obligatoire « {name} » manquant"
        case "enum":
            allowed = ", ".join(str(item) for item in value)
            return f"valeur « {error.instance} » invalide ; valeurs permises : {allowed}"
        case "const":
            return f"valeur « {error.instance} » invalide ; attendu : {value}"
        case "type":
            return f"type invalide ({_json_type(error.instance)}) ; attendu : {_type_label(value)}"
        case "pattern" if value == "\\S":
            return "texte vide"
        case "pattern":
            return f"valeur « {error.instance} » mal formée (motif attendu : {value})"
        case "minItems":
            return f"au moins {value} élément(s) attendu(s)"
        case "minLength":
            return "texte vide"
        case "uniqueItems":
            return "éléments en double"
        case "minimum":
            return f"valeur {error.instance} trop petite (minimum {value})"
        case "maximum":
            return f"valeur {error.instance} trop grande (maximum {value})"
        case "maxLength":
            return f"texte trop long (maximum {value} caractères)"
        case "propertyNames":
            return f"nom de champ invalide : {error.message}"
    return error.message


_TYPE_LABELS = {
    "object": "un dictionnaire (clé : valeur)",
    "array": "une liste",
    "string": "un texte",
    "integer": "un nombre entier",
    "number": "un nombre",
    "boolean": "un booléen",
    "null": "rien",
}


def _type_label(value: object) -> str:
    if isinstance(value, list):
        return " ou ".join(_TYPE_LABELS.get(str(item), str(item)) for item in value)
    return _TYPE_LABELS.get(str(value), str(value))


def _json_type(instance: object) -> str:
    if isinstance(instance, dict):
        return "dictionnaire"
    if isinstance(instance, list):
        return "liste"
    if isinstance(instance, bool):
        return "booléen"
    if isinstance(instance, int | float):
        return "nombre"
    if instance is None:
        return "vide"
    return "texte"
