"""French labels for codes shown to people."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channels.kinds import ChannelKind
from contacts.directory import AreaLevel
from crisis.cell.clocks import ClockStatus
from crisis.dispatch.outbox import DeliveryStatus
from crisis.vocabulary import (
    PHONE,
    PUBLIC_PAGE,
    Audience,
    BulletinStatus,
    CabinetEntryKind,
    CrisisMode,
    CrisisStatus,
    MsgType,
)

KIND_LABELS: dict[str, str] = {
    "crue": "Crue / inondation",
    "submersion-marine": "Submersion marine",
    "tempete": "Tempête",
    "canicule": "Canicule",
    "accident-industriel": "Accident industriel",
    "transport-matieres-dangereuses": "Transport de matières dangereuses",
    "pollution-atmospherique": "Pollution atmosphérique",
    "epidemie": "Épidémie",
    "coupure-reseaux": "Coupure de réseaux",
    "cyberattaque": "Cyberattaque",
    "evenement-nucleaire": "Événement nucléaire",
    "autre": "Autre événement",
}

STATUS_LABELS: dict[str, str] = {
    CrisisStatus.DECLARED: "Déclaré",
    CrisisStatus.CELL_ORDERED: "Cellule ordonnée",
    CrisisStatus.CELL_OPERATIONAL: "Cellule opérationnelle",
    CrisisStatus.COD_ACTIVATED: "COD activé",
    CrisisStatus.CLOSED: "Clos",
}

ACTION_LABELS: dict[str, str] = {
    "crisis.declared": "Événement déclaré",
    "crisis.closed": "Événement clos",
    "cell.ordered": "Cellule de communication ordonnée",
    "cell.paged": "Astreinte appelée",
    "cell.nobody_on_duty": "Personne d'astreinte à appeler",
    "exercise.planned": "Exercice programmé",
    "exercise.launched": "Exercice lancé",
    "exercise.missed": "Exercice manqué",
    "exercise.stopped": "STOP EXERCICE",
    "exercise.ended": "Exercice terminé",
    "exercise.notes": "Notes du formateur (bilan)",
    "exercise.approved": "Test de joignabilité approuvé",
    "exercise.reachability_sent": "Test de joignabilité envoyé",
    "exercise.inject_added": "Inject ajouté au scénario",
    "exercise.inject_changed": "Inject modifié",
    "exercise.inject_removed": "Inject supprimé du scénario",
    "exercise.inject_played": "Inject joué à son heure",
    "exercise.inject_released": "Inject déclenché à la main",
    "exercise.inject_done": "Action attendue faite",
    "exercise.injects_paused": "Injects suspendus",
    "exercise.injects_resumed": "Injects repris",
    "exercise.feedback": "Retour d'un participant (questionnaire de fin)",
    "exercise.confirmation_asked": "Confirmation demandée au formateur",
    "exercise.run_cancelled": "Séance annulée par le formateur (sans envoi)",
    "exercise.changed": "Exercice modifié",
    "exercise.deleted": "Exercice supprimé",
    "exercise.archived": "Exercice archivé (séances passées conservées)",
    "cell.acknowledged": "Réponse d'astreinte",
    "reply.unrecognised": "Réponse non reconnue",
    "cell.operational": "Cellule opérationnelle",
    "cod.activated": "Activation du COD enregistrée",
    "cip.ordered": "CIP ordonnée",
    "cip.checked_in": "Prise de poste à la CIP",
    "cip.checked_out": "Fin de poste à la CIP",
    "cip.opened": "CIP ouverte",
    "cip.closed": "CIP fermée",
    "cip.call_logged": "Appel à la CIP enregistré",
    "cip.follow_up_done": "Rappel fait par la CIP",
    "cip.faq_written": "Réponse de FAQ rédigée",
    "cip.faq_approved": "Réponse de FAQ validée",
    "cip.debrief_written": "Débriefing de la CIP écrit",
    "cip.paged": "Astreinte de la CIP appelée",
    "cip.nobody_on_duty": "Personne d'astreinte pour la CIP",
    "cip.page_answered": "Réponse à l'appel d'astreinte de la CIP",
    "cip.request_received": "Demande écrite reçue par la CIP",
    "cip.request_assigned": "Demande écrite prise en charge",
    "cip.request_answered": "Demande écrite répondue",
    "clock.alert_sent": "Alerte d'horloge envoyée",
    "clock.met": "Engagement tenu",
    "checklist.ticked": "Étape cochée",
    "checklist.unticked": "Étape décochée",
    "user.created": "Utilisateur créé",
    "user.email_set": "Courriel d'un compte renseigné",
    "token.issued": "Jeton d'API créé",
    "token.revoked": "Jeton d'API révoqué",
    "auth.login": "Connexion",
    "auth.login_failed": "Échec de connexion",
    "auth.login_throttled": "Connexions ralenties (échecs répétés depuis une adresse)",
    "auth.logout": "Déconnexion",
    "session.revoked": "Session révoquée",
    "user.password_changed": "Mot de passe changé",
    "user.deactivated": "Utilisateur désactivé",
    "user.password_reset": "Mot de passe à usage unique réémis",
    "user.roles_changed": "Rôles d'un utilisateur changés",
    "auth.token_refused": "Jeton d'API refusé",
    "auth.csrf_refused": "Formulaire refusé (jeton CSRF)",
    "refused": "Action refusée",
    "bulletin.created": "Communiqué rédigé",
    "bulletin.edited": "Communiqué modifié",
    "bulletin.submitted": "Communiqué soumis à validation",
    "bulletin.approved": "Communiqué validé",
    "bulletin.rejected": "Communiqué refusé",
    "bulletin.reviewers_notified": "Valideurs de permanence prévenus",
    "bulletin.author_notified": "Auteur prévenu de la décision",
    "bulletin.test_sent": "Envoi d'essai du communiqué",
    "bulletin.published": "Communiqué publié",
    "bulletin.to_call": "Élus à appeler",
    "bulletin.cascade_moved": "Envoi en cascade : canal suivant",
    "bulletin.sends_interrupted": "Envois interrompus par un arrêt, relancés",
    "bulletin.fr_alert": "Diffusion FR-Alert effectuée sur le portail",
    "delivery.confirmed": "Réception confirmée",
    "delivery.isolation_refused": "Envoi bloqué (isolement de l'exercice)",
    "contacts.created": "Contact créé",
    "contacts.imported": "Annuaire importé",
    "contacts.import_refused": "Import de l'annuaire refusé",
    "contacts.exported": "Données d'une personne exportées",
    "contacts.erased": "Données d'une personne effacées",
    "contacts.demo_loaded": "Annuaire de démonstration chargé",
    "roster.shift_added": "Astreinte ajoutée",
    "journal.redacted": "Entrée pseudonymisée (effacement)",
    "cabinet.decision": "Décision",
    "cabinet.information": "Information reçue",
    "cabinet.action": "Action menée",
    "roster.shift_changed": "Tour d'astreinte modifié",
    "roster.shifts_swapped": "Deux tours d'astreinte échangés",
    "roster.shift_deleted": "Tour d'astreinte supprimé",
    "roster.imported": "Tours d'astreinte importés",
    "roster.import_refused": "Import de tours d'astreinte refusé",
}


# The vocabularies' French labels, keyed by the enums (a StrEnum member is its value, so a plain
# string reads them too). Pages, the summary and the API's human-readable fields all read these;
# no other module defines a label for the same values.
AUDIENCE_LABELS: dict[str, str] = {
    Audience.OFFICIALS: "Élus",
    Audience.MEDIA: "Médias",
    Audience.PUBLIC: "Public",
    Audience.STAFF: "Services de l'État",
    Audience.EXERCISE: "Participants à l'exercice",
}
CHANNEL_LABELS: dict[str, str] = {
    ChannelKind.EMAIL: "Courriel",
    ChannelKind.SMS: "SMS",
    ChannelKind.TELEGRAM: "Telegram",
    ChannelKind.MATRIX: "Matrix / Tchap",
    ChannelKind.X: "X",
    ChannelKind.MASTODON: "Mastodon",
    ChannelKind.WEBHOOK: "Site de la préfecture",
    ChannelKind.APPRISE: "Apprise",
    PUBLIC_PAGE: "Page publique",
    PHONE: "Téléphone",
}
"""The sending channels, the public page and the phone (a delivery to call)."""
BULLETIN_STATUS_LABELS: dict[str, str] = {
    BulletinStatus.DRAFT: "Brouillon",
    BulletinStatus.SUBMITTED: "Soumis à validation",
    BulletinStatus.APPROVED: "Validé",
    BulletinStatus.PUBLISHED: "Publié",
}
DELIVERY_STATUS_LABELS: dict[str, str] = {
    DeliveryStatus.PENDING: "En attente",
    DeliveryStatus.SENDING: "En cours d'envoi",
    DeliveryStatus.RETRYING: "Nouvelle tentative",
    DeliveryStatus.SENT: "Envoyé",
    DeliveryStatus.FAILED: "Échec",
    DeliveryStatus.TO_CALL: "À appeler",
    DeliveryStatus.CONFIRMED: "Confirmé",
    DeliveryStatus.CANCELLED: "Annulé",
}
MSG_TYPE_LABELS: dict[str, str] = {
    MsgType.ALERT: "Alerte",
    MsgType.UPDATE: "Mise à jour",
    MsgType.CANCEL: "Annulation",
}
MODE_LABELS: dict[str, str] = {CrisisMode.REAL: "Événement réel", CrisisMode.EXERCISE: "Exercice"}
AREA_LEVEL_LABELS: dict[str, str] = {
    AreaLevel.COMMUNE: "Commune",
    AreaLevel.EPCI: "Intercommunalité (EPCI)",
    AreaLevel.ARRONDISSEMENT: "Arrondissement",
    AreaLevel.DEPARTEMENT: "Département",
}
"""A contact's area of competence (« Département 80 », « Arrondissement 802 »)."""
CLOCK_STATUS_LABELS: dict[str, str] = {
    ClockStatus.RUNNING: "en cours",
    ClockStatus.MET: "tenu",
    ClockStatus.LATE: "tenu en retard",
    ClockStatus.OVERDUE: "non tenu (dépassé)",
    ClockStatus.NOT_STARTED: "non démarré",
}
CLOSED_BEFORE_MET = "non tenu (clos avant d'être tenu)"
"""A clock still running when its crisis closed: the summary never says « en cours »."""
CONFIRMATION_METHOD_LABELS: dict[str, str] = {
    "link": "confirmé par le lien reçu",
    "reply": "confirmé par une réponse",
    PHONE: "confirmé par téléphone",
}
CABINET_KIND_LABELS: dict[str, str] = {
    CabinetEntryKind.DECISION: "Décision",
    CabinetEntryKind.INFORMATION: "Information reçue",
    CabinetEntryKind.ACTION: "Action menée",
}
# CAP 1.2 values (OASIS; `playbooks.model`), as the French public alert vocabulary names them.
CAP_CATEGORY_LABELS: dict[str, str] = {
    "Geo": "géophysique",
    "Met": "météorologique",
    "Safety": "sécurité générale",
    "Security": "sûreté",
    "Rescue": "secours",
    "Fire": "incendie",
    "Health": "santé",
    "Env": "environnement",
    "Transport": "transports",
    "Infra": "infrastructures",
    "CBRNE": "NRBC",
    "Other": "autre",
}
CAP_URGENCY_LABELS: dict[str, str] = {
    "Immediate": "immédiate",
    "Expected": "attendue (dans l'heure)",
    "Future": "à venir",
    "Past": "passée",
    "Unknown": "inconnue",
}
CAP_SEVERITY_LABELS: dict[str, str] = {
    "Extreme": "extrême",
    "Severe": "sévère",
    "Moderate": "modérée",
    "Minor": "mineure",
    "Unknown": "inconnue",
}
CAP_CERTAINTY_LABELS: dict[str, str] = {
    "Observed": "observée",
    "Likely": "probable",
    "Possible": "possible",
    "Unlikely": "peu probable",
    "Unknown": "inconnue",
}
SYSTEM_LOGIN = "tocsin"
ANONYMOUS_LOGIN = "anonyme"
_ACTOR_PREFIXES: dict[str, str] = {"astreinte": "astreinte", **CHANNEL_LABELS}
"""The journal's actors who are not users: a paged person (`astreinte:NAME`), the sender of a
reply (`sms:+336…`)."""


def label_of(table: Mapping[Any, str], code: str) -> str:
    """A code's French label; an unknown code is shown as « code inconnu » rather than raw."""
    return table.get(code, f"code inconnu ({code})" if code else "—")


def count(n: int, singular: str, plural: str) -> str:
    """« 1 segment », « 2 segments », « 0 segment » (French: 0 and 1 take the singular)."""
    return f"{n} {singular if abs(n) < 2 else plural}"


def actor_label(actor: str | None) -> str:
    """Who acted, as a person reads it: « Tocsin (automatique) », « Anne BONNET (astreinte) »."""
    if not actor:
        return "—"
    if actor == SYSTEM_LOGIN:
        return "Tocsin (automatique)"
    if actor == ANONYMOUS_LOGIN:
        return "Anonyme"
    if actor == "destinataire":
        return "Destinataire"
    prefix, sep, rest = actor.partition(":")
    if sep and prefix in _ACTOR_PREFIXES and rest:
        return f"{rest} ({_ACTOR_PREFIXES[prefix]})"
    return actor


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)
