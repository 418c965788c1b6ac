"""The live stream `/flux`: one topic per page, its figures computed once for every subscriber.

A page subscribes to its topic — `/flux` the dashboard, `/flux?evenement=3` a crisis page,
`/flux?communique=7` a bulletin's tracking — and gets a `change` event carrying the topic's
figures (JSON: counts and clock states) each time they move, at most once a second
(`crisis.app.live.LiveHub`). The page patches those figures in place and re-fetches a region
only when a group it shows changed. The figures hold no name, address or reply text: one
message serves every role (`crisis.privacy` decides on names, in the fragments).
The first bytes, the `prêt` comment, go out before any database work.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col, func, select
from sse_starlette.sse import EventSourceResponse

from crisis import journal
from crisis.app.auth import CurrentActor, csrf_token
from crisis.app.clock import Clock
from crisis.app.db import Database
from crisis.app.live import Figures, LiveHub
from crisis.app.web.shared_clocks import SharedClocks, shared_clocks
from crisis.app.web.shared_pages import announced_floor, journal_head, request_journal_head
from crisis.bulletin import tracking
from crisis.cell import crises
from crisis.cell.clocks import ClockState
from crisis.errors import DomainError

BOARD = "tableau"
CLOCK_WORDS = {
    "running": "en cours",
    "met": "tenue",
    "late": "tenue en retard",
    "overdue": "dépassée",
    "not_started": "non démarrée",
}
AUDIENCE_WORDS = {"officials": "Élus", "media": "Médias", "public": "Public"}
DELIVERED = ("sent", "confirmed")
STEP_PERCENT = 10
"""Deliveries are announced when the share delivered crosses a step of 10 %."""


def hub_of(app: FastAPI) -> LiveHub:
    """The process' hub, made at the first stream (the signal is the app's)."""
    hub: LiveHub | None = getattr(app.state, "live_hub", None)
    if hub is None:
        db: Database = app.state.db
        clock: Clock = app.state.clock

        async def compute(topic: str) -> Figures:
            return await figures(db, clock, topic, shared_clocks(app))

        async def head() -> int:
            return await journal_head(db)

        hub = LiveHub(app.state.live, compute, announce=announcements, head=head)
        app.state.live_hub = hub
    return hub


Visibility = tuple[Any, ...]
"""What a fragment shows that depends on the viewer: `crisis.privacy`'s personal data, abilities."""
KEPT_RENDERS = 500
"""Past that many renderings kept (topics no one watches any more), the cache starts afresh."""
Render = Callable[[], Awaitable[HTMLResponse]]
CSRF_MARK = "\x00csrf\x00"


class SharedFragments:
    """Fragments rendered once per version of their topic and visibility class, for everyone.

    A version is the topic's figures' (the hub's round) and the journal's last entry: the
    figures lag the database by up to a round, the journal head does not, so a fragment
    asked for just after an action (a page's first refresh) never shows what was before it.
    A live refresh naming the entry its stream announced (`shared_pages.announced_floor`) takes a
    fragment of the same figures not predating that entry, whatever was journaled since.
    The first request after a change renders (the others wait for it); the session's CSRF token
    in the forms is swapped for each viewer's own. Without subscribers in this process, the
    topic has no version and each request renders for itself."""

    def __init__(self) -> None:
        self._renders: dict[
            tuple[str, str, Visibility], tuple[tuple[int, int], asyncio.Task[str]]
        ] = {}
        self.renders = 0

    async def get(
        self,
        request: Request,
        hub: LiveHub,
        topic: str,
        visibility: Visibility,
        render: Render,
    ) -> HTMLResponse:
        figures = hub.version(topic)
        if figures is None:
            return await render()
        head = await request_journal_head(request)
        floor = announced_floor(request)
        key = (topic, f"{request.url.path}?{request.url.query}", visibility)
        known = self._renders.get(key)
        if known is None or not _serves(known, figures, head, floor):
            self._renders = {
                k: v
                for k, v in self._renders.items()
                if (k[0] != topic or v[0][0] == figures) and len(self._renders) < KEPT_RENDERS
            }
            known = ((figures, head), asyncio.create_task(self._render(request, render)))
            self._renders[key] = known
        body = (await asyncio.shield(known[1])).replace(CSRF_MARK, csrf_token(request))
        return HTMLResponse(body)

    async def _render(self, request: Request, render: Render) -> str:
        self.renders += 1
        body = bytes((await render()).body).decode()
        return body.replace(csrf_token(request), CSRF_MARK)


def shared_fragments(app: FastAPI) -> SharedFragments:
    cache: SharedFragments | None = getattr(app.state, "live_fragments", None)
    if cache is None:
        cache = app.state.live_fragments = SharedFragments()
    return cache


def _serves(
    known: tuple[tuple[int, int], asyncio.Task[str]], figures: int, head: int, floor: int | None
) -> bool:
    """Rendered for the same figures and as of `head` (or not before `floor`), not failed."""
    (known_figures, known_head), task = known
    if known_figures != figures or _failed(task):
        return False
    return known_head >= floor if floor is not None else known_head == head


def _failed(task: asyncio.Task[str]) -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None)


async def shared_fragment(
    request: Request, topic: str, visibility: Visibility, render: Render
) -> HTMLResponse:
    """`render()`'s page, rendered once per change of `topic` for each visibility class."""
    return await shared_fragments(request.app).get(
        request, hub_of(request.app), topic, visibility, render
    )


