"""Communes, arrondissements and EPCI: the geography crises and bulletins target."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession


class Departement(SQLModel, table=True):
    __tablename__ = "geo_departement"

    code: str = Field(primary_key=True, max_length=3)
    region: str = Field(max_length=3)
    source: str = ""


class Arrondissement(SQLModel, table=True):
    __tablename__ = "geo_arrondissement"

    code: str = Field(primary_key=True, max_length=4)
    departement: str = Field(index=True, max_length=3)
    name: str
    chef_lieu: str = Field(max_length=5)


class Epci(SQLModel, table=True):
    __tablename__ = "geo_epci"

    code: str = Field(primary_key=True, max_length=9)
    name: str
    kind: str = Field(max_length=8)
    population: int = 0


class Commune(SQLModel, table=True):
    __tablename__ = "geo_commune"

    code: str = Field(primary_key=True, max_length=5)
    name: str
    search_name: str = Field(index=True)
    departement: str = Field(index=True, max_length=3)
    arrondissement: str | None = Field(default=None, index=True, max_length=4)
    epci: str | None = Field(default=None, index=True, max_length=9)
    postal_codes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    population: int = 0


class _Folding(dict[int, str]):
    """Per-character folding for `str.translate`, filled on first use of each character.

    NFKD then dropping combining marks works character by character (canonical reordering
    only moves the marks it drops), so folding each character once gives the same result as
    normalising the whole string, at the cost of one dictionary lookup per character.
    """

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFKD", chr(code))
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
        self[code] = folded
        return folded


_FOLDING = _Folding()


def search_key(text: str) -> str:
    """Lower-case, accent-free, hyphens and apostrophes as spaces: « Épehy » → « epehy »."""
    bare = (text if text.isascii() else text.translate(_FOLDING)).lower()
    for sep in ("-", "'", "’", "."):
        bare = bare.replace(sep, " ")
    return " ".join(bare.split())


def somme_dataset() -> dict[str, Any]:
    """The Somme as shipped with Tocsin (INSEE COG 2026, Licence Ouverte)."""
    text = resources.files("contacts.data").joinpath("somme-80.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@dataclass(frozen=True, slots=True)
class GeoLoadReport:
    departement: str
    communes: int
    arrondissements: int
    epcis: int


async def load_departement(session: AsyncSession, *, data: Mapping[str, Any]) -> GeoLoadReport:
    """Insert or replace one département's geography (decoupage-administratif format)."""
    dep = data["departement"]
    code = str(dep["code"])
    communes: Sequence[Mapping[str, Any]] = data["communes"]
    arrondissements: Sequence[Mapping[str, Any]] = data["arrondissements"]
    epcis: Sequence[Mapping[str, Any]] = data["epcis"]
    await session.merge(
        Departement(
            code=code, region=str(dep.get("region", "")), source=str(data.get("source", ""))
        )
    )
    for a in arrondissements:
        await session.merge(
            Arrondissement(
                code=a["code"], departement=code, name=a["nom"], chef_lieu=a.get("chefLieu", "")
            )
        )
    for e in epcis:
        await session.merge(
            Epci(
                code=e["code"],
                name=e["nom"],
                kind=e.get("type", ""),
                population=e.get("population", 0),
            )
        )
    existing = set(
        (await session.exec(select(Commune.code).where(Commune.departement == code))).all()
    )
    for c in communes:
        row = Commune(
            code=c["code"],
            name=c["nom"],
            search_name=search_key(c["nom"]),
            departement=code,
            arrondissement=c.get("arrondissement"),
            epci=c.get("epci"),
            postal_codes=list(c.get("codes_postaux", [])),
            population=int(c.get("population") or 0),
        )
        if row.code in existing:
            await session.merge(row)
        else:
            session.add(row)
    await session.flush()
    return GeoLoadReport(code, len(communes), len(arrondissements), len(epcis))


async def has_geography(session: AsyncSession) -> bool:
    return (await session.exec(select(Commune.code).limit(1))).first() is not None


async def unknown_communes(session: AsyncSession, *, codes: Sequence[str]) -> list[str]:
    """The codes of `codes` that name no known commune, in their given order."""
    if not codes:
        return []
    found = set(
        (await session.exec(select(Commune.code).where(col(Commune.code).in_(list(codes))))).all()
    )
    return [c for c in codes if c not in found]


async def resolve(session: AsyncSession, *, items: Sequence[str]) -> tuple[list[str], list[str]]:
    """Turn INSEE codes or commune names into codes; returns (codes, items not recognised)."""
    wanted = [i.strip() for i in items if i.strip()]
    keys = {search_key(i) for i in wanted}
    rows = (
        await session.exec(
            select(Commune.code, Commune.search_name).where(
                col(Commune.code).in_(wanted) | col(Commune.search_name).in_(keys)
            )
        )
    ).all()
    by_code = {code for code, _ in rows}
    by_name = {name: code for code, name in rows}
    codes: list[str] = []
    unknown: list[str] = []
    for item in wanted:
        code = item if item in by_code else by_name.get(search_key(item))
        if code is None:
            unknown.append(item)
        elif code not in codes:
            codes.append(code)
    return codes, unknown


