"""Tocsin's own CSV: one line per channel (or per contact without channel), `;`-separated.

Columns: cle, type, public, fonction, nom, prenom, organisation, zone, code_zone, depuis,
actif, canal, adresse, verifie, canal_actif, ordre. Only `cle` is required in the header; a
file of `cle;canal;adresse` adds channels to contacts that already exist. Lines of one
contact follow each other.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import date

from contacts.addresses import AddressError, normalise
from contacts.csvsource import CsvSource, header_key, spreadsheet_cell
from contacts.directory import (
    AUDIENCE_LABELS,
    FUNCTION_LABELS,
    AddressKind,
    AreaLevel,
    Contact,
    ContactAudience,
    ContactChannel,
    ContactKind,
    Function,
)
from contacts.geography import GeoIndex, search_key
from contacts.records import ChannelRecord, ContactRecord, LineError
from contacts.rne import parse_date

HEADER = [
    "cle",
    "type",
    "public",
    "fonction",
    "nom",
    "prenom",
    "organisation",
    "zone",
    "code_zone",
    "depuis",
    "actif",
    "canal",
    "adresse",
    "verifie",
    "canal_actif",
    "ordre",
]
KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._@/+-]{0,199}$")
_YES = frozenset({"oui", "o", "yes", "y", "1", "vrai", "true", "x"})
_NO = frozenset({"non", "n", "no", "0", "faux", "false", ""})


def _lookup(values: Iterable[str], labels: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    table = {search_key(v): v for v in values}
    table.update({search_key(label): value for value, label in labels.items()})
    table.update(extra)
    return table


AUDIENCES = _lookup(
    [a.value for a in ContactAudience],
    AUDIENCE_LABELS,
    {
        "elus": ContactAudience.OFFICIALS,
        "medias": ContactAudience.MEDIA,
        "services": ContactAudience.STAFF,
        "exercice": ContactAudience.EXERCISE,
    },
)
FUNCTIONS = _lookup([f.value for f in Function], FUNCTION_LABELS, {})
FUNCTIONS.update({search_key(f.value): f.value for f in Function})
KINDS: dict[str, str] = {
    "personne": ContactKind.PERSON,
    ContactKind.PERSON: ContactKind.PERSON,
    ContactKind.ORGANISATION: ContactKind.ORGANISATION,
}
LEVELS = {lvl.value: lvl.value for lvl in AreaLevel}
CHANNELS = {
    **{k.value: k.value for k in AddressKind},
    "courriel": AddressKind.EMAIL,
    "mail": AddressKind.EMAIL,
    "mobile": AddressKind.SMS,
    "telephone": AddressKind.PHONE,
    "tchap": AddressKind.MATRIX,
}
_KINDS_OR_DEFAULT = {**KINDS, "": ContactKind.PERSON}
_FOLDED = frozenset({*_YES, *_NO, *AUDIENCES, *FUNCTIONS, *_KINDS_OR_DEFAULT, *LEVELS, *CHANNELS})
"""Values that `search_key` leaves as they are: found in a table without folding them."""


def _folded(text: str) -> str:
    """`search_key`, skipped for the usual values (already folded: keys of our tables)."""
    return text if text in _FOLDED else search_key(text)


def _flag(text: str, default: bool) -> bool:
    key = _folded(text)
    if not key:
        return default
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise ValueError(f"valeur « {text} » : oui ou non attendu")


def _pick(text: str, table: dict[str, str], label: str, problems: list[str]) -> str:
    value = table.get(_folded(text))
    if value is None:
        problems.append(f"{label} inconnu(e) « {text} »")
        return ""
    return value


_ATTRIBUTES = ("type", "public", "fonction", "zone", "code_zone", "depuis", "actif")
_BLANKS = ("",) * len(_ATTRIBUTES)
_CACHE_LIMIT = 100_000
Attributes = tuple[str, str, str, str, str, str | None, date | None, bool]
"""kind, audience, function, area level, area code, département, since, active."""


def _attributes(raw: tuple[str, ...], geo: GeoIndex) -> Attributes | str:
    """A contact's checked attributes, or the problems found (a line's message)."""
    kind_text, audience_text, function_text, level_text, code, since_text, active_text = raw
    problems: list[str] = []
    kind = _pick(kind_text, _KINDS_OR_DEFAULT, "type", problems)
    audience = _pick(audience_text, AUDIENCES, "public", problems)
    function = _pick(function_text, FUNCTIONS, "fonction", problems)
    level = _pick(level_text, LEVELS, "zone", problems)
    dep = geo.departement_of(level, code) if level else None
    if level and dep is None:
        problems.append(f"{level} inconnu(e) « {code} »")
    since: date | None = None
    try:
        since = parse_date(since_text) if since_text else None
    except ValueError:
        problems.append(f"date invalide « {since_text} » (jj/mm/aaaa attendu)")
    try:
        active = _flag(active_text, True)
    except ValueError as error:
        problems.append(str(error))
        active = True
    if problems:
        return " ; ".join(problems)
    return (kind, audience, function, level, code, dep, since, active)


class _Contacts:
    """Builds contact records; a file repeats its attribute combinations, checked once each."""

    def __init__(self, geo: GeoIndex) -> None:
        self.geo = geo
        self.checked: dict[tuple[str, ...], Attributes | str] = {}

    def record(self, row: dict[str, str], line: int, key: str) -> ContactRecord:
        raw = tuple(map(row.get, _ATTRIBUTES, _BLANKS))
        checked = self.checked.get(raw)
        if checked is None:
            if len(self.checked) >= _CACHE_LIMIT:
                self.checked.clear()
            checked = self.checked[raw] = _attributes(raw, self.geo)
        if isinstance(checked, str):
            raise ValueError(checked)
        kind, audience, function, level, code, dep, since, active = checked
        return ContactRecord(
            key=key,
            line=line,
            kind=kind,
            audience=audience,
            function=function,
            last_name=row["nom"],
            first_name=row.get("prenom", ""),
            organisation=row.get("organisation", ""),
            area_level=level,
            area_code=code,
            departement=dep,
            function_since=since,
            active=active,
        )


_FLAGS = ("canal", "verifie", "canal_actif")
_FLAG_BLANKS = ("",) * len(_FLAGS)
_CHANNEL_FLAGS: dict[tuple[str, ...], tuple[str | None, tuple[bool, bool] | str]] = {}
"""(canal, verifie, canal_actif) → (kind or None, (verified, active) or the flags' problem)."""


def _channel_flags(raw: tuple[str, ...]) -> tuple[str | None, tuple[bool, bool] | str]:
    channel, verified, active = raw
    try:
        flags: tuple[bool, bool] | str = (_flag(verified, False), _flag(active, True))
    except ValueError as error:
        flags = str(error)
    return CHANNELS.get(_folded(channel)), flags


def _channel(row: dict[str, str], order: int) -> ChannelRecord | None:
    if not row.get("canal") and not row.get("adresse"):
        return None
    raw = tuple(map(row.get, _FLAGS, _FLAG_BLANKS))
    checked = _CHANNEL_FLAGS.get(raw)
    if checked is None:
        if len(_CHANNEL_FLAGS) >= _CACHE_LIMIT:
            _CHANNEL_FLAGS.clear()
        checked = _CHANNEL_FLAGS[raw] = _channel_flags(raw)
    kind, flags = checked
    if kind is None:
        raise ValueError(f"canal inconnu « {raw[0]} »")
    try:
        address = normalise(kind, row.get("adresse", ""))
    except AddressError as error:
        raise ValueError(str(error)) from error
    preference = row.get("ordre", "")
    if preference and not preference.isdigit():
        raise ValueError(f"ordre « {preference} » : nombre entier attendu")
    if isinstance(flags, str):
        raise ValueError(flags)
    return ChannelRecord(
        kind=kind,
        address=address,
        verified=flags[0],
        active=flags[1],
        preference=int(preference) if preference else order,
    )


def parse(source: CsvSource, geo: GeoIndex) -> Iterator[ContactRecord | LineError]:
    """One record per contact (its lines merged); every problem as a LineError."""
    header = {header_key(h) for h in source.open()}
    missing = ["cle"] if "cle" not in header else []
    if ("canal" in header) != ("adresse" in header):
        missing.append("adresse" if "canal" in header else "canal")
    if "nom" in header:
        missing += [c for c in ("public", "fonction", "zone", "code_zone") if c not in header]
    if missing:
        yield LineError(1, "colonnes obligatoires absentes : " + ", ".join(missing))
        return
    seen: dict[str, int] = {}
    contacts = _Contacts(geo)
    current: ContactRecord | None = None
    """The contact being read: its first line's fields, without channels until complete."""
    channels: list[ChannelRecord] = []
    addresses: set[tuple[str, str]] = set()
    broken = False
    for line, row in source.rows():
        key = row["cle"]
        if not KEY_PATTERN.match(key):
            yield LineError(line, f"clé invalide « {key} »")
            continue
        if current is None or key != current.key:
            if current is not None and not broken:
                yield current.with_channels(channels)
            broken = False
            if key in seen:
                yield LineError(
                    line,
                    f"clé « {key} » déjà vue ligne {seen[key]} "
                    "(les lignes d'un même contact doivent se suivre)",
                )
                current = None
                continue
            seen[key] = line
            current, channels, addresses = ContactRecord(key=key, line=line), [], set()
        try:
            if row.get("nom"):
                record = contacts.record(row, current.line, key)
                if not current.describes_contact:
                    current = record
                elif record != current:
                    raise ValueError(f"données du contact différentes de la ligne {current.line}")
            channel = _channel(row, len(channels))
        except ValueError as error:
            broken = True
            yield LineError(line, str(error))
            continue
        if channel is not None:
            if (channel.kind, channel.address) in addresses:
                yield LineError(line, f"canal en double « {channel.address} »")
                continue
            addresses.add((channel.kind, channel.address))
            channels.append(channel)
    if current is not None and not broken:
        yield current.with_channels(channels)


def _yes(flag: bool) -> str:
    return "oui" if flag else "non"


def export_rows(contact: Contact, channels: list[ContactChannel]) -> Iterator[list[str]]:
    base = [
        contact.key,
        "organisation" if contact.kind == ContactKind.ORGANISATION else "personne",
        contact.audience,
        contact.function,
        contact.last_name,
        contact.first_name,
        contact.organisation,
        contact.area_level,
        contact.area_code,
        contact.function_since.strftime("%d/%m/%Y") if contact.function_since else "",
        _yes(contact.active),
    ]
    if not channels:
        yield [*base, "", "", "", "", ""]
    for c in channels:
        yield [*base, c.kind, c.address, _yes(c.verified), _yes(c.active), str(c.preference)]


def csv_line(fields: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\n").writerow(map(spreadsheet_cell, fields))
    return buffer.getvalue()
