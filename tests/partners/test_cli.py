"""`vafa partner create`, `vafa partner key create` and `... key revoke`: one JSON
object each; the key printed works against the API until it is revoked."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from sqlalchemy import select

from partners.models import ApiKey, Partner
from vafa.settings import ROOT


def vafa(settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAFA_")}
    env.update(DATABASE_URL=settings.database_url, VAFA_SECRET_KEY=settings.secret_key)
    return subprocess.run(
        [sys.executable, "-m", "vafa.server.cli", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )


async def test_partner_commands_print_json_and_the_key_works_until_revoked(
    client, sessionmaker, settings
):
    made = await asyncio.to_thread(
        vafa, settings, "partner", "create", "--name", "کتاب‌فروشی ثالث", "--earn"
    )
    assert made.returncode == 0, made.stderr
    partner = json.loads(made.stdout)
    assert partner["earn"] is True and partner["redeem"] is False
    async with sessionmaker() as db:
        stored = await db.get(Partner, partner["id"])
        assert "کتاب\u200cفروشی ثالث" in stored.name.values()  # the half-space kept
    key = await asyncio.to_thread(vafa, settings, "partner", "key", "create", str(partner["id"]), "--name", "till 1")
    assert key.returncode == 0, key.stderr
    issued = json.loads(key.stdout)
    assert issued["key"].startswith("vafa_") and len(issued["key"]) >= 5 + 43
    async with sessionmaker() as db:
        row = await db.scalar(select(ApiKey).where(ApiKey.id == issued["id"]))
        assert issued["key"] not in (row.key_hash, row.prefix)  # only its hash is kept
    headers = {"Authorization": f"Bearer {issued['key']}"}
    lookup = await client.post("/api/v1/members/lookup", json={"phone": "09121234567"}, headers=headers)
    assert lookup.status_code == 404 and lookup.json()["code"] == "unknown_member"
    revoked = await asyncio.to_thread(vafa, settings, "partner", "key", "revoke", str(issued["id"]))
    assert revoked.returncode == 0 and json.loads(revoked.stdout)["id"] == issued["id"]
    refused = await client.post("/api/v1/members/lookup", json={"phone": "09121234567"}, headers=headers)
    assert refused.status_code == 401
    missing = await asyncio.to_thread(vafa, settings, "partner", "key", "create", "999999", "--name", "x")
    assert missing.returncode != 0 and "does not exist" in missing.stderr
