from __future__ import annotations

import pytest

from crisis.app.db import Database
from crisis.app.library import playbook_library
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.composer import (
    MAX_NAMED_COMMUNES,
    Prefill,
    named_communes,
    offered,
    prefill,
    serving,
)
from crisis.bulletin.render import TO_FILL_MARK
from crisis.bulletin.workflow import Draft
from crisis.cell.crises import playbook_for
from crisis.errors import InvalidInput
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


PHONES = {"telephone_elus": "03 53 01 00 10", "contact_presse": "03 53 01 00 20",
          "numero_unique": "03 53 01 00 00"}  # fmt: skip
PUBLIC_ONES = {"x", "mastodon", "webhook", "public_page"}


def _filled(key: str) -> Prefill:
    playbook = playbook_for("crue", playbook_library())
    assert playbook is not None
    filled = prefill(
        playbook, template_key=key, commune_names=["Abbeville"], now=FrozenClock().now(),
        link="https://tocsin.test/public/bulletins", known={"situation": "Crue."} | PHONES,
    )  # fmt: skip
    assert filled is not None
    return filled


def test_the_mayors_template_aims_at_the_mayors_only_on_the_channels_that_reach_them() -> None:
    filled = _filled("premiere-information-elus")
    assert filled.audiences == ["officials"]
    assert filled.channels and not PUBLIC_ONES & set(filled.channels)
    assert "/public/" not in filled.body and TO_FILL_MARK not in filled.body
    assert "Pour en savoir plus : vigicrues.gouv.fr" in filled.body


def test_a_public_template_keeps_the_public_channels_and_the_link_to_the_public_page() -> None:
    filled = _filled("premiere-information-public")
    assert filled.audiences == ["public"]
    assert {"x", "mastodon", "public_page"} <= set(filled.channels)
    assert "https://tocsin.test/public/bulletins" in filled.body


def test_no_template_for_the_mayors_or_the_media_points_at_the_public_page() -> None:
    for playbook in playbook_library().values():
        for key, _ in offered(playbook):
            template = next(t for t in playbook.templates if t.key == key)
            if template.audience == "public":
                continue
            filled = prefill(
                playbook, template_key=key, commune_names=["Abbeville"],
                now=FrozenClock().now(), link="https://tocsin.test/public/bulletins",
                known={"situation": "Crise."} | PHONES,
            )  # fmt: skip
            assert filled is not None, key
            assert "/public/" not in filled.body + "".join(filled.variants.values()), key
            assert not PUBLIC_ONES & set(filled.channels), (playbook.key, key)


def test_channels_serving_the_public_alone_go_with_the_public_audience() -> None:
    every = ["email", "sms", "x", "mastodon", "telegram", "public_page"]
    assert serving(every, audiences=["officials", "media"]) == ["email", "sms", "telegram"]
    assert serving(every, audiences=["officials", "public"]) == every
    assert "public_page" not in POLICY.usable(audiences=("officials",), exercise=False)
    assert "public_page" in POLICY.usable(audiences=("public",), exercise=False)


async def test_a_bulletin_without_the_public_keeps_no_channel_of_the_public_alone(
    db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now())
    for channel in ("public_page", "x"):
        with pytest.raises(InvalidInput) as refused:
            async with db.transaction() as session:
                await bulletins.create(
                    session, actor=COMMUNICATOR, crisis_id=crisis_id, policy=POLICY,
                    now=clock.now(), draft=Draft(title=TITLE, body="Texte.",
                    audiences=["officials"], channels=["email", channel]),
                )  # fmt: skip
        problems = refused.value.details
        assert [p["code"] for p in problems] == ["public_channel_without_public"]
        assert "ne sert qu'à informer le public" in problems[0]["message"]
        assert f"« {channel} »" not in problems[0]["message"]  # its French name, not its code
    async with db.read() as session:
        assert await bulletins.listing(session, crisis_id=crisis_id) == []
