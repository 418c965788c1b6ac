"""Shared helpers for the public channel tests: an app whose base URL is known, a crisis with
an alert, its update and its cancellation, and the official schemas."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import rnc2rng  # type: ignore[import-untyped]
from lxml import etree

from crisis.app.db import Database
from crisis.bulletin import workflow as bulletins
from crisis.vocabulary import CrisisMode
from tests.crisis.bulletin_support import declare, load_directory, published
from tests.support import FrozenClock

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BASE_URL = "https://tocsin.test"
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"


@functools.cache
def cap_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(FIXTURES / "CAP-v1.2.xsd")))


def valid_cap(body: bytes) -> etree._Element:
    """The alert's root, once the official CAP 1.2 schema has accepted it."""
    root = etree.fromstring(body)
    schema = cap_schema()
    assert schema.validate(root), schema.error_log
    return root


@functools.cache
def atom_schema() -> etree.RelaxNG:
    """RFC 4287's RELAX NG grammar (appendix B), converted from its compact syntax."""
    compact = (FIXTURES / "atom.rnc").read_text(encoding="utf-8")
    grammar = rnc2rng.dumps(rnc2rng.loads(compact)).replace('xmlns:local=""', "")
    return etree.RelaxNG(etree.fromstring(grammar.encode()))


def valid_feed(body: bytes) -> etree._Element:
    """The feed's root, once the Atom grammar and the rules it cannot say have accepted it."""
    root = etree.fromstring(body)
    schema = atom_schema()
    assert schema.validate(root), schema.error_log
    entries = root.findall(f"{ATOM}entry")
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids), "entry ids are unique"
    assert root.find(f"{ATOM}author") is not None, "the feed names its author"
    for entry in [root, *entries]:
        alternates = [
            (link.get("type"), link.get("hreflang"))
            for link in entry.findall(f"{ATOM}link")
            if link.get("rel", "alternate") == "alternate"
        ]
        assert len(set(alternates)) == len(alternates), "one alternate per type and language"
    return root


def text(root: etree._Element, path: str) -> str:
    found = root.find(path.replace("cap:", CAP))
    assert found is not None and found.text is not None, path
    return found.text


async def public_id(db: Database, bulletin_id: int) -> str:
    async with db.read() as session:
        return (await bulletins.get(session, bulletin_id=bulletin_id)).public_id


@dataclass(frozen=True)
class Story:
    """A crisis told to the public in three bulletins, and one for the mayors only."""

    crisis_id: int
    alert: str
    update: str
    cancel: str
    mayors: str
    alert_id: int


async def story(
    db: Database, clock: FrozenClock, *, mode: CrisisMode = CrisisMode.REAL, directory: bool = True
) -> Story:
    crisis_id = await declare(db, clock.now(), mode=mode)
    if directory:
        await load_directory(db, clock.now())

    async def publish(minutes: int, title: str, **changes: object) -> int:
        clock.advance(minutes=minutes)
        return await published(db, clock.now(), crisis_id=crisis_id, title=title, **changes)

    alert = await publish(
        0, "Crue : premières consignes", audiences=["public"], communes=["80001", "80021"]
    )
    mayors = await publish(0, "Crue : note aux maires", audiences=["officials"])
    update = await publish(
        30,
        "Crue : point de 15 h",
        audiences=["public"],
        references=[alert, mayors],
        msg_type="update",
    )
    cancel = await publish(
        30, "Crue : fin de l'alerte", audiences=["public"], references=[update], msg_type="cancel"
    )
    names = [await public_id(db, b) for b in (alert, update, cancel, mayors)]
    return Story(crisis_id, *names, alert_id=alert)
