"""An API key revoked in one process is refused by every other process at once.

Three processes share the database: this test's (which makes the partner), `vafa run`
(which serves the till's calls, and has served this key before) and `vafa partner key
revoke` (the command an owner runs). No process keeps keys in memory: each call reads
its key, so the server's very next call is refused.
"""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from loyalty.models import Purchase
from tests.loyalty.helpers import member
from tests.partners.conftest import E164, PHONE, api, make_partner


async def test_a_key_revoked_by_another_process_is_refused_at_once(server, sessionmaker):
    async with sessionmaker() as db, db.begin():
        _partner, key, key_id = await make_partner(db)
        await member(db, E164)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:

        async def earn(receipt: str) -> httpx.Response:
            body = {"phone": PHONE, "amount": 250_000, "receipt": receipt}
            return await http.post("/api/v1/earn", json=body, headers=api(key))

        for receipt in ("R-1", "R-2"):  # the server has served this key before
            assert (await earn(receipt)).status_code == 201
        revoked = await server.acli("partner", "key", "revoke", str(key_id))
        assert revoked.returncode == 0, revoked.stderr
        refused = await earn("R-3")
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == "unauthorized"
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Purchase)) == 2
