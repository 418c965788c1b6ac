"""Issue 18 item 3 (checklist): a step waiting for its trigger is not red from the declaration;
it reads « en attente de … », and its deadline counts from the trigger once it happened."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx

from crisis.app.clock import paris
from crisis.app.db import Database
from tests.crisis.app.web_session import declare_from_form, log_in
from tests.support import FrozenClock, make_user

FIRST = "Publier la première information vers les élus, les médias et le public"
OPERATIONAL = "Déclarer la cellule de communication opérationnelle (effectif minimal présent)"
WATCH = "Relever la vigilance Vigicrues"


def _row(page: str, title: str) -> str:
    rows = re.findall(r"<tr class=\"[^\"]*\">.*?</tr>", page, flags=re.S)
    [row] = [r for r in rows if title in r]
    return html.unescape(" ".join(row.split()))


async def test_steps_wait_for_their_trigger_then_count_their_deadline_from_it(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefete", "prefect")
    csrf = await log_in(client, prefect.login, prefect.password)
    declared = await declare_from_form(client, csrf, "Crue de l'Avre à Montdidier")
    page = declared.headers["location"]
    clock.advance(minutes=45)
    before = (await client.get(page)).text
    assert _row(before, WATCH).startswith('<tr class="tocsin-overdue">')  # H + 10: late
    for title, trigger in (
        (FIRST, "en attente de l'activation du COD"),
        (OPERATIONAL, "en attente de l'ordre d'activer la cellule"),
    ):
        row = _row(before, title)
        assert row.startswith('<tr class="">') and trigger in row, row

    cod_at = clock.now()
    answer = await client.post(
        f"{page}/cod",
        data={
            "activated_at": paris(cod_at).strftime("%Y-%m-%dT%H:%M"),
            "synergi_ref": "SYN-80-0412",
            "decided_by": "Mme la préfète",
            "csrf_token": csrf,
        },
    )
    assert answer.status_code == 303
    clock.advance(minutes=39)
    after = _row((await client.get(page)).text, FIRST)
    due = paris(cod_at.replace(second=0, microsecond=0) + timedelta(minutes=40))
    assert after.startswith('<tr class="">') and "COD + 40 min" in after
    assert due.strftime("%H h %M") in after and "en attente" not in after
    assert "en attente de l'ordre" in _row((await client.get(page)).text, OPERATIONAL)
    clock.advance(minutes=2)
    assert _row((await client.get(page)).text, FIRST).startswith('<tr class="tocsin-overdue">')
