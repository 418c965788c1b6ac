"""`check_directory`: everything that must hold before a playbook may be used in a crisis.

Per file: well-formed YAML without duplicate keys, the JSON Schema, sample values of the
declared types, templates that use only declared placeholders and allowed constructs, one
first-information template per audience that must be informed (officials, media, public),
full templates that pass the completeness check once rendered, every rendering within the
limits of the playbook's channels with the longest sample values, and a « publish first
bulletin » step within the hour. Across files: unique `key` and unique `kind`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from playbooks.completeness import check_completeness
from playbooks.errors import CheckError, PlaybookLibraryError
from playbooks.limits import LengthChecker, default_length_checker
from playbooks.loader import LIBRARY_DIR, LoadedFile, load_file, playbook_files
from playbooks.model import FIRST_INFORMATION_AUDIENCES, MessageTemplate, Playbook
from playbooks.placeholders import type_problem
from playbooks.rendering import TemplateRenderError, render_text, value_problems
from playbooks.yamlsource import MarkedDict, line_of

# Channels where, without a variant, the bulletin goes out as its title and a link (CONTRACT §5).
SHORT_CHANNELS = frozenset({"x", "sms", "mastodon"})
# A plausible long link to a bulletin's public page, used to check `title + link` renderings.
SAMPLE_PUBLIC_LINK = "https://tocsin.somme.gouv.fr/public/bulletins/01J9Z8K7Q4W2X3Y5V6B7N8M9P0"
FIRST_BULLETIN_DEADLINE_MIN = 60


class _ErrorFactory(Protocol):
    def __call__(self, path: list[str | int], message: str, offset: int = 0) -> CheckError: ...


def check_directory(
    path: Path | str,
    *,
    length_checker: LengthChecker | None = None,
) -> list[CheckError]:
    """All problems of the playbooks in `path` (sorted by file and line); empty when valid."""
    return _checked(Path(path), length_checker)[1]


def _checked(
    directory: Path, length_checker: LengthChecker | None
) -> tuple[list[LoadedFile], list[CheckError]]:
    """Each playbook file read and parsed once, and all the problems found."""
    if not directory.is_dir():
        return [], [CheckError(file=str(directory), line=1, message="dossier introuvable")]
    files = playbook_files(directory)
    if not files:
        message = "aucune fiche réflexe (fichier .yaml) dans ce dossier"
        return [], [CheckError(file=str(directory), line=1, message=message)]
    checker = length_checker or default_length_checker
    loaded = [load_file(file) for file in files]
    errors = [error for item in loaded for error in item.errors]
    for item in loaded:
        if item.playbook is not None and item.document is not None:
            errors += check_playbook(item, length_checker=checker)
    errors += _duplicates(loaded, field="key", label="clé de fiche")
    errors += _duplicates(loaded, field="kind", label="type d'événement")
    return loaded, sorted(errors)


def load_library(
    directory: Path | str = LIBRARY_DIR,
    *,
    length_checker: LengthChecker | None = None,
) -> dict[str, Playbook]:
    """The checked playbooks by key; raise `PlaybookLibraryError` if any check fails."""
    loaded, errors = _checked(Path(directory), length_checker)
    if errors:
        raise PlaybookLibraryError(errors)
    return {item.playbook.key: item.playbook for item in loaded if item.playbook is not None}


def check_playbook(item: LoadedFile, *, length_checker: LengthChecker) -> list[CheckError]:
    assert item.playbook is not None and item.document is not None
    playbook, document = item.playbook, item.document

    def error(path: list[str | int], message: str, offset: int = 0) -> CheckError:
        return CheckError(file=item.display, line=line_of(document, path) + offset, message=message)

    errors: list[CheckError] = []
    for name, placeholder in playbook.placeholders.items():
        for field in ("sample", "longest", "default"):
            value = getattr(placeholder, field)
            if value is None:
                continue
            wrong = type_problem(placeholder.type, value)
            if wrong is not None:
                errors.append(error(["placeholders", name, field], f"« {name} » : {wrong}"))
    if errors:
        return errors
    samples = {name: p.sample for name, p in playbook.placeholders.items()}
    longest = {name: p.longest for name, p in playbook.placeholders.items()}
    seen: dict[tuple[object, ...], int] = {}
    for index, template in enumerate(playbook.templates):
        where: list[str | int] = ["templates", index]
        signature = (template.purpose, template.audience, template.channel)
        if template.key in {t.key for t in playbook.templates[:index]}:
            errors.append(error([*where, "key"], f"modèle « {template.key} » en double"))
        elif signature in seen:
            message = (
                f"modèle « {template.key} » : même usage, public et canal que le modèle "
                f"de la ligne {seen[signature]}"
            )
            errors.append(error(where, message))
        seen.setdefault(signature, template.line)
        field_errors = _field_errors(document, index, template, samples, playbook, error)
        errors += field_errors
        if field_errors:
            continue
        errors += _rendering_errors(playbook, template, samples, longest, where, error)
        errors += [
            error(where, message)
            for message in _length_problems(playbook, template, longest, length_checker)
        ]
    errors += _coverage_errors(playbook, error)
    errors += _scenario_errors(playbook, error)
    return errors


def _scenario_errors(playbook: Playbook, error: _ErrorFactory) -> list[CheckError]:
    """What the schema cannot say of a scenario: a deadline needs an expected action, and the
    injects come in the order they are played."""
    errors: list[CheckError] = []
    for index, inject in enumerate(playbook.scenario):
        if inject.deadline_min is not None and not (inject.expected_action or inject.expected_kind):
            message = "inject du scénario : un délai de réaction suppose une action attendue"
            errors.append(error(["scenario", index, "deadline_min"], message))
        if index and inject.offset_min < playbook.scenario[index - 1].offset_min:
            message = "inject du scénario : les injects se suivent par décalage croissant"
            errors.append(error(["scenario", index, "offset_min"], message))
    return errors


def _field_errors(
    document: MarkedDict,
    index: int,
    template: MessageTemplate,
    samples: Mapping[str, object],
    playbook: Playbook,
    error: _ErrorFactory,
) -> list[CheckError]:
    node = document["templates"][index]
    errors: list[CheckError] = []
    for field, source in (("title", template.title), ("body", template.body)):
        offset_base = 0 if field in node.block_values else -1
        for problem in value_problems(source, placeholders=playbook.placeholders, values=samples):
            message = f"modèle « {template.key} » ({field}) : {problem.message}"
            errors.append(error(["templates", index, field], message, offset_base + problem.line))
    return errors


def _rendering_errors(
    playbook: Playbook,
    template: MessageTemplate,
    samples: Mapping[str, object],
    longest: Mapping[str, object],
    where: list[str | int],
    error: _ErrorFactory,
) -> list[CheckError]:
    errors: list[CheckError] = []
    for label, values in (("valeurs d'exemple", samples), ("valeurs les plus longues", longest)):
        try:
            title = render_text(template.title, placeholders=playbook.placeholders, values=values)
            body = render_text(template.body, placeholders=playbook.placeholders, values=values)
        except TemplateRenderError as failure:
            errors += [
                error(where, f"modèle « {template.key} » : {p.message}") for p in failure.problems
            ]
            return errors
        if template.channel is None:
            for problem in check_completeness(title=title, body=body):
                message = f"modèle « {template.key} » incomplet ({label}) : {problem.message}"
                errors.append(error(where, message))
    return errors


def _length_problems(
    playbook: Playbook,
    template: MessageTemplate,
    values: Mapping[str, object],
    length_checker: LengthChecker,
) -> list[str]:
    render = {
        "title": render_text(template.title, placeholders=playbook.placeholders, values=values),
        "body": render_text(template.body, placeholders=playbook.placeholders, values=values),
    }
    if template.channel is not None:
        texts = {template.channel: render["body"]}
    else:
        texts = {}
        for channel in playbook.channels:
            if playbook.templates_for(
                purpose=template.purpose, audience=template.audience, channel=channel
            ):
                continue
            if channel in SHORT_CHANNELS:
                texts[channel] = f"{render['title']} {SAMPLE_PUBLIC_LINK}"
            else:
                texts[channel] = f"{render['title']}\n\n{render['body']}"
    return [
        f"modèle « {template.key} » (valeurs les plus longues) : {problem}"
        for channel, text in texts.items()
        for problem in length_checker(channel, text)
    ]


def _coverage_errors(playbook: Playbook, error: _ErrorFactory) -> list[CheckError]:
    errors: list[CheckError] = []
    for audience in FIRST_INFORMATION_AUDIENCES:
        full = [
            template
            for template in playbook.templates_for(purpose="first_information", audience=audience)
            if template.channel is None
        ]
        if not full:
            message = (
                "aucun modèle de première information (forme complète) "
                f"pour le public « {audience} »"
            )
            errors.append(error(["templates"], message))
    publishing = [step for step in playbook.checklist if step.action == "publish_first_bulletin"]
    if not publishing:
        message = "la check-list doit comporter l'étape « publish_first_bulletin »"
        errors.append(error(["checklist"], message))
    for step in publishing:
        if step.due_offset_min > FIRST_BULLETIN_DEADLINE_MIN:
            index = playbook.checklist.index(step)
            message = (
                f"première information due à {step.due_offset_min} min : "
                f"au-delà de l'heure de l'engagement ES48 ({FIRST_BULLETIN_DEADLINE_MIN} min)"
            )
            errors.append(error(["checklist", index, "due_min"], message))
    return errors


def _duplicates(loaded: list[LoadedFile], *, field: str, label: str) -> list[CheckError]:
    first: dict[str, str] = {}
    errors: list[CheckError] = []
    for item in loaded:
        if item.playbook is None or item.document is None:
            continue
        value = str(getattr(item.playbook, field))
        line = line_of(item.document, [field])
        if value in first:
            message = f"{label} « {value} » déjà utilisé(e) par {first[value]}"
            errors.append(CheckError(file=item.display, line=line, message=message))
        else:
            first[value] = f"{item.display}:{line}"
    return errors
