"""« Envoyer un test »: the bulletin as it would go out, to the sender's own channels only.

A sender's own channels are:

- the e-mail of their user account, which an administrator sets (`tocsin users email`);
- the channels (e-mail, SMS, Telegram, Matrix) of the directory's staff contacts (« Services
  de l'État ») that are this person, known by holding the account's e-mail.

An address that any official or media contact holds, or a public account of the service, is
never one of them. Any other address is refused (403, nothing sent). The test carries
« TEST — non validé » (and « EXERCICE » in an exercise) in its subject and text, goes through
the outbox like any message (exercise isolation included), and is journaled with its channel
and the address masked.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.kinds import ChannelKind
from channels.rendering import EXERCISE_BANNER
from contacts.addresses import AddressError, masked, normalise
from contacts.directory import Contact, ContactAudience, ContactChannel
from crisis import journal
from crisis.actors import Actor, Role
from crisis.bulletin.fanout import checked_text, delivery_audience, rendering
from crisis.bulletin.public import link_of
from crisis.bulletin.record import Bulletin, get
from crisis.bulletin.workflow import ChannelPolicy
from crisis.dispatch import outbox
from crisis.dispatch.outbox import DeliveryRequest, Purpose, Rendering
from crisis.errors import Conflict, Forbidden, InvalidInput
from crisis.users import User
from crisis.vocabulary import Audience, BulletinStatus, CrisisMode

__all__ = ["TEST_CHANNELS", "TEST_MARK", "OwnChannel", "SelfTest", "own_channels", "send_test"]

TEST_CHANNELS: tuple[str, ...] = (
    ChannelKind.EMAIL,
    ChannelKind.SMS,
    ChannelKind.TELEGRAM,
    ChannelKind.MATRIX,
)
TEST_MARK = "TEST — non validé"
OUTSIDERS = (ContactAudience.OFFICIALS, ContactAudience.MEDIA)
"""The directory's lists a test never reaches, even when a staff member is in them too."""
ACCOUNT, DIRECTORY = "account", "directory"
SOURCE_LABELS = {ACCOUNT: "courriel de votre compte", DIRECTORY: "votre fiche de l'annuaire"}


@dataclass(frozen=True, slots=True)
class OwnChannel:
    channel: str
    address: str
    source: str  # ACCOUNT or DIRECTORY

    @property
    def key(self) -> str:
        """How a form names it: the channel, then the address."""
        return f"{self.channel}:{self.address}"


@dataclass(frozen=True)
class SelfTest:
    deliveries: int
    address: str
    channel: str


def _folded(channel: str, address: str) -> tuple[str, str]:
    return channel, address.lower() if channel == ChannelKind.EMAIL else address


async def _account_email(session: AsyncSession, actor: Actor) -> str | None:
    user = await session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None or not user.active or not user.email:
        return None
    try:
        return normalise(ChannelKind.EMAIL, user.email)
    except AddressError:
        return None


async def _directory_channels(session: AsyncSession, email: str) -> list[OwnChannel]:
    """The channels of the staff contacts whose e-mail is the account's."""
    usable = (col(Contact.active), sa.not_(col(Contact.erased)), col(ContactChannel.active))
    mine = (
        select(ContactChannel.contact_id)
        .join(Contact, col(Contact.id) == col(ContactChannel.contact_id))
        .where(
            *usable,
            Contact.audience == ContactAudience.STAFF,
            ContactChannel.kind == ChannelKind.EMAIL,
            sa.func.lower(ContactChannel.address) == email.lower(),
        )
    )
    query = (
        select(ContactChannel)
        .join(Contact, col(Contact.id) == col(ContactChannel.contact_id))
        .where(
            *usable,
            col(ContactChannel.contact_id).in_(mine),
            col(ContactChannel.kind).in_(TEST_CHANNELS),
        )
        .order_by(col(ContactChannel.contact_id), col(ContactChannel.preference))
    )
    rows = (await session.exec(query)).all()
    return [OwnChannel(c.kind, c.address, DIRECTORY) for c in rows]


async def _outsiders(session: AsyncSession, candidates: list[OwnChannel]) -> set[tuple[str, str]]:
    """The candidates' addresses that an official or a media contact holds."""
    if not candidates:
        return set()
    query = (
        select(ContactChannel.kind, ContactChannel.address)
        .join(Contact, col(Contact.id) == col(ContactChannel.contact_id))
        .where(
            col(Contact.audience).in_(OUTSIDERS),
            sa.func.lower(ContactChannel.address).in_({c.address.lower() for c in candidates}),
        )
    )
    return {_folded(kind, address) for kind, address in (await session.exec(query)).all()}


async def own_channels(
    session: AsyncSession, *, actor: Actor, policy: ChannelPolicy
) -> list[OwnChannel]:
    """Where `actor` may send themselves a test, the account's e-mail first."""
    email = await _account_email(session, actor)
    if email is None:
        return []
    found: dict[tuple[str, str], OwnChannel] = {}
    for own in [OwnChannel(ChannelKind.EMAIL, email, ACCOUNT)] + await _directory_channels(
        session, email
    ):
        found.setdefault(_folded(own.channel, own.address), own)
    public = {a.lower() for a in [*policy.public_accounts.values()]}
    public |= {a.lower() for a in policy.exercise_public_accounts.values()}
    refused = await _outsiders(session, list(found.values()))
    return [
        own
        for key, own in found.items()
        if key not in refused and own.address.lower() not in public
    ]


