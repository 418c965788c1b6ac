"""Small generated import files for the directory tests."""

from __future__ import annotations

import io

RNE_HEADER = [
    "Code du département", "Libellé du département", "Code de la commune",
    "Libellé de la commune", "Nom de l'élu", "Prénom de l'élu", "Code sexe",
    "Date de naissance", "Code de la catégorie socio-professionnelle",
    "Libellé de la catégorie socio-professionnelle", "Date de début du mandat",
    "Date de début de la fonction",
]  # fmt: skip


def rne_row(commune: str, name: str, first: str, born: str = "01/02/1960") -> list[str]:
    return ["80", "Somme", commune, "Commune", name, first, "M", born, "23", "Cadre",
            "28/06/2020", "04/07/2020"]  # fmt: skip


def rne_file(rows: list[list[str]], *, bom: bool = True, header: list[str] | None = None) -> bytes:
    lines = [";".join(header or RNE_HEADER)] + [";".join(r) for r in rows]
    text = "\r\n".join(lines) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


SOMME_MAYORS = [
    rne_row("80001", "DUPONT", "Jeanne"),  # Abbeville, arrondissement 801
    rne_row("80021", "MARTIN", "Émile", "12/12/1970"),  # Amiens, 802
    rne_row("80620", "LEFÈVRE", "Anne", "03/04/1955"),  # Péronne, 804
]
