"""The participants' feedback form after a drill: no login, their signed link is the key
(`exercises.feedback`); answered once, a second use shows why nothing changed (409)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from crisis.app.auth import ClockDep, CsrfChecked, DbDep, SettingsDep
from crisis.app.signing import confirmation_secret
from crisis.app.web.templating import render
from exercises import feedback
from exercises.errors import DrillConflict, DrillRefused

router = APIRouter(include_in_schema=False)
PAGE = "exercises/feedback.html"
TextField = Annotated[str, Form(max_length=feedback.MAX_TEXT * 2)]


@router.get("/retour-exercice/{token}")
async def feedback_form(
    token: str, request: Request, db: DbDep, settings: SettingsDep
) -> HTMLResponse:
    async with db.read() as session:
        found = await feedback.opened(session, token=token, secret=confirmation_secret(settings))
    return render(
        request,
        PAGE,
        token=token,
        title=found.title,
        answered=found.answered,
        questions=feedback.QUESTIONS,
        exercise=True,
    )


@router.post("/retour-exercice/{token}", dependencies=[CsrfChecked])
async def feedback_submit(
    token: str,
    request: Request,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
    rating: Annotated[int | None, Form()] = None,
    went_well: TextField = "",
    to_improve: TextField = "",
) -> HTMLResponse:
    secret = confirmation_secret(settings)
    shown: dict[str, Any] = {"token": token, "questions": feedback.QUESTIONS, "exercise": True}
    title = ""
    try:
        async with db.transaction() as session:
            title = (await feedback.opened(session, token=token, secret=secret)).title
            await feedback.answer(
                session,
                token=token,
                secret=secret,
                rating=rating,
                went_well=went_well,
                to_improve=to_improve,
                now=clock.now(),
            )
    except DrillConflict as used:
        return render(request, PAGE, 409, title=title, answered=True, refused=used.message, **shown)
    except DrillRefused as refused:
        values = {"rating": rating, "went_well": went_well, "to_improve": to_improve}
        return render(
            request,
            PAGE,
            422,
            title=title,
            answered=False,
            error=refused.message,
            values=values,
            **shown,
        )
    return render(request, PAGE, title=title, answered=True, thanked=True, **shown)
