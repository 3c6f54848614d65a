"""The partner API: keys, earning, consent and redemption, reversal, idempotency, and
problem JSON with stable codes in the caller's language."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select, update

from loyalty import ledger
from loyalty.models import WALLET, JournalEntry, Purchase
from loyalty.verify import verify
from partners import services
from partners.models import Consent, IdempotentRequest, Transaction
from tests.partners.conftest import ADMIN, E164, PHONE, api, consent_code
from vafa.database import utcnow
from vafa.models import SmsMessage


async def balance(sessionmaker, customer_id: int) -> int:
    async with sessionmaker() as db:
        return (await ledger.balances(db, customer_id))[WALLET]


async def earn(client, key, idem="new", **body):
    body = {"phone": PHONE, "amount": 250_000, "receipt": "R-1", **body}
    return await client.post("/api/v1/earn", json=body, headers=api(key, idem))


async def test_a_purchase_at_a_partner_earns_from_its_account(client, sessionmaker, club):
    response = await earn(client, club.key_a)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "earn" and body["points"] == 25 and body["amount"] == 250_000
    assert body["balance"] == 125 and body["receipt"] == "R-1"
    async with sessionmaker() as db:
        purchase = await db.scalar(select(Purchase))
        from partners.models import Partner

        partner = await db.get(Partner, club.a)
        assert purchase.issuer_account_id == partner.account_id
        entry = await db.scalar(select(JournalEntry).where(JournalEntry.kind == "earn", JournalEntry.debit_account_id == partner.account_id))
        assert entry.amount == 25
        assert await verify(db) == []


async def test_a_replayed_earn_changes_the_balance_once(client, sessionmaker, club):
    first = await earn(client, club.key_a, idem="till-1-sale-77")
    again = await earn(client, club.key_a, idem="till-1-sale-77")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert await balance(sessionmaker, club.customer_id) == 125
    # The same key with another body: refused, and nothing moves.
    other = await earn(client, club.key_a, idem="till-1-sale-77", amount=990_000)
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["code"] == "idempotency_key_reused"
    assert await balance(sessionmaker, club.customer_id) == 125
    # Keys are the partner's own: the same key at partner B is a new call.
    at_b = await earn(client, club.key_b, idem="till-1-sale-77")
    assert at_b.status_code == 201 and at_b.json()["id"] != first.json()["id"]


async def test_a_call_that_moves_points_needs_an_idempotency_key(client, sessionmaker, club):
    response = await earn(client, club.key_a, idem=None)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_missing"
    bad = await client.post(
        "/api/v1/earn",
        json={"phone": PHONE, "amount": 1000, "receipt": "x"},
        headers={**api(club.key_a, None), "Idempotency-Key": "with space"},
    )
    assert bad.status_code == 400 and bad.json()["code"] == "idempotency_key_invalid"
    assert await balance(sessionmaker, club.customer_id) == 100


async def test_a_refused_call_leaves_its_key_free(client, sessionmaker, club):
    # A partner that may not enrol: an unknown number is refused, the key not kept.
    response = await earn(client, club.key_a, idem="k1", phone="09350000000")
    assert response.status_code == 404 and response.json()["code"] == "unknown_member"
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(IdempotentRequest)) == 0
    fixed = await earn(client, club.key_a, idem="k1")
    assert fixed.status_code == 201


async def test_a_missing_unknown_or_revoked_key_is_401(client, sessionmaker, club):
    body = {"phone": PHONE}
    assert (await client.post("/api/v1/members/lookup", json=body)).status_code == 401
    wrong = await client.post(
        "/api/v1/members/lookup", json=body, headers={"Authorization": "Bearer vafa_nope"}
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "unauthorized"
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    ok = await client.post("/api/v1/members/lookup", json=body, headers=api(club.key_a, None))
    assert ok.status_code == 200
    async with sessionmaker() as db, db.begin():
        await services.revoke_key(db, actor=ADMIN, key_id=club.key_a_id)
    refused = await client.post("/api/v1/members/lookup", json=body, headers=api(club.key_a, None))
    assert refused.status_code == 401
    refused = await earn(client, club.key_a)
    assert refused.status_code == 401
    assert await balance(sessionmaker, club.customer_id) == 100


async def test_lookup_tells_a_cashier_what_they_need_and_no_more(client, club):
    response = await client.post(
        "/api/v1/members/lookup", json={"phone": "۰۹۱۲ ۱۲۳ ۴۵۶۷"}, headers=api(club.key_a, None)
    )
    assert response.status_code == 200
    assert response.json() == {"first_name": "فاطمه", "tier": "", "points_spendable": 100}
    unknown = await client.post(
        "/api/v1/members/lookup", json={"phone": "09350000000"}, headers=api(club.key_a, None)
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_member"
    malformed = await client.post(
        "/api/v1/members/lookup", json={"phone": "12ab"}, headers=api(club.key_a, None)
    )
    assert malformed.status_code == 422 and malformed.json()["code"] == "invalid_phone"


async def test_errors_speak_the_callers_language(client, club):
    messages = {}
    for language in ("fa", "en", "hy"):
        response = await client.post(
            "/api/v1/members/lookup",
            json={"phone": "09350000000"},
            headers=api(club.key_a, None, language=f"{language}-XX,en;q=0.5"),
        )
        assert response.json()["code"] == "unknown_member"
        messages[language] = response.json()["detail"]
    assert messages["en"] == "No member has this phone number."
    assert re.search("[\u0600-\u06ff]", messages["fa"])
    assert re.search("[\u0530-\u058f]", messages["hy"])


async def redeem(client, key, points, idem="new", **body):
    body = {"phone": PHONE, "points": points, "receipt": "S-1", **body}
    return await client.post("/api/v1/redemptions", json=body, headers=api(key, idem))


async def test_a_consent_code_works_once_only_at_its_partner_only_for_its_points(
    client, sessionmaker, settings, club
):
    asked = await client.post(
        "/api/v1/redemptions/consent", json={"phone": PHONE, "points": 40}, headers=api(club.key_a, None)
    )
    assert asked.status_code == 202, asked.text
    code = await latest_code_6(sessionmaker)
    # Another partner, or other points: not this consent.
    for response in (
        await redeem(client, club.key_b, 40, consent_code=code),
        await redeem(client, club.key_a, 39, consent_code=code),
    ):
        assert response.status_code == 422 and response.json()["code"] == "invalid_consent"
    assert await balance(sessionmaker, club.customer_id) == 100
    done = await redeem(client, club.key_a, 40, consent_code=code)
    assert done.status_code == 201, done.text
    assert done.json()["amount"] == 40 * 800 and done.json()["balance"] == 60
    again = await redeem(client, club.key_a, 40, consent_code=code)  # a new call, used code
    assert again.status_code == 422 and again.json()["code"] == "invalid_consent"
    assert await balance(sessionmaker, club.customer_id) == 60
    # An expired code is refused.
    late = await consent_code(sessionmaker, settings, club.a, 10)
    async with sessionmaker() as db, db.begin():
        await db.execute(update(Consent).values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = await redeem(client, club.key_a, 10, consent_code=late)
    assert expired.status_code == 422 and expired.json()["code"] == "invalid_consent"
    assert await balance(sessionmaker, club.customer_id) == 60
    async with sessionmaker() as db:
        assert await verify(db) == []


async def latest_code_6(sessionmaker) -> str:
    async with sessionmaker() as db:
        message = await db.scalar(
            select(SmsMessage).where(SmsMessage.to == E164).order_by(SmsMessage.id.desc())
        )
    assert message.sensitive and "کافه نادری" in message.body
    return re.search(r"[0-9]{6}", message.body).group(0)


async def test_wrong_consent_codes_are_counted_and_stop_after_five(
    client, sessionmaker, settings, club
):
    code = await consent_code(sessionmaker, settings, club.a, 10)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        response = await redeem(client, club.key_a, 10, consent_code=wrong)
        assert response.json()["code"] == "invalid_consent"
    blocked = await redeem(client, club.key_a, 10, consent_code=code)
    assert blocked.status_code == 429 and blocked.json()["code"] == "too_many_attempts"
    assert await balance(sessionmaker, club.customer_id) == 100


async def test_not_enough_points_is_refused_and_the_consent_stays_usable(
    client, sessionmaker, settings, club
):
    async with sessionmaker() as db, db.begin():
        await ledger.spend(db, customer_id=club.customer_id, points=95, key="test:spend")
    code = await consent_code_unchecked(sessionmaker, settings, club, 50)
    response = await redeem(client, club.key_a, 50, consent_code=code)
    assert response.status_code == 409 and response.json()["code"] == "insufficient_points"
    async with sessionmaker() as db:
        assert (await db.scalar(select(Consent))).used_at is None


async def consent_code_unchecked(sessionmaker, settings, club, points) -> str:
    """A consent made directly (asking checks the balance first)."""
    from partners import till
    from partners.models import Partner

    async with sessionmaker() as db, db.begin():
        partner = await db.get(Partner, club.a)
        _, code = await till.new_consent(db, settings, partner, club.customer_id, points)
    return code


async def test_a_member_code_from_the_portal_identifies_and_consents_once(
    client, sessionmaker, settings, club
):
    from partners import till

    async with sessionmaker() as db, db.begin():
        shown = await till.new_member_code(db, settings, club.customer_id)
    spaced = " ".join(shown.code[i : i + 3] for i in range(0, 10, 3))
    found = await client.post(
        "/api/v1/members/lookup", json={"member_code": spaced}, headers=api(club.key_a, None)
    )
    assert found.status_code == 200 and found.json()["first_name"] == "فاطمه"
    body = {"member_code": shown.code, "points": 30, "receipt": "S-9"}
    done = await client.post("/api/v1/redemptions", json=body, headers=api(club.key_a))
    assert done.status_code == 201, done.text
    again = await client.post("/api/v1/redemptions", json=body, headers=api(club.key_a))
    assert again.status_code == 422 and again.json()["code"] == "invalid_member_code"
    assert await balance(sessionmaker, club.customer_id) == 70


async def test_one_partners_key_cannot_read_or_reverse_anothers_transactions(
    client, sessionmaker, club
):
    made = (await earn(client, club.key_a)).json()
    mine = await client.get(f"/api/v1/transactions/{made['id']}", headers=api(club.key_a, None))
    assert mine.status_code == 200 and mine.json()["id"] == made["id"]
    theirs = await client.get(f"/api/v1/transactions/{made['id']}", headers=api(club.key_b, None))
    assert theirs.status_code == 404 and theirs.json()["code"] == "not_found"
    reverse = await client.post(
        f"/api/v1/transactions/{made['id']}/reverse", json={}, headers=api(club.key_b)
    )
    assert reverse.status_code == 404
    assert await balance(sessionmaker, club.customer_id) == 125
    async with sessionmaker() as db:
        original = await db.get(Transaction, made["id"])
        assert original.reversed == 0


async def test_reversing_an_earn_follows_the_return_rules(client, sessionmaker, club):
    made = (await earn(client, club.key_a, amount=400_000)).json()
    assert made["points"] == 40
    part = await client.post(
        f"/api/v1/transactions/{made['id']}/reverse", json={"amount": 100_000}, headers=api(club.key_a)
    )
    assert part.status_code == 201, part.text
    assert part.json()["kind"] == "reverse" and part.json()["points"] == 10
    assert part.json()["reverses"] == made["id"] and part.json()["balance"] == 130
    too_much = await client.post(
        f"/api/v1/transactions/{made['id']}/reverse", json={"amount": 300_001}, headers=api(club.key_a)
    )
    assert too_much.status_code == 422 and too_much.json()["code"] == "invalid_amount"
    rest = await client.post(f"/api/v1/transactions/{made['id']}/reverse", headers=api(club.key_a))
    assert rest.status_code == 201 and rest.json()["points"] == 30
    assert await balance(sessionmaker, club.customer_id) == 100
    async with sessionmaker() as db:
        assert await verify(db) == []


async def test_reversing_a_redemption_gives_the_points_back_once(
    client, sessionmaker, settings, club
):
    code = await consent_code(sessionmaker, settings, club.a, 30)
    spent = (await redeem(client, club.key_a, 30, consent_code=code)).json()
    url = f"/api/v1/transactions/{spent['id']}/reverse"
    back = await client.post(url, json={}, headers=api(club.key_a))
    assert back.status_code == 201 and back.json()["balance"] == 100
    twice = await client.post(url, json={}, headers=api(club.key_a))
    assert twice.status_code == 409 and twice.json()["code"] == "already_reversed"
    assert await balance(sessionmaker, club.customer_id) == 100
    async with sessionmaker() as db:
        assert await verify(db) == []


async def test_the_consent_sms_is_hidden_from_staff(client, sessionmaker, club):
    await client.post(
        "/api/v1/redemptions/consent", json={"phone": PHONE, "points": 10}, headers=api(club.key_a, None)
    )
    from vafa.sms.outbox import masked_body

    async with sessionmaker() as db:
        message = await db.scalar(select(SmsMessage))
    assert not re.search(r"[0-9]{6}", masked_body(message))

