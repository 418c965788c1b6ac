"""Signed checkpoints: the head of a journal chain (its name, length, last hash, the time) signed
with Ed25519 and kept outside the database.

The hash chain proves that no entry was changed or removed in the middle; it cannot prove that
the tail was not cut (with `journal_head` moved back) or that both tables were not emptied. A
checkpoint can: `journal_verification.verify(anchor=...)` requires the chain to be at least as
long as the checkpoint and to carry its hash at its length. A checkpoint is trusted only when
its signature verifies with a key the operator trusts, never merely with the key it names.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.journal import GLOBAL_CHAIN, JournalEntry, JournalHead, canonical_json
from crisis.journal_verification import Anchor
from storage.backend import insert_or_ignore
from storage.types import UTCDateTime

FORMAT = "tocsin-checkpoint/1"
CLOSED_ACTION = "crisis.closed"


class CheckpointError(ValueError):
    """A key or a checkpoint file that cannot be used; the message is French."""


class CheckpointRecord(SQLModel, table=True):
    """A checkpoint written outside the database, remembered so that it is written once."""

    __tablename__ = "journal_checkpoint"
    __table_args__ = (
        sa.UniqueConstraint("chain", "length", "last_hash", name="uq_journal_checkpoint_head"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=40, index=True)
    length: int
    last_hash: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)
    key_fingerprint: str = Field(max_length=80)
    file_name: str = Field(max_length=200)


# Keys: a private key is PKCS#8 PEM (as `openssl genpkey -algorithm ed25519` writes it) or the
# base64 of its 32 raw bytes; a public key is SubjectPublicKeyInfo PEM or base64 of 32 bytes.


def _raw(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise CheckpointError(f"{what} illisible (ni PEM ni base64)") from error
    if len(raw) != 32:
        raise CheckpointError(f"{what} illisible (32 octets attendus, {len(raw)} lus)")
    return raw


def private_key_from_text(text: str) -> Ed25519PrivateKey:
    if text.lstrip().startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError) as error:
            raise CheckpointError("clé privée illisible (PEM PKCS#8 sans mot de passe)") from error
        if not isinstance(key, Ed25519PrivateKey):
            raise CheckpointError("la clé privée n'est pas une clé Ed25519")
        return key
    return Ed25519PrivateKey.from_private_bytes(_raw(text, "clé privée"))


def public_key_from_text(text: str) -> Ed25519PublicKey:
    if text.lstrip().startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode())
        except ValueError as error:
            raise CheckpointError("clé publique illisible") from error
        if not isinstance(key, Ed25519PublicKey):
            raise CheckpointError("la clé publique n'est pas une clé Ed25519")
        return key
    return Ed25519PublicKey.from_public_bytes(_raw(text, "clé publique"))


def public_text(key: Ed25519PublicKey) -> str:
    """The public key as base64 of its 32 raw bytes (what `journal keygen` prints)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + hashlib.sha256(raw).hexdigest()


def new_private_key_pem() -> tuple[bytes, Ed25519PublicKey]:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem, key.public_key()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    chain: str
    length: int
    last_hash: str
    at: datetime
    public_key: str
    signature: str = ""

    def signed_text(self) -> bytes:
        """What the signature covers: every field but the signature, canonical JSON."""
        fields = {
            "format": FORMAT,
            "chain": self.chain,
            "length": self.length,
            "last_hash": self.last_hash,
            "at": self.at.isoformat(),
            "public_key": self.public_key,
        }
        return canonical_json(fields).encode("utf-8")

    @property
    def key_fingerprint(self) -> str:
        return fingerprint(public_key_from_text(self.public_key))

    @property
    def anchor(self) -> Anchor:
        return Anchor(length=self.length, last_hash=self.last_hash)

    def to_json(self) -> str:
        document = json.loads(self.signed_text())
        document |= {"key_fingerprint": self.key_fingerprint, "signature": self.signature}
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def sign(
    key: Ed25519PrivateKey, *, chain: str, length: int, last_hash: str, at: datetime
) -> Checkpoint:
    unsigned = Checkpoint(chain, length, last_hash, at, public_text(key.public_key()))
    signature = base64.b64encode(key.sign(unsigned.signed_text())).decode()
    return Checkpoint(chain, length, last_hash, at, unsigned.public_key, signature)


