"""Incoming SMS the way Kavenegar forwards them (GET and POST), answered by the codes:
matching after folding, replies in the outbox from the line, contacts, joining the
club, coupons, opt-out, the throttle and the daily budget."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from customers.models import ConsentChange, Customer
from loyalty import ledger
from loyalty.verify import verify
from sms_codes import inbound, jobs, services
from sms_codes.models import CodeAction, Contact, Coupon, Inbound, Line, Suppression
from tests.admin.test_staff import make_staff, staff_login
from tests.conftest import WEBHOOK_SECRET, make_settings, post_form
from tests.loyalty.helpers import bonus_rule, tier
from tests.vafa.test_concurrency import live_client
from vafa.actor import SYSTEM
from vafa.i18n import translate
from vafa.models import SmsMessage
from vafa.server.app import create_app

LINE = "10001000"
HOOK = f"/hooks/sms/kavenegar/{WEBHOOK_SECRET}"
SENDER = "09121234567"
E164 = "+989121234567"
ids = itertools.count(1)

CARD = {"fa": "کافه وفا، ولیعصر", "en": "Cafe Vafa, Valiasr"}
JOIN = {"fa": "خوش آمدید! امتیاز شما: {balance}", "en": "Welcome! Points: {balance}"}
BALANCE = {"fa": "{name} عزیز، امتیاز: {balance}، سطح: {tier}", "en": "{name}: {balance}, {tier}"}
COUPON = {"fa": "کد تخفیف شما: {coupon}", "en": "Your code: {coupon}"}


async def set_up_line(sessionmaker, **line_values) -> int:
    async with sessionmaker() as s, s.begin():
        line = await services.create_line(
            s,
            actor=SYSTEM,
            number=LINE,
            values={
                "name": "کافه",
                "unknown_reply": {"fa": "کد نامعتبر", "en": "Unknown code"},
                "repeat_reply": {"fa": "قبلاً فرستاده‌اید: {coupon}"},
                "invite_reply": {"fa": "عضو نیستید؛ «عضویت» را بفرستید"},
                **line_values,
            },
        )
        for name, action, words, replies, marketing, pool in (
            ("card", CodeAction.CARD, ["100"], CARD, False, None),
            ("join", CodeAction.JOIN, ["عضویت", "join"], JOIN, False, None),
            ("balance", CodeAction.BALANCE, ["امتیاز"], BALANCE, False, None),
            ("coupon", CodeAction.COUPON, ["تخفیف"], COUPON, True, 2),
        ):
            await services.save_code(
                s,
                actor=SYSTEM,
                line_id=line.id,
                code_id=None,
                name=name,
                action=action,
                keywords=words,
                replies=replies,
                marketing=marketing,
                coupon_pool=pool,
            )
        return line.id


async def text(client, message: str, sender: str = SENDER, *, post: bool = False, **extra):
    """Text the line as Kavenegar forwards it; returns once the server has answered it."""
    params = {"from": sender, "to": LINE, "message": message, "messageid": str(next(ids))}
    params.update(extra)
    if post:
        response = await client.post(HOOK, data=params)
    else:
        response = await client.get(HOOK, params=params)
    assert response.status_code == 200, response.text
    await answered(SESSIONS[0], params["messageid"])
    return response


# `text` waits on the test's own sessions (the app runs in another thread); set for
# every test of this package by its conftest.
SESSIONS: list = []


async def answered(sessionmaker, messageid: str) -> None:
    """The 200 means stored; the process's intake answers it a moment later."""
    for _ in range(500):
        async with sessionmaker() as s:
            done = await s.scalar(
                select(Inbound.processed_at).where(Inbound.messageid == messageid)
            )
        if done is not None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"message {messageid} was not answered")


async def replies(sessionmaker, to: str = E164) -> list[str]:
    async with sessionmaker() as s:
        rows = await s.scalars(
            select(SmsMessage).where(SmsMessage.to == to).order_by(SmsMessage.id)
        )
        return [m.body for m in rows]


