"""A bulletin as the public sees it: plain values, nothing private, nothing of the database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from playbooks import CapInfo

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_CAP = CapInfo(
    category="Other",
    event="Information",
    urgency="Unknown",
    severity="Unknown",
    certainty="Unknown",
)
"""What a bulletin whose crisis has no playbook announces in CAP: nothing it cannot know."""


@dataclass(frozen=True, slots=True)
class Commune:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Reference:
    """Another public bulletin of the same crisis, named by its public id."""

    public_id: str
    title: str
    published_at: datetime
    msg_type: str


@dataclass(frozen=True, slots=True)
class Version:
    """The bulletin in another language: English (`en`) or easy-to-read French (`falc`)."""

    lang: str
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class PublicBulletin:
    public_id: str
    title: str
    body: str
    msg_type: str
    published_at: datetime
    exercise: bool
    crisis_title: str
    crisis_open: bool
    cap: CapInfo
    communes: tuple[Commune, ...]
    earlier: tuple[Reference, ...] = ()
    """The public bulletins it updates or cancels."""
    later: tuple[Reference, ...] = ()
    """The public bulletins that update or cancel it, oldest first."""
    versions: tuple[Version, ...] = ()
    """Its English and easy-to-read versions, in that order, when it has them."""

    def version(self, lang: str) -> Version | None:
        return next((v for v in self.versions if v.lang == lang), None)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages it can be read in: French first, then its other versions."""
        return ("fr", *(v.lang for v in self.versions))

    @property
    def in_force(self) -> bool:
        """Its crisis is open and no later public bulletin replaced or cancelled it."""
        return self.crisis_open and not self.later

    @property
    def cancelled(self) -> bool:
        return any(r.msg_type == "cancel" for r in self.later)

    @property
    def commune_codes(self) -> frozenset[str]:
        return frozenset(c.code for c in self.communes)

    def as_reference(self) -> Reference:
        return Reference(self.public_id, self.title, self.published_at, self.msg_type)


def paris_iso(moment: datetime) -> str:
    """`2026-11-28T15:05:00+01:00`: Paris time, whole seconds, an explicit offset (never Z)."""
    return moment.astimezone(PARIS).replace(microsecond=0).isoformat()


_INSTRUCTIONS = re.compile(
    r"^\s*(?:consignes?|instructions?)\b[^:\n]*:\s*(?P<rest>.*)$", re.IGNORECASE
)
_LABEL = re.compile(r"^\s*[A-ZÀ-Ý][^:\n]{0,40}\s?:(\s|$)")


def instructions_of(body: str) -> str:
    """The « Consignes : » part of a bulletin in the house structure (« Instructions: » in
    English; empty if it has none):
    the text after the label, and the lines after it up to the next labelled line."""
    lines = body.splitlines()
    for index, line in enumerate(lines):
        match = _INSTRUCTIONS.match(line)
        if match is None:
            continue
        found = [match.group("rest").strip()]
        for following in lines[index + 1 :]:
            if _LABEL.match(following) or not following.strip():
                break
            found.append(following.strip())
        return "\n".join(part for part in found if part)
    return ""
