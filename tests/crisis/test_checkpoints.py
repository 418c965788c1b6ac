"""Signed checkpoints of the journal: what the database alone cannot prove."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crisis import checkpoints, journal, journal_verification
from crisis.app.db import Database
from crisis.checkpoints import CheckpointError
from tests.crisis.journal_support import cut_tail, wipe, write_entries
from tests.support import FrozenClock


async def _checkpoint(
    db: Database, clock: FrozenClock, key: Ed25519PrivateKey, chain: str
) -> checkpoints.Checkpoint:
    async with db.read() as session:
        head = await journal.head_of(session, chain)
    assert head is not None
    signed = checkpoints.sign(
        key, chain=chain, length=head.length, last_hash=head.last_hash, at=clock.now()
    )
    read = checkpoints.parse(signed.to_json())  # as a verifier reads the file back
    checkpoints.check_signature(read, key.public_key())
    return read


async def _verify(
    db: Database, crisis_id: int | None, checkpoint: checkpoints.Checkpoint | None
) -> journal_verification.VerifyReport:
    anchor = checkpoint.anchor if checkpoint else None
    async with db.read() as session:
        return await journal_verification.verify(session, crisis_id=crisis_id, anchor=anchor)


async def _checkpointed_then_wiped(db: Database, clock: FrozenClock) -> checkpoints.Checkpoint:
    """Three entries, the global chain's checkpoint, then both tables emptied."""
    await write_entries(db, clock, 4, 3)
    checkpoint = await _checkpoint(db, clock, Ed25519PrivateKey.generate(), journal.GLOBAL_CHAIN)
    await wipe(db)
    return checkpoint


@pytest.mark.parametrize("crisis_id", [None, 4], ids=["global", "crisis"])
async def test_deleting_the_tail_and_moving_the_head_back_is_detected_with_a_checkpoint(
    db: Database, clock: FrozenClock, crisis_id: int | None
) -> None:
    key = Ed25519PrivateKey.generate()
    await write_entries(db, clock, 4, 5)
    chain = journal.GLOBAL_CHAIN if crisis_id is None else journal.crisis_chain(4)
    checkpoint = await _checkpoint(db, clock, key, chain)
    await cut_tail(db, keep=3)
    assert (await _verify(db, crisis_id, None)).ok  # the database alone cannot tell
    report = await _verify(db, crisis_id, checkpoint)
    assert report.broken == journal_verification.ChainBreak(
        None, "chaîne tronquée : 3 entrées, 5 au point de contrôle"
    )


async def test_emptying_both_journal_tables_is_detected_with_a_checkpoint(
    db: Database, clock: FrozenClock
) -> None:
    checkpoint = await _checkpointed_then_wiped(db, clock)
    assert (await _verify(db, None, None)).ok
    report = await _verify(db, None, checkpoint)
    assert report.broken == journal_verification.ChainBreak(
        None, "main courante vidée (3 entrées au point de contrôle)"
    )


async def test_a_chain_rewritten_from_the_checkpoint_on_is_detected_even_when_longer(
    db: Database, clock: FrozenClock
) -> None:
    """A wiped journal replayed with as many entries or more does not carry the signed hash."""
    checkpoint = await _checkpointed_then_wiped(db, clock)
    await write_entries(db, clock, 4, 4)
    report = await _verify(db, None, checkpoint)
    assert report.broken == journal_verification.ChainBreak(
        None, "la chaîne ne passe plus par le point de contrôle"
    )


async def test_a_chain_that_grew_after_its_checkpoint_still_verifies(
    db: Database, clock: FrozenClock
) -> None:
    key = Ed25519PrivateKey.generate()
    await write_entries(db, clock, 4, 2)
    checkpoint = await _checkpoint(db, clock, key, journal.crisis_chain(4))
    await write_entries(db, clock, 4, 3)
    report = await _verify(db, 4, checkpoint)
    assert report.ok and report.checked == 5


def test_a_checkpoint_signed_by_another_key_is_refused() -> None:
    trusted, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    forged = checkpoints.sign(
        other, chain="global", length=1, last_hash="0" * 64, at=FrozenClock().now()
    )
    with pytest.raises(CheckpointError, match="signé par une autre clé"):
        checkpoints.check_signature(checkpoints.parse(forged.to_json()), trusted.public_key())
    # naming the trusted key in the file does not make another key's signature pass
    posing = replace(forged, public_key=checkpoints.public_text(trusted.public_key()))
    with pytest.raises(CheckpointError, match="signature invalide"):
        checkpoints.check_signature(posing, trusted.public_key())


def test_a_checkpoint_edited_after_signing_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    signed = checkpoints.sign(
        key, chain="global", length=9, last_hash="a" * 64, at=FrozenClock().now()
    )
    document = json.loads(signed.to_json()) | {"length": 2}
    with pytest.raises(CheckpointError, match="signature invalide"):
        checkpoints.check_signature(checkpoints.parse(json.dumps(document)), key.public_key())
    with pytest.raises(CheckpointError, match="JSON illisible"):
        checkpoints.parse("pas du JSON")
    unsigned = {k: v for k, v in json.loads(signed.to_json()).items() if k != "signature"}
    with pytest.raises(CheckpointError, match="signature"):
        checkpoints.parse(json.dumps(unsigned))