def _clocks(states: list[ClockState]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for s in states:
        coverage = {
            key: [value.get("reached", 0), value.get("total", 0), bool(value.get("covered_at"))]
            for key, value in (s.coverage or {}).items()
            if isinstance(value, dict)
        }
        shown[s.code] = {
            "status": s.status.value,
            "met_at": s.met_at.isoformat() if s.met_at else None,
            "alerts": len(s.alerts),
            "coverage": coverage,
        }
    return shown


async def figures(db: Database, clock: Clock, topic: str, clocks: SharedClocks) -> Figures:
    """A topic's figures, as every subscriber receives them."""
    kind, _, ident = topic.partition(":")
    now = clock.now()
    try:
        if kind == "communique":
            return await _tracking_figures(db, int(ident))
        if kind == "evenement":
            return await _crisis_figures(db, int(ident), now, clocks)
        return await _board_figures(db, now, clocks)
    except DomainError:  # a crisis or bulletin that does not exist (any more): nothing to show
        return {"absent": True}


async def _tracking_figures(db: Database, bulletin_id: int) -> Figures:
    async with db.read() as session:
        counted = await tracking.counts(session, bulletin_id=bulletin_id)
    return {
        "counts": {"total": counted.total} | counted.counts,
        "confirmed_by": counted.confirmed_by,
    }


async def _crisis_figures(
    db: Database, crisis_id: int, now: datetime, clocks: SharedClocks
) -> Figures:
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
        query = select(func.count(col(journal.JournalEntry.id))).where(
            journal.JournalEntry.crisis_id == crisis.id
        )
        entries = (await session.exec(query)).one()
    states = await clocks.states([crisis], now)
    return {
        "journal": entries,
        "status": crisis.status,
        "clocks": _clocks(states.get(crisis_id, [])),
    }


async def _board_figures(db: Database, now: datetime, clocks: SharedClocks) -> Figures:
    async with db.read() as session:
        rows = await crises.listing(session)
    open_rows = [c for c in rows if c.is_open]
    states = await clocks.states(open_rows, now)
    return {
        "crises": [[c.id, c.status, c.title] for c in rows],
        "clocks": {str(c.id): _clocks(states.get(c.id or 0, [])) for c in open_rows},
    }


def _clock_news(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    said = []
    for code, state in new.items():
        before = old.get(code) or {}
        if before and before.get("status") != state["status"]:
            said.append(f"{prefix}Échéance {code} {CLOCK_WORDS.get(state['status'], '')}.")
        if before and state["alerts"] > before.get("alerts", 0):
            said.append(f"{prefix}Alerte {code} envoyée.")
        for key, (reached, total, covered) in state["coverage"].items():
            was = (before.get("coverage") or {}).get(key)
            if was and covered and not was[2]:
                said.append(f"{prefix}{AUDIENCE_WORDS.get(key, key)} : tous informés ({total}).")
            elif was and reached != was[0] and total and _step(reached, total) != _step(*was[:2]):
                said.append(f"{prefix}{AUDIENCE_WORDS.get(key, key)} : {reached} sur {total}.")
    return said


def _step(reached: int, total: int) -> int:
    return (100 * reached // total) // STEP_PERCENT if total else 0


def announcements(topic: str, old: Figures, new: Figures) -> list[str]:
    """What a screen reader is told of a change: steps crossed and alerts, not every figure."""
    if topic.startswith("communique:"):
        before, after = old.get("counts", {}), new.get("counts", {})
        total = after.get("total", 0)
        said = []
        done, was = (sum(c.get(s, 0) for s in DELIVERED) for c in (after, before))
        if total and _step(done, total) != _step(was, before.get("total", 0) or total):
            said.append(f"Envois : {done} sur {total} délivrés.")
        if after.get("to_call", 0) > before.get("to_call", 0):
            said.append(f"À appeler : {after['to_call']}.")
        if after.get("failed", 0) > before.get("failed", 0):
            said.append(f"Échecs : {after['failed']}.")
        return said
    if topic.startswith("evenement:"):
        return _clock_news(old.get("clocks", {}), new.get("clocks", {}))
    said = []
    for ident, clocks in new.get("clocks", {}).items():
        said += _clock_news(old.get("clocks", {}).get(ident, {}), clocks, f"Événement {ident} : ")
    return said


def topic_of(evenement: int | None, communique: int | None) -> str:
    if communique is not None:
        return f"communique:{communique}"
    if evenement is not None:
        return f"evenement:{evenement}"
    return BOARD


async def _events(request: Request, hub: LiveHub, topic: str) -> AsyncIterator[dict[str, str]]:
    """`prêt` at once, then one `change` per move of the topic's figures."""
    yield {"comment": "prêt"}
    async with hub.subscribe(topic) as subscription:
        while True:
            message = await subscription.next()
            yield {"event": "change", "data": json.dumps(message.as_json(), ensure_ascii=False)}


RowParam = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


async def live_stream(  # GET /flux, routed by `pages`
    request: Request,
    actor: CurrentActor,
    evenement: RowParam = None,
    communique: RowParam = None,
) -> EventSourceResponse:
    topic = topic_of(evenement, communique)
    return EventSourceResponse(_events(request, hub_of(request.app), topic), ping=15)
