"""The authorization matrix: every route of the app, one row each, and who may use it.

A row says who may call the route (`ANY` logged-in user, a set of roles, or a route that needs
no account: `PUBLIC`, a personal signed link `LINK`, a provider's webhook secret `WEBHOOK`),
and for a state-changing route a valid body, so that a refused role meets the role check and
not the body's validation. The roles are checked by the domain (`Actor.require`); this table is
what the tests hold it to. A new route fails `test_every_route_of_the_app_is_in_the_matrix`
until it gets its row here.

Path parameters are filled from the test world (`tests/hardening/world.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from crisis.actors import Role


class Access(StrEnum):
    ANY = "any"  # every logged-in role
    PUBLIC = "public"  # no account needed
    LINK = "link"  # no account: a personal signed link (a bad one is 404)
    WEBHOOK = "webhook"  # no account: the provider's shared secret (403 without it)


P, V, C = Role.PREFECT, Role.VALIDATOR, Role.COMMUNICATOR
T, OP, A = Role.TRAINER, Role.OPERATOR, Role.ADMIN
ANY, PUBLIC, LINK, WEBHOOK = Access.ANY, Access.PUBLIC, Access.LINK, Access.WEBHOOK
LATER = datetime(2026, 12, 1, 9, tzinfo=UTC).isoformat()


@dataclass(frozen=True)
class Row:
    may: Access | frozenset[Role]
    body: dict[str, Any] | None = field(default=None)
    note: str = ""

    @property
    def roles(self) -> frozenset[Role]:
        if isinstance(self.may, Access):
            return frozenset(Role) if self.may is ANY else frozenset()
        return self.may


def only(*roles: Role, body: dict[str, Any] | None = None, note: str = "") -> Row:
    return Row(frozenset(roles), body, note)


def anyone(note: str = "") -> Row:
    return Row(ANY, None, note)


DRAFT = {"title": "Crue de la Somme", "body": "La Somme déborde.", "audiences": ["officials"]}
CABINET = {"kind": "decision", "text": "Évacuation du quartier bas."}
CALL = {
    "received_at": "2026-11-28T14:00:00+00:00",
    "topic": "roads",
    "question": "La route est-elle coupée ?",
}
FAQ = {"question": "Faut-il évacuer ?", "answer": "Non, restez chez vous."}
CONTACT = {
    "key": "nouveau",
    "audience": "media",
    "kind": "organisation",
    "function": "autre",
    "last_name": "Rédaction",
    "area_level": "departement",
    "area_code": "80",
}
SHIFT = {"role": "communication", "starts_at": LATER, "ends_at": LATER, "name": "X"}
DRILL = {"title": "Test d'astreinte", "kind": "on_call", "starts_at": LATER}
INJECT = {"offset_min": 5, "audience": "media", "text": "Un journaliste appelle."}
CROSSING = "/evenements/{crisis_id}"

MATRIX: dict[str, Row] = {
    # --- exploitation and public pages
    "GET /healthz": Row(PUBLIC),
    "GET /readyz": Row(PUBLIC),
    "GET /metrics": Row(PUBLIC, note="peut être restreint par la configuration"),
    "GET /connexion": Row(PUBLIC),
    "POST /connexion": Row(PUBLIC, note="CSRF d'avant session ; limité par adresse"),
    "GET /public/bulletins": Row(PUBLIC),
    "GET /public/bulletins/{public_id}": Row(PUBLIC, note="404 : communiqué aux seuls élus"),
    "GET /public/cap/{public_id}.xml": Row(PUBLIC, note="404 : communiqué aux seuls élus"),
    "GET /public/feed.atom": Row(PUBLIC),
    "GET /accessibilite": Row(PUBLIC),
    "GET /mentions-legales": Row(PUBLIC),
    "GET /donnees-personnelles": Row(PUBLIC),
    "GET /acquitter/{token}": Row(LINK),
    "POST /acquitter/{token}": Row(LINK),
    "GET /confirmer/{token}": Row(LINK),
    "POST /confirmer/{token}": Row(LINK, note="sans session : le lien signé est le secret"),
    "GET /retour-exercice/{token}": Row(LINK),
    "POST /retour-exercice/{token}": Row(LINK),
    "GET /exercices/agenda/{token}.ics": Row(LINK),
    "POST /api/v1/inbound/telegram": Row(WEBHOOK),
    "POST /api/v1/inbound/sms": Row(WEBHOOK),
    # --- session and own account
    "POST /deconnexion": anyone(),
    "GET /flux": anyone("flux SSE : jamais clos, seuls anonyme et session morte sont essayés"),
    "GET /mon-compte": anyone(),
    "GET /mon-compte/mot-de-passe": anyone(),
    "POST /mon-compte/mot-de-passe": anyone(),
    "POST /mon-compte/sessions/{session_id}/revocation": anyone("ses propres sessions"),
    "POST /mon-compte/jetons": anyone(),
    "POST /mon-compte/jetons/{token_id}/revocation": anyone("ses propres jetons"),
    # --- crises: declaration, cell, COD, checklist, closing
    "POST /api/v1/crises": only(
        P, body={"title": "Feu", "kind": "feu", "mode": "real", "communes": ["80001"]}
    ),
    "GET /api/v1/crises": anyone(),
    "GET /api/v1/crises/{crisis_id}": anyone(),
    "GET /api/v1/crises/{crisis_id}/clocks": anyone(),
    "GET /api/v1/crises/{crisis_id}/journal": anyone(),
    "POST /api/v1/crises/{crisis_id}/journal": only(P, V, C, OP, body=CABINET),
    "POST /api/v1/crises/{crisis_id}/cell/activate": only(P),
    "POST /api/v1/crises/{crisis_id}/cell/acknowledgements": anyone(
        "chacun pour soi, dans un rôle d'astreinte qu'il tient (défense 3)"
    ),
    "POST /api/v1/crises/{crisis_id}/cell/operational": only(P, C),
    "POST /api/v1/crises/{crisis_id}/cod": only(
        P, body={"activated_at": LATER, "synergi_ref": "S", "decided_by": "Préfète"}
    ),
    "POST /api/v1/crises/{crisis_id}/checklist/{item}/done": only(P, V, C, OP),
    "DELETE /api/v1/crises/{crisis_id}/checklist/{item}/done": only(P, V, C, OP),
    "POST /api/v1/crises/{crisis_id}/close": only(P),
    "GET /api/v1/crises/{crisis_id}/es48/missing": anyone(),
    "GET /": anyone(),
    "GET /fragments/evenements": anyone(),
    "GET /evenements/nouveau": only(P),
    "POST /evenements/nouveau": only(P, body={"title": "Feu", "kind": "feu", "mode": "real"}),
    "GET /evenements/{crisis_id}": anyone(),
    "GET /fragments/evenements/{crisis_id}/tableau": anyone(),
    "GET /fragments/evenements/{crisis_id}/main-courante": anyone(),
    "GET /evenements/{crisis_id}/main-courante": anyone(),
    "POST /evenements/{crisis_id}/main-courante": only(P, V, C, OP, body=CABINET),
    "GET /main-courante": anyone(),
    "POST /evenements/{crisis_id}/cellule": only(P),
    "POST /evenements/{crisis_id}/cellule/operationnelle": only(P, C),
    "POST /evenements/{crisis_id}/cellule/reponse": anyone("chacun pour soi"),
    "POST /evenements/{crisis_id}/cod": only(
        P, body={"activated_at": "2026-11-28T14:30", "synergi_ref": "S", "decided_by": "P"}
    ),
    "POST /evenements/{crisis_id}/liste/{position}": only(P, V, C, OP),
    "POST /evenements/{crisis_id}/cloture": only(P),
    "GET /evenements/{crisis_id}/bilan": anyone(),
    "GET /evenements/{crisis_id}/bilan.html": anyone(),
    "GET /evenements/{crisis_id}/synthese.pdf": anyone("409 avant la clôture"),
    "GET /evenements/{crisis_id}/es48-manquants": anyone(),
    # --- bulletins
    "POST /api/v1/crises/{crisis_id}/bulletins": only(C, body=DRAFT),
    "GET /api/v1/crises/{crisis_id}/bulletins": anyone(),
    "POST /api/v1/bulletins/preview": anyone("un aperçu : rien n'est écrit"),
    "GET /api/v1/bulletins/{bulletin_id}": anyone(),
    "PATCH /api/v1/bulletins/{submitted_id}": only(C, body=DRAFT),
    "POST /api/v1/bulletins/{submitted_id}/submit": only(C),
    "POST /api/v1/bulletins/{submitted_id}/approve": only(V, P),
    "POST /api/v1/bulletins/{submitted_id}/reject": only(V, P, body={"reason": "Non."}),
    "POST /api/v1/bulletins/{approved_id}/publish": only(C),
    "GET /api/v1/bulletins/{bulletin_id}/recipients": anyone(),
    "POST /api/v1/bulletins/{submitted_id}/test": only(C, V, P),
    "GET /api/v1/bulletins/{bulletin_id}/deliveries": anyone(),
    "POST /api/v1/deliveries/{delivery_id}/confirm": only(C, OP, body={"method": "phone"}),
    "GET /api/v1/bulletins/{bulletin_id}/fr-alert": only(P),
    "POST /api/v1/bulletins/{bulletin_id}/fr-alert": only(
        P, body={"reference": "FRA-1", "broadcast_at": "2026-11-28T13:00:00+00:00"}
    ),
    "GET /evenements/{crisis_id}/communiques/nouveau": only(C),
    "POST /evenements/{crisis_id}/communiques/nouveau": only(C, body=DRAFT),
    "POST /evenements/{crisis_id}/communiques/apercu": anyone("un aperçu : rien n'est écrit"),
    "GET /communiques/{bulletin_id}": anyone(),
    "GET /communiques/{submitted_id}/modifier": only(C),
    "POST /communiques/{submitted_id}/modifier": only(C, body=DRAFT),
    "POST /communiques/{submitted_id}/soumettre": only(C),
    "POST /communiques/{submitted_id}/valider": only(V, P),
    "POST /communiques/{submitted_id}/rejeter": only(V, P, body={"reason": "Non."}),
    "POST /communiques/{submitted_id}/test": only(C, V, P),
    "GET /communiques/{bulletin_id}/publier": anyone("confirmation : renvoie au communiqué"),
    "POST /communiques/{approved_id}/publier": only(C),
    "GET /communiques/{bulletin_id}/suivi": anyone(),
    "GET /fragments/communiques/{bulletin_id}/suivi": anyone(),
    "GET /communiques/{bulletin_id}/envois.csv": anyone(),
    "POST /envois/{delivery_id}/appel": only(C, OP),
    "GET /fragments/evenements/{crisis_id}/communiques": anyone(),
    "GET /communiques/{bulletin_id}/fr-alert": only(P),
    "POST /communiques/{bulletin_id}/fr-alert": only(
        P, body={"reference": "FRA-1", "broadcast_at": "2026-11-28T14:00"}
    ),
    # --- CIP
    "POST /api/v1/crises/{crisis_id}/cip": only(P, body={"number": "0 800 10 02 00"}),
    "DELETE /api/v1/crises/{crisis_id}/cip": only(P),
    "GET /api/v1/crises/{crisis_id}/cip": anyone(),
    "POST /api/v1/crises/{crisis_id}/cip/open": only(P, note="un opérateur s'il est chef de salle"),
    "POST /api/v1/crises/{crisis_id}/cip/operators": only(P, OP, body={"role": "operator"}),
    "DELETE /api/v1/crises/{crisis_id}/cip/operators/{shift_id}": only(P, OP),
    "POST /api/v1/crises/{crisis_id}/cip/calls": only(OP, body=CALL),
    "POST /api/v1/crises/{crisis_id}/cip/calls/{call_id}/follow-up/done": only(OP),
    "GET /api/v1/crises/{crisis_id}/cip/faq": anyone(),
    "POST /api/v1/crises/{crisis_id}/cip/faq": only(C, V, body=FAQ),
    "POST /api/v1/crises/{crisis_id}/cip/faq/{entry_id}/approve": only(V, P),
    "POST /api/v1/crises/{crisis_id}/cip/debriefs": anyone("qui a tenu un poste, CIP fermée"),
    "GET /api/v1/crises/{crisis_id}/cip/requests": anyone("adresse masquée selon le rôle"),
    "GET /api/v1/crises/{crisis_id}/cip/requests/{request_id}": anyone(),
    "POST /api/v1/crises/{crisis_id}/cip/requests/{request_id}/take": only(OP, P),
    "POST /api/v1/crises/{crisis_id}/cip/requests/{request_id}/answer": only(
        OP, P, body={"answer": "La route est rouverte."}
    ),
    "GET /evenements/{crisis_id}/cip/demandes/{request_id}": anyone(),
    "POST /evenements/{crisis_id}/cip/demandes/{request_id}/prise": only(OP, P),
    "POST /evenements/{crisis_id}/cip/demandes/{request_id}/reponse": only(
        OP, P, body={"answer": "La route est rouverte."}
    ),
    "GET /api/v1/crises/{crisis_id}/cip/debriefs": anyone(),
    "GET /cip": anyone(),
    "GET /evenements/{crisis_id}/cip": anyone(),
    "GET /fragments/evenements/{crisis_id}/cip": anyone(),
    "GET /fragments/evenements/{crisis_id}/cip/console": anyone(),
    "POST /evenements/{crisis_id}/cip/ordre": only(P, body={"number": "0 800 10 02 00"}),
    "POST /evenements/{crisis_id}/cip/ouverture": only(P),
    "POST /evenements/{crisis_id}/cip/fermeture": only(P),
    "POST /evenements/{crisis_id}/cip/poste": only(P, OP, body={"role": "operator"}),
    "POST /evenements/{crisis_id}/cip/poste/{shift_id}/fin": only(P, OP),
    "POST /evenements/{crisis_id}/cip/appels": only(OP, body=CALL),
    "POST /evenements/{crisis_id}/cip/appels/{call_id}/rappel": only(OP),
    "POST /evenements/{crisis_id}/cip/faq": only(C, V, body=FAQ),
    "POST /evenements/{crisis_id}/cip/faq/{entry_id}/validation": only(V, P),
    "POST /evenements/{crisis_id}/cip/debriefing": anyone("qui a tenu un poste, CIP fermée"),
    # --- directory, roster, geography, channels
    "GET /api/v1/contacts": anyone("données personnelles selon crisis.privacy"),
    "POST /api/v1/contacts": only(A, body=CONTACT),
    "POST /api/v1/contacts/import": only(A),
    "GET /api/v1/contacts/{contact_id}": anyone("données personnelles selon crisis.privacy"),
    "GET /api/v1/contacts/{contact_id}/export": only(A),
    "POST /api/v1/contacts/{contact_id}/erase": only(A),
    "DELETE /api/v1/contacts/{contact_id}": only(A),
    "GET /api/v1/roster/on-duty": anyone(),
    "GET /api/v1/roster/gaps": anyone(),
    "POST /api/v1/roster/shifts": only(A, P, body=SHIFT),
    "GET /api/v1/geo/communes?q=Abbeville": anyone(),
    "GET /api/v1/geo/areas": anyone(),
    "GET /api/v1/geo/arrondissements": anyone(),
    "GET /annuaire": anyone("données personnelles selon crisis.privacy"),
    "GET /annuaire/import": only(A),
    "POST /annuaire/import": only(A),
    "POST /annuaire/import/confirmation": only(A),
    "GET /annuaire/{contact_id}": anyone("données personnelles selon crisis.privacy"),
    "POST /annuaire/{contact_id}/effacer": only(A),
    "GET /astreinte": anyone(),
    "POST /astreinte/tours": only(A, P, body=SHIFT),
    "GET /astreinte/tours/{shift_id}/modifier": only(A, P),
    "POST /astreinte/tours/{shift_id}": only(A, P, body=SHIFT),
    "POST /astreinte/tours/{shift_id}/suppression": only(A, P),
    "POST /astreinte/echange": only(A, P),
    "GET /astreinte/import": only(A, P),
    "POST /astreinte/import": only(A, P),
    "POST /astreinte/import/confirmation": only(A, P),
    "GET /canaux": only(A),
    "GET /fiches-reflexes": anyone(),
    "GET /fiches-reflexes/{key}": anyone(),
    # --- user accounts
    "GET /utilisateurs": only(A),
    "POST /utilisateurs": only(A, body={"login": "nouveau", "display_name": "N", "roles": "admin"}),
    "GET /utilisateurs/{user_id}": only(A),
    "POST /utilisateurs/{user_id}/roles": only(A, body={"roles": "trainer"}),
    "POST /utilisateurs/{user_id}/courriel": only(A, body={"email": "x@prefecture.test"}),
    "POST /utilisateurs/{user_id}/mot-de-passe": only(A),
    "POST /utilisateurs/{user_id}/desactivation": only(A),
    "POST /utilisateurs/{user_id}/jetons/{token_id}/revocation": only(A),
    # --- exercises
    "POST /api/v1/exercises": only(T, body=DRILL),
    "GET /api/v1/exercises": only(T, P),
    "GET /api/v1/exercises/{drill_id}": only(T, P),
    "POST /api/v1/exercises/{drill_id}/launch": only(T),
    "POST /api/v1/exercises/{drill_id}/approve": only(P),
    "POST /api/v1/exercises/{drill_id}/runs/{run_id}/confirm": only(T),
    "POST /api/v1/exercises/{drill_id}/runs/{run_id}/stop": only(T, P, body={"reason": "Fin."}),
    "GET /api/v1/exercises/{drill_id}/runs/{run_id}/report": only(T, P),
    "GET /api/v1/exercises/{drill_id}/injects": only(T, P),
    "POST /api/v1/exercises/{drill_id}/injects": only(T, body=INJECT),
    "PUT /api/v1/exercises/{drill_id}/injects/{inject_id}": only(T, body=INJECT),
    "DELETE /api/v1/exercises/{drill_id}/injects/{inject_id}": only(T),
    "POST /api/v1/exercises/{drill_id}/runs/{run_id}/injects/{inject_id}/release": only(T),
    "POST /api/v1/exercises/{drill_id}/runs/{run_id}/injects/{inject_id}/done": only(T),
    "POST /api/v1/exercises/{drill_id}/runs/{run_id}/injects/pause": only(T),
    "POST /api/v1/exercises/{drill_id}/runs/{run_id}/injects/resume": only(T),
    "GET /exercices/nouveau": only(T),
    "POST /exercices/nouveau": only(T, body={"title": "Test", "kind": "on_call"}),
    "GET /exercices": only(T, P),
    "GET /exercices/{drill_id}": only(T, P),
    "POST /exercices/{drill_id}/lancer": only(T),
    "POST /exercices/{drill_id}/approuver": only(P),
    "POST /exercices/{drill_id}/seances/{run_id}/confirmer": only(T),
    "POST /exercices/{drill_id}/seances/{run_id}/arreter": only(T, P, body={"reason": "Fin."}),
    "POST /exercices/{drill_id}/injects": only(T, body=INJECT),
    "POST /exercices/{drill_id}/injects/{inject_id}/modifier": only(T, body=INJECT),
    "POST /exercices/{drill_id}/injects/{inject_id}/supprimer": only(T),
    # a `{name=value}` parameter is filled with that value (the route takes a word, not an id)
    "POST /exercices/{drill_id}/seances/{run_id}/injects/{inject_id}/{verb=declencher}": only(T),
    "POST /exercices/{drill_id}/seances/{run_id}/injects/{inject_id}/{verb=fait}": only(T),
    "POST /exercices/{drill_id}/seances/{run_id}/injects/{verb=suspendre}": only(T),
    "POST /exercices/{drill_id}/seances/{run_id}/injects/{verb=reprendre}": only(T),
    "GET /exercices/{drill_id}/seances/{run_id}/pilotage": only(T, P),
    "GET /fragments/exercices/{drill_id}/seances/{run_id}/pilotage": only(T, P),
    "POST /exercices/{drill_id}/seances/{run_id}/annuler": only(T),
    "GET /exercices/{drill_id}/modifier": only(T),
    "POST /exercices/{drill_id}/modifier": only(T, body={"title": "Renommé"}),
    "POST /exercices/{drill_id}/supprimer": only(T, body={"confirm": "on"}),
    "POST /exercices/{drill_id}/scenario": only(T),
    "GET /exercices/tendances/{kind=on_call}.png": only(T, P),
    "PATCH /api/v1/exercises/{drill_id}": only(T, body={"title": "Renommé"}),
    "DELETE /api/v1/exercises/{drill_id}": only(T),
    "POST /api/v1/exercises/{drill_id}/injects/scenario": only(T),
    "POST /api/v1/exercises/{drill_id}/runs/{run_id}/cancel": only(T),
    "GET /exercices/{drill_id}/seances/{run_id}": only(T, P),
    "POST /exercices/{drill_id}/seances/{run_id}/notes": only(T, P, body={"text": "Note."}),
    "GET /exercices/{drill_id}/seances/{run_id}/bilan.pdf": only(T, P),
    "GET /exercices/{drill_id}/seances/{run_id}/chronologie.png": only(T, P),
}


def route_of(key: str) -> tuple[str, str]:
    """`"POST /a/{x}?q=1"` → `("POST", "/a/{x}")`: the app's own template for the row."""
    method, _, url = key.partition(" ")
    path = url.split("?", 1)[0]
    for alias, name in (("submitted_id", "bulletin_id"), ("approved_id", "bulletin_id")):
        path = path.replace("{" + alias + "}", "{" + name + "}")
    return method, re.sub(r"\{(\w+)=[^}]*\}", r"{\1}", path)
