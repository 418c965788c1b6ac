"""Models of the CIP's written-request routes (`crisis.app.api.cip_requests`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from crisis.app.api.schemas import Timestamp
from crisis.app.api.schemas.requests import RequestModel


class AnswerIn(RequestModel):
    answer: str = Field(max_length=8000, description="La réponse envoyée par courriel.")


class RequestView(BaseModel):
    id: int
    received_at: Timestamp
    due_at: Timestamp = Field(description="Échéance de la réponse.")
    status: str = Field(description="new, assigned, overdue (ouverte et en retard), answered.")
    overdue: bool = Field(description="Ouverte après l'échéance, ou répondue après elle.")
    sender: str = Field(description="Adresse du demandeur (masquée sans besoin d'en connaître).")
    sender_name: str
    subject: str
    body: str
    assigned_to: str | None
    answered_at: Timestamp | None
    answered_by: str | None
    answer: str | None


class RequestFigures(BaseModel):
    received: int
    answered: int
    open: int
    overdue: int = Field(description="Ouvertes après l'échéance ou répondues après elle.")
    open_overdue: int = Field(description="Ouvertes et déjà en retard.")
    median_response_minutes: int | None


class RequestList(BaseModel):
    items: list[RequestView]
    figures: RequestFigures
