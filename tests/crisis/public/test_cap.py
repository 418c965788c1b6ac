"""Every bulletin published to the public is also a CAP 1.2 alert, valid against the official
schema, at `/public/cap/{public_id}.xml` (issue 21 item 1)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from crisis.app.db import Database
from crisis.public.bulletin import DEFAULT_CAP, Commune, PublicBulletin, Reference, Version
from crisis.public.cap import Publisher, cap_xml
from crisis.vocabulary import CrisisMode
from playbooks import CapInfo
from tests.crisis.public.support import CAP, story, text, valid_cap
from tests.support import FrozenClock, make_user

SENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
PUBLISHER = Publisher(
    sender="tocsin@tocsin.test",
    name="Préfecture de la Somme",
    base_url="https://tocsin.test",
    contact="Préfecture de la Somme — https://tocsin.test",
)


async def test_a_public_bulletin_is_a_valid_cap_alert_with_the_playbooks_values(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    told = await story(db, clock)
    response = await client.get(f"/public/cap/{told.alert}.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/cap+xml")
    root = valid_cap(response.content)
    assert text(root, "cap:identifier") == f"tocsin-{told.alert}"
    assert text(root, "cap:sender") == "tocsin@tocsin.test"
    for name in ("cap:identifier", "cap:sender"):
        assert " " not in text(root, name) and "," not in text(root, name)
    assert text(root, "cap:sent") == "2026-11-28T15:00:00+01:00"  # 14:00 UTC, Paris winter
    assert (text(root, "cap:status"), text(root, "cap:msgType")) == ("Actual", "Alert")
    assert text(root, "cap:scope") == "Public" and root.find(f"{CAP}note") is None
    info = root.findall(f"{CAP}info")
    assert len(info) == 1 and text(info[0], "cap:language") == "fr-FR"
    playbook_values = [
        text(info[0], f"cap:{n}") for n in ("category", "event", "urgency", "severity", "certainty")
    ]
    assert playbook_values == ["Met", "Crue", "Expected", "Severe", "Likely"]  # crue.yaml
    assert text(info[0], "cap:headline") == "Crue : premières consignes"
    assert "la Somme déborde" in text(info[0], "cap:description")
    assert text(info[0], "cap:instruction") == "ne vous engagez pas sur les routes inondées."
    assert text(info[0], "cap:web") == f"https://tocsin.test/public/bulletins/{told.alert}"
    assert "Préfecture de la Somme" in text(info[0], "cap:contact")
    area = info[0].find(f"{CAP}area")
    assert area is not None and text(area, "cap:areaDesc") == "Abbeville, Amiens"
    geocodes = [
        (text(g, "cap:valueName"), text(g, "cap:value")) for g in area.findall(f"{CAP}geocode")
    ]
    assert geocodes == [("INSEE", "80001"), ("INSEE", "80021")]


async def test_an_update_and_a_cancellation_reference_the_public_bulletins_they_replace(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    told = await story(db, clock)
    update = valid_cap((await client.get(f"/public/cap/{told.update}.xml")).content)
    assert text(update, "cap:msgType") == "Update"
    # the mayors' bulletin it also updates is not named: it has no public existence
    assert text(update, "cap:references") == (
        f"tocsin@tocsin.test,tocsin-{told.alert},2026-11-28T15:00:00+01:00"
    )
    cancel = valid_cap((await client.get(f"/public/cap/{told.cancel}.xml")).content)
    assert text(cancel, "cap:msgType") == "Cancel"
    assert text(cancel, "cap:references") == (
        f"tocsin@tocsin.test,tocsin-{told.update},2026-11-28T15:30:00+01:00"
    )
    assert text(cancel, "cap:sent") == "2026-11-28T16:00:00+01:00"


async def test_only_public_bulletins_have_a_cap_file_and_exercises_only_in_exercise_mode(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    told = await story(db, clock)
    assert (await client.get(f"/public/cap/{told.mayors}.xml")).status_code == 404
    assert (await client.get(f"/public/cap/{told.alert}.xml?mode=exercise")).status_code == 404
    drill = await story(db, clock, mode=CrisisMode.EXERCISE, directory=False)
    assert (await client.get(f"/public/cap/{drill.alert}.xml")).status_code == 404
    shown = await client.get(f"/public/cap/{drill.alert}.xml?mode=exercise")
    root = valid_cap(shown.content)
    assert text(root, "cap:status") == "Exercise"
    assert text(root, "cap:note") == "EXERCICE — Crue de la Somme"
    assert text(root, "cap:info/cap:headline").startswith("EXERCICE EXERCICE EXERCICE")
    assert text(root, "cap:info/cap:web").endswith("?mode=exercise")


async def test_the_api_gives_the_cap_address_of_a_public_bulletin_only(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    told = await story(db, clock)
    reader = await make_user(db, clock, "lecteur", "communicator")
    shown = await client.get(f"/api/v1/bulletins/{told.alert_id}", headers=reader.headers)
    assert shown.json()["cap_url"] == f"https://tocsin.test/public/cap/{told.alert}.xml"


_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
    max_size=200,
)


@settings(max_examples=60, deadline=None)
@given(
    title=_text,
    body=_text,
    msg_type=st.sampled_from(["alert", "update", "cancel"]),
    exercise=st.booleans(),
    published=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
    references=st.integers(min_value=0, max_value=3),
    communes=st.lists(st.sampled_from(["80001", "80021", "2A004", "75056"]), max_size=4),
    cap=st.sampled_from(
        [DEFAULT_CAP, CapInfo("Geo", "Séisme", "Immediate", "Extreme", "Observed")]
    ),
    versions=st.lists(st.sampled_from(["en", "falc"]), unique=True).map(sorted),
)
def test_every_alert_validates_against_the_official_schema_whatever_its_text(
    title: str,
    body: str,
    msg_type: str,
    exercise: bool,
    published: datetime,
    references: int,
    communes: list[str],
    cap: CapInfo,
    versions: list[str],
) -> None:
    bulletin = PublicBulletin(
        public_id="AbCdEfGhIjKlMnOpQrSt_-",
        title=title,
        body=body,
        msg_type=msg_type,
        published_at=published,
        exercise=exercise,
        crisis_title="Exercice, de crue",
        crisis_open=True,
        cap=cap,
        communes=tuple(Commune(c, f"Commune {c}") for c in communes),
        earlier=tuple(
            Reference(f"ref{i}xxxxxxxxxxxxxxxxxx", "t", published, "alert")
            for i in range(references)
        ),
        versions=tuple(Version(lang, f"{lang}: {title}", body) for lang in versions),
    )
    root = valid_cap(cap_xml(bulletin, publisher=PUBLISHER))
    languages = [text(i, "cap:language") for i in root.findall(f"{CAP}info")]
    assert languages == ["fr-FR", *({"en": "en-GB", "falc": "fr-FR"}[v] for v in versions)]
    assert SENT.fullmatch(text(root, "cap:sent")) and not text(root, "cap:sent").endswith("Z")
    assert text(root, "cap:status") == ("Exercise" if exercise else "Actual")
    triplets = root.findtext(f"{CAP}references", default="").split()
    assert len(triplets) == references
    assert all(len(t.split(",")) == 3 for t in triplets)
    expected = {"alert": "Alert", "update": "Update", "cancel": "Cancel"}[msg_type]
    assert text(root, "cap:msgType") == (expected if references else "Alert")
