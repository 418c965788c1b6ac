from __future__ import annotations

from crisis.app.db import Database
from crisis.app.library import playbook_library
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.composer import MAX_NAMED_COMMUNES, named_communes, offered, prefill
from crisis.bulletin.render import TO_FILL_MARK
from crisis.bulletin.workflow import Draft
from crisis.cell.crises import playbook_for
from tests.crisis.bulletin_support import COMMUNICATOR, POLICY, TITLE, declare
from tests.support import FrozenClock


def test_a_few_communes_are_all_named() -> None:
    names = ["Abbeville", "Amiens", "Péronne"]
    assert named_communes(names) == names


def test_a_whole_departement_is_summarised_so_that_every_channel_can_carry_it() -> None:
    names = [f"Commune {i}" for i in range(771)]
    summary = named_communes(names)
    assert len(summary) == MAX_NAMED_COMMUNES // 2 + 1
    assert summary[-1] == f"{771 - MAX_NAMED_COMMUNES // 2} autres communes"


async def test_a_crue_first_bulletin_from_the_playbook_submits_in_one_click(
    db: Database, clock: FrozenClock
) -> None:
    playbook = playbook_for("crue", playbook_library())
    assert playbook is not None
    first = next(key for key, _ in offered(playbook) if "public" in key or "first" in key)
    phones = {"telephone_elus": "03 53 01 00 10", "contact_presse": "03 53 01 00 20",
              "numero_unique": "03 53 01 00 00"}  # fmt: skip
    filled = prefill(
        playbook, template_key=first, commune_names=["Abbeville", "Pont-Remy"], now=clock.now(),
        link="https://tocsin.test/public/bulletins", known={"situation": f"{TITLE}."} | phones,
    )  # fmt: skip
    assert filled is not None and TO_FILL_MARK not in filled.body + filled.title
    crisis_id = await declare(db, clock.now())
    async with db.transaction() as session:
        bulletin = await bulletins.create(
            session, actor=COMMUNICATOR, crisis_id=crisis_id, policy=POLICY, now=clock.now(),
            draft=Draft(title=filled.title, body=filled.body, audiences=filled.audiences,
                        variants=filled.variants, template=filled.template),
        )  # fmt: skip
        assert bulletin.id is not None
        submitted = await bulletins.submit(
            session, actor=COMMUNICATOR, bulletin_id=bulletin.id, policy=POLICY, now=clock.now()
        )
    assert submitted.status == "submitted"


def test_without_the_prefecture_lines_the_composer_says_what_is_left_to_fill() -> None:
    playbook = playbook_for("crue", playbook_library())
    assert playbook is not None
    first = offered(playbook)[0][0]
    filled = prefill(
        playbook, template_key=first, commune_names=["Abbeville"], now=FrozenClock().now(),
        link="https://tocsin.test/public/bulletins",
    )  # fmt: skip
    assert filled is not None and TO_FILL_MARK in filled.body