async def outcomes(sessionmaker) -> list[str | None]:
    async with sessionmaker() as s:
        return list((await s.scalars(select(Inbound.outcome).order_by(Inbound.id))).all())


@pytest.mark.parametrize(
    ("typed", "post"),
    [("۱۰۰", False), ("١٠٠", True), (" 1 0 0 ", False), ("100", True)],
)
async def test_the_card_comes_back_from_the_line_for_any_digits(
    client, sessionmaker, typed, post
):
    await set_up_line(sessionmaker)
    await text(client, typed, post=post)
    async with sessionmaker() as s:
        reply = await s.scalar(select(SmsMessage))
        contact = await s.scalar(select(Contact))
        stored = await s.scalar(select(Inbound))
    assert (reply.to, reply.sender, reply.body, reply.urgent) == (E164, LINE, CARD["fa"], True)
    assert stored.text == typed and stored.outcome == "replied" and stored.new_contact
    assert (contact.phone, contact.messages, contact.customer_id) == (E164, 1, None)


@pytest.mark.parametrize("typed", ["عضويت", " عضو\u200cیت ", "عضو  یت", "JOIN"])
async def test_joining_by_sms_makes_a_member_with_consent_evidence_and_the_bonus(
    client, sessionmaker, typed
):
    """Arabic yeh, a half-space, spaces and case all name the same code."""
    await set_up_line(sessionmaker)
    async with sessionmaker() as s, s.begin():
        await bonus_rule(s, "signup", 50)
    await text(client, typed, post=True)
    async with sessionmaker() as s:
        member = await s.scalar(select(Customer).where(Customer.phone == E164))
        consent = (await s.scalars(select(ConsentChange))).all()
        wallet = (await ledger.balances(s, member.id))["wallet"]
        contact = await s.scalar(select(Contact))
        stored = await s.scalar(select(Inbound))
        assert await verify(s) == []
    assert member.marketing_consent and member.consent_source == f"sms:{LINE}"
    assert [(c.given, c.source) for c in consent] == [(True, f"sms:{LINE}")]
    assert wallet == 50 and contact.customer_id == member.id and stored.new_member
    language = "en" if typed == "JOIN" else "fa"
    assert member.language == language
    expected = JOIN[language].replace("{balance}", "۵۰" if language == "fa" else "50")
    assert await replies(sessionmaker) == [expected]
    # Joining again: the repeat reply, no second member or bonus.
    await text(client, typed)
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Customer)) == 1
        assert (await ledger.balances(s, member.id))["wallet"] == 50
    assert (await outcomes(sessionmaker))[-1] == "repeat"


async def test_the_balance_is_for_members_others_are_invited(client, sessionmaker):
    await set_up_line(sessionmaker)
    await text(client, "امتیاز")
    assert await replies(sessionmaker) == ["عضو نیستید؛ «عضویت» را بفرستید"]
    async with sessionmaker() as s, s.begin():
        gold = await tier(s, 1, 10, "طلایی")
        member = Customer(phone=E164, name="سارا", language="fa")
        s.add(member)
        await s.flush()
        await ledger.earn(s, customer_id=member.id, points=1200, key="gift")
        from loyalty import tiers

        await tiers.review(s, member.id, tz="Asia/Tehran")
        assert (await tiers.current_tier(s, member.id)).id == gold.id
    await text(client, "امتیاز")
    assert (await replies(sessionmaker))[-1] == "سارا عزیز، امتیاز: ۱٬۲۰۰، سطح: طلایی"


async def test_a_repeated_messageid_is_processed_once(client, sessionmaker):
    await set_up_line(sessionmaker)
    params = {"from": SENDER, "to": LINE, "message": "100", "messageid": "777"}
    for _ in range(3):
        assert (await client.get(HOOK, params=params)).status_code == 200
    assert (await client.post(HOOK, data=params)).status_code == 200
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Inbound)) == 1
        assert (await s.scalar(select(Contact))).messages == 1
    assert len(await replies(sessionmaker)) == 1


