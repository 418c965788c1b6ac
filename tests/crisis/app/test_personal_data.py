"""Issue 15 item 5: recipients' personal data (name, phone, e-mail, address) only for the roles
that need it (`crisis.privacy.PERSONAL_DATA_ROLES`); the others see counts and statuses.

`PERSON_ROUTES` is the inventory of every route that shows a person: each is read as a trainer
and as an operator (no seeded personal datum in the body, or a refusal) and as a communicator
(the data is there). `NO_PERSON_ROUTES` lists, with the reason, every other GET route of the
app: a new route fails `test_every_route_is_classified_for_personal_data` until it is put in one
of the two tables, consciously.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi.routing import APIRoute

from contacts.records import ContactRecord
from crisis import replies
from crisis.app.db import Database
from crisis.app.factory import ROUTERS, create_app
from crisis.app.settings import Settings
from crisis.bulletin.record import Bulletin
from crisis.cip import requests as cip_requests
from crisis.dispatch.outbox import Delivery
from tests.crisis.bulletin_support import ABBEVILLE, load_directory, person, published
from tests.support import FrozenClock, TestUser, make_user

NAME, TO_CALL_NAME = "Quasimodo", "Sanscanal"
PHONE, LANDLINE, SENDER = "639980042", "353019998", "639980077"
EMAIL = "ermengarde.qz"
DATA = (NAME, TO_CALL_NAME, PHONE, LANDLINE, SENDER, EMAIL)
WITHOUT_NEED = ("formateur", "operateur")


def _official(key: str, first: str, last: str, channels: list[tuple[str, str]]) -> ContactRecord:
    return replace(person(key, "officials", channels), first_name=first, last_name=last)


SEEDED = [
    _official(
        "maire-distinct",
        "Ermengarde",
        "Quasimodo-Zéphyr",
        [("sms", "+33639980042"), ("email", "ermengarde.qz@mairie-abbeville.test")],
    ),
    _official("maire-a-appeler", "Bathilde", "Sanscanal-Test", [("phone", "+33353019998")]),
]


@dataclass
class World:
    users: dict[str, TestUser]
    crisis_id: int
    bulletin_id: int
    contact_id: int
    public_id: str = ""  # an officials-only bulletin: its public pages answer 404
    drill_id: int = 0
    run_id: int = 0
    request_id: int = 0  # a written request to the CIP


async def _world(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    *,
    logins: dict[str, str] | None = None,
) -> World:
    """A real crisis (cell, COD), a published bulletin to officials, an unknown SMS reply.

    `logins` renames users (keyed as here: `prefet`, `admin`…) whose login reads as a code."""
    roles = {
        "prefet": "prefect",
        "com": "communicator",
        "valideur": "validator",
        "formateur": "trainer",
        "operateur": "operator",
        "admin": "admin",
    }
    renamed = logins or {}
    users = {
        key: await make_user(db, clock, renamed.get(key, key), role) for key, role in roles.items()
    }
    await load_directory(db, clock.now(), SEEDED)
    prefect, com = users["prefet"].headers, users["com"].headers
    body = {"title": "Crue", "kind": "crue", "mode": "real", "communes": [ABBEVILLE]}
    cid = (await client.post("/api/v1/crises", json=body, headers=prefect)).json()["id"]
    for login, role in (("com", "communication"), ("valideur", "validator")):
        answer = await client.post(
            f"/api/v1/crises/{cid}/cell/acknowledgements",
            json={"role": role},
            headers=users[login].headers,
        )
        assert answer.status_code == 201, answer.text
    assert (await client.post(f"/api/v1/crises/{cid}/cell/operational", headers=com)).is_success
    cod = {
        "activated_at": (clock.now() - timedelta(minutes=1)).isoformat(),
        "synergi_ref": "SYN-80-1",
        "decided_by": "Préfète",
    }
    assert (await client.post(f"/api/v1/crises/{cid}/cod", json=cod, headers=prefect)).is_success
    cip = {"number": "0 800 10 02 00"}  # the CIP's routes answer once it is ordered
    assert (await client.post(f"/api/v1/crises/{cid}/cip", json=cip, headers=prefect)).is_success
    bulletin_id = await published(
        db, clock.now(), crisis_id=cid, audiences=["officials"], channels=["email", "sms"]
    )
    async with db.transaction() as session:
        await session.execute(
            sa.update(Delivery)
            .where(sa.column("channel") == "email", sa.column("bulletin_id") == bulletin_id)
            .values(
                status="failed",
                next_attempt_at=None,
                last_error="550 ermengarde.qz@mairie-abbeville.test : boîte inconnue",
            )
        )
        await replies.record(
            session,
            reply=replies.InboundReply(
                channel="sms", sender="+33639980077", text="Qui êtes-vous ?"
            ),
            modes=frozenset({"real"}),
            window=timedelta(hours=24),
            now=clock.now(),
        )
        written = await cip_requests.receive(
            session,
            crisis_id=cid,
            incoming=cip_requests.Incoming(sender="riveraine@exemple.test", body="Route ?"),
            rules=cip_requests.RequestRules(),
            now=clock.now(),
        )
    contacts = (await client.get("/api/v1/contacts?q=Quasimodo", headers=com)).json()["items"]
    async with db.read() as session:
        record = await session.get(Bulletin, bulletin_id)
    assert record is not None
    drill_id, run_id = await _drill(client, clock, users["formateur"])
    return World(
        users,
        cid,
        bulletin_id,
        contacts[0]["id"],
        record.public_id or "",
        drill_id,
        run_id,
        written.id or 0,
    )


async def _drill(
    client: httpx.AsyncClient, clock: FrozenClock, trainer: TestUser
) -> tuple[int, int]:
    """An on-call test, launched: its page and report name the on-call staff, no recipient."""
    body = {
        "title": "Test d'astreinte",
        "kind": "on_call",
        "starts_at": (clock.now() + timedelta(days=2)).isoformat(),
    }
    drill = await client.post("/api/v1/exercises", json=body, headers=trainer.headers)
    assert drill.status_code == 201, drill.text
    drill_id = drill.json()["id"]
    run = await client.post(f"/api/v1/exercises/{drill_id}/launch", headers=trainer.headers)
    assert run.status_code == 201, run.text
    return drill_id, run.json()["run_id"]


# path → what the communicator (need-to-know) must see there; None: refused to them too
PERSON_ROUTES: dict[str, tuple[str, ...] | None] = {
    "/api/v1/bulletins/{bulletin_id}/deliveries": (NAME, PHONE, EMAIL),
    "/api/v1/bulletins/{bulletin_id}/deliveries?status=to_call": (TO_CALL_NAME, LANDLINE),
    "/api/v1/contacts": (NAME, PHONE, EMAIL),
    "/api/v1/contacts?format=csv": None,  # administrators only
    "/api/v1/contacts/{contact_id}": (NAME, PHONE, EMAIL),
    "/api/v1/contacts/{contact_id}/export": None,  # administrators only
    "/api/v1/crises": (NAME,),  # ES48 coverage: the officials still missing
    "/api/v1/crises/{crisis_id}": (NAME,),
    "/api/v1/crises/{crisis_id}/clocks": (NAME,),
    "/api/v1/crises/{crisis_id}/es48/missing": (NAME,),  # a page of the officials missing
    "/api/v1/crises/{crisis_id}/journal": (),
    # a search runs on the entries as the reader sees them: a withheld name finds nothing
    "/api/v1/crises/{crisis_id}/journal?q=Quasimodo": (),
    "/api/v1/roster/on-duty": (),  # on-call staff: names of the cell, channels never shown
    # the CIP's staff by name (agents, as the cell); callers' callback numbers only to the CIP
    # operators and the prefect (`crisis.cip.privacy`), never in the API's state
    "/api/v1/crises/{crisis_id}/cip": (),
    "/api/v1/crises/{crisis_id}/cip/debriefs": (),  # the CIP's staff by name, as above
    # written requests: the requester's address only to the CIP operators and the prefect
    # (`crisis.cip.privacy.sees_requester_address`), masked for the others
    "/api/v1/crises/{crisis_id}/cip/requests": (),
    "/api/v1/crises/{crisis_id}/cip/requests/{request_id}": (),
    "/evenements/{crisis_id}/cip/demandes/{request_id}": (),
    "/evenements/{crisis_id}/cip": (),
    "/fragments/evenements/{crisis_id}/cip/console": (),  # the last calls, never a callback number
    "/communiques/{bulletin_id}/suivi": (NAME, TO_CALL_NAME, LANDLINE),
    "/fragments/communiques/{bulletin_id}/suivi": (NAME, TO_CALL_NAME, LANDLINE),
    "/communiques/{bulletin_id}/envois.csv": (NAME, PHONE, EMAIL, TO_CALL_NAME),
    "/evenements/{crisis_id}": (NAME, SENDER),
    "/fragments/evenements/{crisis_id}/tableau": (NAME, SENDER),
    "/evenements/{crisis_id}/es48-manquants": (NAME,),  # the officials ES48 waits for
    "/fragments/evenements/{crisis_id}/main-courante": (),
    "/evenements/{crisis_id}/main-courante": (),
    "/main-courante": (SENDER,),  # the unrecognised reply: its sender is unknown to any crisis
    "/evenements/{crisis_id}/bilan": (),
    "/evenements/{crisis_id}/bilan.html": (),
    "/annuaire": (NAME,),
    "/annuaire/{contact_id}": (NAME, PHONE, EMAIL),
    "/astreinte": (),
    # drills: the on-call staff paged and their answer times (agents, as on /astreinte)
    "/api/v1/exercises/{drill_id}/runs/{run_id}/report": (),
    # a crisis drill's scenario: the exercise participant an inject is sent to, by name
    "/api/v1/exercises/{drill_id}/injects": (),
    "/exercices/{drill_id}": (),
    # a run's report (RETEX): the same figures, and its journal filtered by `crisis.privacy`
    "/exercices/{drill_id}/seances/{run_id}": (),
    "/exercices/{drill_id}/seances/{run_id}/bilan.pdf": (),
    # the live control view: the people paged and their answer times, as the report
    "/exercices/{drill_id}/seances/{run_id}/pilotage": (),
    "/fragments/exercices/{drill_id}/seances/{run_id}/pilotage": (),
    # the planning form lists the exercise participants (players), never a recipient
    "/exercices/nouveau": (),
    "/exercices/{drill_id}/modifier": (),  # the same form, filled in
}


def _path(template: str, world: World) -> str:
    return template.format(
        bulletin_id=world.bulletin_id,
        crisis_id=world.crisis_id,
        contact_id=world.contact_id,
        public_id=world.public_id,
        user_id=world.users["admin"].id,
        shift_id=1,  # no shift in this world: the page answers 404, in French
        drill_id=world.drill_id,
        run_id=world.run_id,
        kind="crisis",
        request_id=world.request_id,
    )


def _flat(text: str) -> str:
    """The body with spaces, no-break spaces and dots removed, lower case: « 06 39 98… »."""
    return re.sub(r"[\s\u00a0\u202f.]", "", text).lower()


def _found(text: str, data: tuple[str, ...]) -> list[str]:
    flat = _flat(text)
    return [d for d in data if _flat(d) in flat]


async def test_a_trainer_or_an_operator_reads_no_recipients_personal_data_on_any_route(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await _world(client, db, clock)
    leaks: dict[str, list[str]] = {}
    for template in PERSON_ROUTES:
        for login in WITHOUT_NEED:
            answer = await client.get(_path(template, world), headers=world.users[login].headers)
            assert answer.status_code in (200, 403), (template, login, answer.status_code)
            if found := _found(answer.text, DATA):
                leaks[f"{login} {template}"] = found
    assert leaks == {}


async def test_the_roles_that_need_them_still_read_recipients_personal_data(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await _world(client, db, clock)
    missing: dict[str, list[str]] = {}
    for template, expected in PERSON_ROUTES.items():
        if not expected:
            continue
        for login in ("com", "prefet"):
            answer = await client.get(_path(template, world), headers=world.users[login].headers)
            assert answer.status_code == 200, (template, login, answer.text[:300])
            if absent := [d for d in expected if d not in _found(answer.text, expected)]:
                missing[f"{login} {template}"] = absent
    assert missing == {}


async def test_an_operator_confirming_a_call_reads_no_personal_data_in_the_answer(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await _world(client, db, clock)
    to_call = await client.get(
        f"/api/v1/bulletins/{world.bulletin_id}/deliveries?status=to_call",
        headers=world.users["operateur"].headers,
    )
    delivery_id = to_call.json()["items"][0]["id"]
    answer = await client.post(
        f"/api/v1/deliveries/{delivery_id}/confirm",
        json={"method": "phone", "note": "joint au téléphone"},
        headers=world.users["operateur"].headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "confirmed"
    assert _found(answer.text, DATA) == []


# Every other GET route, and why it shows no person (a new route must be classified).
NO_PERSON_ROUTES: dict[str, str] = {
    "/": "tableau de bord : intitulés, horloges, chiffres",
    "/flux": "flux d'événements : décomptes et états des horloges d'une page, aucun nom",
    "/connexion": "formulaire de connexion",
    "/mon-compte": "ses propres sessions et jetons : rien d'autrui",
    "/mon-compte/mot-de-passe": "formulaire de son propre mot de passe",
    "/healthz": "exploitation",
    "/readyz": "exploitation",
    "/metrics": "exploitation : compteurs",
    "/api/v1/geo/communes": "géographie : noms de lieux",
    "/api/v1/geo/arrondissements": "géographie : noms de lieux",
    "/api/v1/geo/areas": "géographie : noms de lieux",
    "/api/v1/bulletins/{bulletin_id}": "communiqué : auteurs et valideurs sont des agents",
    "/api/v1/bulletins/{bulletin_id}/recipients": "nombres de destinataires par public",
    "/api/v1/bulletins/{bulletin_id}/fr-alert": "texte FR-Alert, communes ; préfet seul",
    "/communiques/{bulletin_id}/fr-alert": "liste de contrôle FR-Alert ; préfet seul",
    "/api/v1/crises/{crisis_id}/bulletins": "communiqués d'un événement",
    "/api/v1/roster/gaps": "trous de l'astreinte : rôles et heures",
    "/api/v1/crises/{crisis_id}/cip/faq": "FAQ de la CIP : questions et réponses validées",
    "/fragments/evenements/{crisis_id}/cip": "chiffres de la CIP : décomptes, thèmes, communes",
    "/cip": "CIP en cours : intitulés d'événements et numéros uniques (publics)",
    "/communiques/{bulletin_id}": "communiqué et ses chiffres d'envoi",
    "/communiques/{bulletin_id}/modifier": "formulaire de rédaction",
    "/communiques/{bulletin_id}/publier": "confirmation : nombres de destinataires par public",
    "/evenements/nouveau": "formulaire de déclaration",
    "/evenements/{crisis_id}/communiques/nouveau": "formulaire de rédaction",
    "/evenements/{crisis_id}/synthese.pdf": "bilan, comme /bilan (PDF, 409 avant la clôture)",
    "/fragments/evenements": "liste des événements",
    "/fragments/evenements/{crisis_id}/communiques": "liste des communiqués",
    "/fiches-reflexes": "bibliothèque des fiches réflexes",
    "/exercices/tendances/{kind}.png": "courbe des chiffres par séance d'un type d'exercice",
    "/fiches-reflexes/{key}": "une fiche réflexe",
    "/canaux": "état des canaux",
    "/annuaire/import": "formulaire d'import (administrateur)",
    "/public/bulletins": "liste des communiqués publiés au public",
    "/public/bulletins/{public_id}": "communiqué publié au public",
    "/public/cap/{public_id}.xml": "alerte CAP d'un communiqué public (anonyme)",
    "/public/feed.atom": "flux Atom des communiqués publics (anonyme)",
    "/astreinte/import": "formulaire d'import des tours (administrateur, préfet)",
    "/astreinte/tours/{shift_id}/modifier": "un tour : le nom d'un agent, comme /astreinte",
    # Restricted: administrators only (403 to every other role); agents' accounts, with the
    # account e-mail an administrator manages — no recipient's personal data.
    "/utilisateurs": "comptes des agents (administrateur seulement : page restreinte)",
    "/utilisateurs/{user_id}": "un compte d'agent (administrateur seulement : page restreinte)",
    "/acquitter/{token}": "la personne appelée elle-même, par son lien personnel",
    "/confirmer/{token}": "le destinataire lui-même, par son lien personnel",
    "/retour-exercice/{token}": "le participant lui-même, par son lien : le titre, sans nom",
    "/accessibilite": "page publique : déclaration d'accessibilité",
    "/mentions-legales": "page publique : mentions légales",
    "/donnees-personnelles": "page publique : ce que Tocsin traite, sans nommer personne",
    "/api/v1/exercises": "programme d'exercices : intitulés, dates, identifiants des participants",
    "/api/v1/exercises/{drill_id}": "un exercice : intitulé, dates, séances, identifiants",
    "/exercices": "programme d'exercices : intitulés, dates et états des séances",
    "/exercices/agenda/{token}.ics": "agenda du programme : intitulés et dates, lien signé",
    "/exercices/{drill_id}/seances/{run_id}/chronologie.png": (
        "graphique d'une séance : horloges, publics et rôles d'astreinte, aucun nom"
    ),
}


def _get_paths() -> set[str]:
    return {
        route.path
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and "GET" in route.methods
    }


def test_every_route_is_classified_for_personal_data() -> None:
    declared = {template.split("?")[0] for template in PERSON_ROUTES} | set(NO_PERSON_ROUTES)
    paths = _get_paths()
    assert len(paths) > 40
    unclassified = sorted(paths - declared)
    assert unclassified == [], "classify each new GET route in PERSON_ROUTES or NO_PERSON_ROUTES"
    assert sorted(declared - paths) == [], "a classified route that no longer exists"


PERSON_FIELDS = {"name", "recipient_name", "address", "sender", "missing", "first_name", "payload"}


def _fields(schema: Any, components: dict[str, Any], seen: set[str]) -> set[str]:
    """Every property name reachable from a JSON schema."""
    if isinstance(schema, list):
        return set().union(*(_fields(s, components, seen) for s in schema))
    if not isinstance(schema, dict):
        return set()
    found: set[str] = set(schema.get("properties", {}))
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref not in seen:
        seen.add(ref)
        found |= _fields(components[ref.rsplit("/", 1)[1]], components, seen)
    for value in schema.values():
        found |= _fields(value, components, seen)
    return found


def test_every_api_route_whose_answer_names_a_person_is_in_the_policy_table(
    settings: Settings,
) -> None:
    """The OpenAPI answers that carry a person's field are all in `PERSON_ROUTES`."""
    spec = create_app(settings).openapi()
    components = spec.get("components", {}).get("schemas", {})
    person_routes = {template.split("?")[0] for template in PERSON_ROUTES}
    place_names = {path for path, why in NO_PERSON_ROUTES.items() if "noms de lieux" in why}
    named = []
    for path, operations in spec["paths"].items():
        answer = operations.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
        if _fields(answer, components, set()) & PERSON_FIELDS:
            named.append(path)
    assert len(named) > 5
    assert sorted(set(named) - person_routes - place_names) == []
