from __future__ import annotations

import asyncio
import gc

import pytest

from storage.rawsql import collector_paused


async def test_the_collector_is_paused_in_a_synchronous_block_and_resumes_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


async def test_a_paused_block_that_awaits_is_refused_and_collection_resumes() -> None:
    with pytest.raises(RuntimeError, match="spanned an await"), collector_paused():
        await asyncio.sleep(0)
    assert gc.isenabled()


def test_without_an_event_loop_the_collector_pauses_as_well() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