async def test_a_wrong_secret_is_404_and_stores_nothing(client, sessionmaker):
    await set_up_line(sessionmaker)
    params = {"from": SENDER, "to": LINE, "message": "100", "messageid": "1"}
    for path in (
        "/hooks/sms/kavenegar/wrong-secret-0123456789abcdef",
        f"/hooks/sms/kavenegar/{WEBHOOK_SECRET[:-1]}",
        f"/hooks/sms/kavenegar/{WEBHOOK_SECRET}x",
        "/hooks/sms/kavenegar/wrong-secret-0123456789abcdef/delivery",
    ):
        assert (await client.get(path, params=params)).status_code == 404
        assert (await client.post(path, data=params)).status_code == 404
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Inbound)) == 0
        assert await s.scalar(select(func.count()).select_from(SmsMessage)) == 0


@pytest.mark.parametrize(
    "params",
    [
        {"from": SENDER, "to": LINE, "message": "100"},  # no messageid
        {"from": SENDER, "message": "100", "messageid": "5"},  # no line
        {"to": LINE, "message": "100", "messageid": "5"},  # no sender
    ],
)
async def test_an_incomplete_message_is_refused_and_stores_nothing(client, sessionmaker, params):
    response = await client.get(HOOK, params=params, headers={"Accept-Language": "fa"})
    assert response.status_code == 400
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Inbound)) == 0


async def test_eleven_stops_advertising_from_the_line_and_twelve_starts_it_again(
    client, sessionmaker
):
    line_id = await set_up_line(sessionmaker)
    async with sessionmaker() as s, s.begin():
        s.add(
            Customer(phone=E164, language="fa", marketing_consent=True, consent_source="portal")
        )
    await text(client, "۱۱")
    await text(client, "11")  # confirmed once
    await text(client, "تخفیف")  # a marketing reply: not sent to this number
    await text(client, "100")  # the card is not advertising: it still goes
    sent = await replies(sessionmaker)
    assert sent == [translate("fa", inbound.OPTED_OUT), CARD["fa"]]
    assert await outcomes(sessionmaker) == ["opt_out", "no_reply", "suppressed", "replied"]
    async with sessionmaker() as s:
        assert await s.get(Suppression, (line_id, E164)) is not None
        member = await s.scalar(select(Customer))
        assert not member.marketing_consent and member.consent_source == f"sms:{LINE}"
        assert await s.scalar(select(func.count()).select_from(Coupon)) == 0
    await text(client, "١٢")
    await text(client, "تخفیف")
    sent = await replies(sessionmaker)
    assert sent[-2] == translate("fa", inbound.OPTED_IN)
    assert sent[-1].startswith("کد تخفیف شما: ") and sent[-1].endswith("\nلغو۱۱")
    # «لغو» works as 11 does.
    await text(client, "لغو")
    assert (await outcomes(sessionmaker))[-1] == "opt_out"


async def test_one_coupon_per_number_from_a_limited_pool(client, sessionmaker):
    await set_up_line(sessionmaker)
    first = "09120000001"
    await text(client, "تخفیف", first)
    await text(client, "تخفیف", first)
    await text(client, "تخفیف", "09120000002")
    await text(client, "تخفیف", "09120000003")  # the pool had two
    async with sessionmaker() as s:
        coupons = (await s.scalars(select(Coupon).order_by(Coupon.id))).all()
    assert [c.phone for c in coupons] == ["+989120000001", "+989120000002"]
    own = await replies(sessionmaker, "+989120000001")
    assert own[0] == f"کد تخفیف شما: {coupons[0].coupon}\nلغو۱۱"
    assert own[1] == f"قبلاً فرستاده‌اید: {coupons[0].coupon}"
    assert await replies(sessionmaker, "+989120000003") == [translate("fa", inbound.SOLD_OUT)]


async def test_a_reply_loop_is_cut_by_the_throttle(client, sessionmaker):
    """Another auto-responder answering ours: a handful of replies, then silence."""
    await set_up_line(sessionmaker)
    for n in range(20):
        await text(client, f"auto reply {n}")
    assert len(await replies(sessionmaker)) == inbound.REPLIES_PER_NUMBER
    assert (await outcomes(sessionmaker)).count("throttled") == 20 - inbound.REPLIES_PER_NUMBER
    # Another number is not held back by it.
    await text(client, "100", "09351112233")
    assert await replies(sessionmaker, "+989351112233") == [CARD["fa"]]


