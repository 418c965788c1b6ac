"""Who sees a caller's callback number: the CIP operators who call back, and the prefect who
directs them. Others (communicators, validators, trainers) see that a follow-up is open,
never the number; the journal never records it."""

from __future__ import annotations

from crisis.actors import Actor, Role

CALLBACK_ROLES = frozenset({Role.OPERATOR, Role.PREFECT})


def sees_callback_numbers(actor: Actor) -> bool:
    return actor.is_system or bool(actor.roles & CALLBACK_ROLES)


def sees_requester_address(actor: Actor) -> bool:
    """A written request's sender (`crisis.cip.requests`): the operators who answer it and the
    prefect, as a callback number; a trainer or a communicator sees it masked."""
    return sees_callback_numbers(actor)
