"""The composer's verdict: every problem of a draft, in French, with the field it concerns.

One function for the three moments that judge a text: the preview while typing, the save and
the submission. The save refuses `to_save`; the submission refuses `to_save` and `to_submit`
(the text as the validator would read it: renderings per channel, the five elements, the
« [à compléter : …] » marks). The preview shows both lists, so that what it says is exactly
what the save and the submission would answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.bulletin.checks import ChannelPolicy, Draft, Problems, draft_problems, problem
from crisis.bulletin.public import aims_at_public, link_of
from crisis.bulletin.record import Bulletin
from crisis.bulletin.render import (
    BULLETIN_CHANNELS,
    SAMPLE_PUBLIC_ID,
    TO_FILL_MARK,
    ChannelText,
    Content,
    public_link,
    render_all,
)
from crisis.cell.crises import Crisis
from crisis.vocabulary import MsgType
from playbooks import check_completeness


@dataclass(frozen=True, slots=True)
class Verdict:
    content: Content
    texts: dict[str, ChannelText]
    to_save: Problems
    """What refuses the save (and the submission)."""
    to_submit: Problems
    """What refuses the submission only: a draft may be saved unfinished."""

    @property
    def problems(self) -> Problems:
        return [*self.to_save, *self.to_submit]


async def verdict(
    session: AsyncSession,
    *,
    crisis: Crisis,
    draft: Draft,
    policy: ChannelPolicy,
    public_id: str | None = None,
) -> Verdict:
    """Judge `draft` in `crisis`; `public_id` is the bulletin's own (a sample before it exists)."""
    content, to_save = await draft_problems(session, crisis=crisis, draft=draft, policy=policy)
    link = ""
    if aims_at_public(content.audiences):
        link = public_link(
            policy.base_url, public_id or SAMPLE_PUBLIC_ID, exercise=crisis.is_exercise
        )
    known = tuple(c for c in content.channels if c in BULLETIN_CHANNELS)  # unknown: in to_save
    shown = replace(content, channels=known)
    texts = render_all(shown, link=link, exercise=crisis.is_exercise)
    return Verdict(content, texts, to_save, content_problems(content, texts))


def draft_of_bulletin(bulletin: Bulletin) -> Draft:
    """A stored bulletin as the draft that would write it again."""
    return Draft(
        title=bulletin.title,
        body=bulletin.body,
        audiences=list(bulletin.audiences),
        channels=list(bulletin.channels),
        communes=list(bulletin.communes),
        template=bulletin.template,
        variants=dict(bulletin.variants),
        references=list(bulletin.reference_ids),
        msg_type=bulletin.msg_type,
        strategy=bulletin.strategy,
        cascade_minutes=bulletin.cascade_minutes,
        confirm_receipt=bulletin.confirm_receipt,
        x_thread=bulletin.x_thread,
        translations={k: dict(v) for k, v in bulletin.translations.items()},
    )


def renderings(bulletin: Bulletin, *, policy: ChannelPolicy) -> dict[str, ChannelText]:
    return render_all(
        bulletin.content(),
        link=link_of(bulletin, base_url=policy.base_url),
        exercise=bulletin.exercise,
    )


def content_problems(content: Content, texts: Mapping[str, ChannelText]) -> Problems:
    """Everything that prevents submission: one entry per channel problem and per element."""
    problems: Problems = []
    for channel, rendered in texts.items():
        where = f"variant_{channel}" if channel in content.variants else "body"
        for p in rendered.problems:
            if all(p.message != known["message"] for known in problems):  # one « titre requis »
                problems.append(problem(p.code, p.message, field=where, channel=channel))
    if content.msg_type != MsgType.CANCEL:
        for missing in check_completeness(title=content.title, body=content.body):
            problems.append(
                problem(missing.code, missing.message, field="body", element=missing.element)
            )
    versions = [t for v in content.translations.values() for t in (v["title"], v["body"])]
    texts_typed = [content.title, content.body, *content.variants.values(), *versions]
    if any(TO_FILL_MARK in text for text in texts_typed):
        problems.append(
            problem(
                "unfilled_placeholder",
                "Le texte contient encore « [à compléter : …] » : remplacez chaque mention.",
                field="body",
            )
        )
    return problems


def submit_problems(bulletin: Bulletin, *, policy: ChannelPolicy) -> Problems:
    """What prevents submitting the bulletin as it is stored."""
    return content_problems(bulletin.content(), renderings(bulletin, policy=policy))