async def test_the_daily_budget_stops_replies_and_nothing_else(client, sessionmaker):
    line_id = await set_up_line(sessionmaker, daily_budget=2)
    for n in range(4):
        await text(client, "100", f"0912000000{n}")
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(SmsMessage)) == 2
        assert await s.scalar(select(func.count()).select_from(Contact)) == 4
        assert (await s.get(Line, line_id)).budget_alerted_on is not None
    assert await outcomes(sessionmaker) == ["replied", "replied", "over_budget", "over_budget"]
    # Staff see it on every page until they raise the budget; then the line answers again.
    await make_staff(sessionmaker, "manager", "manager")
    assert (await staff_login(client, "manager")).status_code == 302
    alert = translate(
        "fa",
        "The SMS line %(line)s has reached its daily budget (%(budget)s) and answers no "
        "more messages today. Raise the budget to answer again today.",
        line='<bdi dir="ltr" class="text-nowrap">۱۰۰۰۱۰۰۰</bdi>',
        budget="۲",
    )
    for path in ("/admin/", "/admin/customers"):
        assert alert in (await client.get(path)).text
    response = await post_form(
        client, f"/admin/sms-codes/lines/{line_id}", {"daily_budget": "۳", "active": "on"}
    )
    assert response.status_code == 302
    assert 'data-testid="staff-alert"' not in (await client.get("/admin/")).text
    await text(client, "100", "09120000009")
    assert await replies(sessionmaker, "+989120000009") == [CARD["fa"]]


async def test_the_worker_answers_what_the_request_did_not(sessionmaker, settings):
    """A message stored but never processed (the process died after answering 200)."""
    await set_up_line(sessionmaker)
    async with sessionmaker() as s, s.begin():
        message = inbound.clean(messageid="9", sender=SENDER, to=LINE, text="100")
        assert list(await inbound.receive_many(s, [message], source="hook")) == ["9"]
    async with sessionmaker() as s, s.begin():
        assert await jobs.answer_waiting(s, settings, left_after=timedelta(0)) == 1
    async with sessionmaker() as s, s.begin():
        assert await jobs.answer_waiting(s, settings, left_after=timedelta(0)) == 0
    assert await replies(sessionmaker) == [CARD["fa"]]


async def test_a_message_to_an_unknown_line_or_from_a_short_code_is_kept_unanswered(
    client, sessionmaker
):
    await set_up_line(sessionmaker)
    await text(client, "100", to="30004444")
    await text(client, "100", "MCI")
    assert await outcomes(sessionmaker) == ["no_reply", "invalid"]
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(SmsMessage)) == 0


async def test_delivery_reports_mark_the_message(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        s.add(SmsMessage(to=E164, body="x", status="sent", provider_message_id="8830"))
    response = await client.post(f"{HOOK}/delivery", data={"messageid": "8830", "status": "10"})
    assert response.status_code == 200
    async with sessionmaker() as s:
        assert (await s.scalar(select(SmsMessage))).provider_status == 10
    # The SMS log says delivered, not only sent.
    await make_staff(sessionmaker, "agent", "agent")
    assert (await staff_login(client, "agent")).status_code == 302
    log = await client.get("/admin/sms")
    assert f'data-testid="delivery">{translate("fa", "Delivered")}<' in log.text
    bad = await client.get(f"{HOOK}/delivery", params={"messageid": "8830", "status": "ten"})
    assert bad.status_code == 400


async def test_the_same_message_twenty_times_at_once_is_stored_and_answered_once(
    sessionmaker, settings
):
    await set_up_line(sessionmaker)
    app = create_app(make_settings(settings.database_url))
    params = {"from": SENDER, "to": LINE, "message": "تخفیف", "messageid": "4242"}
    async with live_client(app, 20) as clients:
        answers = await asyncio.gather(
            *(
                c.post(HOOK, data=params) if i % 2 else c.get(HOOK, params=params)
                for i, c in enumerate(clients)
            )
        )
        # Answered by the app's intake while the app still runs.
        await answered(sessionmaker, "4242")
    assert [a.status_code for a in answers] == [200] * 20
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Inbound)) == 1
        assert await s.scalar(select(func.count()).select_from(Coupon)) == 1
    assert len(await replies(sessionmaker)) == 1


