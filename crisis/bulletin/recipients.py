"""Who a bulletin will reach, counted before it is published: « 312 élus (9 à appeler), 30
médias, 4 comptes publics ».

The same selection as the fan-out (`crisis.bulletin.publication`): the directory's audiences
of the bulletin, in its communes (`contacts.targeting.reach`, the database counts, no row is
loaded), a person to call when none of their channels is among the bulletin's; the public's
configured accounts among its channels, and the public page. In an exercise, the exercise
participants and the sandbox accounts, each participant playing the bulletin's audiences in
turn, as the fan-out assigns them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.targeting import Reach, reach
from crisis.bulletin.checks import ChannelPolicy
from crisis.bulletin.publication import DIRECTORY_AUDIENCES, played_audiences
from crisis.bulletin.record import Bulletin
from crisis.bulletin.render import PUBLIC_PAGE
from crisis.vocabulary import Audience

NOUNS: dict[str, tuple[str, str]] = {
    Audience.OFFICIALS: ("élu", "élus"),
    Audience.MEDIA: ("média", "médias"),
    Audience.STAFF: ("agent des services", "agents des services"),
    Audience.EXERCISE: ("participant à l'exercice", "participants à l'exercice"),
}
"""How each audience is counted in a sentence (singular, plural)."""
ACCOUNTS = {
    False: ("compte public", "comptes publics"),
    True: ("compte de bac à sable", "comptes de bac à sable"),
}


def counted(number: int, audience: str) -> str:
    singular, plural = NOUNS[audience]
    return f"{number} {singular if number <= 1 else plural}"


@dataclass(frozen=True, slots=True)
class Recipients:
    exercise: bool
    people: dict[str, Reach] = field(default_factory=dict)
    """Per audience: contacts targeted and those to call (`exercise` alone in an exercise)."""
    played: dict[str, int] = field(default_factory=dict)
    """In an exercise, how many participants play each audience of the bulletin."""
    public_accounts: int = 0
    public_page: bool = False

    @property
    def to_call(self) -> int:
        return sum(r.to_call for r in self.people.values())

    def sentence(self) -> str:
        """« 312 élus (9 à appeler), 30 médias, 4 comptes publics et la page publique »."""
        parts = []
        for audience, found in self.people.items():
            notes = [f"{found.to_call} à appeler"] if found.to_call else []
            if audience == Audience.EXERCISE and self.played:
                notes.append("jouant " + " et ".join(counted(n, a) for a, n in self.played.items()))
            parts.append(
                counted(found.targeted, audience) + (f" ({' ; '.join(notes)})" if notes else "")
            )
        if self.public_accounts or self.public_page:
            nouns = ACCOUNTS[self.exercise]
            n = self.public_accounts
            accounts = f"{n} {nouns[0] if n <= 1 else nouns[1]}"
            parts.append(accounts + (" et la page publique" if self.public_page else ""))
        return ", ".join(parts) if parts else "personne"


async def recipients(
    session: AsyncSession, *, bulletin: Bulletin, policy: ChannelPolicy
) -> Recipients:
    content = bulletin.content()
    exercise = bulletin.exercise
    directory = [a for a in content.audiences if a in DIRECTORY_AUDIENCES]
    people: dict[str, Reach] = {}
    if directory:
        people = await reach(
            session,
            communes=list(content.communes),
            audiences=directory,
            exercise=exercise,
            channels=content.channels,
        )
    people = {a: people[a] for a in [*DIRECTORY_AUDIENCES, Audience.EXERCISE] if a in people}
    played: dict[str, int] = {}
    if exercise and people:
        for audience in played_audiences(sum(r.targeted for r in people.values()), directory):
            played[audience] = played.get(audience, 0) + 1
    public = Audience.PUBLIC in content.audiences
    accounts = policy.accounts(exercise=exercise)
    chosen = [c for c in content.channels if c in accounts and c != PUBLIC_PAGE]
    return Recipients(
        exercise=exercise,
        people=people,
        played=played,
        public_accounts=len(chosen) if public else 0,
        public_page=public,
    )
