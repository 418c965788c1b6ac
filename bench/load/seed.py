"""The load benchmark's stage, written before the load: the officials' file for `tocsin contacts
import`, the logged-in users and the API tokens of the demo's cabinet.

Users are created through the accounts service with a password of the bench's choosing (not a
one-time password: `tocsin users add` gives one that the first login must change, 50 times);
everything else the benchmark does goes through the running server's HTTP surface.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from contacts.directory import Contact
from contacts.geography import Commune
from crisis import accounts, api_tokens
from crisis.actors import SYSTEM
from crisis.app.db import Database

OFFICIALS_HEADER = [
    "cle",
    "type",
    "public",
    "fonction",
    "nom",
    "prenom",
    "zone",
    "code_zone",
    "canal",
    "adresse",
    "verifie",
]
USER_ROLES = ("communicator", "validator", "prefect", "operator")
"""The watchers' roles, in turn: the cabinet, the communication officers, validators, the CIP."""
CABINET = ("prefet", "communicant", "valideur", "formateur")
"""Demo accounts whose API tokens drive the crisis and the bulletins."""


@dataclass(frozen=True)
class Watcher:
    login: str
    password: str


def watcher_password(login: str) -> str:
    return f"{login}-charge-mot-de-passe"


def write_officials(path: Path, *, communes: list[str], count: int) -> int:
    """A `tocsin`-format CSV of `count` municipal councillors with an e-mail address each,
    spread over `communes`; returns the number of lines written."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerow(OFFICIALS_HEADER)
        for n in range(count):
            commune = communes[n % len(communes)]
            writer.writerow(
                [
                    f"charge:{n:06d}",
                    "personne",
                    "elus",
                    "conseiller_municipal",
                    f"Conseiller{n:06d}",
                    "Camille",
                    "commune",
                    commune,
                    "email",
                    f"elu{n:06d}@charge.tocsin.test",
                    "oui",
                ]
            )
    return count


async def communes_of(database: Database, *, arrondissement: str) -> list[str]:
    """The INSEE codes of an arrondissement, in order."""
    table = Commune.__table__  # type: ignore[attr-defined]
    async with database.transaction() as session:
        conn = await session.connection()
        rows = await conn.execute(
            sa.select(table.c.code)
            .where(table.c.arrondissement == arrondissement)
            .order_by(table.c.code)
        )
        return [str(code) for code in rows.scalars()]


async def create_watchers(database: Database, *, count: int) -> list[Watcher]:
    """`count` users `charge-NN` with the roles of USER_ROLES in turn, already past their first
    login (the password is the bench's own)."""
    now = datetime.now(UTC)
    watchers: list[Watcher] = []
    async with database.transaction() as session:
        for n in range(count):
            login = f"charge-{n:02d}"
            password = watcher_password(login)
            await accounts.create_user(
                session,
                actor=SYSTEM,
                login=login,
                roles=[USER_ROLES[n % len(USER_ROLES)]],
                now=now,
                password=password,
                one_time=False,
            )
            watchers.append(Watcher(login, password))
    return watchers


async def cabinet_tokens(database: Database) -> dict[str, str]:
    """An API token for each demo account of CABINET."""
    now = datetime.now(UTC)
    tokens: dict[str, str] = {}
    async with database.transaction() as session:
        for login in CABINET:
            user = await accounts.user_by_login(session, login=login)
            if user is None:
                raise RuntimeError(f"compte de démonstration absent : {login}")
            tokens[login] = await api_tokens.issue_token(
                session, actor=SYSTEM, user=user, now=now, label="banc de charge"
            )
    return tokens


async def operator_tokens(database: Database, *, count: int) -> list[str]:
    """`count` CIP operators `cip-NN`, an API token each; one transaction each (a password is
    hashed in it: 20 in one would hold SQLite's lock past the service's busy timeout)."""
    now = datetime.now(UTC)
    tokens: list[str] = []
    for n in range(count):
        async with database.transaction() as session:
            user, _ = await accounts.create_user(
                session,
                actor=SYSTEM,
                login=f"cip-{n:02d}",
                roles=["operator"],
                now=now,
                password=watcher_password(f"cip-{n:02d}"),
                one_time=False,
            )
            tokens.append(
                await api_tokens.issue_token(session, actor=SYSTEM, user=user, now=now, label="CIP")
            )
    return tokens


async def exercise_participants(database: Database) -> list[int]:
    """The directory's exercise participants (the demo's), for a drill."""
    table = Contact.__table__  # type: ignore[attr-defined]
    async with database.transaction() as session:
        conn = await session.connection()
        rows = await conn.execute(
            sa.select(table.c.id).where(table.c.audience == "exercise").order_by(table.c.id)
        )
        return [int(i) for i in rows.scalars()]
