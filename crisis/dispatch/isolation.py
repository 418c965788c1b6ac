"""Exercise isolation: which channel set may carry a delivery, decided from its crisis alone.

The row's own flags (the message's ``exercise``, ``played_audience``) are never trusted: the
crisis' ``mode``, read when the delivery is claimed, decides.

- no crisis (a test message, a page outside any event) or a ``real`` crisis: the real set;
- an ``exercise`` crisis: only a delivery whose audience is ``exercise``, only through the
  exercise set, with no fallback to the real set when the exercise set lacks the channel;
- anything else (unknown mode, crisis row missing): refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from channels.kinds import ChannelKind
from crisis.vocabulary import CrisisMode

__all__ = ["INTERNAL_CHANNELS", "PUBLIC_PAGE", "Decision", "Lane", "decide"]

PUBLIC_PAGE = "public_page"
INTERNAL_CHANNELS = frozenset({PUBLIC_PAGE})
EXERCISE_AUDIENCE = "exercise"


class Lane(StrEnum):
    REAL = "real"
    EXERCISE = "exercise"
    INTERNAL = "internal"  # published by Tocsin itself (the bulletin's public page)
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Decision:
    lane: Lane
    kind: ChannelKind | None = None
    reason: str = ""
    isolation: bool = False  # refused to keep an exercise away from real recipients

    @property
    def exercise(self) -> bool:
        return self.lane == Lane.EXERCISE


def decide(
    *,
    has_crisis: bool,
    crisis_mode: str | None,
    audience: str,
    channel: str,
    real: frozenset[ChannelKind],
    exercise: frozenset[ChannelKind],
) -> Decision:
    """The lane of one delivery; ``real`` and ``exercise`` are the configured channel kinds."""
    in_exercise = False
    if has_crisis:
        if crisis_mode == CrisisMode.EXERCISE:
            in_exercise = True
        elif crisis_mode != CrisisMode.REAL:
            return Decision(
                Lane.REFUSED,
                reason="Envoi refusé : mode de l’événement inconnu, rien n’est envoyé.",
                isolation=True,
            )
    if in_exercise and audience != EXERCISE_AUDIENCE:
        return Decision(
            Lane.REFUSED,
            reason=(
                "Envoi refusé : événement en mode exercice, le destinataire n’appartient "
                f"pas au public « exercice » (public « {audience} »)."
            ),
            isolation=True,
        )
    if channel in INTERNAL_CHANNELS:
        return Decision(Lane.INTERNAL)
    try:
        kind = ChannelKind(channel)
    except ValueError:
        return Decision(Lane.REFUSED, reason=f"Canal inconnu : « {channel} ».")
    if in_exercise:
        if kind not in exercise:
            return Decision(
                Lane.REFUSED,
                kind,
                reason=(
                    f"Aucun canal d’exercice « {kind.value} » configuré : envoi d’exercice "
                    "refusé, sans repli sur les canaux réels."
                ),
                isolation=True,
            )
        return Decision(Lane.EXERCISE, kind)
    if kind not in real:
        return Decision(
            Lane.REFUSED, kind, reason=f"Canal « {kind.value} » non configuré sur ce service."
        )
    return Decision(Lane.REAL, kind)
