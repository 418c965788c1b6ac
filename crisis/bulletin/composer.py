"""The composer's starting points: the playbook templates of a crisis' kind, filled from it.

What the crisis knows is filled in (communes, time, public link, next update in two hours);
what only a person can write (the situation, a phone line) is left as a visible
« [à compléter : …] » mark, which submission refuses until it is replaced. A sample value
from the library is never carried into a message.

A template brings its own audience and the playbook's channels that serve it: a template for
the mayors or the media has neither the public page nor the public accounts, and no link to
the public page (a placeholder that asks for one is left to fill).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from channels.kinds import ChannelKind
from crisis.bulletin.render import PUBLIC_AUDIENCE_CHANNELS, TO_FILL_MARK
from crisis.labels import AUDIENCE_LABELS
from crisis.vocabulary import Audience
from playbooks import FilledMessage, Playbook, fill_templates

FILLED_TYPES = frozenset({"communes", "time", "next_update", "url"})
VARIANT_CHANNELS: tuple[str, ...] = (
    ChannelKind.X,
    ChannelKind.SMS,
    ChannelKind.MASTODON,
    ChannelKind.TELEGRAM,
    ChannelKind.EMAIL,
    ChannelKind.MATRIX,
    ChannelKind.WEBHOOK,
)


@dataclass(frozen=True, slots=True)
class Prefill:
    template: str
    title: str
    body: str
    audiences: list[str]
    channels: list[str]
    variants: dict[str, str] = field(default_factory=dict)


def next_update(now: datetime, *, hours: int = 2) -> datetime:
    """The next full hour, `hours` from now."""
    return (now + timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)


MAX_NAMED_COMMUNES = 6


def named_communes(names: Sequence[str]) -> list[str]:
    """Every commune when they are few; else the first ones and how many others (a template
    listing 771 names would not fit any channel)."""
    if len(names) <= MAX_NAMED_COMMUNES:
        return list(names)
    shown = MAX_NAMED_COMMUNES // 2
    return [*names[:shown], f"{len(names) - shown} autres communes"]


def crisis_values(
    playbook: Playbook,
    *,
    commune_names: Sequence[str],
    now: datetime,
    link: str,
    known: Mapping[str, str] | None = None,
) -> tuple[dict[str, object], dict[str, str]]:
    """(values for every placeholder, rendered stand-in → « [à compléter : label] » mark).

    `known` holds what the deployment and the crisis already say by placeholder name (the
    prefecture's phone lines, the situation as the prefect declared it).
    """
    values: dict[str, object] = {}
    marks: dict[str, str] = {}
    for name, placeholder in playbook.placeholders.items():
        if known and known.get(name):
            values[name] = known[name]
            continue
        match placeholder.type:
            case "communes":
                values[name] = named_communes(commune_names) or ["[à compléter : communes]"]
            case "time":
                values[name] = now
            case "next_update":
                values[name] = next_update(now)
            case "url" if link:
                values[name] = link
            case _ if placeholder.default is not None:
                continue
            case _:
                stand_in = f"__TOCSIN_{name.upper()}__"
                values[name] = placeholder.sample if placeholder.type != "text" else stand_in
                marks[str(values[name])] = f"{TO_FILL_MARK} : {placeholder.label}]"
    return values, marks


def _unmark(text: str, marks: Mapping[str, str]) -> str:
    for stand_in, mark in marks.items():
        text = text.replace(stand_in, mark)
    return text


def prefill(
    playbook: Playbook,
    *,
    template_key: str,
    commune_names: Sequence[str],
    now: datetime,
    link: str,
    known: Mapping[str, str] | None = None,
) -> Prefill | None:
    """The template `template_key` filled from the crisis, with its channel variants."""
    chosen = next(
        (t for t in playbook.templates if t.key == template_key and t.channel is None), None
    )
    if chosen is None:
        return None
    audiences: list[str] = [str(chosen.audience)]
    public = Audience.PUBLIC in audiences
    values, marks = crisis_values(
        playbook, commune_names=commune_names, now=now, link=link if public else "", known=known
    )
    result = fill_templates(playbook, values=values, purpose=chosen.purpose)
    if not result.ok:
        return None
    related = [m for m in result.messages if m.audience == chosen.audience]
    full: FilledMessage | None = next((m for m in related if m.template_key == template_key), None)
    if full is None:
        return None
    variants = {
        str(m.channel): _unmark(m.body, marks)
        for m in related
        if m.channel is not None and m.channel in VARIANT_CHANNELS
    }
    return Prefill(
        template=template_key,
        title=_unmark(full.title, marks),
        body=_unmark(full.body, marks),
        audiences=audiences,
        channels=serving(playbook.channels, audiences=audiences),
        variants=variants,
    )


def serving(channels: Sequence[str], *, audiences: Sequence[str]) -> list[str]:
    """The `channels` that serve one of `audiences`: those of the public alone go with it."""
    public = Audience.PUBLIC in audiences
    return [str(c) for c in channels if public or c not in PUBLIC_AUDIENCE_CHANNELS]


def _audience_in_sentence(audience: str) -> str:
    label = AUDIENCE_LABELS.get(audience, audience)
    return label[:1].lower() + label[1:]


def offered(playbook: Playbook) -> list[tuple[str, str]]:
    """(template key, label) of the full templates a composer can start from."""
    purposes = {
        "first_information": "Première information",
        "update": "Point de situation",
        "cip_opening": "Ouverture de la CIP",
        "end_of_event": "Fin d'événement",
    }
    return [
        (
            t.key,
            f"{purposes.get(t.purpose, t.purpose)} — {_audience_in_sentence(t.audience)}",
        )
        for t in playbook.templates
        if t.channel is None
    ]
