"""The Répertoire national des élus mayors file (`elus-maires.csv`, data.gouv.fr).

Required columns (matched without case, accents or punctuation): `Code de la commune` (or
`Code Insee de la commune`, `Code commune`), `Nom de l'élu`, `Prénom de l'élu`, `Date de
naissance`. Used when present: `Code du département` (to complete a 3-digit commune code),
`Date de début de la fonction`. Other columns are ignored. Dates are `dd/mm/yyyy`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from functools import lru_cache

from contacts.csvsource import CsvSource
from contacts.directory import ContactAudience, ContactKind, Function
from contacts.geography import GeoIndex
from contacts.records import ContactRecord, LineError, slug

ALIASES: dict[str, tuple[str, ...]] = {
    "commune": ("code de la commune", "code insee de la commune", "code commune", "code insee"),
    "departement": ("code du departement", "code du departement maire", "code departement"),
    "last_name": ("nom de l elu", "nom de l elue", "nom"),
    "first_name": ("prenom de l elu", "prenom de l elue", "prenom"),
    "birth_date": ("date de naissance",),
    "function_since": ("date de debut de la fonction", "date de debut de fonction"),
}
REQUIRED = ("commune", "last_name", "first_name", "birth_date")
LABELS = {
    "commune": "Code de la commune",
    "last_name": "Nom de l'élu",
    "first_name": "Prénom de l'élu",
    "birth_date": "Date de naissance",
}


@lru_cache(maxsize=65_536)
def parse_date(text: str) -> date:
    """`dd/mm/yyyy`; cached, as a file repeats its dates (strptime is slow)."""
    return datetime.strptime(text, "%d/%m/%Y").date()


def mayor_key(commune: str, last_name: str, first_name: str, birth: date) -> str:
    return f"rne:{commune}:{slug(last_name)}:{slug(first_name)}:{birth.isoformat()}"


def _commune_code(row: dict[str, str], columns: dict[str, str]) -> str:
    code = row[columns["commune"]].upper()
    dep = row.get(columns.get("departement", ""), "").upper()
    if code.isdigit() and len(code) <= 3 and dep:
        dep = dep.zfill(2)
        width = 5 - len(dep)
        code = dep + code.zfill(width)[-width:]
    return code.zfill(5) if code.isdigit() else code


def parse(source: CsvSource, geo: GeoIndex) -> Iterator[ContactRecord | LineError]:
    """One record per mayor; every problem as a LineError (the caller refuses the file)."""
    source.open()
    columns, missing = source.resolve_columns(ALIASES, REQUIRED)
    if missing:
        names = ", ".join(f"« {LABELS[m]} »" for m in missing)
        yield LineError(1, f"colonnes obligatoires absentes : {names}")
        return
    for line, row in source.rows():
        problems: list[str] = []
        commune = _commune_code(row, columns)
        place = geo.communes.get(commune)
        if place is None:
            problems.append(f"commune inconnue « {commune} »")
        last, first = row[columns["last_name"]], row[columns["first_name"]]
        if not last or not first:
            problems.append("nom ou prénom absent")
        dates: dict[str, date | None] = {}
        for name in ("birth_date", "function_since"):
            text = row.get(columns.get(name, ""), "")
            try:
                dates[name] = parse_date(text) if text else None
            except ValueError:
                problems.append(f"date invalide « {text} » (jj/mm/aaaa attendu)")
        if dates.get("birth_date") is None and "birth_date" in dates:
            problems.append("date de naissance absente")
        if problems:
            yield LineError(line, " ; ".join(dict.fromkeys(problems)))
            continue
        birth = dates["birth_date"]
        assert place is not None and birth is not None
        yield ContactRecord(
            key=mayor_key(commune, last, first, birth),
            line=line,
            kind=ContactKind.PERSON,
            audience=ContactAudience.OFFICIALS,
            function=Function.MAIRE,
            last_name=last,
            first_name=first,
            organisation="",
            area_level="commune",
            area_code=commune,
            departement=place[0],
            function_since=dates.get("function_since"),
            active=True,
        )
