"""`tocsin backup FILE` and `tocsin restore FILE` (docs/operations.md « Sauvegarde »).

SQLite: SQLite's online backup API, page by page, consistent while the service writes. A
PostgreSQL database is saved and restored with its own tools (pg_dump -Fc, pg_restore): both
commands say so and exit 2.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from crisis.app.cli_common import DbOption, fail, settings_for
from crisis.app.instance_locks import sqlite_file

POSTGRES_BACKUP = (
    "Erreur : sur PostgreSQL, sauvegardez avec pg_dump et restaurez avec pg_restore :\n"
    "  pg_dump -Fc -f tocsin.dump 'postgresql://…/tocsin'\n"
    "  pg_restore --no-owner -d 'postgresql://…/tocsin_neuve' tocsin.dump\n"
    "(docs/operations.md, « Sauvegarde et restauration »)."
)
# Tables whose rows make a database « in use »: restoring over them needs --force.
DATA_TABLES = ("journal_entry", "crisis", "user_account", "contact")

FileArgument = Annotated[Path, typer.Argument(help="Fichier de sauvegarde (SQLite).")]


def _sqlite_target(db: str | None) -> Path:
    url = settings_for(db).database_url
    path = sqlite_file(url)
    if path is None:
        backend = make_url(url).get_backend_name()
        fail(POSTGRES_BACKUP if backend.startswith("postgres") else "Erreur : base en mémoire.", 2)
        raise AssertionError  # fail() exits; this line only tells the type checker
    return path


def _checked(path: Path) -> str | None:
    """Why `path` is not a readable Tocsin database, or None."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                return f"fichier endommagé ({verdict})"
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        return f"ce n'est pas une base SQLite lisible ({error})"
    if "alembic_version" not in tables or "journal_entry" not in tables:
        return "ce n'est pas une base Tocsin (ni migrations ni main courante)"
    return None


def _copy(source: Path, target: Path) -> None:
    """SQLite's backup API: the whole database, consistent, even with writers on `source`."""
    with (
        contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
        contextlib.closing(sqlite3.connect(target)) as dest,
    ):
        src.backup(dest, pages=1024)
        dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside


def backup(file: FileArgument, db: DbOption = None) -> None:
    """Copie cohérente de la base SQLite, même pendant que le service écrit (PostgreSQL :
    pg_dump)."""
    source = _sqlite_target(db)
    if not source.is_file():
        fail(f"Erreur : base introuvable : {source}.", 2)
    if file.exists():
        fail(f"Erreur : {file} existe déjà ; choisissez un nouveau fichier.", 2)
    partial = file.with_name(file.name + ".partiel")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # personal data
    try:
        _copy(source, partial)
        if reason := _checked(partial):
            partial.unlink()
            fail(f"Erreur : la copie de {source} est inutilisable : {reason}.", 1)
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        fail(f"Erreur : sauvegarde impossible : {error}.", 1)
    partial.rename(file)
    typer.echo(f"Sauvegarde écrite : {file} ({file.stat().st_size} octets, lisible par vous seul).")


def restore(
    file: FileArgument,
    db: DbOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Écrase une base qui contient déjà des données.")
    ] = False,
) -> None:
    """Restaure une sauvegarde dans une base SQLite neuve (PostgreSQL : pg_restore)."""
    target = _sqlite_target(db)
    if not file.is_file():
        fail(f"Erreur : sauvegarde introuvable : {file}.", 2)
    if reason := _checked(file):
        fail(f"Erreur : {file} : {reason}.", 2)
    if target.exists() and not force and (used := _rows_in(target)):
        fail(
            f"Erreur : {target} contient déjà des données ({used}) ; restaurez dans une base "
            "neuve, ou ajoutez --force pour l'écraser (service arrêté).",
            2,
        )
    try:
        _copy(file, target)
    except sqlite3.Error as error:
        fail(f"Erreur : restauration impossible : {error}.", 1)
    typer.echo(f"Base restaurée : {target}. Vérifiez la main courante :")
    typer.echo(f"  tocsin journal verify --db sqlite:///{target} --checkpoint FICHIER")


def _rows_in(path: Path) -> str:
    """The data a database holds, as « 3 lignes dans crisis », or '' when it holds none."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            for table in DATA_TABLES:
                if table in tables:
                    (count,) = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()  # noqa: S608
                    if count:
                        return f"{count} ligne(s) dans {table}"
    except sqlite3.DatabaseError:
        return "fichier illisible"
    return ""


TOP_LEVEL_COMMANDS = {"backup": backup, "restore": restore}
