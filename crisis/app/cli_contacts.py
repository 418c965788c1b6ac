"""`tocsin contacts import` and `tocsin geo import`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from contacts import geography
from contacts.importer import ImportFormat, ImportReport
from crisis import directory
from crisis.actors import SYSTEM
from crisis.app import bootstrap
from crisis.app.clock import SystemClock
from crisis.app.db import Database
from crisis.app.settings import Settings

app = typer.Typer(help="Annuaire : élus, médias, services, participants aux exercices.")
geo_app = typer.Typer(help="Géographie : communes, arrondissements, EPCI.")
EXTRA_GROUPS = {"geo": geo_app}
PROGRESS_FROM_BYTES = 2_000_000

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="URL de la base (défaut : TOCSIN_DATABASE_URL, sinon sqlite:///./tocsin.db)."
    ),
]


def _database_url(db: str | None) -> str:
    return db or Settings().database_url


def _summary(report: ImportReport) -> str:
    verb = "Essai à blanc, rien n'a été écrit" if report.dry_run else "Import effectué"
    return (
        f"{verb} : {report.records} contact(s) lu(s) — {report.added} ajouté(s), "
        f"{report.updated} modifié(s), {report.unchanged} inchangé(s), "
        f"{report.deactivated} désactivé(s) ; {report.channels_added} canal(aux) ajouté(s), "
        f"{report.channels_updated} modifié(s)."
    )


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="Fichier CSV (UTF-8, « ; »).")],
    format: Annotated[
        ImportFormat, typer.Option("--format", help="rne-maires ou tocsin.")
    ] = ImportFormat.TOCSIN,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Vérifier sans rien écrire.")] = False,
    db: DbOption = None,
) -> None:
    """Importe un fichier, tout ou rien ; un fichier invalide sort en 2 avec ses lignes."""
    if not file.is_file():
        typer.echo(f"{file}: fichier introuvable", err=True)
        raise typer.Exit(2)
    url = _database_url(db)
    size = file.stat().st_size

    async def run(progress: Progress | None) -> ImportReport:
        task = progress.add_task("Import", total=size) if progress else None

        def advance(done: int) -> None:
            if progress is not None and task is not None:
                progress.update(task, completed=done)

        database = Database.from_url(url)
        try:
            await bootstrap.prepare(database, url)
            with file.open("rb") as stream:
                async with database.transaction() as session:
                    return await directory.import_directory(
                        session,
                        actor=SYSTEM,
                        stream=stream,
                        fmt=format,
                        now=SystemClock().now(),
                        dry_run=dry_run,
                        progress=advance,
                        filename=file.name,
                    )
        finally:
            await database.dispose()

    if size >= PROGRESS_FROM_BYTES:
        columns = (BarColumn(), DownloadColumn(), TimeRemainingColumn())
        with Progress(*Progress.get_default_columns()[:1], *columns, transient=True) as bar:
            report = asyncio.run(run(bar))
    else:
        report = asyncio.run(run(None))
    if not report.ok:
        for error in report.errors:
            typer.echo(f"{file}:{error.line}: {error.message}", err=True)
        if report.errors_total > len(report.errors):
            typer.echo(f"… et {report.errors_total - len(report.errors)} autre(s).", err=True)
        typer.echo(
            f"Fichier refusé : {report.errors_total} ligne(s) en erreur, rien n'a été importé.",
            err=True,
        )
        raise typer.Exit(2)
    typer.echo(_summary(report))


@geo_app.command("import")
def geo_import(
    file: Annotated[Path, typer.Argument(help="JSON au format de contacts/data/somme-80.json.")],
    db: DbOption = None,
) -> None:
    """Ajoute (ou remplace) la géographie d'un département."""
    try:
        data: dict[str, Any] = json.loads(file.read_text("utf-8"))
        for key in ("departement", "communes", "arrondissements", "epcis"):
            if key not in data:
                raise KeyError(key)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError) as error:
        typer.echo(f"{file}:1: fichier de géographie illisible ({error})", err=True)
        raise typer.Exit(2) from error
    url = _database_url(db)

    async def run() -> geography.GeoLoadReport:
        database = Database.from_url(url)
        try:
            await bootstrap.prepare(database, url)
            async with database.transaction() as session:
                return await geography.load_departement(session, data=data)
        finally:
            await database.dispose()

    report = asyncio.run(run())
    typer.echo(
        f"Département {report.departement} : {report.communes} commune(s), "
        f"{report.arrondissements} arrondissement(s), {report.epcis} EPCI."
    )
