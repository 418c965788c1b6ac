"""A bulletin's versions besides French: English and easy-to-read French (FALC).

Each is optional, a title and a text together, validated with the bulletin (its content
hash covers them) and shown on the public page under `?lang=en` / `?lang=falc`, and each
becomes its own CAP `info` (`crisis.public.cap`)."""

from __future__ import annotations

from collections.abc import Mapping

from crisis.text import visible_length
from crisis.vocabulary import Language

Versions = dict[str, dict[str, str]]

LANGUAGE_NAMES: dict[str, str] = {
    Language.EN: "anglais",
    Language.FALC: "facile à lire et à comprendre (FALC)",
}
"""What the composer calls each version, in French."""


def cleaned(versions: Mapping[str, Mapping[str, str]]) -> tuple[Versions, list[dict[str, object]]]:
    """(the versions given, spaces tidied as in French; one problem per version half written,
    with a title too short or in an unknown language). A version left empty is no version."""
    kept: Versions = {}
    problems: list[dict[str, object]] = []
    for lang, version in versions.items():
        title = " ".join(str(version.get("title", "")).split())
        body = str(version.get("body", "")).strip()
        if not title and not body:
            continue
        if lang not in tuple(Language):
            problems.append(_problem("unknown_language", f"Langue inconnue : « {lang} ».", lang))
            continue
        name = LANGUAGE_NAMES[lang]
        if visible_length(title) < 3:
            message = f"Version {name} : le titre doit compter au moins 3 caractères."
            problems.append(_problem("invalid_translation_title", message, f"title_{lang}"))
        if not body:
            message = f"Version {name} : le texte est vide (un titre seul ne suffit pas)."
            problems.append(_problem("empty_translation_body", message, f"body_{lang}"))
        kept[lang] = {"title": title, "body": body}
    return {k: kept[k] for k in Language if k in kept}, problems


def _problem(code: str, message: str, field: str) -> dict[str, object]:
    return {"code": code, "message": message, "field": field}
