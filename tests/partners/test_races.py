"""The partner API with requests really in flight together (see tests/vafa/
test_concurrency.py's `live_client`), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select

from loyalty import ledger
from loyalty.models import WALLET
from loyalty.verify import verify
from partners import till
from partners.models import IdempotentRequest, Partner, Transaction
from tests.partners.conftest import PHONE, api
from tests.vafa.test_concurrency import live_client


async def test_twenty_twins_of_one_earn_move_points_once(app, sessionmaker, club):
    body = {"phone": PHONE, "amount": 250_000, "receipt": "R-twin"}
    headers = api(club.key_a, idem="sale-twin")
    async with live_client(app) as [client]:
        responses = await asyncio.gather(
            *(client.post("/api/v1/earn", json=body, headers=headers) for _ in range(20))
        )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    done = [r for r in responses if r.status_code == 201]
    assert done and all(r.json() == done[0].json() for r in done)
    replayed = [r for r in done if r.headers.get("idempotent-replayed") == "true"]
    assert len(replayed) == len(done) - 1
    assert all(
        r.json()["code"] == "idempotency_key_in_flight" for r in responses if r.status_code == 409
    )
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Transaction)) == 1
        assert await db.scalar(select(func.count()).select_from(IdempotentRequest)) == 1
        assert (await ledger.balances(db, club.customer_id))[WALLET] == 125
        assert await verify(db) == []


async def test_two_hundred_redemptions_at_once_spend_exactly_what_there_is(
    app, sessionmaker, settings, club
):
    # 100 points cover ten redemptions of 10; each request carries its own consent.
    async with sessionmaker() as db, db.begin():
        partner = await db.get(Partner, club.a)
        codes = [
            (await till.new_consent(db, settings, partner, club.customer_id, 10))[1]
            for _ in range(200)
        ]
    async with live_client(app) as [client]:
        responses = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/redemptions",
                    json={"phone": PHONE, "points": 10, "consent_code": code, "receipt": f"S-{i}"},
                    headers={**api(club.key_a, None), "Idempotency-Key": str(uuid.uuid4())},
                )
                for i, code in enumerate(codes)
            )
        )
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 10, sorted(statuses)
    assert statuses.count(409) == 190, sorted(statuses)
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {
        "insufficient_points"
    }
    async with sessionmaker() as db:
        assert (await ledger.balances(db, club.customer_id))[WALLET] == 0
        assert await db.scalar(select(func.count()).select_from(Transaction)) == 10
        assert await verify(db) == []
