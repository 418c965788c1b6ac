"""The JSON views of a bulletin and of its renderings."""

from __future__ import annotations

from typing import Any

from crisis.bulletin import public
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.workflow import Bulletin, ChannelPolicy
from crisis.public.cap import cap_url
from crisis.vocabulary import Language


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _cap_url(bulletin: Bulletin, *, base_url: str) -> str | None:
    """The CAP file of a bulletin once it is public (`crisis.public.cap`); `None` otherwise."""
    if public.url_of(bulletin, base_url=base_url) is None:
        return None
    return cap_url(base_url, bulletin.public_id, exercise=bulletin.exercise)


def version_fields(bulletin: Bulletin) -> dict[str, str | None]:
    """`title_en`, `body_en`, `title_falc`, `body_falc`: each version's, None without it."""
    return {
        f"{part}_{lang}": bulletin.translations.get(lang, {}).get(part)
        for lang in Language
        for part in ("title", "body")
    }


def rendering_views(texts: dict[str, Any]) -> dict[str, Any]:
    return {
        channel: {
            "text": t.text,
            "subject": t.subject,
            "length": t.length,
            "unit": t.unit,
            "short_form": t.short_form,
            "parts": [
                {"text": part, "length": length}
                for part, length in zip(t.parts, t.part_lengths, strict=True)
            ],
            "problems": [{"code": p.code, "message": p.message} for p in t.problems],
        }
        for channel, t in texts.items()
    }


def bulletin_view(bulletin: Bulletin, *, policy: ChannelPolicy) -> dict[str, Any]:
    return {
        "id": bulletin.id,
        "crisis_id": bulletin.crisis_id,
        "title": bulletin.title,
        "body": bulletin.body,
        "audiences": bulletin.audiences,
        "channels": bulletin.channels,
        "communes": bulletin.communes,
        "template": bulletin.template,
        "variants": bulletin.variants,
        "references": bulletin.reference_ids,
        "msg_type": bulletin.msg_type,
        "strategy": bulletin.strategy,
        "cascade_minutes": bulletin.cascade_minutes,
        "confirm_receipt": bulletin.confirm_receipt,
        "x_thread": bulletin.x_thread,
        **version_fields(bulletin),
        "status": bulletin.status,
        "exercise": bulletin.exercise,
        "content_hash": bulletin.content_hash,
        "approved_hash": bulletin.approved_hash,
        "author": bulletin.author,
        "editors": bulletin.editor_logins,
        "submitted_by": bulletin.submitted_by,
        "submitted_at": _iso(bulletin.submitted_at),
        "approved_by": bulletin.approved_by,
        "approved_at": _iso(bulletin.approved_at),
        "rejected_by": bulletin.rejected_by,
        "rejected_at": _iso(bulletin.rejected_at),
        "reject_reason": bulletin.reject_reason,
        "published_at": _iso(bulletin.published_at),
        "published_by": bulletin.published_by,
        # Only a bulletin to the public has a public name, and a page once published.
        "public_id": bulletin.public_id if public.aims_at_public(bulletin.audiences) else None,
        "public_url": public.url_of(bulletin, base_url=policy.base_url),
        "cap_url": _cap_url(bulletin, base_url=policy.base_url),
        "renderings": rendering_views(bulletins.renderings(bulletin, policy=policy)),
        "created_at": _iso(bulletin.created_at),
        "updated_at": _iso(bulletin.updated_at),
    }
