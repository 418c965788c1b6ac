"""A minimal valid playbook, as text, that tests bend into the shape they need."""

from __future__ import annotations

from pathlib import Path

BODY = """\
      Situation : {{ situation }}
      Communes concernées : {{ communes }}
      Consignes :
      {{ consignes }}
      Pour en savoir plus : {{ lien }}
      Prochain point : {{ prochain_point }}."""


def template(key: str, audience: str, *, body: str = BODY, channel: str | None = None) -> str:
    channel_line = f"    channel: {channel}\n" if channel else ""
    return (
        f"  - key: {key}\n"
        "    purpose: first_information\n"
        f"    audience: {audience}\n"
        f"{channel_line}"
        '    title: "Crue de la Somme : consignes"\n'
        "    body: |\n"
        f"{body}\n"
    )


def playbook_text(
    *,
    key: str = "essai",
    kind: str = "essai",
    channels: str = "[email, telegram]",
    templates: str | None = None,
    extra_placeholders: str = "",
    due_min: int = 30,
) -> str:
    if templates is None:
        templates = (
            template("elus", "officials")
            + template("medias", "media")
            + template("public", "public")
        )
    return f"""\
# yaml-language-server: $schema=../schema/playbook.schema.json
key: {key}
title: Fiche d'essai
kind: {kind}
summary: Une fiche minimale pour les tests.
audiences: [officials, media, public]
channels: {channels}
cap:
  category: Met
  event: Crue
  urgency: Expected
  severity: Minor
  certainty: Likely
placeholders:
  situation:
    type: text
    label: Situation
    sample: La Somme déborde.
    longest: La Somme déborde entre Amiens et Abbeville.
  communes:
    type: communes
    label: Communes concernées
    sample: [Amiens]
    longest: [Amiens, Abbeville, Péronne]
  consignes:
    type: instructions
    label: Consignes
    default:
      - Restez chez vous.
  lien:
    type: url
    label: Page publique
    sample: https://www.somme.gouv.fr/crue
    longest: https://www.somme.gouv.fr/crue/point-de-situation
  prochain_point:
    type: next_update
    label: Prochain point
    sample: "2025-01-27T18:00:00+01:00"
    longest: "2025-01-27T18:00:00+01:00"
{extra_placeholders}checklist:
  - title: Ordonner la cellule
    role: prefect
    due_min: 0
    action: order_cell
  - title: Publier la première information
    role: communicator
    due_min: {due_min}
    action: publish_first_bulletin
templates:
{templates}"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def line_number(text: str, fragment: str, *, occurrence: int = 1) -> int:
    """1-based line of the `occurrence`-th line containing `fragment`."""
    hits = [index for index, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return hits[occurrence - 1]
