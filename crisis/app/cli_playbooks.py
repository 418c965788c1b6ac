"""`tocsin playbooks …`: checks the playbook library (registered by `crisis.app.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from channels.limits import mastodon_length, sms_count, x_weighted_length
from channels.rendering import RenderLimits
from playbooks import LIBRARY_DIR, check_directory
from playbooks.limits import LengthChecker
from playbooks.loader import playbook_files

app = typer.Typer(help="Fiches réflexes : contrôle de la bibliothèque.", no_args_is_help=True)


@app.callback()
def playbooks() -> None:
    """Fiches réflexes (playbooks) : check-lists et messages pré-validés par risque."""


def channel_length_checker() -> LengthChecker:
    """The channels package's own limits: the authoritative rules at submit time."""
    limits = RenderLimits()

    def check(channel: str, text: str) -> list[str]:
        match channel:
            case "x":
                length, maximum, unit = (
                    x_weighted_length(text),
                    limits.x_max_weighted,
                    "caractères pondérés",
                )
            case "mastodon":
                length, maximum, unit = (
                    mastodon_length(text),
                    limits.mastodon_max_chars,
                    "caractères",
                )
            case "telegram":
                length, maximum, unit = len(text), limits.telegram_max_chars, "caractères"
            case "sms":
                length, maximum, unit = (
                    sms_count(text).segments,
                    limits.sms_max_segments,
                    "segments",
                )
            case _:
                return []
        if length <= maximum:
            return []
        return [f"trop long pour {channel} : {length} {unit} (maximum {maximum})"]

    return check


@app.command("check")
def check(
    directory: Annotated[
        Path | None,
        typer.Argument(help="Dossier des fiches (par défaut : la bibliothèque livrée)."),
    ] = None,
) -> None:
    """Valide chaque fiche : schéma, champs, rendu des modèles, complétude et limites des canaux."""
    target = directory if directory is not None else LIBRARY_DIR
    errors = check_directory(target, length_checker=channel_length_checker())
    if errors:
        for error in errors:
            typer.echo(str(error))
        plural = "s" if len(errors) > 1 else ""
        typer.echo(f"{len(errors)} erreur{plural} : bibliothèque refusée.", err=True)
        raise typer.Exit(code=2)
    count = len(playbook_files(target))
    plural = "s" if count > 1 else ""
    typer.echo(f"{count} fiche{plural} réflexe{plural} valide{plural}")
