"""The programme of drills as a private iCalendar subscription, one URL per trainer.

Agendas cannot log in: the URL carries the user's id and an HMAC of it under the service's
secret. It answers while the user is active and still a trainer or the prefect; otherwise 404.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from crisis.actors import Role
from crisis.app.auth import ClockDep, DbDep, SettingsDep
from crisis.app.settings import Settings
from crisis.app.signing import confirmation_secret
from crisis.users import User
from exercises import calendar
from exercises.programme import listing

router = APIRouter(include_in_schema=False)
TOKEN = re.compile(r"^(\d{1,10})-([0-9a-f]{40})$")
READERS = {Role.TRAINER.value, Role.PREFECT.value}


def _digest(settings: Settings, user_id: int) -> str:
    key = ("agenda:" + confirmation_secret(settings)).encode("utf-8")
    return hmac.new(key, f"user:{user_id}".encode(), hashlib.sha256).hexdigest()[:40]


def agenda_path(settings: Settings, user_id: int) -> str:
    return f"/exercices/agenda/{user_id}-{_digest(settings, user_id)}.ics"


@router.get("/exercices/agenda/{token}.ics")
async def agenda(token: str, db: DbDep, clock: ClockDep, settings: SettingsDep) -> Response:
    found = TOKEN.match(token)
    if found is None or not hmac.compare_digest(
        found.group(2), _digest(settings, int(found.group(1)))
    ):
        raise HTTPException(404, "Agenda inconnu.")
    async with db.read() as session:
        user = await session.get(User, int(found.group(1)))
        if user is None or not user.active or not READERS & set(user.roles):
            raise HTTPException(404, "Agenda inconnu.")
        drills = await listing(session)
    body = calendar.programme_ics(drills, now=clock.now(), base_url=settings.base_url)
    return Response(body, media_type="text/calendar; charset=utf-8")
