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


def returns(model: Any, *errors: int) -> dict[str, Any]:
    """The decorator arguments that declare a route's response and its error responses."""
    codes = sorted({*_ALWAYS, *errors})
    return {
        "response_model": model,
        "response_model_exclude_unset": True,
        "responses": {
            code: {"model": ErrorEnvelope, "description": _ERRORS[code]} for code in codes
        },
    }
