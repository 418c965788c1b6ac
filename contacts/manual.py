"""A contact typed in by hand (API, form), checked like an imported line."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from contacts.addresses import AddressError, normalise
from contacts.csvformat import KEY_PATTERN
from contacts.directory import AreaLevel, ContactAudience, ContactKind, Function
from contacts.geography import GeoIndex
from contacts.records import ChannelRecord, ContactRecord


def new_key() -> str:
    return f"tocsin:{secrets.token_hex(8)}"


def _channel_records(
    channels: Sequence[tuple[str, str, bool, bool]], problems: list[str]
) -> list[ChannelRecord]:
    """The channels with their addresses normalised; a bad address is added to `problems`."""
    normalised: list[ChannelRecord] = []
    for order, (channel_kind, address, verified, active) in enumerate(channels):
        try:
            normalised.append(
                ChannelRecord(
                    channel_kind, normalise(channel_kind, address), verified, active, order
                )
            )
        except AddressError as error:
            problems.append(str(error))
    return normalised


def manual_record(
    geo: GeoIndex,
    *,
    key: str | None,
    kind: str,
    audience: str,
    function: str,
    last_name: str,
    first_name: str,
    organisation: str,
    area_level: str,
    area_code: str,
    channels: Sequence[tuple[str, str, bool, bool]],
) -> ContactRecord:
    """The record, or ValueError whose args are the French problems, one per field."""
    problems: list[str] = []
    key = key or new_key()
    if not KEY_PATTERN.match(key):
        problems.append(f"clé invalide « {key} »")
    if kind not in {k.value for k in ContactKind}:
        problems.append(f"type inconnu « {kind} »")
    if audience not in {a.value for a in ContactAudience}:
        problems.append(f"public inconnu « {audience} »")
    if function not in {f.value for f in Function}:
        problems.append(f"fonction inconnue « {function} »")
    if not last_name.strip():
        problems.append("nom absent")
    departement = None
    if area_level in {lvl.value for lvl in AreaLevel}:
        departement = geo.departement_of(area_level, area_code)
    if departement is None:
        problems.append(f"zone inconnue « {area_level} {area_code} »")
    normalised = _channel_records(channels, problems)
    if problems:
        raise ValueError(*problems)
    return ContactRecord(
        key=key,
        line=0,
        kind=kind,
        audience=audience,
        function=function,
        last_name=last_name.strip(),
        first_name=first_name.strip(),
        organisation=organisation.strip(),
        area_level=area_level,
        area_code=area_code,
        departement=departement,
        active=True,
        channels=tuple(normalised),
    )
