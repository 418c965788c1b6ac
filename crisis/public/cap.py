"""A public bulletin as a CAP 1.2 alert (OASIS Common Alerting Protocol), built with lxml.

`sent` carries Paris time with its offset, `status` is Exercise (the exercise named in
`note`) for an exercise bulletin, an update or a cancellation references every public
bulletin it updates or cancels as `sender,identifier,sent` triplets, and the one `area`
names each commune with its INSEE code. The category, event, urgency, severity and
certainty come from the crisis' playbook.

One `info` per language the bulletin carries: French (`fr-FR`) first, then English (`en-GB`),
then the easy-to-read French version, a second `fr-FR` info whose headline starts with
« Facile à lire : » and which carries the parameter `TOCSIN_VERSION` = `FALC` (CAP has no
language tag for it; docs/public.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from crisis.bulletin.render import public_link
from crisis.public.bulletin import PublicBulletin, Reference, Version, instructions_of, paris_iso

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_MEDIA_TYPE = "application/cap+xml"
LANGUAGE = "fr-FR"
LANGUAGES = {"fr": LANGUAGE, "en": "en-GB", "falc": LANGUAGE}
"""The CAP language of each version: FALC is French, told apart by its headline and tag."""
EASY_READ_MARK = "Facile à lire : "
VERSION_PARAMETER = ("TOCSIN_VERSION", "FALC")
MSG_TYPES = {"alert": "Alert", "update": "Update", "cancel": "Cancel"}
WHOLE_AREA = "Département de la Somme"
NSMAP: Any = {None: CAP_NS}
"""The default namespace (lxml-stubs type `nsmap` keys as `str` only)."""


@dataclass(frozen=True, slots=True)
class Publisher:
    """Who signs the alerts: `sender` (no space, no comma: CAP uses them as separators), the
    name people read, the site's address and the contact line."""

    sender: str
    name: str
    base_url: str
    contact: str

    def __post_init__(self) -> None:
        if not self.sender or any(c in self.sender for c in " ,\t\n"):
            raise ValueError(f"CAP sender without spaces or commas required: {self.sender!r}")


def identifier(public_id: str) -> str:
    """The alert's identifier: the public id (letters, digits, `-`, `_`) under our prefix."""
    return f"tocsin-{public_id}"


def cap_url(base_url: str, public_id: str, *, exercise: bool = False) -> str:
    mode = "?mode=exercise" if exercise else ""
    return f"{base_url.rstrip('/')}/public/cap/{public_id}.xml{mode}"


def references(publisher: Publisher, earlier: tuple[Reference, ...]) -> str:
    return " ".join(
        f"{publisher.sender},{identifier(r.public_id)},{paris_iso(r.published_at)}" for r in earlier
    )


def msg_type(bulletin: PublicBulletin) -> str:
    """Update and Cancel need a public bulletin to reference; without one it is an Alert."""
    if bulletin.earlier:
        return MSG_TYPES.get(bulletin.msg_type, "Alert")
    return "Alert"


def _add(parent: etree._Element, name: str, text: str) -> etree._Element:
    child = etree.SubElement(parent, f"{{{CAP_NS}}}{name}")
    child.text = text
    return child


def alert_element(bulletin: PublicBulletin, *, publisher: Publisher) -> etree._Element:
    alert = etree.Element(f"{{{CAP_NS}}}alert", nsmap=NSMAP)
    _add(alert, "identifier", identifier(bulletin.public_id))
    _add(alert, "sender", publisher.sender)
    _add(alert, "sent", paris_iso(bulletin.published_at))
    _add(alert, "status", "Exercise" if bulletin.exercise else "Actual")
    _add(alert, "msgType", msg_type(bulletin))
    _add(alert, "scope", "Public")
    if bulletin.exercise:
        _add(alert, "note", f"EXERCICE — {bulletin.crisis_title}")
    if bulletin.earlier:
        _add(alert, "references", references(publisher, bulletin.earlier))
    french = Version("fr", bulletin.title, bulletin.body)
    for version in (french, *bulletin.versions):
        _info(alert, bulletin, version, publisher=publisher)
    return alert


def page_url(base_url: str, public_id: str, *, exercise: bool, lang: str = "fr") -> str:
    """The public page of the bulletin in `lang` (French: no `lang` in the address)."""
    page = public_link(base_url, public_id, exercise=exercise)
    if lang == "fr":
        return page
    return f"{page}{'&' if '?' in page else '?'}lang={lang}"


def _info(
    alert: etree._Element, bulletin: PublicBulletin, version: Version, *, publisher: Publisher
) -> None:
    info = etree.SubElement(alert, f"{{{CAP_NS}}}info")
    cap = bulletin.cap
    _add(info, "language", LANGUAGES[version.lang])
    _add(info, "category", cap.category)
    _add(info, "event", cap.event)
    for name, value in (
        ("urgency", cap.urgency),
        ("severity", cap.severity),
        ("certainty", cap.certainty),
    ):
        _add(info, name, value)
    _add(info, "senderName", publisher.name)
    prefix = "EXERCICE EXERCICE EXERCICE — " if bulletin.exercise else ""
    easy = EASY_READ_MARK if version.lang == "falc" else ""
    _add(info, "headline", f"{prefix}{easy}{version.title}")
    _add(info, "description", version.body)
    instruction = instructions_of(version.body)
    if instruction:
        _add(info, "instruction", instruction)
    web = page_url(
        publisher.base_url, bulletin.public_id, exercise=bulletin.exercise, lang=version.lang
    )
    _add(info, "web", web)
    _add(info, "contact", publisher.contact)
    if version.lang == "falc":
        parameter = etree.SubElement(info, f"{{{CAP_NS}}}parameter")
        _add(parameter, "valueName", VERSION_PARAMETER[0])
        _add(parameter, "value", VERSION_PARAMETER[1])
    area = etree.SubElement(info, f"{{{CAP_NS}}}area")
    names = ", ".join(c.name for c in bulletin.communes)
    _add(area, "areaDesc", names or WHOLE_AREA)
    for commune in bulletin.communes:
        geocode = etree.SubElement(area, f"{{{CAP_NS}}}geocode")
        _add(geocode, "valueName", "INSEE")
        _add(geocode, "value", commune.code)


def cap_xml(bulletin: PublicBulletin, *, publisher: Publisher) -> bytes:
    """The alert as a UTF-8 XML document."""
    element = alert_element(bulletin, publisher=publisher)
    return bytes(etree.tostring(element, xml_declaration=True, encoding="UTF-8", pretty_print=True))
