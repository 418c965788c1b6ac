"""What the prefecture's own site mirrors: the CAP alert of a bulletin published to the
public, carried by the webhook with the address of its public page (docs/public.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.cip import public as cip_public
from crisis.public import reading
from crisis.public.cap import Publisher, cap_xml
from playbooks import Playbook


async def cap_document(
    session: AsyncSession,
    *,
    public_id: str,
    exercise: bool,
    playbooks: Mapping[str, Playbook],
    publisher: Callable[[str | None], Publisher],
) -> str | None:
    """The CAP alert of the public bulletin `public_id` of this mode, as the public CAP address
    serves it (the contact names the open CIP's number); None when it is not public."""
    found = await reading.one(session, public_id=public_id, exercise=exercise, playbooks=playbooks)
    if found is None:
        return None
    number = await cip_public.current_number(session, exercise=exercise)
    return cap_xml(found, publisher=publisher(number)).decode("utf-8")
