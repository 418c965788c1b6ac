"""`/api/v1/geo`: search communes, expand an area to its communes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from contacts import geography
from crisis.app.api.schemas import returns
from crisis.app.api.schemas.geo import AreaView, ArrondissementList, CommuneList
from crisis.app.auth import CurrentActor, DbDep
from crisis.errors import InvalidInput

router = APIRouter(prefix="/api/v1/geo", tags=["géographie"])


def commune_view(commune: geography.Commune) -> dict[str, Any]:
    return {
        "code": commune.code,
        "name": commune.name,
        "departement": commune.departement,
        "arrondissement": commune.arrondissement,
        "epci": commune.epci,
        "postal_codes": commune.postal_codes,
        "population": commune.population,
    }


@router.get(
    "/communes",
    summary="Chercher une commune (nom avec ou sans accents, code)",
    **returns(CommuneList),
)
async def search_communes(
    actor: CurrentActor,
    db: DbDep,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    async with db.read() as session:
        found = await geography.search_communes(session, q=q, limit=limit)
    return {"items": [commune_view(c) for c in found]}


@router.get(
    "/areas",
    summary="Communes d'une zone (arrondissement, EPCI, communes, département)",
    **returns(AreaView),
)
async def expand_area(
    actor: CurrentActor,
    db: DbDep,
    commune: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI query lists
    arrondissement: Annotated[list[str], Query()] = [],  # noqa: B006
    epci: Annotated[list[str], Query()] = [],  # noqa: B006
    departement: Annotated[list[str], Query()] = [],  # noqa: B006
) -> dict[str, Any]:
    try:
        async with db.read() as session:
            codes = await geography.expand_area(
                session,
                communes=commune,
                arrondissements=arrondissement,
                epcis=epci,
                departements=departement,
            )
    except geography.AreaError as error:
        raise InvalidInput(
            "unknown_area", f"Zones inconnues : {error}.", str(error).split(", ")
        ) from error
    return {"count": len(codes), "communes": codes}


@router.get("/arrondissements", summary="Arrondissements", **returns(ArrondissementList))
async def list_arrondissements(actor: CurrentActor, db: DbDep) -> dict[str, Any]:
    async with db.read() as session:
        rows = await geography.arrondissements(session)
    return {"items": [{"code": a.code, "name": a.name, "departement": a.departement} for a in rows]}
