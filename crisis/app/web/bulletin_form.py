"""The composer's form: read into a `Draft`, and filled back from a draft or a bulletin."""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData

from crisis.bulletin.render import BULLETIN_CHANNELS
from crisis.bulletin.workflow import Bulletin, Draft
from crisis.vocabulary import Language

SPLIT = re.compile(r"[,;\n]+")
CODE_CHOSEN = re.compile(r"\((\w{5})\)\s*$")
"""« Abbeville (80001) », as the autocomplete writes a commune."""
CODES = re.compile(r"^(?:\s*\d[\dAB]\d{3}\s*)+$")
"""INSEE codes separated by spaces (« 80001 80021 »)."""
CASCADE_MINUTES = 10
"""What the composer offers between two steps of a cascade when nothing was chosen."""


def communes_of(text: str) -> list[str]:
    """The communes typed, by name or INSEE code, separated by commas or lines."""
    items: list[str] = []
    for piece in (p.strip() for p in SPLIT.split(text)):
        chosen = CODE_CHOSEN.search(piece)
        if chosen:
            items.append(chosen.group(1))
        elif CODES.match(piece):
            items += piece.split()
        elif piece:
            items.append(piece)
    return items


def draft_of(form: FormData) -> Draft:
    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    def many(name: str) -> list[str]:
        return [v for v in form.getlist(name) if isinstance(v, str) and v]

    variants = {c: text(f"variant_{c}") for c in BULLETIN_CHANNELS if text(f"variant_{c}").strip()}
    minutes = text("cascade_minutes").strip()
    return Draft(
        title=text("title"),
        body=text("body").replace("\r\n", "\n"),
        audiences=many("audiences"),
        channels=many("channels"),
        communes=communes_of(text("communes")) or None,
        template=text("template") or None,
        variants={k: v.replace("\r\n", "\n") for k, v in variants.items()},
        references=[int(r) for r in many("references") if r.isdigit()],
        msg_type=text("msg_type") or None,
        strategy=text("strategy") or "all",
        cascade_minutes=int(minutes) if minutes.isdigit() else 0,
        confirm_receipt=bool(text("confirm_receipt")),
        x_thread=bool(text("x_thread")),
        translations={
            lang: {
                "title": text(f"title_{lang}"),
                "body": text(f"body_{lang}").replace("\r\n", "\n"),
            }
            for lang in Language
        },
    )


def form_of(source: Draft | Bulletin) -> dict[str, Any]:
    """The form as the composer shows it again: a draft refused, or a bulletin to edit."""
    references = source.reference_ids if isinstance(source, Bulletin) else source.references
    return {
        "title": source.title,
        "body": source.body,
        "audiences": source.audiences,
        "channels": source.channels or [],
        "communes": list(source.communes or []),
        "template": source.template or "",
        "variants": source.variants,
        "references": references,
        "msg_type": source.msg_type or "alert",
        "strategy": source.strategy,
        "cascade_minutes": source.cascade_minutes or CASCADE_MINUTES,
        "confirm_receipt": source.confirm_receipt,
        "x_thread": source.x_thread,
        "translations": source.translations,
    }
