"""What a fresh database needs before the service opens: schema, default geography, demo."""

from __future__ import annotations

import gc
from dataclasses import dataclass

from contacts import geography
from contacts.demo import DOMAIN
from crisis import accounts, passwords
from crisis.actors import SYSTEM
from crisis.app import instance_locks, migrate
from crisis.app.clock import Clock
from crisis.app.db import Database

DEMO_USERS: list[tuple[str, str, list[str]]] = [
    ("prefet", "Préfète de permanence (démo)", ["prefect", "validator"]),
    ("dircab", "Directeur de cabinet (démo)", ["prefect", "validator", "admin"]),
    ("valideur", "Chef du bureau de la communication (démo)", ["validator"]),
    ("communicant", "Chargée de communication (démo)", ["communicator"]),
    ("formateur", "Formateur SIDPC (démo)", ["trainer"]),
    ("operateur", "Opérateur CIP (démo)", ["operator"]),
    ("cheffe-cip", "Cheffe de la CIP (démo)", ["operator"]),
    ("operatrice", "Opératrice CIP (démo)", ["operator"]),
    ("admin", "Administrateur (démo)", ["admin"]),
]


async def prepare(db: Database, url: str) -> None:
    """Apply migrations, then load the Somme when no geography is there yet; one instance at
    a time (several may start at once on one database)."""
    async with instance_locks.preparing(db, url):
        await migrate.upgrade(db.engine, url)
        async with db.transaction() as session:
            if not await geography.has_geography(session):
                await geography.load_departement(session, data=geography.somme_dataset())
    # What start-up loaded (modules, the app, the geography) lives as long as the process: out
    # of the collector's reach, a full collection during a clock tick walks only new objects.
    gc.freeze()


@dataclass(frozen=True, slots=True)
class DemoLogin:
    login: str
    password: str
    roles: list[str]


async def demo_users(db: Database, clock: Clock) -> list[DemoLogin]:
    """Create (or reset the passwords of) the demo users; returns their logins."""
    created: list[DemoLogin] = []
    async with db.transaction() as session:
        for login, name, roles in DEMO_USERS:
            password = passwords.new_password()
            user = await accounts.user_by_login(session, login=login)
            if user is None:
                user, _ = await accounts.create_user(
                    session,
                    actor=SYSTEM,
                    login=login,
                    roles=roles,
                    now=clock.now(),
                    password=password,
                    display_name=name,
                    one_time=False,  # the demo stays two clicks away: no forced change
                )
            else:
                passwords.set_password(user, password)
                user.must_change_password = False
                session.add(user)
            if user.email is None:  # « Envoyer un test » has somewhere to go (the sandbox)
                await accounts.set_email(
                    session, actor=SYSTEM, user=user, email=f"{login}@{DOMAIN}", now=clock.now()
                )
            created.append(DemoLogin(login, password, roles))
    return created
