"""Per-channel rendering of a bulletin and the checks run when it is submitted.

Short channels (X, SMS) get the title and the link to the public page unless a variant
text is given: a body is never cut. Every problem comes back as data, never as a cut.

When a bulletin asks for an X thread (``thread=True``), X carries the whole text (the
variant, else the headline, the body and the link) and, when it exceeds 280 weighted
characters, splits it into numbered posts (``channels.x_thread``); ``Rendering.parts``
holds them and ``text`` their concatenation.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from channels.kinds import ChannelKind
from channels.limits import (
    MASTODON_MAX_CHARS,
    TELEGRAM_MAX_CHARS,
    X_MAX_WEIGHTED,
    mastodon_length,
    sms_count,
    x_weighted_length,
)
from channels.x_thread import X_MAX_PARTS, Unsplittable, split_thread

__all__ = ["EXERCISE_BANNER", "Problem", "RenderLimits", "Rendering", "render"]

EXERCISE_BANNER = "EXERCICE EXERCICE EXERCICE"
_SHORT = frozenset({ChannelKind.X, ChannelKind.SMS})


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderLimits:
    sms_max_segments: int = 3
    x_max_weighted: int = X_MAX_WEIGHTED
    x_max_parts: int = X_MAX_PARTS
    telegram_max_chars: int = TELEGRAM_MAX_CHARS
    mastodon_max_chars: int = MASTODON_MAX_CHARS


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    channel: ChannelKind
    code: str
    message: str  # French, shown to the communicator


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendering:
    channel: ChannelKind
    text: str
    subject: str = ""
    html: str | None = None
    length: int = 0  # in the channel's own unit: weighted chars, SMS segments, characters
    short_form: bool = False
    parts: tuple[str, ...] = ()  # the posts of an X thread, in order (empty: one message)


def render(
    *,
    kind: ChannelKind,
    title: str,
    body: str,
    link: str,
    variant: str | None = None,
    exercise: bool = False,
    prefix: str = "",
    limits: RenderLimits | None = None,
    thread: bool = False,
) -> Rendering | list[Problem]:
    """The text ``kind`` will carry, or every problem that prevents it.

    ``thread`` only matters to X: the whole text, split into a thread when it is long.
    """
    limits = limits or RenderLimits()
    title, body, variant = title.strip(), body.strip(), (variant or "").strip() or None
    problems = _missing(kind, title=title, body=body, variant=variant)
    if problems:
        return problems

    headline = f"{prefix.strip()} : {title}" if prefix.strip() else title
    banner = [EXERCISE_BANNER] if exercise else []
    more = [f"En savoir plus : {link}"] if link else []
    full = "\n\n".join([*banner, headline, variant or body, *more])
    short = "\n".join([*banner, variant or headline, *([] if variant else [link] if link else [])])

    if kind is ChannelKind.X and thread:
        whole = variant or "\n\n".join([headline, body, *more])
        return _x_thread(whole, banner="".join(banner), limits=limits)
    if kind in _SHORT:
        return _check_short(kind=kind, text=short, short=variant is None, limits=limits)
    if kind is ChannelKind.MASTODON:
        if mastodon_length(full) <= limits.mastodon_max_chars:
            return Rendering(channel=kind, text=full, length=mastodon_length(full))
        return _mastodon_short("\n\n".join([*banner, headline, *more]), limits=limits)
    if kind is ChannelKind.TELEGRAM and len(full) > limits.telegram_max_chars:
        message = (
            f"Telegram : {len(full)} caractères pour {limits.telegram_max_chars} au plus ; "
            "donnez une variante plus courte."
        )
        return [Problem(channel=kind, code="too_long", message=message)]
    if kind is ChannelKind.EMAIL:
        subject = " — ".join([*banner, headline])
        return Rendering(
            channel=kind, text=full, subject=subject, html=_html(full), length=len(full)
        )
    return Rendering(channel=kind, text=full, length=len(full))


def _missing(kind: ChannelKind, *, title: str, body: str, variant: str | None) -> list[Problem]:
    problems = []
    if not title:
        problems.append(("title_required", "Le titre est obligatoire."))
    if "\n" in title or "\r" in title:
        problems.append(("title_multiline", "Le titre doit tenir sur une ligne."))
    if not body and variant is None:
        problems.append(("body_required", "Le texte du message est obligatoire."))
    return [Problem(channel=kind, code=code, message=message) for code, message in problems]


def _mastodon_short(fallback: str, *, limits: RenderLimits) -> Rendering | list[Problem]:
    """The headline and link alone, when the whole text is too long for a status."""
    length = mastodon_length(fallback)
    if length > limits.mastodon_max_chars:
        message = (
            f"Mastodon : {length} caractères pour {limits.mastodon_max_chars} au plus ; "
            "raccourcissez le titre."
        )
        return [Problem(channel=ChannelKind.MASTODON, code="too_long", message=message)]
    return Rendering(channel=ChannelKind.MASTODON, text=fallback, length=length, short_form=True)


def _check_short(
    *, kind: ChannelKind, text: str, short: bool, limits: RenderLimits
) -> Rendering | list[Problem]:
    if kind is ChannelKind.X:
        weighted = x_weighted_length(text)
        if weighted > limits.x_max_weighted:
            return [
                Problem(
                    channel=kind,
                    code="too_long",
                    message=f"X : {weighted} caractères pondérés pour {limits.x_max_weighted} "
                    "au plus (liens comptés 23, émojis et idéogrammes 2) ; "
                    + ("raccourcissez le titre" if short else "raccourcissez la variante")
                    + " ou cochez la publication sur X en fil (plusieurs messages).",
                )
            ]
        return Rendering(channel=kind, text=text, length=weighted, short_form=short)
    count = sms_count(text)
    if count.segments > limits.sms_max_segments:
        return [
            Problem(
                channel=kind,
                code="too_many_segments",
                message=f"SMS : {count.segments} segments ({count.encoding}, {count.units} "
                f"unités) pour {limits.sms_max_segments} au plus ; "
                + ("raccourcissez le titre." if short else "raccourcissez la variante."),
            )
        ]
    return Rendering(channel=kind, text=text, length=count.segments, short_form=short)


def _x_thread(text: str, *, banner: str, limits: RenderLimits) -> Rendering | list[Problem]:
    kind = ChannelKind.X
    split = split_thread(
        text, head=banner, limit=limits.x_max_weighted, max_parts=limits.x_max_parts
    )
    if isinstance(split, Unsplittable):
        if split.code == "too_many_parts":
            message = (
                f"X : le fil compterait {split.parts} messages pour {limits.x_max_parts} au "
                "plus ; raccourcissez le texte ou donnez une variante X plus courte."
            )
        else:
            word = split.word if len(split.word) <= 40 else split.word[:39] + "…"
            message = (
                f"X : « {word} » ne tient pas dans un message du fil ({split.budget} "
                "caractères pondérés au plus par mot) ; ajoutez des espaces ou raccourcissez-le."
            )
        return [Problem(channel=kind, code=split.code, message=message)]
    longest = max(x_weighted_length(part) for part in split)
    if len(split) == 1:
        return Rendering(channel=kind, text=split[0], length=longest)
    return Rendering(channel=kind, text="\n\n".join(split), length=longest, parts=split)


def _html(text: str) -> str:
    paragraphs = (
        "<p>" + html.escape(block).replace("\n", "<br>\n") + "</p>" for block in text.split("\n\n")
    )
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"></head><body>\n'
        + "\n".join(paragraphs)
        + "\n</body></html>\n"
    )