async def communes_of_arrondissement(session: AsyncSession, *, code: str) -> list[str]:
    query = select(Commune.code).where(Commune.arrondissement == code).order_by(Commune.code)
    return list((await session.exec(query)).all())


async def arrondissements(session: AsyncSession) -> list[Arrondissement]:
    return list((await session.exec(select(Arrondissement).order_by(Arrondissement.code))).all())


async def communes_by_code(session: AsyncSession, *, codes: Sequence[str]) -> list[Commune]:
    rows = (await session.exec(select(Commune).where(col(Commune.code).in_(list(codes))))).all()
    order = {code: i for i, code in enumerate(codes)}
    return sorted(rows, key=lambda c: order.get(c.code, 0))


@dataclass(frozen=True, slots=True)
class GeoIndex:
    """The whole geography in memory (35,000 communes fit), for imports and targeting."""

    communes: dict[str, tuple[str, str | None, str | None]]
    """code → (département, arrondissement, EPCI)"""
    arrondissements: dict[str, str]
    """code → département"""
    epcis: dict[str, str]
    """code → the département of most of its communes"""
    departements: frozenset[str]

    def departement_of(self, level: str, code: str) -> str | None:
        match level:
            case "commune":
                found = self.communes.get(code)
                return found[0] if found else None
            case "arrondissement":
                return self.arrondissements.get(code)
            case "epci":
                return self.epcis.get(code)
            case "departement":
                return code if code in self.departements else None
        return None


async def geo_index(session: AsyncSession) -> GeoIndex:
    rows = (
        await session.exec(
            select(Commune.code, Commune.departement, Commune.arrondissement, Commune.epci)
        )
    ).all()
    communes = {code: (dep, arr, epci) for code, dep, arr, epci in rows}
    counts: dict[str, dict[str, int]] = {}
    for dep, _, epci in communes.values():
        if epci:
            per = counts.setdefault(epci, {})
            per[dep] = per.get(dep, 0) + 1
    epcis = {code: max(per, key=lambda d: per[d]) for code, per in counts.items()}
    arr_rows = (await session.exec(select(Arrondissement.code, Arrondissement.departement))).all()
    deps = (await session.exec(select(Departement.code))).all()
    return GeoIndex(communes, dict(arr_rows), epcis, frozenset(deps))


async def search_communes(session: AsyncSession, *, q: str, limit: int = 20) -> list[Commune]:
    """Communes whose name (with or without accents) or a word of it starts with `q`, or
    whose INSEE or postal code starts with `q`; biggest towns first among equals."""
    key = search_key(q)
    if not key:
        return []
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    name = col(Commune.search_name)
    starts = name.like(f"{escaped}%", escape="\\")
    condition = starts | name.like(f"% {escaped}%", escape="\\")
    if key.replace(" ", "").isdigit():
        digits = key.replace(" ", "")
        condition = (
            condition
            | col(Commune.code).like(f"{digits}%")
            | sa.cast(col(Commune.postal_codes), sa.Text).like(f'%"{digits}%')
        )
    query = (
        select(Commune)
        .where(condition)
        .order_by(sa.case((starts, 0), else_=1), col(Commune.population).desc(), Commune.code)
        .limit(limit)
    )
    return list((await session.exec(query)).all())


class AreaError(ValueError):
    """An area names no known arrondissement, EPCI, département or commune."""


async def expand_area(
    session: AsyncSession,
    *,
    communes: Sequence[str] = (),
    arrondissements: Sequence[str] = (),
    epcis: Sequence[str] = (),
    departements: Sequence[str] = (),
) -> list[str]:
    """The INSEE codes of every commune in the union of the given areas, sorted."""
    condition: list[sa.ColumnElement[bool]] = []
    if communes:
        condition.append(col(Commune.code).in_(list(communes)))
    if arrondissements:
        condition.append(col(Commune.arrondissement).in_(list(arrondissements)))
    if epcis:
        condition.append(col(Commune.epci).in_(list(epcis)))
    if departements:
        condition.append(col(Commune.departement).in_(list(departements)))
    if not condition:
        return []
    rows = (
        await session.exec(
            select(Commune.code, Commune.arrondissement, Commune.epci, Commune.departement)
            .where(sa.or_(*condition))
            .order_by(Commune.code)
        )
    ).all()
    seen: dict[str, set[str | None]] = {
        "communes": {r[0] for r in rows},
        "arrondissements": {r[1] for r in rows},
        "epcis": {r[2] for r in rows},
        "departements": {r[3] for r in rows},
    }
    asked: dict[str, Sequence[str]] = {
        "communes": communes,
        "arrondissements": arrondissements,
        "epcis": epcis,
        "departements": departements,
    }
    unknown = [code for kind, codes in asked.items() for code in codes if code not in seen[kind]]
    if unknown:
        raise AreaError(", ".join(unknown))
    return [r[0] for r in rows]
