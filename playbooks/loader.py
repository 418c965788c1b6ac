"""Reading playbook files: YAML → schema validation → `Playbook` values, errors with lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from playbooks.errors import CheckError
from playbooks.model import (
    Action,
    Audience,
    CapInfo,
    Channel,
    ChecklistStep,
    MessageTemplate,
    Placeholder,
    PlaceholderType,
    Playbook,
    Purpose,
    Role,
    ScenarioInject,
)
from playbooks.placeholders import parse_sample
from playbooks.validation import schema_problems
from playbooks.yamlsource import MarkedDict, YamlSyntaxError, parse_yaml

LIBRARY_DIR = Path(__file__).parent / "library"
PLAYBOOK_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class LoadedFile:
    """One file as read: the playbook when it is valid, the marked document for line lookups."""

    path: Path
    display: str
    playbook: Playbook | None
    document: MarkedDict | None
    errors: list[CheckError] = field(default_factory=list)


def playbook_files(directory: Path) -> list[Path]:
    return sorted(
        path
        for path in directory.iterdir()
        if path.is_file() and path.suffix in PLAYBOOK_SUFFIXES and not path.name.startswith(".")
    )


def load_file(path: Path, *, display: str | None = None) -> LoadedFile:
    shown = display if display is not None else str(path)

    def error(line: int, message: str) -> CheckError:
        return CheckError(file=shown, line=line, message=message)

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return LoadedFile(path, shown, None, None, [error(1, "fichier non encodé en UTF-8")])
    try:
        document, duplicates = parse_yaml(text)
    except YamlSyntaxError as syntax:
        return LoadedFile(path, shown, None, None, [error(syntax.line, syntax.message)])
    errors = [error(problem.line, problem.message) for problem in duplicates]
    if not isinstance(document, MarkedDict):
        errors.append(error(1, "une fiche réflexe doit être un dictionnaire YAML (clé : valeur)"))
        return LoadedFile(path, shown, None, None, errors)
    errors += [error(problem.line, problem.message) for problem in schema_problems(document)]
    if errors:
        return LoadedFile(path, shown, None, document, errors)
    return LoadedFile(path, shown, build_playbook(document, source=shown), document, [])


def build_playbook(document: dict[str, Any], *, source: str = "") -> Playbook:
    """Turn a schema-valid document into a `Playbook` (no checks beyond the schema here)."""
    cap = document["cap"]
    templates = document["templates"]
    lines = getattr(templates, "item_lines", [0] * len(templates))
    return Playbook(
        key=document["key"],
        title=document["title"].strip(),
        kind=document["kind"],
        summary=document["summary"].strip(),
        audiences=tuple(cast(list[Audience], document["audiences"])),
        channels=tuple(cast(list[Channel], document["channels"])),
        cap=CapInfo(
            category=cap["category"],
            event=cap["event"],
            urgency=cap["urgency"],
            severity=cap["severity"],
            certainty=cap["certainty"],
        ),
        placeholders={
            name: _placeholder(name, spec) for name, spec in document["placeholders"].items()
        },
        checklist=tuple(
            ChecklistStep(
                title=step["title"].strip(),
                role=cast(Role, step["role"]),
                due_offset_min=step["due_min"],
                action=cast(Action | None, step.get("action")),
            )
            for step in document["checklist"]
        ),
        templates=tuple(
            MessageTemplate(
                key=template["key"],
                purpose=cast(Purpose, template["purpose"]),
                audience=cast(Audience, template["audience"]),
                channel=cast(Channel | None, template.get("channel")),
                title=template["title"].strip(),
                body=template["body"].strip(),
                line=line,
            )
            for template, line in zip(templates, lines, strict=True)
        ),
        source=source,
        references=tuple(document.get("references", [])),
        scenario=_scenario(document.get("scenario", [])),
    )


def _scenario(items: list[dict[str, Any]]) -> tuple[ScenarioInject, ...]:
    lines = getattr(items, "item_lines", [0] * len(items))
    return tuple(
        ScenarioInject(
            offset_min=item["offset_min"],
            audience=cast(Audience, item["audience"]),
            text=item["text"].strip(),
            channel=item.get("channel"),
            expected_action=(item.get("expected_action") or "").strip() or None,
            expected_kind=item.get("expected_kind"),
            deadline_min=item.get("deadline_min"),
            line=line,
        )
        for item, line in zip(items, lines, strict=True)
    )


def _placeholder(name: str, spec: dict[str, Any]) -> Placeholder:
    kind = cast(PlaceholderType, spec["type"])
    default = parse_sample(kind, spec["default"]) if "default" in spec else None
    sample = parse_sample(kind, spec["sample"]) if "sample" in spec else default
    longest = parse_sample(kind, spec["longest"]) if "longest" in spec else default
    return Placeholder(
        name=name,
        type=kind,
        label=spec["label"],
        sample=sample,
        longest=longest,
        default=default,
    )
