"""The composer's verdict is the save's and the submission's: whatever the draft, the problems
the preview lists as blocking are exactly those the save refuses with, each in French with the
field it concerns."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisis.app.db import Database
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.checks import Draft
from crisis.bulletin.render import BULLETIN_CHANNELS
from crisis.bulletin.verdict import verdict
from crisis.cell import crises
from crisis.errors import InvalidInput
from tests.crisis.bulletin_support import BODY, COMMUNICATOR, POLICY, TITLE, declare
from tests.support import FrozenClock

FIELDS = {"title", "body", "audiences", "channels", "communes", "msg_type", "strategy"}
FIELDS |= {"cascade_minutes", *(f"variant_{c}" for c in BULLETIN_CHANNELS)}


def _subset(items: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(items), max_size=4)


DRAFTS = st.builds(
    Draft,
    title=st.sampled_from(["", "a", TITLE]),
    body=st.sampled_from(["", "Il pleut.", BODY, BODY + "\n[à compléter : lieu]"]),
    audiences=_subset(["officials", "media", "public", "staff", "pigeons"]),
    channels=st.none() | _subset([*BULLETIN_CHANNELS, "pigeon"]),
    communes=st.none() | _subset(["80001", "amiens", "Atlantide", "99999"]),
    references=st.sampled_from([[], [99]]),
    msg_type=st.sampled_from([None, "alert", "update", "cancel", "bof"]),
    strategy=st.sampled_from(["all", "cascade", "au hasard"]),
    cascade_minutes=st.integers(0, 300),
)


@pytest.fixture
async def crisis_id(db: Database, clock: FrozenClock) -> int:
    return await declare(db, clock.now())


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(draft=DRAFTS)
async def test_the_preview_blocks_exactly_what_the_save_refuses(
    db: Database, clock: FrozenClock, crisis_id: int, draft: Draft
) -> None:
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
        judged = await verdict(session, crisis=crisis, draft=draft, policy=POLICY)
    refused: list[object] = []
    try:
        async with db.transaction() as session:
            await bulletins.create(
                session,
                actor=COMMUNICATOR,
                crisis_id=crisis_id,
                draft=draft,
                policy=POLICY,
                now=clock.now(),
            )
            raise _Undo
    except InvalidInput as error:
        refused = error.details
    except _Undo:
        pass
    assert judged.to_save == refused
    for problem in judged.problems:
        assert problem["field"] in FIELDS, problem
        assert isinstance(problem["message"], str) and problem["message"][0].isupper()


class _Undo(Exception):
    """Rolls back a draft that was saved: each example starts from the same crisis."""
