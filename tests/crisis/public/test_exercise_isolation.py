"""Exercises are never public (issue 21 item 4): whatever the rows say — a bulletin flagged
as an exercise, or one of an exercise crisis that is not flagged, to any audiences, in any
state — nothing of it is on the public list, the feed, a page or a CAP file without
`?mode=exercise`; with it, only exercise bulletins, under the EXERCICE banner and with CAP
status Exercise. The property of `tests/crisis/dispatch/test_isolation.py`, extended to the
public channels, and to each language of a bulletin (`?lang=en`, `?lang=falc`, and every CAP
`info`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from crisis.actors import SYSTEM
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from crisis.bulletin.record import Bulletin
from crisis.cell import crises
from crisis.vocabulary import CrisisMode
from tests.conftest import ON_POSTGRESQL, _empty_tables
from tests.crisis.public.support import BASE_URL, CAP, valid_cap, valid_feed
from tests.support import FrozenClock


@dataclass(frozen=True)
class Row:
    crisis: int  # index in the crisis list
    flagged: bool  # the row's own `exercise` flag
    status: str
    audiences: tuple[str, ...]
    msg_type: str
    refers: int | None  # index of an earlier row of the batch
    versions: bool = False  # an English and an easy-to-read version


rows = st.builds(
    Row,
    crisis=st.integers(0, 2),
    flagged=st.booleans(),
    status=st.sampled_from(["published", "published", "draft", "approved"]),
    audiences=st.lists(
        st.sampled_from(["officials", "media", "public", "staff", "exercise"]), max_size=3
    ).map(tuple),
    msg_type=st.sampled_from(["alert", "update", "cancel"]),
    refers=st.none() | st.integers(0, 7),
    versions=st.booleans(),
)
LANGS = ("", "?lang=en", "?lang=falc")
EXERCISE_LANGS = ("?mode=exercise", "?mode=exercise&lang=en", "?mode=exercise&lang=falc")


async def _world(db: Database, modes: list[str], batch: list[Row]) -> dict[str, bool]:
    """The rows written as given; each bulletin's title → whether it belongs to an exercise."""
    clock = FrozenClock()
    titles: dict[str, bool] = {}
    async with db.transaction() as session:
        crisis_rows = []
        for mode in modes:
            crisis = await crises.declare(
                session,
                actor=SYSTEM,
                title=f"Événement {mode}",
                kind="crue",
                mode=CrisisMode(mode),
                communes=["80001"],
                now=clock.now(),
            )
            crisis_rows.append(crisis)
        ids: list[int] = []
        for n, row in enumerate(batch):
            crisis = crisis_rows[row.crisis % len(crisis_rows)]
            refers = [ids[row.refers]] if row.refers is not None and row.refers < len(ids) else []
            bulletin = Bulletin(
                crisis_id=crisis.id or 0,
                title=f"Titre-{n}-fin",
                body=f"Texte-{n}-fin",
                audiences=list(row.audiences),
                status=row.status,
                exercise=row.flagged,
                msg_type=row.msg_type,
                reference_ids=refers,
                content_hash="x" * 64,
                author="com",
                created_at=clock.advance(minutes=1),
                updated_at=clock.now(),
                published_at=clock.now() if row.status == "published" else None,
                translations={
                    "en": {"title": f"Title-{n}-end", "body": f"Text-{n}-end"},
                    "falc": {"title": f"Facile-{n}-fin", "body": f"Simple-{n}-fin"},
                }
                if row.versions
                else {},
            )
            session.add(bulletin)
            await session.flush()
            ids.append(bulletin.id or 0)
            titles[bulletin.public_id] = row.flagged or crisis.is_exercise
            for title in (f"Titre-{n}-fin", f"Title-{n}-end", f"Facile-{n}-fin"):
                titles[title] = titles[bulletin.public_id]
    return titles


def _public_ids(titles: dict[str, bool]) -> list[str]:
    return [name for name in titles if not name.startswith(("Titre-", "Title-", "Facile-"))]


async def _scenario(database_url: str, modes: list[str], batch: list[Row]) -> None:
    db = Database.from_url(database_url)
    try:
        exercise_of = await _world(db, modes, batch)
        settings_ = Settings(database_url=database_url, base_url=BASE_URL)
        app = create_app(settings_, clock=FrozenClock(), database=db)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t.test") as client:
            await _check_real_mode(client, exercise_of)
            await _check_exercise_mode(client, exercise_of)
    finally:
        await _empty_tables(db)
        await db.dispose()


async def _check_real_mode(client: httpx.AsyncClient, exercise_of: dict[str, bool]) -> None:
    drills = [name for name, drill in exercise_of.items() if drill]
    lists = [f"/public/bulletins{lang}" for lang in LANGS]
    for url in (*lists, "/public/feed.atom", "/public/feed.atom?commune=80001"):
        answer = await client.get(url)
        assert not [d for d in drills if d in answer.text], url
        assert "EXERCICE" not in answer.text, url
    for name in _public_ids(exercise_of):
        pages = [f"/public/bulletins/{name}{lang}" for lang in LANGS]
        for url in (*pages, f"/public/cap/{name}.xml"):
            answer = await client.get(url)
            if exercise_of[name]:
                assert answer.status_code == 404, url
            if answer.status_code == 200:
                assert not [d for d in drills if d in answer.text], url
                assert "EXERCICE" not in answer.text
    valid_feed((await client.get("/public/feed.atom")).content)


async def _check_exercise_mode(client: httpx.AsyncClient, exercise_of: dict[str, bool]) -> None:
    reals = [name for name, drill in exercise_of.items() if not drill]
    for lang in EXERCISE_LANGS:
        listed = await client.get(f"/public/bulletins{lang}")
        assert "tocsin-exercise-banner" in listed.text
        assert not [r for r in reals if r in listed.text]
    feed = valid_feed((await client.get("/public/feed.atom?mode=exercise")).content)
    assert not [r for r in reals if r in etree.tostring(feed).decode()]
    for name in _public_ids(exercise_of):
        cap = await client.get(f"/public/cap/{name}.xml?mode=exercise")
        for lang in EXERCISE_LANGS:
            page = await client.get(f"/public/bulletins/{name}{lang}")
            if not exercise_of[name]:
                assert page.status_code == cap.status_code == 404
            if page.status_code == 200:
                assert "tocsin-exercise-banner" in page.text
                assert not [r for r in reals if r in page.text]
        if cap.status_code == 200:
            root = valid_cap(cap.content)
            assert root.findtext(f"{CAP}status") == "Exercise"
            headlines = [i.findtext(f"{CAP}headline") or "" for i in root.iter(f"{CAP}info")]
            assert all(h.startswith("EXERCICE EXERCICE EXERCICE") for h in headlines)


@settings(
    max_examples=8 if ON_POSTGRESQL else 25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    modes=st.lists(st.sampled_from(["real", "exercise"]), min_size=1, max_size=3),
    batch=st.lists(rows, min_size=1, max_size=8),
)
def test_no_exercise_bulletin_is_public_outside_exercise_mode_whatever_the_rows_say(
    database_url: str, modes: list[str], batch: list[Row]
) -> None:
    asyncio.run(_scenario(database_url, modes, batch))
