"""SMS transport: outbox rows in the caller's transaction, delivery with retries,
Kavenegar through the real `kavenegar` package (HTTP faked with `responses`)."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from datetime import time, timedelta

import pytest
import requests
import responses
from sqlalchemy import select, update
from urllib3.exceptions import MaxRetryError, NewConnectionError

from tests.conftest import post_form
from vafa.database import utcnow
from vafa.models import SmsMessage
from vafa.settings import ROOT
from vafa.sms import outbox
from vafa.sms.gateway import KavenegarGateway, OutboxGateway, kavenegar_receptor
from vafa.sms.worker import MAX_ATTEMPTS, DeliveryRules, backoff, deliver_due

# These tests are about delivery, not the hour: no quiet hours (see test_sms_delivery.py).
ANYTIME = DeliveryRules(day_start=time(0), day_end=time(0))
API_KEY = "4A6B7C-SECRET-API-KEY-0123456789"
BASE = f"https://api.kavenegar.com/v1/{API_KEY}"


def kavenegar() -> KavenegarGateway:
    return KavenegarGateway(
        api_key=API_KEY, sender="10004346", otp_template="vafa-login", timeout=2
    )


def ok(entries: list[dict]) -> dict:
    return {"return": {"status": 200, "message": "تایید شد"}, "entries": entries}


def fail(status: int, message: str) -> dict:
    return {"return": {"status": status, "message": message}, "entries": None}


async def queue(sessionmaker, *, otp: bool = False) -> int:
    async with sessionmaker() as s, s.begin():
        if otp:
            m = await outbox.queue_otp(s, to="+989121234567", code="493817", language="fa")
        else:
            m = await outbox.queue_text(s, to="+37477123456", body="Բարև, Vafa")
        return m.id


async def row(sessionmaker, message_id: int) -> SmsMessage:
    async with sessionmaker() as s:
        return await s.get(SmsMessage, message_id)


async def test_outbox_message_is_written_with_its_cause_or_not_at_all(sessionmaker):
    with pytest.raises(RuntimeError):
        async with sessionmaker() as s, s.begin():
            await outbox.queue_text(s, to="+989121234567", body="hello")
            raise RuntimeError("the business change failed")
    async with sessionmaker() as s:
        assert (await s.scalars(select(SmsMessage))).all() == []


async def test_outbox_backend_marks_sent(sessionmaker):
    message_id = await queue(sessionmaker)
    assert await deliver_due(sessionmaker, OutboxGateway(), rules=ANYTIME) == 1
    message = await row(sessionmaker, message_id)
    assert message.status == "sent" and message.provider_message_id == f"outbox-{message_id}"
    # Nothing is sent twice.
    assert await deliver_due(sessionmaker, OutboxGateway(), rules=ANYTIME) == 0


@responses.activate
async def test_kavenegar_otp_uses_verify_lookup_and_records_message_id(sessionmaker):
    call = responses.post(
        f"{BASE}/verify/lookup.json",
        json=ok([{"messageid": 8792343, "status": 5, "receptor": "09121234567"}]),
    )
    message_id = await queue(sessionmaker, otp=True)
    assert await deliver_due(sessionmaker, kavenegar(), rules=ANYTIME) == 1
    sent = call.calls[0].request.body
    assert "receptor=09121234567" in sent and "template=vafa-login" in sent
    assert "token=493817" in sent
    message = await row(sessionmaker, message_id)
    assert message.status == "sent" and message.provider_message_id == "8792343"
    assert message.provider_status == 5 and message.backend == "kavenegar"
    assert "493817" not in message.body and message.tokens is None  # code not kept


@responses.activate
async def test_kavenegar_text_uses_sms_send_with_localid(sessionmaker):
    call = responses.post(f"{BASE}/sms/send.json", json=ok([{"messageid": 77, "status": 1}]))
    message_id = await queue(sessionmaker)
    assert await deliver_due(sessionmaker, kavenegar(), rules=ANYTIME) == 1
    body = call.calls[0].request.body
    assert "receptor=0037477123456" in body and f"localid={message_id}" in body
    assert "sender=10004346" in body
    assert (await row(sessionmaker, message_id)).provider_message_id == "77"


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (409, "pending"),
        (418, "pending"),
        (451, "pending"),
        (403, "pending"),
        (411, "failed"),
        (413, "failed"),
        (422, "failed"),
    ],
)
@responses.activate
async def test_kavenegar_statuses_map_to_retry_or_fail(sessionmaker, status, outcome, caplog):
    responses.post(f"{BASE}/sms/send.json", json=fail(status, "خطا"))
    message_id = await queue(sessionmaker)
    with caplog.at_level(logging.DEBUG):
        assert await deliver_due(sessionmaker, kavenegar(), rules=ANYTIME) == 0
    message = await row(sessionmaker, message_id)
    assert message.status == outcome
    assert message.last_error.startswith(f"kavenegar {status}")
    if outcome == "pending":
        assert message.next_attempt_at > utcnow() + timedelta(seconds=20)
    assert API_KEY not in caplog.text


@responses.activate
async def test_network_error_is_retried_and_the_key_never_leaks(sessionmaker, caplog):
    # No connection could be made (what requests raises then): the message never left.
    responses.post(
        f"{BASE}/sms/send.json",
        body=requests.exceptions.ConnectionError(
            MaxRetryError(
                None,
                f"/v1/{API_KEY}/sms/send.json",
                NewConnectionError(None, "Failed to establish a new connection"),
            )
        ),
    )
    message_id = await queue(sessionmaker)
    with caplog.at_level(logging.DEBUG):
        await deliver_due(sessionmaker, kavenegar(), rules=ANYTIME)
    message = await row(sessionmaker, message_id)
    assert message.status == "pending" and message.attempts == 1
    assert API_KEY not in (message.last_error or "") and "***" in message.last_error
    assert API_KEY not in caplog.text
    assert API_KEY not in repr(kavenegar())


@responses.activate
async def test_hung_gateway_call_is_not_sent_again_blindly(sessionmaker):
    """The worker stops waiting, but the request may have arrived: the message stays
    `sending` until its lease ends, then Kavenegar is asked before anything is resent."""
    import time as clock

    sends = []

    def slow(request):
        sends.append(request.body)  # the request has arrived
        clock.sleep(2.0)
        return (200, {}, json.dumps(ok([{"messageid": 1, "status": 1}])))

    responses.add_callback(responses.POST, f"{BASE}/sms/send.json", callback=slow)
    gateway = KavenegarGateway(api_key=API_KEY, sender="", otp_template="t", timeout=0.2)
    message_id = await queue(sessionmaker)
    started = clock.monotonic()
    assert await deliver_due(sessionmaker, gateway, rules=ANYTIME) == 0
    assert clock.monotonic() - started < 1.9
    message = await row(sessionmaker, message_id)
    assert message.status == "sending" and message.attempts == 1
    assert message.last_error.startswith("outcome unknown (gateway timed out)")
    assert message.next_attempt_at > utcnow()  # not picked up again at once
    # The lease is over: Kavenegar says it has message 1 under this localid.
    status = responses.post(
        f"{BASE}/sms/statuslocalmessageid.json",
        json=ok([{"messageid": 1, "localid": str(message_id), "status": 10}]),
    )
    async with sessionmaker() as s, s.begin():
        await s.execute(update(SmsMessage).values(next_attempt_at=utcnow()))
    await deliver_due(sessionmaker, gateway, rules=ANYTIME)
    assert f"localid={message_id}" in status.calls[0].request.body
    message = await row(sessionmaker, message_id)
    assert message.status == "sent" and message.provider_message_id == "1"
    assert len(sends) == 1 and message.attempts == 1


@responses.activate
async def test_message_survives_an_outage_and_is_sent_once_the_gateway_is_back(sessionmaker):
    outage = responses.post(f"{BASE}/sms/send.json", json=fail(409, "busy"))
    message_id = await queue(sessionmaker)
    await deliver_due(sessionmaker, kavenegar(), rules=ANYTIME)
    # Not due yet: the backoff holds it back.
    assert await deliver_due(sessionmaker, kavenegar(), rules=ANYTIME) == 0
    responses.remove(outage)
    responses.post(f"{BASE}/sms/send.json", json=ok([{"messageid": 5, "status": 1}]))
    async with sessionmaker() as s, s.begin():
        await s.execute(update(SmsMessage).values(next_attempt_at=utcnow()))
    assert await deliver_due(sessionmaker, kavenegar(), rules=ANYTIME) == 1
    message = await row(sessionmaker, message_id)
    assert message.status == "sent" and message.attempts == 2


@responses.activate
async def test_gives_up_after_max_attempts(sessionmaker):
    responses.post(f"{BASE}/sms/send.json", json=fail(409, "busy"))
    message_id = await queue(sessionmaker)
    for _ in range(MAX_ATTEMPTS):
        async with sessionmaker() as s, s.begin():
            await s.execute(update(SmsMessage).values(next_attempt_at=utcnow()))
        await deliver_due(sessionmaker, kavenegar(), rules=ANYTIME)
    assert (await row(sessionmaker, message_id)).status == "failed"


async def test_crashed_send_is_picked_up_again_after_the_lease(sessionmaker):
    message_id = await queue(sessionmaker)
    # A worker claimed it and died: status 'sending', lease in the past.
    async with sessionmaker() as s, s.begin():
        await s.execute(
            update(SmsMessage).values(
                status="sending", attempts=1, next_attempt_at=utcnow() - timedelta(seconds=1)
            )
        )
    assert await deliver_due(sessionmaker, OutboxGateway(), rules=ANYTIME) == 1
    assert (await row(sessionmaker, message_id)).status == "sent"


async def test_stale_login_code_is_not_sent_late(sessionmaker):
    message_id = await queue(sessionmaker, otp=True)
    async with sessionmaker() as s, s.begin():
        await s.execute(update(SmsMessage).values(created_at=utcnow() - timedelta(minutes=11)))
    assert await deliver_due(sessionmaker, OutboxGateway(), rules=ANYTIME) == 0
    assert (await row(sessionmaker, message_id)).status == "expired"


def test_backoff_grows_and_is_capped():
    assert backoff(1) == timedelta(seconds=30)
    assert backoff(2) == timedelta(seconds=60)
    assert backoff(30) == timedelta(hours=1)


def test_receptor_formats():
    assert kavenegar_receptor("+989121234567") == "09121234567"
    assert kavenegar_receptor("+37477123456") == "0037477123456"


async def test_cli_outbox_json(client, sessionmaker, migrated):
    await post_form(client, "/login", {"phone": "0912 123 4567"})
    env = {**os.environ, "DATABASE_URL": migrated, "VAFA_SECRET_KEY": "x" * 40}
    result = subprocess.run(
        [sys.executable, "-m", "vafa.server.cli", "sms", "outbox", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 1
    assert {"to", "body", "status", "created_at"} <= lines[0].keys()
    assert lines[0]["to"] == "+989121234567" and lines[0]["status"] == "pending"
    assert re.search(r"[0-9]{6}", lines[0]["body"])


async def test_admin_sms_log_masks_login_codes(client, sessionmaker):
    from tests.admin.test_staff import make_staff, staff_login

    await post_form(client, "/login", {"phone": "0912 123 4567"})
    async with sessionmaker() as s:
        message = await s.scalar(select(SmsMessage))
    code = re.search(r"[0-9]{6}", message.body).group(0)
    await make_staff(sessionmaker, "agent", "agent")
    await staff_login(client, "agent")
    page = await client.get("/admin/sms")
    assert page.status_code == 200
    assert code not in page.text and "••••••" in page.text
    assert "۰۹۱۲ ۱۲۳ ۴۵۶۷" in page.text


async def test_housekeeping_purges_old_rate_events(sessionmaker):
    from vafa.models import RateEvent
    from vafa.worker import housekeeping

    async with sessionmaker() as s, s.begin():
        s.add(RateEvent(bucket="otp_ip", key="a", at=utcnow() - timedelta(days=2)))
        s.add(RateEvent(bucket="otp_ip", key="b", at=utcnow()))
    await housekeeping(sessionmaker)
    async with sessionmaker() as s:
        keys = (await s.scalars(select(RateEvent.key))).all()
    assert keys == ["b"]


@responses.activate
async def test_staff_are_told_when_kavenegar_has_no_credit(client, sessionmaker):
    """418: messages wait (nothing is lost) and every staff page says why, to staff who
    read the SMS log; an analyst is not bothered with it."""
    from tests.admin.test_staff import make_staff, staff_login
    from vafa.i18n import translate

    responses.post(f"{BASE}/sms/send.json", json=fail(418, "اعتبار کافی نیست"))
    await queue(sessionmaker)
    await queue(sessionmaker)
    await make_staff(sessionmaker, "agent", "agent")
    await make_staff(sessionmaker, "analyst", "analyst")
    assert (await staff_login(client, "agent")).status_code == 302
    assert 'data-testid="staff-alert"' not in (await client.get("/admin/")).text
    assert await deliver_due(sessionmaker, kavenegar(), rules=ANYTIME) == 0
    expected = translate(
        "fa",
        "Kavenegar says the SMS account has no credit: %(count)s messages are waiting. "
        "Top up the account; they go out once it is back.",
        count="۲",
    )
    for path in ("/admin/", "/admin/purchases", "/admin/customers"):
        page = await client.get(path)
        assert page.status_code == 200
        assert 'data-testid="staff-alert"' in page.text, path
        assert expected in page.text, path
    assert 'href="/admin/sms" class="alert-link"' in page.text
    await client.post("/admin/logout")
    assert (await staff_login(client, "analyst")).status_code == 302
    assert expected not in (await client.get("/admin/customers")).text