def _field(document: dict[str, Any], name: str, kind: type) -> Any:
    value = document.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CheckpointError(f"champ « {name} » absent ou invalide")
    return value


def parse(text: str) -> Checkpoint:
    """A checkpoint file read back; its signature is not checked yet (`check_signature`)."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise CheckpointError("ce n'est pas un point de contrôle (JSON illisible)") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"ce n'est pas un point de contrôle (format « {FORMAT} » attendu)")
    try:
        at = datetime.fromisoformat(_field(document, "at", str))
    except ValueError as error:
        raise CheckpointError("champ « at » invalide") from error
    length = _field(document, "length", int)
    if length < 1 or at.tzinfo is None:
        raise CheckpointError("champ « length » ou « at » invalide")
    return Checkpoint(
        chain=_field(document, "chain", str),
        length=length,
        last_hash=_field(document, "last_hash", str),
        at=at,
        public_key=_field(document, "public_key", str),
        signature=_field(document, "signature", str),
    )


def check_signature(checkpoint: Checkpoint, trusted: Ed25519PublicKey) -> None:
    """Refuse a checkpoint not signed by the trusted key (whatever key the file names)."""
    if public_text(trusted) != checkpoint.public_key.strip():
        raise CheckpointError(
            "signé par une autre clé que la clé de confiance "
            f"({checkpoint.key_fingerprint} au lieu de {fingerprint(trusted)})"
        )
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        trusted.verify(signature, checkpoint.signed_text())
    except (binascii.Error, ValueError, InvalidSignature) as error:
        raise CheckpointError("signature invalide : le fichier a été modifié") from error


# What is due, and what was written (the database side).


async def _closed_chains(session: AsyncSession) -> set[str]:
    query = (
        select(JournalEntry.crisis_id)
        .where(JournalEntry.action == CLOSED_ACTION, col(JournalEntry.crisis_id).is_not(None))
        .distinct()
    )
    return {f"crisis:{crisis_id}" for crisis_id in (await session.exec(query)).all()}


async def due(session: AsyncSession, *, now: datetime, interval: timedelta) -> list[JournalHead]:
    """The chain heads to checkpoint now: each closed crisis' chain not checkpointed at its
    head, and, when the global chain's last checkpoint is older than `interval` (or missing),
    every chain whose head moved since its last checkpoint (the hourly round)."""
    records = CheckpointRecord.__table__  # type: ignore[attr-defined]
    heads = JournalHead.__table__  # type: ignore[attr-defined]
    unanchored = (
        sa.select(heads.c.chain)
        .outerjoin(
            records,
            sa.and_(
                records.c.chain == heads.c.chain,
                records.c.length == heads.c.length,
                records.c.last_hash == heads.c.last_hash,
            ),
        )
        .where(records.c.id.is_(None), heads.c.length > 0)
    )
    chains = set((await (await session.connection()).execute(unanchored)).scalars().all())
    if not chains:
        return []
    last_round = await session.scalar(
        sa.select(sa.func.max(records.c.at)).where(records.c.chain == GLOBAL_CHAIN)
    )
    if last_round is None or (GLOBAL_CHAIN in chains and last_round <= now - interval):
        selected = chains
    else:
        selected = chains & await _closed_chains(session)
    query = select(JournalHead).where(col(JournalHead.chain).in_(selected))
    return sorted((await session.exec(query)).all(), key=lambda head: head.chain)


async def record(session: AsyncSession, *, checkpoint: Checkpoint, file_name: str) -> None:
    conn = await session.connection()
    stmt = insert_or_ignore(
        conn, CheckpointRecord, index_elements=["chain", "length", "last_hash"]
    ).values(
        chain=checkpoint.chain,
        length=checkpoint.length,
        last_hash=checkpoint.last_hash,
        at=checkpoint.at,
        key_fingerprint=checkpoint.key_fingerprint,
        file_name=file_name,
    )
    await conn.execute(stmt)


async def latest(session: AsyncSession, *, chain: str) -> CheckpointRecord | None:
    query = (
        select(CheckpointRecord)
        .where(CheckpointRecord.chain == chain)
        .order_by(col(CheckpointRecord.length).desc(), col(CheckpointRecord.id).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()
