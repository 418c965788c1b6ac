"""The playbook library: the list, and one playbook with its checklist and per-channel previews.

Playbooks are edited as files and reviewed (docs/playbooks.md explains why); these pages show
them as the cabinet will use them.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from channels.kinds import ChannelKind
from channels.rendering import Problem, render
from crisis.app.auth import CurrentActor
from crisis.app.library import playbook_library
from crisis.app.web import templating
from playbooks import Playbook, fill_templates, sample_values

router = APIRouter(include_in_schema=False)
SAMPLE_LINK = "https://www.somme.gouv.fr/alerte/1"


@dataclass(frozen=True, slots=True)
class Preview:
    audience: str
    purpose: str
    channel: str
    title: str
    text: str
    length: int
    problems: tuple[str, ...]


def previews(playbook: Playbook) -> list[Preview]:
    """Every template filled with the sample values, rendered for each channel it serves."""
    filled = fill_templates(playbook, values=sample_values(playbook))
    variants = {(m.template_key, m.audience, m.channel): m for m in filled.messages if m.channel}
    result: list[Preview] = []
    for message in (m for m in filled.messages if m.channel is None):
        for channel in playbook.channels:
            if channel == "public_page":
                continue
            variant = next(
                (
                    v.body
                    for (_, audience, ch), v in variants.items()
                    if audience == message.audience and ch == channel
                ),
                None,
            )
            rendered = render(
                kind=ChannelKind(channel),
                title=message.title,
                body=message.body,
                link=SAMPLE_LINK,
                variant=variant,
            )
            if isinstance(rendered, list):
                result.append(_failed(message.audience, message.purpose, channel, rendered))
            else:
                result.append(
                    Preview(
                        message.audience,
                        message.purpose,
                        channel,
                        message.title,
                        rendered.text,
                        rendered.length,
                        (),
                    )
                )
    return result


def _failed(audience: str, purpose: str, channel: str, problems: list[Problem]) -> Preview:
    return Preview(audience, purpose, channel, "", "", 0, tuple(p.message for p in problems))


@router.get("/fiches-reflexes")
async def library_page(request: Request, actor: CurrentActor) -> HTMLResponse:
    playbooks = sorted(playbook_library().values(), key=lambda p: p.title)
    return templating.render(request, "playbooks/library.html", playbooks=playbooks)


@router.get("/fiches-reflexes/{key}")
async def playbook_page(key: str, request: Request, actor: CurrentActor) -> HTMLResponse:
    playbook = playbook_library().get(key)
    if playbook is None:
        raise HTTPException(404, f"Aucune fiche réflexe « {key} ».")
    return templating.render(
        request, "playbooks/detail.html", playbook=playbook, previews=previews(playbook)
    )
