"""`tocsin`: the command line. Exit codes: 0 success, 1 failure, 2 bad usage or input."""

from __future__ import annotations

import asyncio
import gc
import sys
from pathlib import Path
from typing import Annotated

import typer

from crisis import checkpoints, journal, journal_verification
from crisis.app import checkpointing, cli_users, migrate
from crisis.app.cli_common import DbOption, fail, require_secret_key, settings_for
from crisis.app.db import Database
from crisis.app.instance_locks import AlreadyRunning
from crisis.app.logs import configure as configure_logs
from crisis.app.secret_files import SecretFileError
from crisis.app.settings import Settings
from crisis.checkpoints import CheckpointError

# A traceback never shows local variables: they may hold a secret.
app = typer.Typer(
    help="Tocsin — communication d'urgence de la préfecture.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Base de données.", no_args_is_help=True)
journal_app = typer.Typer(help="Main courante.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(cli_users.app, name="users")
app.add_typer(journal_app, name="journal")


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port d'écoute.")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Bac à sable, annuaire fictif, comptes de démo.")
    ] = False,
    web_only: Annotated[
        bool,
        typer.Option(
            "--web-only",
            help="Le web seul, sans processus d'envoi : lancez alors « tocsin worker » à part.",
        ),
    ] = False,
    web_processes: Annotated[
        int,
        typer.Option(
            "--web-processes", min=1, help="Processus web (plus d'un : PostgreSQL seulement)."
        ),
    ] = 1,
    sandbox: Annotated[
        str | None,
        typer.Option(
            "--sandbox",
            help="Avec --demo : rejoint le bac à sable déjà lancé par « tocsin sandbox » "
            "(l'adresse de sa page, http://127.0.0.1:8090), que plusieurs instances partagent.",
        ),
    ] = None,
) -> None:
    """API et interface web ; les envois et les horloges dans un processus « worker » à côté."""
    from crisis.app import serving  # the web app: imported by the commands that serve it

    settings = served_on(settings_for(db, demo=demo or None), host=host, port=port)
    layout = serving.Layout(
        host=host,
        port=port,
        web_processes=web_processes,
        with_worker=not web_only,
        sandbox_url=sandbox,
    )
    configure_logs(json_logs=settings.json_logs, level=settings.log_level)
    serving.serve(settings, layout)


@app.command()
def worker(
    db: DbOption = None,
    metrics_port: Annotated[
        int | None,
        typer.Option("--metrics-port", help="Port où servir les métriques Prometheus des envois."),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option("--metrics-host", help="Adresse d'écoute des métriques.")
    ] = "127.0.0.1",
) -> None:
    """Envois, horloges, relances et points de contrôle, sans le web (arrêt propre : SIGTERM)."""
    from crisis.app.worker import Metrics, work

    settings = settings_for(db)
    require_secret_key(settings)
    configure_logs(json_logs=settings.json_logs, level=settings.log_level)

    async def current() -> bool:
        database = Database.from_url(settings.database_url)
        try:
            return await migrate.is_current(database.engine)
        finally:
            await database.dispose()

    if not asyncio.run(current()):
        fail("Erreur : la base n'est pas à jour ; lancez « tocsin db upgrade » d'abord.", 2)
    metrics = None if metrics_port is None else Metrics(port=metrics_port, host=metrics_host)
    try:
        asyncio.run(work(settings, metrics=metrics))
    except AlreadyRunning as running:
        fail(f"Erreur : {running}.", 2)
    gc.freeze()  # everything is closed: exit without a last full collection (seconds of CPU)


