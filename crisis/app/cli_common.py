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


NO_KEY_MESSAGE = (
    "Erreur : TOCSIN_SECRET_KEY n'est pas définie. Chaque instance de Tocsin (web et envois) "
    "doit signer les sessions et les liens de confirmation avec la même clé, sinon une session "
    "ouverte sur l'une est refusée par l'autre et les liens meurent au redémarrage. Créez-en "
    "une une fois, gardez-la dans le coffre de l'exploitation et donnez-la à chaque instance :\n"
    '  export TOCSIN_SECRET_KEY="$(python3 -c '
    "'import secrets; print(secrets.token_urlsafe(48))')\"\n"
    "(La démonstration, --demo, s'en passe.)"
)


def require_secret_key(settings: Settings) -> None:
    """Outside the demo, no start without the key every instance shares (exit 2)."""
    if settings.secret_key is None and not settings.demo:
        fail(NO_KEY_MESSAGE, 2)
