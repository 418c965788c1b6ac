"""The drill page's scenario: injects written, deleted and edited by the trainer; in a run,
released by hand, their expected action marked done, paused and resumed (forms, then back
to the drill page with what happened)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.app.actions import CallerDep
from crisis.app.auth import CsrfChecked, DbDep
from crisis.app.inject_steps import (
    InjectVerb,
    RunRef,
    RunRefDep,
    RunVerb,
    inject_step,
    run_step,
)
from crisis.app.paths import RowId
from crisis.app.web.exercise_control_pages import control_path
from crisis.app.web.lifecycle_pages import act_then_show
from exercises import injects
from exercises.errors import DrillRefused
from exercises.injects import InjectSpec

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=2000)]
Short = Annotated[str, Form(max_length=100)]


def _number(value: str, label: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 5:
        raise DrillRefused("inject_number", f"{label} : indiquez un nombre entier de minutes.")
    return int(value)


@dataclass(frozen=True, slots=True)
class InjectForm:
    """The scenario form's fields as typed (checked inside the action, so that a refusal is
    shown on the page); the target reads « audience:… » or « contact:<id> » (one select)."""

    text: str
    offset_min: str
    target: str
    channel: str
    expected_action: str
    expected_auto: str
    deadline_min: str

    def spec(self) -> InjectSpec:
        kind, _, value = self.target.partition(":")
        return InjectSpec(
            offset_min=_number(self.offset_min, "Décalage") or 0,
            audience=value if kind == "audience" else None,
            contact=_number(value, "Destinataire") if kind == "contact" else None,
            channel=self.channel or None,
            text=self.text,
            expected_action=self.expected_action or None,
            expected_kind=injects.FIRST_OFFICIALS_BULLETIN if self.expected_auto else None,
            deadline_min=_number(self.deadline_min, "Délai de réaction"),
        )


async def inject_form(
    text: Text = "",
    offset_min: Short = "",
    target: Short = "",
    channel: Short = "",
    expected_action: Text = "",
    expected_auto: Short = "",
    deadline_min: Short = "",
) -> InjectForm:
    return InjectForm(
        text, offset_min, target, channel, expected_action, expected_auto, deadline_min
    )


FormDep = Annotated[InjectForm, Depends(inject_form)]


async def _act(
    request: Request,
    db: DbDep,
    drill_id: int,
    step: Callable[[AsyncSession], Awaitable[object]],
    done: str,
) -> Response:
    location = f"/exercices/{drill_id}#titre-injects"
    return await act_then_show(request, db, step, done, location=location)


@router.post("/exercices/{drill_id}/injects", dependencies=[CsrfChecked])
async def add(
    drill_id: RowId, form: FormDep, request: Request, caller: CallerDep, db: DbDep
) -> Response:
    async def step(session: AsyncSession) -> object:
        return await injects.add(
            session, actor=caller.actor, drill_id=drill_id, spec=form.spec(), now=caller.now
        )

    return await _act(request, db, drill_id, step, "Inject ajouté au scénario.")


@router.post("/exercices/{drill_id}/injects/{inject_id}/modifier", dependencies=[CsrfChecked])
async def change(
    drill_id: RowId,
    inject_id: RowId,
    form: FormDep,
    request: Request,
    caller: CallerDep,
    db: DbDep,
) -> Response:
    async def step(session: AsyncSession) -> object:
        return await injects.change(
            session,
            actor=caller.actor,
            drill_id=drill_id,
            inject_id=inject_id,
            spec=form.spec(),
            now=caller.now,
        )

    return await _act(request, db, drill_id, step, "Inject modifié.")


@router.post("/exercices/{drill_id}/injects/{inject_id}/supprimer", dependencies=[CsrfChecked])
async def remove(
    drill_id: RowId, inject_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> Response:
    async def step(session: AsyncSession) -> object:
        return await injects.remove(
            session, actor=caller.actor, drill_id=drill_id, inject_id=inject_id, now=caller.now
        )

    return await _act(request, db, drill_id, step, "Inject supprimé du scénario.")


RUN = "/exercices/{drill_id}/seances/{run_id}/injects"
ON_INJECT: dict[str, tuple[InjectVerb, str]] = {
    "declencher": ("release", "Inject déclenché : il part aux participants de l'exercice."),
    "fait": ("done", "Action attendue notée comme faite."),
}
ON_RUN: dict[str, tuple[RunVerb, str]] = {
    "suspendre": ("pause", "Injects suspendus."),
    "reprendre": ("resume", "Injects repris : leurs heures sont décalées d'autant."),
}
Back = Annotated[str, Form(max_length=20)]
"""« pilotage » when the form is the control view's: the answer goes back there."""


@dataclass(frozen=True, slots=True)
class RunForm:
    """The run a form acts on, and where its answer goes back to."""

    run: RunRef
    retour: str

    @property
    def back(self) -> str:
        if self.retour == "pilotage":
            return control_path(self.run.drill_id, self.run.run_id)
        return f"/exercices/{self.run.drill_id}#titre-injects"


async def run_form(run: RunRefDep, retour: Back = "") -> RunForm:
    return RunForm(run, retour)


RunFormDep = Annotated[RunForm, Depends(run_form)]


@router.post(RUN + "/{inject_id}/{verb}", dependencies=[CsrfChecked])
async def on_inject(
    inject_id: RowId,
    verb: Literal["declencher", "fait"],
    form: RunFormDep,
    request: Request,
    caller: CallerDep,
    db: DbDep,
) -> Response:
    """An inject of the running run released now (`declencher`), or its action done (`fait`)."""
    action, done = ON_INJECT[verb]
    step = inject_step(caller, action, form.run, inject_id)
    return await act_then_show(request, db, step, done, location=form.back)


@router.post(RUN + "/{verb}", dependencies=[CsrfChecked])
async def on_run(
    verb: Literal["suspendre", "reprendre"],
    form: RunFormDep,
    request: Request,
    caller: CallerDep,
    db: DbDep,
) -> Response:
    """The running run's injects paused (`suspendre`) or resumed (`reprendre`)."""
    action, done = ON_RUN[verb]
    step = run_step(caller, action, form.run)
    return await act_then_show(request, db, step, done, location=form.back)
