"""Response models of `/api/v1`: what each route returns, as `/openapi.json` describes it.

The views keep building plain dicts; a route declares its model with `returns(...)`, and only
the keys a view sets are written back (`exclude_unset`), so the JSON stays what it was.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, WithJsonSchema

Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
"""ISO 8601 with offset, as the views write it (`datetime.isoformat()`)."""


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorEnvelope(BaseModel):
    error: ErrorDetail


_ERRORS = {
    400: "Requête invalide.",
    401: "Authentification requise.",
    403: "Action refusée (inscrite à la main courante).",
    404: "Introuvable.",
    409: "Conflit avec l'état actuel.",
    413: "Requête trop volumineuse.",
    422: "Données invalides.",
}
_ALWAYS = (400, 401, 403, 422)
"""What any route may answer: a body it cannot read, no token, a role refused, bad input."""


def returns(model: Any, *errors: int, also_as: str | None = None) -> dict[str, Any]:
    """The decorator arguments that declare a route's response and its error responses;
    `also_as`: a media type the 200 is served as too, on request (`text/csv`)."""
    codes = sorted({*_ALWAYS, *errors})
    responses: dict[int | str, dict[str, Any]] = {
        code: {"model": ErrorEnvelope, "description": _ERRORS[code]} for code in codes
    }
    if also_as:
        responses[200] = {"content": {also_as: {"schema": {"type": "string"}}}}
    return {
        "response_model": model,
        "response_model_exclude_unset": True,
        "responses": responses,
    }
