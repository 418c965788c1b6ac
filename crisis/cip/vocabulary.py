"""The CIP's closed sets, each with its French labels."""

from __future__ import annotations

from enum import StrEnum


class CipRole(StrEnum):
    """The ORSEC CIP guide's roles."""

    HEAD = "head"
    OPERATOR = "operator"
    TECHNICIAN = "technician"
    SPECIALIST = "specialist"


CIP_ROLE_LABELS: dict[str, str] = {
    CipRole.HEAD: "Chef de cellule",
    CipRole.OPERATOR: "Opérateur",
    CipRole.TECHNICIAN: "Technicien",
    CipRole.SPECIALIST: "Spécialiste",
}


class CipState(StrEnum):
    ORDERED = "ordered"
    OPEN = "open"
    CLOSED = "closed"


CIP_STATE_LABELS: dict[str, str] = {
    CipState.ORDERED: "Ordonnée, pas encore ouverte",
    CipState.OPEN: "Ouverte",
    CipState.CLOSED: "Fermée",
}


class CallTopic(StrEnum):
    SAFETY = "safety"
    EVACUATION = "evacuation"
    ROADS = "roads"
    SCHOOLS = "schools"
    WATER = "water"
    SHELTER = "shelter"
    RELATIVES = "relatives"
    DAMAGE = "damage"
    OTHER = "other"


TOPIC_LABELS: dict[str, str] = {
    CallTopic.SAFETY: "Consignes de sécurité",
    CallTopic.EVACUATION: "Évacuation",
    CallTopic.ROADS: "Routes et transports",
    CallTopic.SCHOOLS: "Écoles",
    CallTopic.WATER: "Eau potable",
    CallTopic.SHELTER: "Hébergement",
    CallTopic.RELATIVES: "Nouvelles de proches",
    CallTopic.DAMAGE: "Dégâts et indemnisation",
    CallTopic.OTHER: "Autre",
}


class FaqStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"


FAQ_STATUS_LABELS: dict[str, str] = {
    FaqStatus.PENDING: "En attente de validation",
    FaqStatus.APPROVED: "Validée",
}
