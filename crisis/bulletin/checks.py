"""What a bulletin must be before it is saved (`draft_problems`): `crisis.bulletin.verdict`
adds what it must be before it is submitted, and judges a draft for the composer, the save and
the submission alike, so that all three say the same thing.

Each check returns its problems, so that a refusal (422) lists every one of them at once; each
problem names, in `field`, the composer's field it concerns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.kinds import ChannelKind
from contacts import geography
from crisis.bulletin import translations
from crisis.bulletin.record import Bulletin
from crisis.bulletin.render import (
    BULLETIN_CHANNELS,
    PUBLIC_AUDIENCE_CHANNELS,
    PUBLIC_ONLY_CHANNELS,
    PUBLIC_PAGE,
    Content,
)
from crisis.cell.crises import Crisis
from crisis.errors import InvalidInput
from crisis.labels import CHANNEL_LABELS
from crisis.text import visible_length
from crisis.vocabulary import CHOSEN_AUDIENCES, Audience, BulletinStatus, MsgType, Strategy

MAX_CASCADE_MINUTES = 240

Problems = list[dict[str, object]]


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    """What the deployment offers: channels, and the public accounts of each mode."""

    available: tuple[str, ...] = BULLETIN_CHANNELS
    public_accounts: Mapping[str, str] = field(default_factory=dict)
    exercise_public_accounts: Mapping[str, str] = field(default_factory=dict)
    base_url: str = "http://127.0.0.1:8000"

    def accounts(self, *, exercise: bool) -> Mapping[str, str]:
        return self.exercise_public_accounts if exercise else self.public_accounts

    def usable(self, *, audiences: tuple[str, ...], exercise: bool) -> tuple[str, ...]:
        """The channels a bulletin to `audiences` can use, when it names none: those that
        serve the public alone only with the public (and, for an account, one configured)."""
        accounts = self.accounts(exercise=exercise)
        public = Audience.PUBLIC in audiences
        return tuple(
            c
            for c in self.available
            if c not in PUBLIC_AUDIENCE_CHANNELS
            or (public and (c in accounts or c not in PUBLIC_ONLY_CHANNELS))
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """What a communicator writes; `None` leaves a field to its default (or unchanged)."""

    title: str
    body: str
    audiences: list[str]
    channels: list[str] | None = None
    communes: list[str] | None = None
    template: str | None = None
    variants: dict[str, str] = field(default_factory=dict)
    references: list[int] = field(default_factory=list)
    msg_type: str | None = None
    strategy: str = Strategy.ALL
    cascade_minutes: int = 0
    confirm_receipt: bool = False
    x_thread: bool = False
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    """{"en" | "falc": {"title", "body"}} (`crisis.bulletin.translations`)."""


def problem(code: str, message: str, *, field: str, **extra: object) -> dict[str, object]:
    return {"code": code, "message": message, "field": field, **extra}


def _label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel)


def _audience_problems(audiences: list[str]) -> Problems:
    problems: Problems = []
    if not audiences:
        problems.append(
            problem("no_audience", "Choisissez au moins un public visé.", field="audiences")
        )
    unknown = [a for a in audiences if a not in CHOSEN_AUDIENCES]
    if unknown:
        problems.append(
            problem(
                "unknown_audience",
                "Publics inconnus : " + ", ".join(unknown) + ".",
                field="audiences",
            )
        )
    return problems


def _channel_problem(
    channel: str, *, audiences: list[str], policy: ChannelPolicy, exercise: bool
) -> dict[str, object] | None:
    if channel not in BULLETIN_CHANNELS:
        return problem(
            "unknown_channel", f"Canal inconnu : « {channel} ».", field="channels", channel=channel
        )
    if channel not in policy.available:
        return problem(
            "channel_not_configured",
            f"Le canal « {_label(channel)} » n'est pas configuré sur ce déploiement.",
            field="channels",
            channel=channel,
        )
    if channel in PUBLIC_AUDIENCE_CHANNELS and Audience.PUBLIC not in audiences:
        return problem(
            "public_channel_without_public",
            f"Le canal « {_label(channel)} » ne sert qu'à informer le public : ajoutez le "
            "public visé ou retirez ce canal.",
            field="channels",
            channel=channel,
        )
    if channel in PUBLIC_ONLY_CHANNELS and channel not in policy.accounts(exercise=exercise):
        which = "de bac à sable (exercice)" if exercise else "public"
        return problem(
            "channel_not_configured",
            f"Aucun compte {which} n'est configuré pour le canal « {_label(channel)} ».",
            field="channels",
            channel=channel,
        )
    return None


def _channel_problems(
    channels: list[str], *, audiences: list[str], policy: ChannelPolicy, exercise: bool
) -> Problems:
    found = [
        _channel_problem(c, audiences=audiences, policy=policy, exercise=exercise) for c in channels
    ]
    problems = [p for p in found if p is not None]
    if not channels:
        problems.insert(0, problem("no_channel", "Choisissez au moins un canal.", field="channels"))
    return problems


async def _communes(session: AsyncSession, communes: list[str]) -> tuple[list[str], Problems]:
    """(INSEE codes of the communes named by code or by name, the problem of those unknown)."""
    codes, unknown = await geography.resolve(session, items=communes)
    if not unknown:
        return codes, []
    message = "Communes inconnues (ni nom ni code INSEE) : " + ", ".join(unknown) + "."
    return codes, [problem("unknown_communes", message, field="communes", communes=unknown)]


def _msg_type_problems(msg_type: str, references: list[int]) -> Problems:
    if msg_type not in tuple(MsgType):
        return [
            problem("invalid_msg_type", f"Type de message inconnu : {msg_type}.", field="msg_type")
        ]
    if msg_type == MsgType.ALERT and references:
        return [
            problem(
                "references_need_update",
                "Un communiqué qui en référence d'autres est une mise à jour ou une annulation.",
                field="msg_type",
            )
        ]
    if msg_type in (MsgType.UPDATE, MsgType.CANCEL) and not references:
        return [
            problem(
                "references_required",
                "Une mise à jour ou une annulation doit désigner le communiqué publié visé.",
                field="msg_type",
            )
        ]
    return []


async def _reference_problems(
    session: AsyncSession, *, crisis_id: int | None, references: list[int]
) -> Problems:
    if not references:
        return []
    query = select(Bulletin.id).where(
        col(Bulletin.id).in_(references),
        Bulletin.crisis_id == crisis_id,
        Bulletin.status == BulletinStatus.PUBLISHED,
    )
    rows = (await session.exec(query)).all()
    missing = sorted(set(references) - {r for r in rows if r is not None})
    if not missing:
        return []
    return [
        problem(
            "unknown_references",
            "Communiqués de référence inconnus ou non publiés pour cet événement : "
            + ", ".join(f"n° {m}" for m in missing)
            + ".",
            field="msg_type",
            references=missing,
        )
    ]


def _strategy_problems(strategy: str, cascade: int) -> Problems:
    if strategy not in tuple(Strategy):
        return [
            problem(
                "invalid_strategy",
                "Choisissez l'envoi à tous les canaux à la fois ou en cascade.",
                field="strategy",
            )
        ]
    if strategy == Strategy.CASCADE and not 1 <= cascade <= MAX_CASCADE_MINUTES:
        return [
            problem(
                "invalid_cascade_minutes",
                f"En cascade, le délai entre deux canaux va de 1 à {MAX_CASCADE_MINUTES} minutes.",
                field="cascade_minutes",
            )
        ]
    return []


async def draft_problems(
    session: AsyncSession, *, crisis: Crisis, draft: Draft, policy: ChannelPolicy
) -> tuple[Content, Problems]:
    """The draft as content, and what prevents saving it (the content is then only shown)."""
    exercise = crisis.is_exercise
    title, body = " ".join(draft.title.split()), draft.body.strip()
    audiences = list(dict.fromkeys(draft.audiences))
    channels = list(
        dict.fromkeys(draft.channels)
        if draft.channels is not None
        else policy.usable(audiences=tuple(audiences), exercise=exercise)
    )
    communes, problems = await _communes(session, list(draft.communes or crisis.communes))
    references = list(dict.fromkeys(draft.references))
    msg_type = draft.msg_type or (MsgType.UPDATE if references else MsgType.ALERT)
    cascade = draft.cascade_minutes if draft.strategy == Strategy.CASCADE else 0
    if visible_length(title) < 3:
        problems.insert(
            0,
            problem("invalid_title", "Le titre doit compter au moins 3 caractères.", field="title"),
        )
    problems += _audience_problems(audiences)
    problems += _channel_problems(channels, audiences=audiences, policy=policy, exercise=exercise)
    problems += _msg_type_problems(msg_type, references)
    problems += await _reference_problems(session, crisis_id=crisis.id, references=references)
    problems += _strategy_problems(draft.strategy, cascade)
    versions, version_problems = translations.cleaned(draft.translations)
    problems += version_problems
    assert crisis.id is not None
    content = Content(
        crisis_id=crisis.id,
        title=title,
        body=body,
        audiences=tuple(audiences),
        channels=tuple(channels),
        communes=tuple(communes),
        # A variant for a channel the bulletin does not use is dropped, not kept out of sight.
        variants={
            k: v.strip()
            for k, v in draft.variants.items()
            if v and v.strip() and k in channels and k != PUBLIC_PAGE
        },
        references=tuple(references),
        msg_type=msg_type,
        strategy=draft.strategy,
        cascade_minutes=cascade,
        confirm_receipt=draft.confirm_receipt,
        x_thread=draft.x_thread and ChannelKind.X in channels,  # dropped with X, like its variant
        translations=versions,
    )
    return content, problems


def refused(problems: Problems) -> InvalidInput:
    """A save refused: 422 with one entry per problem."""
    return InvalidInput(
        "invalid_bulletin", f"{len(problems)} problème(s) dans le communiqué.", problems
    )
