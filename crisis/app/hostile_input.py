"""Control characters refused wherever text enters outside a JSON body: path, query, form."""

from __future__ import annotations

from fastapi import Request

from crisis.errors import InvalidInput
from crisis.text import control_character_problem

FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def refuse_control_characters(request: Request) -> None:
    """A NUL (500 on PostgreSQL) or another control character in a path segment, a query
    parameter or a form field, name or value: 422 naming the field, before any service runs.
    JSON bodies get the same rule from `RequestModel`; an uploaded file is its importer's."""
    fields = [("l'adresse", str(v)) for v in request.path_params.values()]
    fields += [("le paramètre", f"{k}={v}") for k, v in request.query_params.multi_items()]
    if request.headers.get("content-type", "").startswith(FORMS):
        form = await request.form()
        fields += [("le champ", f"{k}={v}") for k, v in form.multi_items() if isinstance(v, str)]
    for where, text in fields:
        problem = control_character_problem(text)
        if problem is None:
            continue
        name = text.partition("=")[0] if where != "l'adresse" else ""
        if name and control_character_problem(name) is None:
            where = f"{where} « {name[:60]} »"
        raise InvalidInput("control_character", f"Texte refusé dans {where} : {problem}.")
