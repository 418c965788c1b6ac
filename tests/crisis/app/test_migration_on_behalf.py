"""Migration b7d2e4f6a8c1: earlier acknowledgements recorded by someone else are marked."""

from __future__ import annotations

import sqlalchemy as sa

from crisis.app.db import make_engine
from tests.crisis.app.test_migrations import AT, _migrate, empty_database_url  # noqa: F401

BEFORE, ON_BEHALF = "a7c4e9b2d815", "b7d2e4f6a8c1"
ACKS = [  # person, via, recorded_by → on_behalf once upgraded
    ("user:2", "api", "com", False),  # for oneself
    ("user:1", "api", "com", True),  # the forgery: com answered for the prefect
    ("contact:7", "api", "com", True),  # a contact recorded through the API
    ("contact:8", "link", "astreinte:Valérie", False),  # the person's own link
]


async def test_upgrading_marks_earlier_answers_recorded_for_someone_else_and_downgrading_works(
    empty_database_url: str,  # noqa: F811
) -> None:
    url = empty_database_url
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, url, "upgrade", BEFORE)
            for uid, login in ((1, "prefet"), (2, "com")):
                await connection.execute(
                    sa.text(
                        "INSERT INTO user_account (id, login, display_name, password_hash, roles,"
                        f" active, created_at) VALUES ({uid}, '{login}', '{login}', 'x', '[]',"
                        f" true, {AT})"
                    )
                )
            await connection.execute(
                sa.text(
                    "INSERT INTO crisis (id, title, kind, mode, status, communes, declared_at,"
                    f" declared_by) VALUES (1, 'Crue', 'crue', 'real', 'cell_ordered', '[]', {AT},"
                    " 'prefet')"
                )
            )
            for n, (person, via, recorded_by, _) in enumerate(ACKS):
                await connection.execute(
                    sa.text(
                        "INSERT INTO cell_acknowledgement (crisis_id, duty_role, person, name, at,"
                        f" via, recorded_by) VALUES (1, 'r{n}', :person, 'n', {AT}, :via, :by)"
                    ),
                    {"person": person, "via": via, "by": recorded_by},
                )
        marked = sa.text("SELECT person, on_behalf FROM cell_acknowledgement ORDER BY id")
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, url, "upgrade", ON_BEHALF)
            upgraded = [(p, bool(b)) for p, b in (await connection.execute(marked)).all()]
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, url, "downgrade", BEFORE)
            columns = await connection.run_sync(
                lambda sync: [
                    c["name"] for c in sa.inspect(sync).get_columns("cell_acknowledgement")
                ]
            )
    finally:
        await engine.dispose()
    assert upgraded == [(person, on_behalf) for person, _, _, on_behalf in ACKS]
    assert "on_behalf" not in columns and "recorded_by" in columns
