"""The only values a public URL reads besides the public id: `mode`, `commune` and `lang`.

A malformed value is a 400 with a French reason; every other query parameter is ignored
(and so never reaches the cache key)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from crisis.errors import DomainError
from crisis.vocabulary import CrisisMode

COMMUNE = re.compile(r"(?:\d{2}|2[AB])\d{3}")
"""An INSEE commune code: five digits, or 2A/2B and three digits in Corsica."""
LANGUAGES = ("fr", "en", "falc")
"""French, English, easy-to-read French (FALC): the versions a bulletin may carry."""
LANGUAGE_NAMES = {"fr": "Français", "en": "English", "falc": "Facile à lire"}
"""Each language's name in itself, as the language switch shows it."""
HTML_LANG = {"fr": "fr", "en": "en", "falc": "fr"}
"""The `lang` attribute of each version's text: FALC is French."""
MAX_LENGTH = 20


@dataclass(frozen=True, slots=True)
class PublicQuery:
    exercise: bool = False
    commune: str = ""
    lang: str = "fr"

    @property
    def suffix(self) -> str:
        """The query string the public links keep: the exercise mode only."""
        return "?mode=exercise" if self.exercise else ""

    @property
    def feed_suffix(self) -> str:
        """The query string of the feed that matches this page: its commune and mode."""
        parts = [f"commune={self.commune}"] if self.commune else []
        parts += ["mode=exercise"] if self.exercise else []
        return f"?{'&'.join(parts)}" if parts else ""

    def in_lang(self, lang: str) -> str:
        """The query string of a public page in `lang`, keeping the exercise mode."""
        parts = ["mode=exercise"] if self.exercise else []
        parts += [f"lang={lang}"] if lang != "fr" else []
        return f"?{'&'.join(parts)}" if parts else ""

    def key(self) -> tuple[bool, str, str]:
        return (self.exercise, self.commune, self.lang)


def public_query(*, mode: str = "", commune: str = "", lang: str = "") -> PublicQuery:
    """`?mode=exercise` shows the exercise bulletins and only them; no mode, the real ones."""
    if any(len(value) > MAX_LENGTH for value in (mode, commune, lang)):
        raise DomainError("invalid_query", "Valeur trop longue dans l'adresse.")
    if mode not in ("", CrisisMode.REAL, CrisisMode.EXERCISE):
        raise DomainError("invalid_mode", "Mode inconnu : « real » ou « exercise ».")
    if commune and not COMMUNE.fullmatch(commune):
        raise DomainError(
            "invalid_commune", "Code de commune invalide : le code INSEE à cinq caractères."
        )
    if lang and lang not in LANGUAGES:
        raise DomainError(
            "invalid_lang", "Langue non disponible : « fr », « en » ou « falc » seulement."
        )
    return PublicQuery(exercise=mode == CrisisMode.EXERCISE, commune=commune, lang=lang or "fr")
