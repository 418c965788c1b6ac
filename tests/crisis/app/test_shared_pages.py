"""Pages rendered once for every viewer who may see the same thing: never stale past the
viewer's own action, a live region's refresh or a second of the app's clock (issue 16: pages
cheap under 50 users; issue 22: and while the CIP and a drill write several times a second)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.session_checks import ANNOUNCED_HEADER, LIVE_HEADER, WROTE_COOKIE
from crisis.app.settings import Settings
from crisis.app.web import live_stream
from crisis.app.web.shared_clocks import shared_clocks
from crisis.app.web.shared_pages import STALE_FOR, journal_head
from crisis.dispatch.outbox import Delivery
from tests.crisis.app.web_session import csrf_of, declare_from_form, log_in
from tests.crisis.bulletin_support import published
from tests.crisis.lifecycle_support import cod_crisis
from tests.support import FrozenClock, make_user


@pytest.fixture
def app(settings: Settings, db: Database, clock: FrozenClock) -> FastAPI:
    return create_app(settings, clock=clock, database=db)


@pytest.fixture
async def browsers(app: FastAPI) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Three browsers on the same server, each with its own session."""
    transport = httpx.ASGITransport(app=app)
    clients = [httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") for _ in "abc"]
    yield clients
    for client in clients:
        await client.aclose()


async def _log_in(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, login: str, *roles: str
) -> None:
    user = await make_user(db, clock, login, *roles)
    await log_in(client, user.login, user.password)


@pytest.fixture
async def prefects(
    browsers: list[httpx.AsyncClient], db: Database, clock: FrozenClock
) -> list[httpx.AsyncClient]:
    """Two browsers logged in as two prefects, « preffete » and « veilleur »."""
    await _log_in(browsers[0], db, clock, "preffete", "prefect")
    await _log_in(browsers[1], db, clock, "veilleur", "prefect")
    return browsers[:2]


LIVE = {LIVE_HEADER: "1"}  # as tocsin.js refreshes a live region


@pytest.fixture
async def watched(
    browsers: list[httpx.AsyncClient], db: Database, clock: FrozenClock
) -> tuple[int, httpx.AsyncClient, httpx.AsyncClient]:
    """A crisis with a recorded COD, a prefect and a communicator logged in."""
    async with db.transaction() as session:
        crisis_id = await cod_crisis(session, now=clock.now())
    prefect, communicator, _ = browsers
    await _log_in(prefect, db, clock, "preffete", "prefect")
    await _log_in(communicator, db, clock, "com", "communicator")
    return crisis_id, prefect, communicator


def _renders(app: FastAPI) -> int:
    return int(app.state.shared_pages.renders)


async def test_viewers_with_the_same_roles_share_one_rendering_with_their_own_login_and_token(
    app: FastAPI, prefects: list[httpx.AsyncClient], clock: FrozenClock
) -> None:
    first, second = prefects
    clock.advance(seconds=STALE_FOR + 0.01)  # what the log-ins rendered is too old now
    before = _renders(app)
    pages = [(await client.get("/")).text for client in (first, second, first)]
    assert _renders(app) == before + 1
    assert "Mon compte (preffete)" in pages[0] and "veilleur" not in pages[0]
    assert "Mon compte (veilleur)" in pages[1] and "preffete" not in pages[1]
    assert csrf_of(pages[0]) != csrf_of(pages[1])
    assert csrf_of(pages[0]) == csrf_of(pages[2])
    assert "\x00" not in pages[0] + pages[1]


async def test_a_viewer_never_gets_the_page_rendered_for_other_roles(
    app: FastAPI, browsers: list[httpx.AsyncClient], db: Database, clock: FrozenClock
) -> None:
    prefect, communicator, _ = browsers
    await _log_in(prefect, db, clock, "preffete", "prefect")
    await _log_in(communicator, db, clock, "com", "communicator")
    assert "Déclarer un événement" in (await prefect.get("/")).text
    assert "Déclarer un événement" not in (await communicator.get("/")).text


async def _declared_after_the_watcher_looked(
    prefect: httpx.AsyncClient, watcher: httpx.AsyncClient
) -> httpx.Response:
    """« Crue de la Bresle » declared by `prefect`, the dashboard rendered for both just before;
    the clock has not moved: `watcher`'s next dashboard is still the one rendered before."""
    assert "Crue de la Bresle" not in (await watcher.get("/")).text
    csrf = csrf_of((await prefect.get("/")).text)
    answer = await declare_from_form(prefect, csrf, "Crue de la Bresle")
    assert answer.status_code == 303
    assert "Crue de la Bresle" not in (await watcher.get("/")).text
    return answer


async def test_an_action_shows_at_once_on_its_authors_next_page_and_not_before_on_another_s(
    prefects: list[httpx.AsyncClient],
) -> None:
    prefect, watcher = prefects
    answer = await _declared_after_the_watcher_looked(prefect, watcher)
    await prefect.get(answer.headers["location"])  # its flash, shown once
    assert "Crue de la Bresle" in (await prefect.get("/")).text  # its author: at once


async def test_another_viewers_action_shows_once_the_copy_is_past_its_stale_limit(
    prefects: list[httpx.AsyncClient], clock: FrozenClock
) -> None:
    prefect, watcher = prefects
    await _declared_after_the_watcher_looked(prefect, watcher)
    clock.advance(seconds=STALE_FOR + 0.01)
    assert "Crue de la Bresle" in (await watcher.get("/")).text


async def test_past_its_second_a_page_is_served_from_its_copy_while_the_next_is_rendered(
    app: FastAPI, prefects: list[httpx.AsyncClient], clock: FrozenClock
) -> None:
    prefect, watcher = prefects
    await _declared_after_the_watcher_looked(prefect, watcher)
    clock.advance(seconds=1.5)
    before = _renders(app)
    assert "Crue de la Bresle" not in (await watcher.get("/")).text  # the copy, at once
    await asyncio.gather(*app.state.shared_pages.renewals())  # the one it started, if not done
    assert _renders(app) == before + 1
    assert "Crue de la Bresle" in (await watcher.get("/")).text
    assert _renders(app) == before + 1  # the rendering done in the background serves it


async def test_a_copy_is_not_served_to_its_viewer_after_their_own_action_however_recent(
    prefects: list[httpx.AsyncClient], clock: FrozenClock
) -> None:
    prefect, watcher = prefects
    await _declared_after_the_watcher_looked(prefect, watcher)
    clock.advance(seconds=1.5)
    assert "Crue de la Bresle" in (await prefect.get("/")).text


async def test_a_live_refresh_gets_the_page_as_of_the_journals_last_entry_at_once(
    prefects: list[httpx.AsyncClient],
) -> None:
    prefect, watcher = prefects
    await _declared_after_the_watcher_looked(prefect, watcher)
    live = await watcher.get("/", headers=LIVE)
    assert "Crue de la Bresle" in live.text  # what the stream announced is there


def _after(message_head: int) -> dict[str, str]:
    """A live refresh as tocsin.js sends it after a stream message naming `message_head`."""
    return {LIVE_HEADER: "1", ANNOUNCED_HEADER: str(message_head)}


async def test_refreshes_after_one_stream_message_share_a_rendering_while_the_journal_moves_on(
    app: FastAPI, watched: tuple[int, httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    _, prefect, communicator = watched
    announced = app.state.session_checks.latest_head
    assert "Crue de la Bresle" not in (await communicator.get("/", headers=_after(announced))).text
    csrf = csrf_of((await prefect.get("/")).text)
    assert (await declare_from_form(prefect, csrf, "Crue de la Bresle")).status_code == 303
    await prefect.get("/")  # this process reads the journal past the declaration
    newer = app.state.session_checks.latest_head
    assert newer > announced
    before = _renders(app)
    again = await communicator.get("/", headers=_after(announced))
    assert _renders(app) == before and "Crue de la Bresle" not in again.text
    assert "Crue de la Bresle" in (await communicator.get("/", headers=_after(newer))).text
    assert _renders(app) == before + 1


async def test_a_refresh_naming_an_entry_this_process_never_read_gets_the_journals_last_entry(
    app: FastAPI, watched: tuple[int, httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    _, prefect, communicator = watched
    ahead = app.state.session_checks.latest_head + 1000  # forged, or the journal restored
    await communicator.get("/")
    csrf = csrf_of((await prefect.get("/")).text)
    assert (await declare_from_form(prefect, csrf, "Crue de la Bresle")).status_code == 303
    answer = await communicator.get("/", headers=_after(ahead))
    assert answer.status_code == 200 and "Crue de la Bresle" in answer.text


async def test_a_live_fragment_named_for_a_message_is_not_rendered_again_for_unrelated_entries(
    app: FastAPI,
    watched: tuple[int, httpx.AsyncClient, httpx.AsyncClient],
    db: Database,
    clock: FrozenClock,
) -> None:
    crisis_id, prefect, communicator = watched
    hub = live_stream.hub_of(app)
    url = f"/fragments/evenements/{crisis_id}/main-courante"
    async with hub.subscribe(f"evenement:{crisis_id}") as subscription:
        message = await subscription.next()
        assert message.head == await journal_head(db)
        first = await communicator.get(url, headers=_after(message.head))
        fragments = live_stream.shared_fragments(app)
        before = fragments.renders
        await make_user(db, clock, "nouvelle", "communicator")  # journaled, not in this crisis
        await prefect.get("/", headers=LIVE)  # this process reads the journal's new last entry
        await hub.refresh()
        assert not subscription.pending  # the crisis' figures did not move
        again = await communicator.get(url, headers=_after(message.head))
        assert fragments.renders == before and again.text == first.text
        await communicator.get(url, headers=LIVE)  # no entry named: as of the last one
        assert fragments.renders == before + 1


async def test_deliveries_moved_without_a_journal_entry_show_once_the_copy_is_too_old(
    browsers: list[httpx.AsyncClient], db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        crisis_id = await cod_crisis(session, now=clock.now())
    bulletin_id = await published(db, clock.now(), crisis_id=crisis_id)
    viewer, _, _ = browsers
    await _log_in(viewer, db, clock, "com", "communicator")
    path = f"/communiques/{bulletin_id}/suivi"
    before = _failed((await viewer.get(path)).text)
    async with db.transaction() as session:
        d = Delivery.__table__.c  # type: ignore[attr-defined]
        await (await session.connection()).execute(
            sa.update(Delivery)
            .where(d.bulletin_id == bulletin_id, d.status == "pending")
            .values(status="failed", next_attempt_at=None)
        )
    assert _failed((await viewer.get(path)).text) == before  # the same second: kept
    clock.advance(seconds=STALE_FOR + 0.01)
    assert _failed((await viewer.get(path)).text) > before


def _failed(page: str) -> int:
    found = re.search(r"Échecs \((\d+)\)", page)
    return int(found.group(1)) if found else 0


async def test_a_message_flashed_to_one_viewer_is_shown_to_that_viewer_only(
    prefects: list[httpx.AsyncClient],
) -> None:
    prefect, watcher = prefects
    csrf = csrf_of((await prefect.get("/")).text)
    answer = await declare_from_form(prefect, csrf, "Crue de la Bresle")
    crisis_page = answer.headers["location"]
    flashed = f"Événement n° {crisis_page.rsplit('/', 1)[1]} déclaré."
    assert flashed in (await prefect.get(crisis_page)).text
    assert flashed not in (await watcher.get(crisis_page)).text


async def test_a_crisis_clocks_are_computed_once_for_every_page_and_role_until_something_changes(
    app: FastAPI,
    watched: tuple[int, httpx.AsyncClient, httpx.AsyncClient],
    db: Database,
    clock: FrozenClock,
) -> None:
    crisis_id, prefect, communicator = watched
    kept = shared_clocks(app)
    clock.advance(seconds=STALE_FOR + 0.01)
    before = kept.computations
    crisis_page = f"/evenements/{crisis_id}"
    seen = {}
    for client in (prefect, communicator):
        for path in ("/", crisis_page):
            answer = await client.get(path)
            assert answer.status_code == 200
            seen[client, path] = answer.text
    assert kept.computations == before + 1  # four renderings, one computation
    await published(db, clock.now(), crisis_id=crisis_id)  # by someone else: journaled
    assert (await communicator.get(crisis_page)).text == seen[communicator, crisis_page]
    assert kept.computations == before + 1  # within the second: kept
    live = await communicator.get(crisis_page, headers=LIVE)
    assert live.text != seen[communicator, crisis_page]
    assert kept.computations == before + 2
    async with db.transaction() as session:  # a send recorded in this process, no journal entry
        d = Delivery.__table__.c  # type: ignore[attr-defined]
        await (await session.connection()).execute(
            sa.update(Delivery).where(d.crisis_id == crisis_id).values(attempts=d.attempts + 1)
        )
    await prefect.get("/fragments/evenements", headers=LIVE)
    assert kept.computations == before + 3
    await prefect.get("/")  # a page: what the live refresh computed serves it
    assert kept.computations == before + 3
    clock.advance(seconds=STALE_FOR + 0.01)
    await prefect.get("/")
    assert kept.computations == before + 4


async def test_a_page_served_again_reads_nothing_or_the_session_and_journal_in_one_statement(
    app: FastAPI, prefects: list[httpx.AsyncClient], db: Database
) -> None:
    first, second = prefects
    await first.get("/")  # rendered and kept for the prefects
    sent: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's explicit one (crisis.app.db)
            sent.append(statement)

    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        kept_check = await second.get("/")  # their session checked within the second
        app.state.session_checks.forget_all()
        checked_afresh = await second.get("/")
    finally:
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    assert "Mon compte (veilleur)" in kept_check.text
    assert checked_afresh.text == kept_check.text
    assert len(sent) == 1, sent
    assert "web_session" in sent[0] and "journal_entry" in sent[0]


async def test_a_request_that_writes_nothing_sets_no_cookie_and_a_write_sets_only_its_own(
    watched: tuple[int, httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    # The composer's preview, sent while its form is submitted, must not carry an older
    # session back over the one holding the save's flash message (found by a browser test).
    crisis_id, prefect, communicator = watched
    page = await communicator.get(f"/evenements/{crisis_id}/communiques/nouveau")
    form = {"csrf_token": csrf_of(page.text), "strategy": "all", "title": "Crue"}
    preview = await communicator.post(f"/evenements/{crisis_id}/communiques/apercu", data=form)
    assert preview.status_code == 200
    assert "set-cookie" not in preview.headers
    csrf = csrf_of((await prefect.get("/")).text)
    declared = await declare_from_form(prefect, csrf, "Crue de la Bresle")
    cookies = declared.headers.get_list("set-cookie")
    assert any(c.startswith(f"{WROTE_COOKIE}=") and "HttpOnly" in c for c in cookies)


class ReadsSideBySide(Database):
    """Counts the read blocks open at once."""

    open = 0
    most = 0

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        self.open += 1
        self.most = max(self.most, self.open)
        try:
            async with super().read() as session:
                yield session
        finally:
            self.open -= 1


async def test_on_postgresql_a_page_reads_its_clocks_beside_its_other_parts_not_after_them(
    settings: Settings, db: Database, clock: FrozenClock, database_url: str
) -> None:
    """Each statement waits for a turn of the event loop: the dashboard and the crisis page
    wait for the longest of their reads, not for their sum (docs/benchmarks.md)."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite's reads run on the loop's thread, one block after the other")
    counting = ReadsSideBySide.from_url(database_url)
    app = create_app(settings, clock=clock, database=counting)
    async with db.transaction() as session:
        crisis_id = await cod_crisis(session, now=clock.now())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as client:
        await _log_in(client, db, clock, "preffete", "prefect")
        for path in ("/", f"/evenements/{crisis_id}"):
            counting.most = 0
            clock.advance(seconds=STALE_FOR + 0.01)  # past the shared copy the login's landing left
            assert (await client.get(path)).status_code == 200
            assert counting.most >= 2, path
    await counting.dispose()
