"""Who acts: a user with roles, or the system itself (scheduler, dispatcher)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from crisis.errors import Forbidden


class Role(StrEnum):
    PREFECT = "prefect"
    VALIDATOR = "validator"
    COMMUNICATOR = "communicator"
    TRAINER = "trainer"
    OPERATOR = "operator"
    ADMIN = "admin"


ROLE_LABELS: dict[Role, str] = {
    Role.PREFECT: "Préfet / corps préfectoral",
    Role.VALIDATOR: "Valideur",
    Role.COMMUNICATOR: "Chargé de communication",
    Role.TRAINER: "Formateur",
    Role.OPERATOR: "Opérateur CIP",
    Role.ADMIN: "Administrateur",
}


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int | None
    login: str
    roles: frozenset[Role]

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    def require(self, *allowed: Role, action: str) -> None:
        """Refuse unless the actor holds one of `allowed` (the system holds them all)."""
        if self.is_system or self.roles.intersection(allowed):
            return
        wanted = ", ".join(ROLE_LABELS[r] for r in allowed)
        raise Forbidden(
            "forbidden_role",
            f"Action « {action} » réservée aux rôles : {wanted}.",
            {"action": action, "required_roles": [r.value for r in allowed]},
        )


SYSTEM = Actor(user_id=None, login="tocsin", roles=frozenset(Role))
