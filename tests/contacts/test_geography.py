from __future__ import annotations

import unicodedata

import pytest

from contacts import geography
from contacts.addresses import AddressError, normalise
from crisis.app.db import Database


@pytest.mark.parametrize(
    ("query", "expected"),
    [("abbevil", "Abbeville"), ("epehy", "Épehy"), ("Épehy", "Épehy"), ("80100", "Abbeville")],
)
async def test_communes_are_found_by_prefix_with_or_without_accents(
    db: Database, query: str, expected: str
) -> None:
    async with db.read() as session:
        found = await geography.search_communes(session, q=query, limit=5)
    assert found and found[0].name == expected


async def test_a_word_inside_a_name_matches_after_names_that_start_with_it(db: Database) -> None:
    async with db.read() as session:
        found = await geography.search_communes(session, q="somme", limit=50)
    names = [c.name for c in found]
    assert names and all("somme" in geography.search_key(n) for n in names)


async def test_areas_expand_to_their_communes(db: Database) -> None:
    async with db.read() as session:
        arrondissement = await geography.expand_area(session, arrondissements=["801"])
        departement = await geography.expand_area(session, departements=["80"])
        mixed = await geography.expand_area(session, communes=["80021"], epcis=["200069672"])
        with pytest.raises(geography.AreaError, match="999"):
            await geography.expand_area(session, arrondissements=["999"])
    assert "80001" in arrondissement and "80021" not in arrondissement
    assert len(departement) == 771
    assert mixed == ["80021", "80810"]


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("sms", "06 39 98 00 12", "+33639980012"),
        ("sms", "+33 7 53 01 12 34", "+33753011234"),
        ("phone", "03 53 01 00 01", "+33353010001"),
        ("email", "Jean.Dupont@SANDBOX.tocsin.test", "Jean.Dupont@sandbox.tocsin.test"),
        ("telegram", "7100000001", "7100000001"),
        ("matrix", "@jean.dupont:sandbox.tocsin.test", "@jean.dupont:sandbox.tocsin.test"),
    ],
)
def test_addresses_are_normalised(kind: str, text: str, expected: str) -> None:
    assert normalise(kind, text) == expected


@pytest.mark.parametrize(
    ("kind", "text"),
    [("sms", "03 22 00 00 00"), ("sms", "12"), ("email", "a@b"), ("matrix", "jean"),
     ("telegram", "@jean")],
)  # fmt: skip
def test_malformed_addresses_are_refused(kind: str, text: str) -> None:
    with pytest.raises(AddressError):
        normalise(kind, text)


def _reference_search_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    for sep in ("-", "'", "’", "."):
        bare = bare.replace(sep, " ")
    return " ".join(bare.split())


def test_search_key_folds_each_character_as_a_whole_string_normalisation_would() -> None:
    samples = [
        "Épehy", "Jean-Émile d'Arc", "L’Étoile", "ŒUVRE ﬁnale", "İstanbul", "ΟΔΥΣΣΕΥΣ’Α",
        "e\u0301\u0323t\u0308", "Saint-Quentin-en-Tourmont", "  A.B  ", "한국", "",
    ]  # fmt: skip
    for text in samples:
        assert geography.search_key(text) == _reference_search_key(text), text
