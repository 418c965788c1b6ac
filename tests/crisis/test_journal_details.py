"""Each journal entry's detail reads as French: a sentence or labelled fields, never raw JSON
(issue 18 item 10)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from crisis.journal_details import OTHER_KEY, describe, searchable_text
from crisis.journal_keys import KEY_LABELS
from crisis.labels import actor_label, count

ROOT = Path(__file__).resolve().parents[2]


def _payload_value(node: ast.AST) -> ast.expr | None:
    """What `payload=…`, `payload = …` or `payload: T = …` is given, if `node` is one."""
    if isinstance(node, ast.keyword):
        return node.value if node.arg == "payload" else None
    if isinstance(node, ast.Assign):
        named = any(isinstance(t, ast.Name) and t.id == "payload" for t in node.targets)
        return node.value if named else None
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.value if node.target.id == "payload" else None
    return None


def _payload_keys() -> set[str]:
    """The string keys of every payload dictionary the code writes."""
    found: set[str] = set()
    for package in ("crisis", "contacts"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                value = _payload_value(node)
                if isinstance(value, ast.Dict):
                    found.update(
                        k.value
                        for k in value.keys
                        if isinstance(k, ast.Constant) and isinstance(k.value, str)
                    )
    return found


def test_the_scan_finds_the_keys_of_the_journal_payloads() -> None:
    assert {"bulletin_id", "synergi_ref", "activated_at", "paged"} <= _payload_keys()


def test_every_key_a_journal_payload_carries_has_a_french_label() -> None:
    assert sorted(_payload_keys() - KEY_LABELS.keys()) == []


@pytest.mark.parametrize(
    ("action", "payload", "sentence", "fields"),
    [
        (
            "cell.paged",
            {"paged": [{"role": "communication", "level": 1, "name": "Anne BONNET"}]},
            "Appelés : Anne BONNET (Chargé de communication d'astreinte, niveau 1).",
            [],
        ),
        (
            "cod.activated",
            {
                "activated_at": "2026-11-28T14:10:00+00:00",
                "synergi_ref": "SYN-80-1",
                "decided_by": "Mme la préfète",
            },
            "",
            [
                ("Heure de la décision", "28/11/2026 à 15 h 10"),
                ("Référence SYNERGI", "SYN-80-1"),
                ("Décidé par", "Mme la préfète"),
            ],
        ),
        (
            "bulletin.published",
            {
                "bulletin_id": 3,
                "title": "Crue",
                "msg_type": "alert",
                "deliveries": 1,
                "to_call": 2,
                "public": True,
                "exercise": False,
            },
            "Communiqué n° 3 « Crue »",
            [("Type de message", "Alerte"), ("Envois", "1 envoi"), ("À appeler", "2 élus")],
        ),
        (
            "bulletin.submitted",
            {"bulletin_id": 3, "title": "Crue", "status": "submitted", "author": "com"},
            "Communiqué n° 3 « Crue »",
            [("Statut", "Soumis à validation"), ("Auteur", "com")],
        ),
        (
            "cabinet.information",
            {"text": "RD 901 coupée", "occurred_at": "2026-11-28T14:00:00+00:00", "source": None},
            "RD 901 coupée",
            [("Heure du fait", "28/11/2026 à 15 h 00")],
        ),
        (
            "contacts.created",
            {"contact_id": 4, "key": "k", "audience": "media"},
            "",
            [("Contact n°", "4"), ("Clé", "k"), ("Public", "Médias")],
        ),
        (
            "delivery.isolation_refused",
            {"count": 1, "deliveries": [5], "reasons": ["hors liste blanche"]},
            "",
            [("Nombre", "1"), ("Envois", "5"), ("Motifs", "hors liste blanche")],
        ),
    ],
)
def test_each_family_of_actions_reads_as_a_sentence_or_labelled_fields(
    action: str, payload: dict[str, object], sentence: str, fields: list[tuple[str, str]]
) -> None:
    detail = describe(action, payload)
    assert detail.sentence == sentence
    assert detail.fields == fields


def test_a_payload_nobody_foresaw_still_reads_without_braces_or_raw_booleans() -> None:
    detail = describe("something.new", {"nested": {"a": True, "b": None}, "list": [1, 2]})
    shown = " ".join(f"{label} {value}" for label, value in detail.fields)
    assert "{" not in shown and "True" not in shown and "None" not in shown
    assert shown == f"{OTHER_KEY} {OTHER_KEY} : oui {OTHER_KEY} 1, 2"


def test_french_plural_agrees_with_the_number() -> None:
    assert [count(n, "segment", "segments") for n in (0, 1, 2)] == [
        "0 segment",
        "1 segment",
        "2 segments",
    ]


@pytest.mark.parametrize(
    ("login", "shown"),
    [
        ("tocsin", "Tocsin (automatique)"),
        ("astreinte:Anne BONNET", "Anne BONNET (astreinte)"),
        ("sms:+33639980077", "+33639980077 (SMS)"),
        ("prefet", "prefet"),
        ("anonyme", "Anonyme"),
    ],
)
def test_the_journals_actors_read_as_people(login: str, shown: str) -> None:
    assert actor_label(login) == shown


def test_a_search_looks_into_the_entry_as_shown() -> None:
    text = searchable_text("cell.acknowledged", "astreinte:Anne BONNET", {"role": "validator"})
    assert "Réponse d'astreinte" in text and "Anne BONNET (astreinte)" in text
    assert "Valideur d'astreinte" in text


def test_an_entry_in_a_shape_its_renderer_does_not_expect_still_reads_field_by_field() -> None:
    detail = describe("clock.alert_sent", {"clock": "ES47", "recipients": 2.5})
    assert detail.sentence == ""
    assert [label for label, _ in detail.fields] == ["Horloge", "Destinataires"]
