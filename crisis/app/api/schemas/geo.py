"""Geography search and areas."""

from __future__ import annotations

from pydantic import BaseModel


class CommuneView(BaseModel):
    code: str
    name: str
    departement: str
    arrondissement: str | None
    epci: str | None
    postal_codes: list[str]
    population: int


class CommuneList(BaseModel):
    items: list[CommuneView]


class AreaView(BaseModel):
    count: int
    communes: list[str]


class ArrondissementView(BaseModel):
    code: str
    name: str
    departement: str


class ArrondissementList(BaseModel):
    items: list[ArrondissementView]
