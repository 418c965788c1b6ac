"""The Atom feed (RFC 4287) of the public bulletins, built with lxml: newest first, the last
50, each entry linking its public page (`alternate`), its CAP alert (`related`,
`application/cap+xml`) and the public bulletins it updates or cancels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from crisis.bulletin.render import public_link
from crisis.public.bulletin import PublicBulletin, paris_iso
from crisis.public.cap import CAP_MEDIA_TYPE, Publisher, cap_url
from crisis.public.situation import FEED_ENTRIES

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml"
NSMAP: Any = {None: ATOM_NS}
EMPTY_UPDATED = datetime(2026, 1, 1, tzinfo=UTC)
"""The `updated` of a feed with no entry yet: fixed, so that its ETag stays the same."""
KIND_PREFIX = {"update": "Mise à jour : ", "cancel": "Annulation : "}
KIND_LABEL = {"alert": "Alerte", "update": "Mise à jour", "cancel": "Annulation"}


@dataclass(frozen=True, slots=True)
class FeedScope:
    """Which feed: real or exercise, the whole département or one commune (its name)."""

    exercise: bool = False
    commune: str = ""
    commune_name: str = ""

    @property
    def query(self) -> str:
        parts = [f"commune={self.commune}"] if self.commune else []
        parts += ["mode=exercise"] if self.exercise else []
        return f"?{'&'.join(parts)}" if parts else ""


def _add(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> None:
    child = etree.SubElement(parent, f"{{{ATOM_NS}}}{name}", attrs)
    if text is not None:
        child.text = text


def feed_xml(
    bulletins: Sequence[PublicBulletin], *, publisher: Publisher, scope: FeedScope
) -> bytes:
    """The feed of `bulletins` (newest first; only the first 50 are kept)."""
    shown = list(bulletins)[:FEED_ENTRIES]
    base = publisher.base_url.rstrip("/")
    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap=NSMAP)
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", "fr-FR")
    title = f"Communiqués — {publisher.name}"
    if scope.commune:
        title += f" — {scope.commune_name or scope.commune}"
    if scope.exercise:
        title = f"EXERCICE — {title}"
    _add(feed, "id", f"{base}/public/feed.atom{scope.query}")
    _add(feed, "title", title)
    _add(feed, "subtitle", "Informations et consignes publiées pour la population.")
    updated = shown[0].published_at if shown else EMPTY_UPDATED
    _add(feed, "updated", paris_iso(updated))
    _add(
        feed, "link", rel="self", type=ATOM_MEDIA_TYPE, href=f"{base}/public/feed.atom{scope.query}"
    )
    mode = "?mode=exercise" if scope.exercise else ""
    _add(feed, "link", rel="alternate", type="text/html", href=f"{base}/public/bulletins{mode}")
    author = etree.SubElement(feed, f"{{{ATOM_NS}}}author")
    _add(author, "name", publisher.name)
    _add(author, "uri", f"{base}/public/bulletins")
    _add(feed, "generator", "Tocsin")
    for bulletin in shown:
        _entry(feed, bulletin, publisher=publisher)
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _entry(feed: etree._Element, bulletin: PublicBulletin, *, publisher: Publisher) -> None:
    entry = etree.SubElement(feed, f"{{{ATOM_NS}}}entry")
    page = public_link(publisher.base_url, bulletin.public_id, exercise=bulletin.exercise)
    exercise = "EXERCICE — " if bulletin.exercise else ""
    _add(entry, "id", page)
    _add(entry, "title", f"{exercise}{KIND_PREFIX.get(bulletin.msg_type, '')}{bulletin.title}")
    _add(entry, "published", paris_iso(bulletin.published_at))
    _add(entry, "updated", paris_iso(bulletin.published_at))
    _add(
        entry,
        "category",
        term=bulletin.msg_type,
        label=KIND_LABEL.get(bulletin.msg_type, bulletin.msg_type),
    )
    _add(entry, "link", rel="alternate", type="text/html", href=page)
    _add(
        entry,
        "link",
        rel="related",
        type=CAP_MEDIA_TYPE,
        title="Alerte CAP",
        href=cap_url(publisher.base_url, bulletin.public_id, exercise=bulletin.exercise),
    )
    verb = "Annule" if bulletin.msg_type == "cancel" else "Met à jour"
    for earlier in bulletin.earlier:
        href = public_link(publisher.base_url, earlier.public_id, exercise=bulletin.exercise)
        _add(
            entry,
            "link",
            rel="related",
            type="text/html",
            href=href,
            title=f"{verb} : {earlier.title}",
        )
    lead = "EXERCICE EXERCICE EXERCICE\n\n" if bulletin.exercise else ""
    _add(entry, "content", f"{lead}{bulletin.body}", type="text")
