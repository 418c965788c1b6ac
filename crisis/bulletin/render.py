"""What each channel carries for a bulletin, and the digest that approval binds.

Pure functions over plain values: the workflow (`crisis.bulletin.workflow`) and publication
(`crisis.bulletin.publication`) call them, and so do the preview endpoint and the pages.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from channels.kinds import ChannelKind
from channels.limits import TELEGRAM_MAX_CHARS, sms_count, x_weighted_length
from channels.rendering import Problem, Rendering, RenderLimits, render
from crisis.vocabulary import PHONE as PHONE
from crisis.vocabulary import PUBLIC_PAGE as PUBLIC_PAGE
from crisis.vocabulary import Audience, MsgType, Strategy

BULLETIN_CHANNELS: tuple[str, ...] = (
    ChannelKind.EMAIL,
    ChannelKind.SMS,
    ChannelKind.TELEGRAM,
    ChannelKind.MATRIX,
    ChannelKind.X,
    ChannelKind.MASTODON,
    ChannelKind.WEBHOOK,
    PUBLIC_PAGE,
)
PUBLIC_ONLY_CHANNELS = frozenset({ChannelKind.X, ChannelKind.MASTODON, ChannelKind.WEBHOOK})
"""Channels that only ever carry a bulletin to a public account, never to a person."""
PUBLIC_AUDIENCE_CHANNELS = PUBLIC_ONLY_CHANNELS | {PUBLIC_PAGE}
"""Channels that serve the public audience alone: a bulletin without the public has none."""
CONFIRMABLE_CHANNELS = frozenset(
    {ChannelKind.EMAIL, ChannelKind.SMS, ChannelKind.TELEGRAM, ChannelKind.MATRIX}
)

CONFIRM_PLACEHOLDER = "{lien_confirmation}"
"""Stands in the texts sent to people for their own signed confirmation link.

The dispatcher replaces it per delivery (`crisis.bulletin.confirmations.personalise`).
"""
REPLY_CODE_PLACEHOLDER = "{code_reponse}"
"""Stands, on SMS and Telegram, for the short code of the delivery that a reply « OK 4821 »
names (`crisis.bulletin.confirmations.reply_code`), replaced per delivery like the link."""
REPLY_CHANNELS = frozenset({ChannelKind.SMS, ChannelKind.TELEGRAM})
SAMPLE_CONFIRM_LINK_LENGTH = 100
SAMPLE_REPLY_CODE = "0000"
TO_FILL_MARK = "[à compléter"

SMS_MAX_SEGMENTS = RenderLimits().sms_max_segments

MSG_PREFIXES: dict[str, str] = {
    MsgType.ALERT: "",
    MsgType.UPDATE: "MISE À JOUR",
    MsgType.CANCEL: "ANNULATION",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Content:
    """The parts of a bulletin that make its text; the content hash covers exactly these."""

    crisis_id: int
    title: str
    body: str
    audiences: tuple[str, ...]
    channels: tuple[str, ...]
    communes: tuple[str, ...]
    variants: Mapping[str, str] = field(default_factory=dict)
    references: tuple[int, ...] = ()
    msg_type: str = MsgType.ALERT
    strategy: str = Strategy.ALL
    cascade_minutes: int = 0
    confirm_receipt: bool = False
    x_thread: bool = False  # X may carry the whole text as a thread of numbered posts
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """{language: {"title", "body"}}: its English and easy-to-read French versions."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelText:
    """One channel's rendering, or the problems that prevent it."""

    channel: str
    text: str = ""
    subject: str = ""
    html: str | None = None
    length: int = 0
    unit: str = "caractères"
    short_form: bool = False
    problems: tuple[Problem, ...] = ()
    parts: tuple[str, ...] = ()  # an X thread's posts, in order

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def part_lengths(self) -> tuple[int, ...]:
        return tuple(x_weighted_length(part) for part in self.parts)