async def _target(
    session: AsyncSession, *, actor: Actor, channel: str, address: str | None, policy: ChannelPolicy
) -> OwnChannel:
    """The sender's own channel asked for (the first of its kind when no address is given)."""
    own = [
        c for c in await own_channels(session, actor=actor, policy=policy) if c.channel == channel
    ]
    typed = (address or "").strip()
    if not typed:
        if not own:
            raise InvalidInput(
                "no_own_address",
                "Aucune adresse à vous sur ce canal : un administrateur renseigne le courriel "
                "de votre compte, et votre fiche de l'annuaire (Services de l'État) vos autres "
                "canaux.",
            )
        return own[0]
    try:
        checked = normalise(channel, typed)
    except AddressError as error:
        raise InvalidInput("invalid_address", f"Adresse invalide : {error}.") from error
    for candidate in own:
        if _folded(channel, candidate.address) == _folded(channel, checked):
            return candidate
    raise Forbidden(
        "foreign_test_address",
        f"Un test ne part que vers vos propres canaux : « {masked(channel, checked)} » n'en est "
        "pas un. Rien n'a été envoyé.",
        {"channel": channel},
    )


def _marks(exercise: bool) -> str:
    return f"{EXERCISE_BANNER} — {TEST_MARK}" if exercise else TEST_MARK


def marked_rendering(bulletin: Bulletin, *, channel: str, base_url: str) -> Rendering:
    """The bulletin as it would go out on `channel`, marked as a test (and an exercise) in its
    subject, text and HTML."""
    assert bulletin.id is not None
    link = link_of(bulletin, base_url=base_url)
    text = checked_text(bulletin.content(), channel=channel, link=link, exercise=bulletin.exercise)
    rendered = rendering(text)
    marks = _marks(bulletin.exercise)
    banner = f"{marks} : ne pas diffuser."
    body = rendered.text.removeprefix(EXERCISE_BANNER).lstrip("\n")
    subject = rendered.subject.removeprefix(EXERCISE_BANNER).removeprefix(" — ")
    page = rendered.html
    if page is not None:
        page = page.replace(
            "<body>\n", f"<body>\n<p><strong>{html.escape(banner)}</strong></p>\n", 1
        )
    return Rendering(
        channel=channel,
        text=f"{banner}\n\n{body}",
        subject=f"{marks} — {subject}" if subject else marks,
        html=page,
    )


async def send_test(
    session: AsyncSession,
    *,
    actor: Actor,
    bulletin_id: int,
    channel: str,
    address: str | None,
    policy: ChannelPolicy,
    now: datetime,
) -> SelfTest:
    """Send the bulletin as it would go out to one of the actor's own channels (before its
    publication); another address is refused and nothing is sent."""
    actor.require(
        Role.COMMUNICATOR, Role.VALIDATOR, Role.PREFECT, action="s'envoyer un test du communiqué"
    )
    bulletin = await get(session, bulletin_id=bulletin_id)
    if bulletin.status == BulletinStatus.PUBLISHED:
        raise Conflict("already_published", "Ce communiqué est déjà publié.")
    if channel not in TEST_CHANNELS:
        raise InvalidInput(
            "invalid_test_channel", "Test possible par courriel, SMS, Telegram ou Matrix."
        )
    target = await _target(session, actor=actor, channel=channel, address=address, policy=policy)
    deliveries = await _enqueue_test(
        session, bulletin=bulletin, target=target, actor=actor, policy=policy, now=now
    )
    await journal.append(
        session,
        actor=actor,
        action="bulletin.test_sent",
        now=now,
        crisis_id=bulletin.crisis_id,
        payload={
            "bulletin_id": bulletin.id,
            "channel": channel,
            "address": masked(channel, target.address),
            "source": target.source,
            "status": bulletin.status,
            "content_hash": bulletin.content_hash,
            CrisisMode.EXERCISE: bulletin.exercise,
        },
    )
    return SelfTest(deliveries=deliveries, address=target.address, channel=channel)


async def _enqueue_test(
    session: AsyncSession,
    *,
    bulletin: Bulletin,
    target: OwnChannel,
    actor: Actor,
    policy: ChannelPolicy,
    now: datetime,
) -> int:
    """The test's one delivery in the outbox, to the staff audience (played, in an exercise)."""
    assert bulletin.id is not None
    audience, played_as = delivery_audience(Audience.STAFF, exercise=bulletin.exercise)
    enqueued = await outbox.enqueue(
        session,
        purpose=Purpose.TEST,
        renderings=[marked_rendering(bulletin, channel=target.channel, base_url=policy.base_url)],
        requests=[
            DeliveryRequest(
                channel=target.channel,
                address=target.address,
                audience=audience,
                played_audience=played_as,
                recipient_name=actor.login,
            )
        ],
        now=now,
        exercise=bulletin.exercise,
        crisis_id=bulletin.crisis_id,
        bulletin_id=bulletin.id,
    )
    return enqueued.deliveries