async def test_a_member_without_a_name_or_tier_is_still_addressed_properly(client, sessionmaker):
    await set_up_line(sessionmaker)
    async with sessionmaker() as s, s.begin():
        s.add(Customer(phone=E164, language="fa"))
    await text(client, "امتیاز")
    expected = BALANCE["fa"].format(
        name=translate("fa", "Member"), balance="۰", tier=translate("fa", "No tier")
    )
    assert await replies(sessionmaker) == [expected]


async def test_a_burst_from_many_numbers_is_stored_in_few_commits_and_all_answered(
    sessionmaker, settings
):
    """Sixty numbers text the card code at once: every request is answered 200 once its
    message is committed, the messages share commits (a group commit), and each number
    gets exactly one reply."""
    await set_up_line(sessionmaker)
    app = create_app(make_settings(settings.database_url))
    senders = [f"0912{n:07d}" for n in range(60)]
    async with live_client(app, len(senders)) as clients:
        answers = await asyncio.gather(
            *(
                c.get(HOOK, params={"from": s, "to": LINE, "message": "100", "messageid": s})
                for c, s in zip(clients, senders, strict=True)
            )
        )
        for sender in senders:
            await answered(sessionmaker, sender)
    assert [a.status_code for a in answers] == [200] * len(senders)
    async with sessionmaker() as s:
        stored_at = (await s.scalars(select(Inbound.received_at))).all()
        sent = (await s.execute(select(SmsMessage.to, SmsMessage.body))).all()
    assert len(stored_at) == len(senders)
    # One commit time per store transaction: fewer commits than messages.
    assert len(set(stored_at)) < len(senders)
    assert sorted(sent) == sorted(("+98" + s[1:], CARD["fa"]) for s in senders)


def test_logs_never_show_the_webhook_secret(settings):
    """The access log line uvicorn writes for a webhook call, and an error naming its
    path, show *** where the secret was."""
    import io
    import logging

    create_app(make_settings(settings.database_url))  # installs the filter
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    loggers = [logging.getLogger(name) for name in ("uvicorn.access", "vafa.web")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        loggers[0].warning(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5555",
            "GET",
            f"{HOOK}?from=0912&to={LINE}&message=100&messageid=1",
            "1.1",
            200,
        )
        loggers[1].error("unhandled error on %s %s", "POST", f"{HOOK}/delivery")
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    text = written.getvalue()
    assert WEBHOOK_SECRET not in text
    assert "/hooks/sms/kavenegar/***?from=0912" in text
    assert "/hooks/sms/kavenegar/***/delivery" in text


async def test_a_budget_of_zero_answers_nothing(client, sessionmaker):
    await set_up_line(sessionmaker, daily_budget=0)
    await text(client, "100")
    assert await replies(sessionmaker) == []
    assert await outcomes(sessionmaker) == ["over_budget"]


async def test_what_a_member_texted_is_on_their_record(client, sessionmaker):
    await set_up_line(sessionmaker)
    await text(client, "عضو\u200cیت ")
    async with sessionmaker() as s:
        member = await s.scalar(select(Customer).where(Customer.phone == E164))
    await make_staff(sessionmaker, "agent", "agent")
    assert (await staff_login(client, "agent")).status_code == 302
    page = await client.get(f"/admin/customers/{member.id}")
    assert page.status_code == 200
    item = translate(
        "fa",
        "Texted «%(text)s» to %(line)s",
        text="<bdi>عضو\u200cیت </bdi>",
        line='<bdi dir="ltr" class="text-nowrap">۱۰۰۰۱۰۰۰</bdi>',
    )
    assert item in page.text
