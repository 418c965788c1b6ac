"""The on-call roster as a CSV file: one line per shift, `;`-separated, UTF-8.

Columns (header required, any order): `role`, `niveau`, `debut`, `fin`, and the person in
`contact` (the directory key, `cle`) or `utilisateur` (a Tocsin login) — exactly one of the two.
`role` is `communication`, `valideur` (or `validator`) or `prefet` (or `prefect`); `niveau` is 1 to
3; `debut` and `fin` are Paris times, `2026-12-07 08:00` or `07/12/2026 08:00` (an explicit offset,
`2026-12-07T08:00+01:00`, is kept as written).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.csvsource import CsvSource
from contacts.directory import Contact
from contacts.geography import search_key
from contacts.records import LineError
from contacts.roster import CipDutyRole, DutyRole

PARIS = ZoneInfo("Europe/Paris")
MAX_LINES = 5_000
HEADER = ["role", "niveau", "debut", "fin", "contact", "utilisateur"]
ROLE_WORDS: dict[str, DutyRole | CipDutyRole] = {
    "communication": DutyRole.COMMUNICATION,
    "chargé de communication": DutyRole.COMMUNICATION,
    "valideur": DutyRole.VALIDATOR,
    "validator": DutyRole.VALIDATOR,
    "prefet": DutyRole.PREFECT,
    "prefect": DutyRole.PREFECT,
    "corps prefectoral": DutyRole.PREFECT,
    "cip chef de cellule": CipDutyRole.HEAD,
    "cip_head": CipDutyRole.HEAD,
    "cip operateur": CipDutyRole.OPERATOR,
    "cip_operator": CipDutyRole.OPERATOR,
    "cip technicien": CipDutyRole.TECHNICIAN,
    "cip_technician": CipDutyRole.TECHNICIAN,
    "cip specialiste": CipDutyRole.SPECIALIST,
    "cip_specialist": CipDutyRole.SPECIALIST,
}
_ROLES = {search_key(word): role for word, role in ROLE_WORDS.items()}
_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True, slots=True)
class ShiftLine:
    """One valid line of the file, its person resolved."""

    line: int
    role: str
    level: int
    starts_at: datetime
    ends_at: datetime
    contact_id: int | None
    user_id: int | None
    name: str


def parse_time(value: str) -> datetime | None:
    """A Paris wall-clock time (or an ISO time with its offset); None when unreadable."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.tzinfo is not None:
        return parsed
    for fmt in _FORMATS:
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=PARIS)
    return None


@dataclass(frozen=True, slots=True)
class _Read:
    problems: list[str]
    role: str
    level: int
    starts_at: datetime
    ends_at: datetime


_EPOCH = datetime.min.replace(tzinfo=PARIS)


def _read(row: dict[str, str]) -> _Read:
    """The shift's own fields of one row, with a French sentence per problem."""
    problems: list[str] = []
    role = _ROLES.get(search_key(row.get("role", "")))
    if role is None:
        problems.append(f"rôle « {row.get('role', '')} » inconnu (communication, valideur, prefet)")
    level = row.get("niveau", "") or "1"
    if level not in ("1", "2", "3"):
        problems.append(f"niveau « {level} » : 1, 2 ou 3")
    times = {column: parse_time(row.get(column, "")) for column in ("debut", "fin")}
    for column, parsed in times.items():
        if parsed is None:
            problems.append(
                f"{column} « {row.get(column, '')} » illisible "
                "(AAAA-MM-JJ HH:MM ou JJ/MM/AAAA HH:MM)"
            )
    starts, ends = times["debut"] or _EPOCH, times["fin"] or _EPOCH
    if times["debut"] and times["fin"] and ends <= starts:
        problems.append("la fin doit suivre le début")
    if bool(row.get("contact")) == bool(row.get("utilisateur")):
        problems.append("indiquez soit un contact (sa clé), soit un utilisateur (son identifiant)")
    return _Read(problems, str(role or ""), int(level) if level.isdigit() else 0, starts, ends)


async def read_shifts(
    session: AsyncSession,
    *,
    stream: BinaryIO | Iterable[bytes],
    users: Mapping[str, tuple[int, str]],
) -> tuple[list[ShiftLine], list[LineError]]:
    """Every line of a roster file, checked; `users` maps a login to (user id, display name).

    The errors name each bad line; the caller writes nothing unless there is none.
    """
    source = CsvSource(stream)
    header = {h.strip().lower() for h in source.open()}
    missing = [c for c in ("role", "debut", "fin") if c not in header]
    if not header & {"contact", "utilisateur"}:
        missing.append("contact ou utilisateur")
    if missing:
        wanted = ", ".join(missing)
        return [], [LineError(1, f"en-tête incomplet : colonnes manquantes {wanted}")]
    rows = list(source.rows())
    errors = list(source.errors)
    if len(rows) > MAX_LINES:
        return [], [LineError(MAX_LINES + 2, f"plus de {MAX_LINES} tours dans un seul fichier")]
    keys = {row["contact"] for _, row in rows if row.get("contact")}
    found = await session.exec(select(Contact).where(col(Contact.key).in_(keys)))
    contacts = {c.key: (c.id, c.display_name) for c in found if c.id is not None and c.active}
    lines: list[ShiftLine] = []
    for number, row in rows:
        read = _read(row)
        problems = read.problems
        person: tuple[int, str] | None = None
        if key := row.get("contact"):
            person = contacts.get(key)
            if person is None:
                problems.append(f"aucun contact de clé « {key} » dans l'annuaire")
        elif login := row.get("utilisateur"):
            person = users.get(login)
            if person is None:
                problems.append(f"aucun utilisateur actif « {login} »")
        if problems or person is None:
            errors.extend(LineError(number, p) for p in problems)
            continue
        by_contact = bool(row.get("contact"))
        lines.append(
            ShiftLine(
                line=number,
                role=read.role,
                level=read.level,
                starts_at=read.starts_at,
                ends_at=read.ends_at,
                contact_id=person[0] if by_contact else None,
                user_id=None if by_contact else person[0],
                name=person[1],
            )
        )
    if not rows and not errors:
        errors.append(LineError(2, "aucun tour dans le fichier"))
    return lines, sorted(errors, key=lambda e: e.line)