def served_on(settings: Settings, *, host: str, port: int) -> Settings:
    """Without `TOCSIN_BASE_URL` (or `base_url` in the file), the links Tocsin writes (public
    pages, receipt confirmations) point at the address it serves; a wildcard address is
    reached on loopback."""
    if "base_url" in settings.model_fields_set:
        return settings
    reachable = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host)  # noqa: S104 - a mapping
    if reachable is None:
        reachable = f"[{host}]" if ":" in host else host
    return settings.model_copy(update={"base_url": f"http://{reachable}:{port}"})


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Applique les migrations et charge la géographie de la Somme si la base est vide."""
    from crisis.app import bootstrap

    settings = settings_for(db)

    async def run() -> None:
        database = Database.from_url(settings.database_url)
        try:
            await bootstrap.prepare(database, settings.database_url)
        finally:
            await database.dispose()

    asyncio.run(run())
    typer.echo(f"Base à jour (révision {migrate.head_revision()}).")


@journal_app.command("verify")
def journal_verify(
    db: DbOption = None,
    crisis: Annotated[int | None, typer.Option("--crisis", help="N° d'événement.")] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="Point de contrôle signé : la chaîne doit le contenir."),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            help="Clé publique de confiance (fichier ou base64) ; défaut : la clé configurée.",
        ),
    ] = None,
) -> None:
    """Recalcule la chaîne d'empreintes ; échoue au premier maillon rompu."""
    settings = settings_for(db)
    chain = journal.GLOBAL_CHAIN if crisis is None else journal.crisis_chain(crisis)
    anchor = None
    if checkpoint is not None:
        anchor = _trusted_anchor(settings, checkpoint, public_key, chain)

    async def run() -> journal_verification.VerifyReport:
        database = Database.from_url(settings.database_url)
        try:
            async with database.read() as session:
                return await journal_verification.verify(session, crisis_id=crisis, anchor=anchor)
        finally:
            await database.dispose()

    report = asyncio.run(run())
    if report.broken is None:
        anchored = f" ; point de contrôle de {anchor.length} entrée(s) retrouvé" if anchor else ""
        typer.echo(
            f"Main courante intègre : {report.checked} entrée(s) vérifiée(s) "
            f"({report.chain}){anchored}."
        )
        return
    where = f"entrée n° {report.broken.entry_id}" if report.broken.entry_id else "fin de chaîne"
    fail(f"Main courante altérée ({report.chain}) : {where} — {report.broken.reason}.", 1)


def _checkpoint_refused(path: Path, reason: str) -> typer.Exit:
    typer.echo(f"Point de contrôle refusé : {path} — {reason}.", err=True)
    return typer.Exit(2)


def _trusted_anchor(
    settings: Settings, path: Path, public_key: str | None, chain: str
) -> journal_verification.Anchor:
    """The checkpoint's anchor once its file reads and its signature verifies with a trusted
    key (exit 2 otherwise, naming the file)."""
    try:
        trusted = checkpointing.trusted_key(settings, public_key)
        if trusted is None:
            raise CheckpointError(
                "aucune clé de confiance : donnez --public-key ou réglez TOCSIN_CHECKPOINT_KEY_FILE"
            )
        read = checkpoints.parse(path.read_text("utf-8"))
        checkpoints.check_signature(read, trusted)
    except (CheckpointError, OSError, UnicodeDecodeError) as error:
        raise _checkpoint_refused(path, str(error)) from error
    if read.chain != chain:
        usage = f"--crisis {read.chain.split(':')[1]}" if ":" in read.chain else "sans --crisis"
        reason = f"il porte sur la chaîne {read.chain}, pas sur {chain} (vérifiez avec {usage})"
        raise _checkpoint_refused(path, reason)
    return read.anchor


@journal_app.command("keygen")
def journal_keygen(
    file: Annotated[Path, typer.Argument(help="Fichier de la clé privée à créer (mode 0600).")],
) -> None:
    """Crée la clé Ed25519 qui signe les points de contrôle ; affiche la clé publique."""
    try:
        public = checkpointing.write_private_key(file)
    except FileExistsError:
        fail(f"Erreur : {file} existe déjà ; il n'est pas remplacé.", 2)
        return
    except OSError as error:
        fail(f"Erreur : {file} — {error.strerror}.", 2)
        return
    typer.echo(f"Clé privée écrite dans {file} (lisible par son seul propriétaire).")
    typer.echo(f"Empreinte : {checkpoints.fingerprint(public)}")
    typer.echo("Clé publique (à garder hors de la base, pour tocsin journal verify --public-key) :")
    typer.echo(checkpoints.public_text(public))


def _register_extensions() -> None:
    """Command groups that live beside their capability."""
    import importlib

    for module, name in (  # name: the command group, None for top-level commands only
        ("crisis.app.cli_playbooks", "playbooks"),
        ("crisis.app.cli_channels", "channels"),
        ("crisis.app.cli_contacts", "contacts"),
        ("crisis.app.cli_backup", None),
    ):
        try:
            extension = importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
            continue
        if name is not None:
            app.add_typer(extension.app, name=name)
        for group_name, group in getattr(extension, "EXTRA_GROUPS", {}).items():
            app.add_typer(group, name=group_name)
        for command_name, command in getattr(extension, "TOP_LEVEL_COMMANDS", {}).items():
            app.command(command_name)(command)


def main() -> None:
    _register_extensions()
    try:
        app(prog_name="tocsin")
    except SecretFileError as error:
        typer.echo(str(error), err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
    sys.exit(0)
