"""A shared page's next rendering, under way while its copy is served (`SharedPages`): once the
copy is too old to be served, requests wait for that rendering rather than start a second one
beside it (under load a rendering outlasts the copy's last seconds: measured on the dashboard,
docs/benchmarks.md). Driven directly, with renderings held until the test lets them end."""

from __future__ import annotations

import asyncio

from fastapi.responses import HTMLResponse

from crisis.app.web.shared_pages import MAX_AGE, STALE_FOR, SharedPages
from tests.crisis.app.web_session import page_request
from tests.support import FrozenClock

HEAD = 7
"""The journal's last entry, as every request of these tests saw it."""


class Renderings:
    """A page's renderings, numbered; each one from `held_from` on waits for `release`."""

    def __init__(self, *, failing: int | None = None, held_from: int = 2) -> None:
        self.count = 0
        self.held_from = held_from
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.failing = failing

    async def __call__(self) -> HTMLResponse:
        self.count += 1
        number = self.count
        if number >= self.held_from:
            self.started.set()
            await self.release.wait()
        if number == self.failing:
            raise RuntimeError("base indisponible")
        return HTMLResponse(f"rendu {number}")


async def _page(pages: SharedPages, clock: FrozenClock, render: Renderings) -> str:
    request = page_request(state={"journal_head": HEAD}, clock=clock)
    answer = await pages.get(request, ("prefect",), render, head=HEAD)
    return bytes(answer.body).decode()


async def _copy_past_its_limit_while_renewed(
    pages: SharedPages, clock: FrozenClock, render: Renderings
) -> asyncio.Task[str]:
    """The first rendering served; past its second, its copy served while the next rendering
    starts and is held; then the copy past `STALE_FOR`, a request that is still waiting."""
    assert await _page(pages, clock, render) == "rendu 1"
    clock.advance(seconds=MAX_AGE + 0.5)
    assert await _page(pages, clock, render) == "rendu 1"  # the copy, its renewal started
    await render.started.wait()
    clock.advance(seconds=STALE_FOR - 1.0)  # the copy 5.5 s old, its renewal 4 s
    waiting = asyncio.create_task(_page(pages, clock, render))
    await asyncio.sleep(0)
    return waiting


async def test_a_copy_too_old_to_serve_waits_for_the_rendering_under_way_not_a_second_one(
    clock: FrozenClock,
) -> None:
    pages, render = SharedPages(), Renderings()
    waiting = await _copy_past_its_limit_while_renewed(pages, clock, render)
    also_waiting = asyncio.create_task(_page(pages, clock, render))
    await asyncio.sleep(0)
    assert not waiting.done() and not also_waiting.done()
    render.release.set()
    assert await waiting == await also_waiting == "rendu 2"
    assert render.count == pages.renders == 2


async def test_when_the_rendering_under_way_fails_its_waiting_requests_fail_and_the_next_renders(
    clock: FrozenClock,
) -> None:
    pages, render = SharedPages(), Renderings(failing=2)
    waiting = await _copy_past_its_limit_while_renewed(pages, clock, render)
    render.release.set()
    [failed] = await asyncio.gather(waiting, return_exceptions=True)
    assert isinstance(failed, RuntimeError)
    assert await _page(pages, clock, render) == "rendu 3"
    assert render.count == 3


async def test_a_first_rendering_that_outlasts_its_second_is_waited_for_not_started_again(
    clock: FrozenClock,
) -> None:
    pages, render = SharedPages(), Renderings(held_from=1)
    first = asyncio.create_task(_page(pages, clock, render))
    await render.started.wait()
    clock.advance(seconds=MAX_AGE + 1.0)
    second = asyncio.create_task(_page(pages, clock, render))
    await asyncio.sleep(0)
    render.release.set()
    assert await first == await second == "rendu 1"
    assert render.count == 1
