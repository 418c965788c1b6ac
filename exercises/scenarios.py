"""A playbook's ready-made scenario, taken by a crisis drill on that playbook.

The playbook carries the injects (`playbooks.ScenarioInject`, checked by `playbooks check`);
a trainer takes them onto a drill whose scenario is still empty, each one added as a trainer
adds an inject (`exercises.injects.add`: the same checks, one journal line each). Taking it
twice, or over injects already written, would play them twice: 409.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor
from exercises import injects
from exercises.errors import DrillConflict, DrillRefused
from exercises.injects import Inject, InjectSpec
from exercises.programme import TRAINERS, DrillKind, get
from playbooks import Playbook, ScenarioInject

__all__ = ["offered", "take"]


def offered(playbook_key: str | None, playbooks: Mapping[str, Playbook]) -> int:
    """How many injects the drill's playbook offers (0: none)."""
    playbook = playbooks.get(playbook_key or "")
    return len(playbook.scenario) if playbook else 0


def _spec(item: ScenarioInject) -> InjectSpec:
    return InjectSpec(
        offset_min=item.offset_min,
        audience=item.audience,
        channel=item.channel,
        text=item.text,
        expected_action=item.expected_action,
        expected_kind=item.expected_kind,
        deadline_min=item.deadline_min,
    )


async def take(
    session: AsyncSession,
    *,
    actor: Actor,
    drill_id: int,
    playbooks: Mapping[str, Playbook],
    now: datetime,
) -> list[Inject]:
    """The drill's playbook scenario added as its injects; 422 without one, 409 when the drill
    already has injects (or a run is going)."""
    actor.require(*TRAINERS, action="écrire le scénario d'un exercice")
    drill = await get(session, drill_id=drill_id, for_update=True)
    playbook = playbooks.get(drill.playbook_key or "")
    if drill.kind != DrillKind.CRISIS or playbook is None or not playbook.scenario:
        raise DrillRefused(
            "no_playbook_scenario", "La fiche réflexe de cet exercice ne propose pas de scénario."
        )
    if await injects.of_drill(session, drill_id=drill_id):
        raise DrillConflict(
            "scenario_not_empty",
            "Cet exercice a déjà des injects : supprimez-les avant de reprendre le scénario de "
            "la fiche réflexe.",
        )
    return [
        await injects.add(session, actor=actor, drill_id=drill_id, spec=_spec(item), now=now)
        for item in playbook.scenario
    ]
