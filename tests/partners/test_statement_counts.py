"""SQL statements per partner API call, pinned so that no change adds any unnoticed
(`tests/loyalty/test_statement_counts.py` pins the counter, the portal's redemption
and its home page).

Before the work on speed (SQLite / PostgreSQL): an earn 43 / 42, a redemption with a
member code 23 / 23. After it (see `tests/loyalty/test_statement_counts.py` for what
changed): 26 / 25 and 22 / 22.
"""

from __future__ import annotations

from partners import till
from tests.loyalty.test_statement_counts import counting
from tests.partners.conftest import PHONE, api

LIMITS = {
    "sqlite": {"earn": 26, "redeem": 22},
    "postgres": {"earn": 25, "redeem": 22},
}


async def test_statements_per_api_earn_and_redemption(client, sessionmaker, club, settings, db_kind):
    body = {"phone": PHONE, "amount": 250_000, "receipt": "R-0"}
    assert (await client.post("/api/v1/earn", json=body, headers=api(club.key_a))).status_code == 201
    counts: dict[str, int] = {}
    with counting() as sql:
        response = await client.post(
            "/api/v1/earn", json={**body, "receipt": "R-1"}, headers=api(club.key_a)
        )
        assert response.status_code == 201, response.text
    counts["earn"] = len(sql)
    earn_sql = list(sql)

    codes = []
    async with sessionmaker() as s, s.begin():
        for _ in range(2):
            codes.append((await till.new_member_code(s, settings, club.customer_id)).code)
    first = {"points": 5, "receipt": "P-0", "member_code": codes[0]}
    # The first code was replaced by the second: ask with the second, twice over.
    async with sessionmaker() as s, s.begin():
        codes.append((await till.new_member_code(s, settings, club.customer_id)).code)
    response = await client.post(
        "/api/v1/redemptions", json={**first, "member_code": codes[2]}, headers=api(club.key_a)
    )
    assert response.status_code == 201, response.text
    async with sessionmaker() as s, s.begin():
        code = (await till.new_member_code(s, settings, club.customer_id)).code
    with counting() as sql:
        response = await client.post(
            "/api/v1/redemptions",
            json={"points": 5, "receipt": "P-1", "member_code": code},
            headers=api(club.key_a),
        )
        assert response.status_code == 201, response.text
    counts["redeem"] = len(sql)

    print(f"\nSQL statements on {db_kind}: {counts}")
    for line in earn_sql:
        print("  earn:", " ".join(line.split())[:120])
    for line in sql:
        print("  redeem:", " ".join(line.split())[:120])
    for name, limit in LIMITS[db_kind].items():
        assert counts[name] <= limit, f"{name}: {counts[name]} statements, at most {limit}"