def content_hash(content: Content) -> str:
    material = {
        "crisis_id": content.crisis_id,
        "title": content.title,
        "body": content.body,
        "audiences": sorted(content.audiences),
        "channels": sorted(content.channels),
        "communes": sorted(content.communes),
        "variants": {k: v for k, v in sorted(content.variants.items()) if v.strip()},
        "references": sorted(content.references),
        "msg_type": content.msg_type,
        "strategy": content.strategy,
        "cascade_minutes": content.cascade_minutes if content.strategy == Strategy.CASCADE else 0,
        "confirm_receipt": content.confirm_receipt,
    }
    if content.x_thread:  # only when set, so that the digests approved before it stay valid
        material["x_thread"] = True
    if content.translations:  # likewise: a bulletin in French alone keeps its digest
        material["translations"] = {
            lang: {"title": v["title"], "body": v["body"]}
            for lang, v in sorted(content.translations.items())
        }
    text = json.dumps(material, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


SAMPLE_PUBLIC_ID = "exemple-de-lien-public"
"""As long as a real public id: what a preview shows before the bulletin exists."""


def public_link(base_url: str, public_id: str, *, exercise: bool = False) -> str:
    """The public page named by a bulletin's unguessable `public_id` (never its row id); only
    a bulletin to the public has one (`crisis.bulletin.public.link_of`). An exercise one is
    shown in exercise mode only."""
    mode = "?mode=exercise" if exercise else ""
    return f"{base_url.rstrip('/')}/public/bulletins/{public_id}{mode}"


def _unit(channel: str, length: int) -> str:
    """The unit of `length`, agreeing with it: « 1 segment », « 2 segments »."""
    units: dict[str, tuple[str, str]] = {
        ChannelKind.X: ("caractère pondéré", "caractères pondérés"),
        ChannelKind.SMS: ("segment", "segments"),
    }
    singular, plural = units.get(channel, ("caractère", "caractères"))
    return singular if length < 2 else plural


def _confirm_line(channel: str, link: str) -> str:
    if channel == ChannelKind.SMS:
        return f"Accusez réception : {link}"
    return f"Merci d'accuser réception de ce message : {link}"


def render_channel(content: Content, *, channel: str, link: str, exercise: bool) -> ChannelText:
    """The text `channel` carries, or every problem that prevents it."""
    prefix = MSG_PREFIXES.get(content.msg_type, "")
    internal = channel in (PUBLIC_PAGE, PHONE)
    result: Rendering | list[Problem] = render(
        kind=ChannelKind.WEBHOOK if internal else ChannelKind(channel),
        title=content.title,
        body=content.body,
        link="" if internal else link,
        variant=None if internal else content.variants.get(channel),
        exercise=exercise,
        prefix=prefix,
        thread=content.x_thread and channel == ChannelKind.X,
    )
    if isinstance(result, list):
        return ChannelText(channel=channel, problems=tuple(result))
    return ChannelText(
        channel=channel,
        text=result.text,
        subject=result.subject,
        html=result.html,
        length=result.length,
        unit=_unit(channel, result.length),
        short_form=result.short_form,
        parts=result.parts,
    )


def with_confirmation(
    rendered: ChannelText, *, link: str, code: str = REPLY_CODE_PLACEHOLDER
) -> ChannelText:
    """The rendering with the line asking a person to acknowledge receipt through `link`
    (or, on SMS and Telegram, by answering « OK » and the delivery's `code`)."""
    if rendered.channel not in CONFIRMABLE_CHANNELS or not rendered.ok:
        return rendered
    if rendered.channel == ChannelKind.SMS:  # GSM-7 only: no guillemets
        line, text = f"Accusez réception : répondez OK {code} ou {link}", f"{rendered.text}\n"
    elif rendered.channel == ChannelKind.TELEGRAM:
        line = f"Merci d'accuser réception : répondez « OK\u00a0{code} » ou suivez ce lien : {link}"
        text = f"{rendered.text}\n\n"
    else:
        line, text = f"Merci d'accuser réception de ce message : {link}", f"{rendered.text}\n\n"
    html = rendered.html
    if html is not None:
        html = html.replace("\n</body>", f"\n<p>{line}</p>\n</body>")
    return replace(rendered, text=text + line, html=html)


def _confirmation_problems(rendered: ChannelText) -> tuple[Problem, ...]:
    """Limits once the acknowledgement line is in, with a link as long as a real one."""
    sample = "https://x.invalid/" + "x" * (SAMPLE_CONFIRM_LINK_LENGTH - 18)
    text = with_confirmation(rendered, link=sample, code=SAMPLE_REPLY_CODE).text
    if (
        rendered.channel == ChannelKind.SMS
        and (segments := sms_count(text).segments) > SMS_MAX_SEGMENTS
    ):
        message = (
            f"SMS : {segments} segments avec la ligne d'accusé de réception, pour "
            f"{SMS_MAX_SEGMENTS} au plus ; raccourcissez le titre ou la variante."
        )
        return (Problem(channel=ChannelKind.SMS, code="too_many_segments", message=message),)
    if rendered.channel == ChannelKind.TELEGRAM and len(text) > TELEGRAM_MAX_CHARS:
        message = (
            f"Telegram : {len(text)} caractères avec l'accusé de réception, "
            f"pour {TELEGRAM_MAX_CHARS} au plus ; donnez une variante plus courte."
        )
        return (Problem(channel=ChannelKind.TELEGRAM, code="too_long", message=message),)
    return ()


def render_all(content: Content, *, link: str, exercise: bool) -> dict[str, ChannelText]:
    """Every channel of the bulletin (the public page whenever the public is aimed at)."""
    wanted = list(content.channels)
    if Audience.PUBLIC in content.audiences and PUBLIC_PAGE not in wanted:
        wanted.append(PUBLIC_PAGE)
    texts = {}
    for channel in wanted:
        rendered = render_channel(content, channel=channel, link=link, exercise=exercise)
        if content.confirm_receipt and rendered.ok:
            problems = _confirmation_problems(rendered)
            if problems:
                rendered = ChannelText(channel=channel, problems=problems)
        texts[channel] = rendered
    return texts


def phone_script(content: Content, *, exercise: bool) -> str:
    """What the operator reads on the phone to an official nobody could reach."""
    rendered = render_channel(content, channel=PHONE, link="", exercise=exercise)
    return rendered.text or content.title
