"""Does a bulletin say the five things a first message must say?

The five elements: what happened (`what`), where (`where`), what to do (`instructions`),
where to learn more (`more_info`) and when the next update comes (`next_update`).

Each element is found by one of two kinds of rule, tried in order, and the rule that matched
is reported so that a communicator can see why a message passes:

1. A labelled line, the house structure of every template: a line starting with a label
   such as « Consignes : » or « Prochain point : » (a parenthesis may come between the
   label and the colon: « Situation (mardi 12 mars à 14 h 30) : »), with text after the
   colon or on the following line (a label followed by nothing does not count).
2. Cues, for messages written freehand:
   - what: a word naming an event (crue, inondation, incendie, fuite, coupure, cyberattaque…)
     in the title or the body;
   - where: words such as « commune de », « secteur de », « vallée de », « baie de », a road
     number (RD 1001, A 16), or a preposition followed by a capitalised place name
     (« à Abbeville », « dans la Somme »);
   - instructions: an imperative at the start of a sentence or line (« Restez… »,
     « Évitez… », « Ne sortez pas… », « N'allez pas… »);
   - more_info: a web address, a `.gouv.fr` domain, a French phone number, or a radio;
   - next_update: « prochain point », « prochain communiqué », « nouveau point », or
     « sera mis à jour / actualisé ».

The check reads plain French text; it is deliberately lenient with cues and strict with
labels, and never inspects meaning beyond these rules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Element = Literal["what", "where", "instructions", "more_info", "next_update"]
ELEMENTS: tuple[Element, ...] = ("what", "where", "instructions", "more_info", "next_update")

ProblemCode = Literal[
    "missing_what",
    "missing_where",
    "missing_instructions",
    "missing_more_info",
    "missing_next_update",
]

CODES: dict[Element, ProblemCode] = {
    "what": "missing_what",
    "where": "missing_where",
    "instructions": "missing_instructions",
    "more_info": "missing_more_info",
    "next_update": "missing_next_update",
}

MESSAGES: dict[Element, str] = {
    "what": (
        "Le message ne dit pas ce qui se passe : nommez l'événement "
        "ou ajoutez une ligne « Situation : … »."
    ),
    "where": "Le message ne dit pas où : ajoutez une ligne « Communes concernées : … ».",
    "instructions": "Le message ne donne aucune consigne : ajoutez une ligne « Consignes : … ».",
    "more_info": (
        "Le message ne dit pas où s'informer : ajoutez « Pour en savoir plus : » "
        "avec un site, une radio ou un numéro."
    ),
    "next_update": (
        "Le message n'annonce pas le prochain point : ajoutez une ligne « Prochain point : … »."
    ),
}

_LABELS: dict[Element, str] = {
    "what": r"situation|[ée]v[ée]nement|ce qui se passe|que se passe-t-il|faits|quoi",
    "where": (
        r"communes?(?: concern[ée]es?)?|lieux?|secteurs?(?: concern[ée]s?)?"
        r"|zones?(?: concern[ée]es?)?|localisation|où"
    ),
    "instructions": (
        r"consignes?(?: de sécurité| à la population"
        r"| aux (?:habitants|riverains|usagers|maires|élus))?"
        r"|conduite à tenir|recommandations?(?: sanitaires)?|que faire|ce qu'il faut faire"
        r"|mesures à prendre|gestes à adopter"
    ),
    "more_info": (
        r"pour en savoir plus|pour s'informer|s'informer|informations(?: pratiques)?"
        r"|plus d'informations|renseignements|se renseigner"
    ),
    "next_update": (
        r"prochain point|prochain communiqué|prochaine information|prochaine mise à jour"
        r"|prochain bulletin"
    ),
}

_LABEL_LINES = {
    element: re.compile(
        rf"^[\s\-–•*]*(?:{labels})(?:[ \t]*\([^)\n]*\))?[ \t]*:[ \t]*(?P<rest>.*)$", re.I
    )
    for element, labels in _LABELS.items()
}

_EVENT_WORDS = (
    r"crues?|inondations?|inond[ée]e?s?|submersions?|d[ée]bordements?|tempêtes?|orages?"
    r"|vents? violents?|canicules?|fortes? chaleurs?|vagues? de chaleur|accidents?|incendies?"
    r"|feux|explosions?|fuites?|rejets?|nuages?|pollutions?|pics? de pollution|épidémies?"
    r"|pandémies?|contaminations?|coupures?|pannes?|interruptions?|cyberattaques?"
    r"|attaques? informatiques?|incidents?|alertes?|vigilance|séismes?|évacuations?"
    r"|effondrements?|intoxications?|confinement|événement|événements"
)

_CUES: dict[Element, re.Pattern[str]] = {
    "what": re.compile(rf"\b(?:{_EVENT_WORDS})\b", re.I),
    "where": re.compile(
        r"\b(?:communes? (?:de|d')|secteur (?:de|d')|quartiers? |vallée (?:de|d')|baie (?:de|d')"
        r"|littoral|département|arrondissement|RD ?\d+|A ?\d{1,3}\b|N ?\d+\b)"
        r"|\b(?:à|au|aux|en|sur|dans|près de|autour de|entre)\s+(?:la |le |les |l')?"
        r"[A-ZÀÂÉÈÊÎÔÛÇ][\w'-]+"
    ),
    "instructions": re.compile(
        r"(?:^|[.!?:;]\s+|\n[\s\-–•*]*)(?P<cue>(?:restez|évitez|rentrez|fermez|coupez"
        r"|éloignez-vous|mettez-vous|abritez-vous|montez|limitez|suivez|respectez|signalez"
        r"|buvez|reportez|renoncez|protégez|tenez-vous|munissez-vous|appelez|conformez-vous"
        r"|préparez|vérifiez|rejoignez|gagnez|ne (?:vous |les |nous )?\w+ (?:pas|jamais)"
        r"|n'\w+ (?:pas|jamais))\b)",
        re.I,
    ),
    "more_info": re.compile(
        r"https?://\S+|\bwww\.\S+|\b[\w-]+\.gouv\.fr\b"
        r"|(?<!\d)(?:0|\+33 ?)[1-9](?:[ .]?\d{2}){4}(?!\d)|\b0 ?800(?:[ .]?\d{3}){2}\b"
        r"|\bradio\b|\bici Picardie\b|\bFrance Bleu\b|\bfranceinfo\b|\bFrance Inter\b",
        re.I,
    ),
    "next_update": re.compile(
        r"\bprochain (?:point|communiqué|bulletin)|\bnouveau point\b|\bprochaine information\b"
        r"|\b(?:sera|seront) (?:mise?s? à jour|actualisée?s?|complétée?s?)",
        re.I,
    ),
}


@dataclass(frozen=True, slots=True)
class Finding:
    """How an element was found: `rule` is `label` or `cue`, `evidence` the text matched."""

    element: Element
    rule: Literal["label", "cue"]
    evidence: str


@dataclass(frozen=True, slots=True)
class CompletenessProblem:
    code: ProblemCode
    element: Element
    message: str


def normalise(text: str) -> str:
    """NFC, ordinary spaces for the French non-breaking ones, straight apostrophes."""
    text = unicodedata.normalize("NFC", text)
    return text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2019", "'")


def find_elements(*, title: str, body: str) -> dict[Element, Finding | None]:
    """For each element, the rule that found it, or None."""
    title, body = normalise(title), normalise(body)
    lines = body.splitlines()
    found: dict[Element, Finding | None] = {}
    for element in ELEMENTS:
        finding = _labelled(element, lines)
        if finding is None:
            finding = _cued(element, title=title, body=body)
        found[element] = finding
    return found


def check_completeness(*, title: str, body: str) -> list[CompletenessProblem]:
    """One problem per missing element, in the order of `ELEMENTS`; empty when complete."""
    return [
        CompletenessProblem(code=CODES[element], element=element, message=MESSAGES[element])
        for element, finding in find_elements(title=title, body=body).items()
        if finding is None
    ]


def _labelled(element: Element, lines: list[str]) -> Finding | None:
    pattern = _LABEL_LINES[element]
    for index, line in enumerate(lines):
        match = pattern.match(line)
        if match is None:
            continue
        content = match.group("rest").strip() or _next_content(lines, index)
        if content:
            return Finding(element=element, rule="label", evidence=line.strip())
    return None


def _next_content(lines: list[str], index: int) -> str:
    for line in lines[index + 1 :]:
        if not line.strip():
            continue
        if any(pattern.match(line) for pattern in _LABEL_LINES.values()):
            return ""
        return line.strip()
    return ""


def _cued(element: Element, *, title: str, body: str) -> Finding | None:
    pattern = _CUES[element]
    haystack = body if element in ("instructions", "next_update") else f"{title}\n{body}"
    match = pattern.search(haystack)
    if match is None:
        return None
    evidence = match.group("cue") if "cue" in pattern.groupindex else match.group(0)
    return Finding(element=element, rule="cue", evidence=evidence.strip())
