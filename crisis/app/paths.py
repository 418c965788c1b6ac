"""Path parameters that name a row: bounded so that no id reaches the database out of range."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import Field

MAX_ROW_ID = 2**31 - 1
"""The largest id a row can have on every database (PostgreSQL's `integer`)."""

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Identifiant (1 à 2 147 483 647)")]

RowRef = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
"""A row's id in a request body or a query."""
