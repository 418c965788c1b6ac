"""What every `tocsin` command group shares: the `--db` option, the settings, the exit."""

from __future__ import annotations

from typing import Annotated

import typer

from crisis.app.settings import Settings

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="URL de la base (défaut : TOCSIN_DATABASE_URL, sinon sqlite:///./tocsin.db)."
    ),
]


def settings_for(db: str | None, **overrides: object) -> Settings:
    settings = Settings()
    updates = {k: v for k, v in overrides.items() if v is not None}
    if db:
        updates["database_url"] = db
    return settings.model_copy(update=updates)


def fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)
