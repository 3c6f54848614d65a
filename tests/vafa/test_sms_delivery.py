"""Each SMS goes out once, whatever the number of workers, slow calls and crashes; and
non-urgent SMS wait for the club's daytime window.

Kavenegar is the real `kavenegar` package with its HTTP faked by `responses` (or a
local server that never answers), so the timeouts and the status check are the ones
production runs."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as clock_time
from functools import partial
from http.client import RemoteDisconnected
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
from sqlalchemy import select, update
from urllib3.exceptions import ProtocolError

from tests.conftest import make_settings
from vafa.database import utcnow
from vafa.models import SmsMessage
from vafa.sms import outbox
from vafa.sms.gateway import KavenegarGateway, OutboxGateway, RetryLater
from vafa.sms.worker import UNKNOWN_OTP, DeliveryRules, deliver_due

TEHRAN = ZoneInfo("Asia/Tehran")
ANYTIME = DeliveryRules(day_start=clock_time(0), day_end=clock_time(0))
API_KEY = "7D3E1F-DELIVERY-TEST-KEY-987654"
BASE = f"https://api.kavenegar.com/v1/{API_KEY}"


def ok(entries: list[dict]) -> dict:
    return {"return": {"status": 200, "message": "تایید شد"}, "entries": entries}


def gateway(key: str = API_KEY, timeout: float = 2, **kwargs) -> KavenegarGateway:
    return KavenegarGateway(
        api_key=key, sender="10004346", otp_template="vafa-login", timeout=timeout, **kwargs
    )


def dropped() -> requests.exceptions.ConnectionError:
    """The connection died after the request was written: it may have arrived."""
    return requests.exceptions.ConnectionError(
        ProtocolError("Connection aborted.", RemoteDisconnected("closed without response"))
    )


async def rows(sessionmaker) -> dict[int, SmsMessage]:
    async with sessionmaker() as s:
        return {m.id: m for m in (await s.scalars(select(SmsMessage))).all()}


async def lease_over(sessionmaker) -> None:
    """Time passes: every lease and backoff is over."""
    async with sessionmaker() as s, s.begin():
        await s.execute(update(SmsMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))


# --- two workers, a slow gateway, one worker killed mid-call ----------------------------

KEY_A = "AAAA-WORKER-A-KEY-0000000000"
KEY_B = "BBBB-WORKER-B-KEY-1111111111"


class SlowKavenegar:
    """Kavenegar at the HTTP layer, answering slowly. Counts every send request that
    arrives (at arrival: a request cut off by a dying worker has still arrived) and
    answers `statuslocalmessageid` from what it received, as Kavenegar does. Both
    workers use the same account; their keys differ only so a request shows its worker."""

    def __init__(self, delay: float, kill_on: str) -> None:
        self.delay = delay
        self.kill_on = kill_on  # "otp" or "text": the kind of call worker A dies in
        self.lock = threading.Lock()
        self.arrived: Counter[tuple[str, str]] = Counter()
        self.by_localid: dict[str, int] = {}
        self.from_a: Counter[str] = Counter()
        self.a_in_flight = threading.Event()
        self.killed: tuple[str, str] | None = None
        self.checks: list[str] = []
        self.last_id = 8_000_000

    def install(self) -> None:
        for key in (KEY_A, KEY_B):
            base = f"https://api.kavenegar.com/v1/{key}"
            responses.add_callback(
                responses.POST, f"{base}/sms/send.json", callback=partial(self.send, key)
            )
            responses.add_callback(
                responses.POST, f"{base}/verify/lookup.json", callback=partial(self.lookup, key)
            )
            responses.add_callback(
                responses.POST, f"{base}/sms/statuslocalmessageid.json", callback=self.status
            )

    def _arrive(self, key: str, kind: str, what: str) -> int:
        with self.lock:
            self.arrived[(kind, what)] += 1
            self.last_id += 1
            if key == KEY_A and not self.a_in_flight.is_set():
                self.from_a[kind] += 1
                if kind == self.kill_on and self.from_a[kind] == 2:
                    self.killed = (kind, what)
                    self.a_in_flight.set()
            return self.last_id

    def send(self, key: str, request):
        params = parse_qs(request.body)
        localid = params["localid"][0]
        message_id = self._arrive(key, "text", localid)
        with self.lock:
            self.by_localid[localid] = message_id
        time.sleep(self.delay)
        return 200, {}, json.dumps(ok([{"messageid": message_id, "status": 1}]))

    def lookup(self, key: str, request):
        params = parse_qs(request.body)
        message_id = self._arrive(key, "otp", params["receptor"][0])
        time.sleep(self.delay)
        return 200, {}, json.dumps(ok([{"messageid": message_id, "status": 5}]))

    def status(self, request):
        localid = parse_qs(request.body)["localid"][0]
        with self.lock:
            self.checks.append(localid)
            message_id = self.by_localid.get(localid)
        entry = (
            {"messageid": message_id, "localid": localid, "status": 1, "statustext": "queued"}
            if message_id
            else {"messageid": 0, "localid": localid, "status": 100, "statustext": "unknown"}
        )
        return 200, {}, json.dumps(ok([entry]))


@pytest.mark.parametrize("killed_during", ["otp", "text"])
@responses.activate
async def test_two_workers_and_a_worker_killed_mid_call_send_every_message_once(
    sessionmaker, killed_during
):
    """Two workers drain the outbox side by side through a gateway answering in 0.3 s,
    for longer than a lease; one worker is killed while its call is in flight. Every
    message reaches Kavenegar exactly once: the killed worker's message is looked up
    (a text) or given up on (a login code), never sent again."""
    kavenegar = SlowKavenegar(delay=0.3, kill_on=killed_during)
    kavenegar.install()
    ids: dict[tuple[str, str], int] = {}
    async with sessionmaker() as s, s.begin():
        for n in range(8):
            phone = f"+98912000{n:04d}"
            m = await outbox.queue_otp(s, to=phone, code=f"{n:06d}", language="fa")
            ids[("otp", "0" + phone[3:])] = m.id
        for n in range(16):
            m = await outbox.queue_text(s, to=f"+98935000{n:04d}", body=f"پیام {n}")
            ids[("text", str(m.id))] = m.id
    # Short leases so that the test sees them run out (the gateway's own timeout makes
    # the real lease 2 x 1.5 s): together the calls take longer than a lease.
    rules = DeliveryRules(
        day_start=clock_time(0), day_end=clock_time(0), lease=timedelta(seconds=1)
    )
    stop = asyncio.Event()

    async def worker(key: str) -> None:
        worker_gateway = gateway(key, timeout=0.25)
        while not stop.is_set():
            await deliver_due(sessionmaker, worker_gateway, rules=rules, stop=stop)
            await asyncio.sleep(0.05)

    a = asyncio.create_task(worker(KEY_A))
    b = asyncio.create_task(worker(KEY_B))
    deadline = time.monotonic() + 30
    while not kavenegar.a_in_flight.is_set():
        assert time.monotonic() < deadline, "worker A never made its call"
        await asyncio.sleep(0.01)
    a.cancel()  # killed while its HTTP call is in flight
    with pytest.raises(asyncio.CancelledError):
        await a
    while True:
        messages = await rows(sessionmaker)
        if all(m.status in ("sent", "failed", "expired") for m in messages.values()):
            break
        assert time.monotonic() < deadline, {m.id: m.status for m in messages.values()}
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(b, 10)
    await asyncio.sleep(0.4)  # the killed worker's orphaned call finishes

    assert kavenegar.arrived == Counter(dict.fromkeys(ids, 1))  # once each, no more
    killed = ids[kavenegar.killed]
    for message in messages.values():
        if message.id != killed:
            assert message.status == "sent" and message.attempts == 1, message.last_error
    if killed_during == "otp":
        assert messages[killed].status == "failed"
        assert messages[killed].last_error.startswith(UNKNOWN_OTP)
    else:
        assert messages[killed].status == "sent" and messages[killed].attempts == 1
        assert kavenegar.checks == [str(killed)]
    # Both workers did part of the work.
    assert 0 < sum(kavenegar.from_a.values()) < len(ids)


# --- unknown outcomes ----------------------------------------------------------------


@responses.activate
async def test_text_whose_request_may_have_arrived_is_resent_only_if_kavenegar_never_got_it(
    sessionmaker,
):
    send = responses.post(f"{BASE}/sms/send.json", body=dropped())
    async with sessionmaker() as s, s.begin():
        message_id = (await outbox.queue_text(s, to="+989121234567", body="سلام")).id
    await deliver_due(sessionmaker, gateway(), rules=ANYTIME)
    message = (await rows(sessionmaker))[message_id]
    assert message.status == "sending" and message.attempts == 1
    assert message.last_error.startswith("outcome unknown")
    # Before the lease is over nothing happens.
    assert await deliver_due(sessionmaker, gateway(), rules=ANYTIME) == 0
    assert send.call_count == 1
    # Kavenegar has never seen this localid: send again, under the same localid.
    check = responses.post(
        f"{BASE}/sms/statuslocalmessageid.json",
        json=ok([{"messageid": 0, "localid": str(message_id), "status": 100}]),
    )
    responses.replace(
        responses.POST, f"{BASE}/sms/send.json", json=ok([{"messageid": 42, "status": 1}])
    )
    await lease_over(sessionmaker)
    assert await deliver_due(sessionmaker, gateway(), rules=ANYTIME) == 1
    assert check.call_count == 1
    sends = [c for c in responses.calls if c.request.url.endswith("/sms/send.json")]
    assert len(sends) == 2 and all(f"localid={message_id}" in c.request.body for c in sends)
    message = (await rows(sessionmaker))[message_id]
    assert message.status == "sent" and message.attempts == 2
    assert message.provider_message_id == "42"


@responses.activate
async def test_failed_status_check_asks_again_later_and_sends_nothing(sessionmaker):
    send = responses.post(f"{BASE}/sms/send.json", body=dropped())
    async with sessionmaker() as s, s.begin():
        message_id = (await outbox.queue_text(s, to="+989121234567", body="سلام")).id
    await deliver_due(sessionmaker, gateway(), rules=ANYTIME)
    check = responses.post(
        f"{BASE}/sms/statuslocalmessageid.json",
        json={"return": {"status": 409, "message": "busy"}, "entries": None},
    )
    await lease_over(sessionmaker)
    await deliver_due(sessionmaker, gateway(), rules=ANYTIME)
    message = (await rows(sessionmaker))[message_id]
    assert check.call_count == 1 and send.call_count == 1
    assert message.status == "sending" and message.next_attempt_at > utcnow()
    assert message.last_error.startswith("outcome unknown, status check failed: ")
    assert API_KEY not in message.last_error


@responses.activate
async def test_login_code_whose_request_may_have_arrived_is_never_sent_again(sessionmaker):
    lookup = responses.post(f"{BASE}/verify/lookup.json", body=dropped())
    async with sessionmaker() as s, s.begin():
        code = await outbox.queue_otp(s, to="+989121234567", code="493817", language="fa")
    await deliver_due(sessionmaker, gateway(), rules=ANYTIME)
    message = (await rows(sessionmaker))[code.id]
    assert message.status == "failed" and message.last_error.startswith(UNKNOWN_OTP)
    await lease_over(sessionmaker)
    await deliver_due(sessionmaker, gateway(), rules=ANYTIME)
    assert lookup.call_count == 1


@responses.activate
async def test_login_code_left_sending_by_a_dead_worker_is_not_resent(sessionmaker):
    lookup = responses.post(f"{BASE}/verify/lookup.json", json=ok([{"messageid": 1}]))
    async with sessionmaker() as s, s.begin():
        code = await outbox.queue_otp(s, to="+989121234567", code="493817", language="fa")
        text = await outbox.queue_text(s, to="+989121234567", body="hi", urgent=True)
    # A worker claimed both, committed "sending, attempt 1", and was SIGKILLed.
    async with sessionmaker() as s, s.begin():
        await s.execute(
            update(SmsMessage).values(
                status="sending", attempts=1, lease_token="dead", next_attempt_at=utcnow()
            )
        )
    check = responses.post(
        f"{BASE}/sms/statuslocalmessageid.json",
        json=ok([{"messageid": 77, "localid": str(text.id), "status": 10}]),
    )
    send = responses.post(f"{BASE}/sms/send.json", json=ok([{"messageid": 78}]))
    assert await deliver_due(sessionmaker, gateway(), rules=ANYTIME) == 0
    messages = await rows(sessionmaker)
    assert messages[code.id].status == "failed" and lookup.call_count == 0
    # The text went before the crash: Kavenegar has it, so it is recorded, not resent.
    assert messages[text.id].status == "sent" and messages[text.id].provider_message_id == "77"
    assert check.call_count == 1 and send.call_count == 0


async def test_login_code_replaced_by_a_newer_one_is_never_sent(sessionmaker):
    async with sessionmaker() as s, s.begin():
        old = await outbox.queue_otp(s, to="+989121234567", code="111111", language="fa")
        other = await outbox.queue_otp(s, to="+989351234567", code="222222", language="fa")
        new = await outbox.queue_otp(s, to="+989121234567", code="333333", language="fa")
    assert await deliver_due(sessionmaker, OutboxGateway(), rules=ANYTIME) == 2
    messages = await rows(sessionmaker)
    assert messages[old.id].status == "expired" and "replaced" in messages[old.id].last_error
    assert messages[new.id].status == "sent" and messages[other.id].status == "sent"


async def test_login_code_older_than_the_code_lifetime_is_never_sent(sessionmaker, settings):
    rules = DeliveryRules.from_settings(settings)  # codes live 300 s by default
    assert rules.otp_ttl == timedelta(seconds=settings.otp_ttl_seconds)
    async with sessionmaker() as s, s.begin():
        code = await outbox.queue_otp(s, to="+989121234567", code="111111", language="fa")
        code.created_at = utcnow() - timedelta(seconds=settings.otp_ttl_seconds + 1)
    assert await deliver_due(sessionmaker, OutboxGateway(), rules=rules) == 0
    message = (await rows(sessionmaker))[code.id]
    assert message.status == "expired" and "expired" in message.last_error


# --- the gateway's HTTP calls have a timeout ---------------------------------------------


@pytest.fixture
def silent_server():
    """A server that accepts connections and never answers (a hung gateway)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            accepted.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()
    for connection in accepted:
        connection.close()


async def test_hung_gateway_frees_the_worker_threads(sessionmaker, silent_server):
    """Six messages to a gateway that never answers: each call ends at the timeout and
    frees its thread, so every one of them is really tried (not queued behind four
    hung threads), and none is marked as sent or blindly retried."""
    port, accepted = silent_server
    hung = gateway(timeout=0.3, host=f"127.0.0.1:{port}")
    async with sessionmaker() as s, s.begin():
        for n in range(6):
            await outbox.queue_text(s, to=f"+98912000{n:04d}", body="سلام")
    started = time.monotonic()
    assert await deliver_due(sessionmaker, hung, rules=ANYTIME) == 0
    assert time.monotonic() - started < 6 * 1.0
    assert len(accepted) == 6  # every call reached the server: no thread stayed hung
    for message in (await rows(sessionmaker)).values():
        assert message.status == "sending" and message.last_error.startswith("outcome unknown")


@responses.activate
async def test_call_queued_behind_hung_ones_never_starts_after_the_worker_gave_up():
    arrived = []

    def slow(request):
        arrived.append(parse_qs(request.body)["localid"][0])
        time.sleep(2.0)
        return 200, {}, json.dumps(ok([{"messageid": 1}]))

    responses.add_callback(responses.POST, f"{BASE}/sms/send.json", callback=slow)
    busy = gateway(timeout=0.2)  # the worker waits at most 1.4 s; four threads
    messages = [SmsMessage(id=n, to="+989121234567", body="x", kind="text") for n in range(5)]
    results = await asyncio.gather(*(busy.send(m) for m in messages), return_exceptions=True)
    await asyncio.sleep(1.0)  # the four hung calls end; the fifth must not start now
    assert sorted(arrived) == ["0", "1", "2", "3"]
    assert isinstance(results[4], RetryLater) and "never started" in str(results[4])


# --- quiet hours ---------------------------------------------------------------------


def next_tehran(hour: int, minute: int = 0) -> datetime:
    """The next moment after now when it is hour:minute in Tehran."""
    local = datetime.now(TEHRAN)
    moment = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return moment if moment > local else moment + timedelta(days=1)


async def test_expiry_reminder_waits_for_morning_but_login_codes_and_replies_go_at_night(
    sessionmaker, settings
):
    from loyalty import ledger
    from loyalty.jobs import send_expiry_reminders
    from tests.loyalty.helpers import member

    night = next_tehran(23)  # 23:00 in Tehran
    async with sessionmaker() as s, s.begin():
        customer = await member(s)
        await ledger.earn(
            s, customer_id=customer.id, points=70, key="a", expires_at=utcnow() + timedelta(days=10)
        )
        assert await send_expiry_reminders(s, settings) == 1
        code = await outbox.queue_otp(s, to="+989351234567", code="493817", language="fa")
        reply = await outbox.queue_text(s, to="+989351234567", body="موجودی: ۷۰", urgent=True)
        await s.flush()
        await s.execute(
            update(SmsMessage).values(
                created_at=night - timedelta(minutes=1),
                next_attempt_at=night - timedelta(minutes=1),
            )
        )
    reminder = next(m for m in (await rows(sessionmaker)).values() if not m.urgent)
    rules = DeliveryRules.from_settings(settings)  # 08:00 to 21:00, Asia/Tehran

    def deliver(moment: datetime):
        return deliver_due(sessionmaker, OutboxGateway(), rules=rules, now=lambda: moment)

    assert await deliver(night) == 2  # the login code and the reply the member asked for
    messages = await rows(sessionmaker)
    assert messages[code.id].status == "sent" and messages[reply.id].status == "sent"
    assert messages[reminder.id].status == "pending"
    morning = (night + timedelta(days=1)).replace(hour=8)
    assert await deliver(morning - timedelta(minutes=1)) == 0  # 07:59
    assert (await rows(sessionmaker))[reminder.id].status == "pending"
    assert await deliver(morning) == 1  # 08:00
    assert (await rows(sessionmaker))[reminder.id].status == "sent"


async def test_a_message_due_in_the_evening_waits_from_21_00(sessionmaker, settings):
    evening = next_tehran(20, 59)
    async with sessionmaker() as s, s.begin():
        first = await outbox.queue_text(s, to="+989121234567", body="یک")
        second = await outbox.queue_text(s, to="+989121234567", body="دو")
        await s.flush()
        await s.execute(update(SmsMessage).values(next_attempt_at=evening))
    rules = DeliveryRules.from_settings(settings)
    assert (
        await deliver_due(sessionmaker, OutboxGateway(), rules=rules, now=lambda: evening, batch=1)
        == 1
    )
    late = evening + timedelta(minutes=1)  # 21:00
    assert await deliver_due(sessionmaker, OutboxGateway(), rules=rules, now=lambda: late) == 0
    messages = await rows(sessionmaker)
    assert messages[first.id].status == "sent" and messages[second.id].status == "pending"


def test_daytime_window_comes_from_settings(monkeypatch, migrated):
    default = DeliveryRules.from_settings(make_settings(migrated))
    assert (default.day_start, default.day_end) == (clock_time(8), clock_time(21))
    assert default.timezone == "Asia/Tehran"
    monkeypatch.setenv("VAFA_SMS_DAY_START", "09:30")
    monkeypatch.setenv("VAFA_SMS_DAY_END", "20:00")
    yerevan = DeliveryRules.from_settings(make_settings(migrated, timezone="Asia/Yerevan"))
    at = partial(datetime, 2026, 6, 1, tzinfo=ZoneInfo("Asia/Yerevan"))
    assert not yerevan.daytime(at(9, 29)) and yerevan.daytime(at(9, 30))
    assert yerevan.daytime(at(19, 59)) and not yerevan.daytime(at(20, 0))
    monkeypatch.setenv("VAFA_SMS_DAY_START", "8 am")
    with pytest.raises(ValueError, match="VAFA_SMS_DAY_START"):
        make_settings(migrated)


def test_daytime_window_may_span_midnight_or_be_switched_off():
    at = partial(datetime, 2026, 6, 1, tzinfo=TEHRAN)
    night_shift = DeliveryRules(day_start=clock_time(22), day_end=clock_time(6))
    assert night_shift.daytime(at(23, 0)) and night_shift.daytime(at(5, 59))
    assert not night_shift.daytime(at(6, 0)) and not night_shift.daytime(at(12, 0))
    assert ANYTIME.daytime(at(3, 0))


async def test_only_login_codes_and_asked_for_replies_are_urgent(sessionmaker):
    async with sessionmaker() as s, s.begin():
        code = await outbox.queue_otp(s, to="+989121234567", code="493817", language="fa")
        news = await outbox.queue_text(s, to="+989121234567", body="club news")
        reply = await outbox.queue_text(s, to="+989121234567", body="your balance", urgent=True)
    messages = await rows(sessionmaker)
    assert messages[code.id].urgent and messages[reply.id].urgent
    assert not messages[news.id].urgent


# --- upgrade -------------------------------------------------------------------------


async def test_upgrade_keeps_queued_messages_and_makes_login_codes_urgent(migrated, tmp_path):
    from sqlalchemy import text

    from tests.vafa.test_migrations import empty_database
    from vafa import migrate
    from vafa.database import create_engine

    url = await empty_database(migrated, tmp_path, "vafa_upgrade_0004")
    migrate.upgrade_in_thread(make_settings(url), "0003")
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                'INSERT INTO sms_messages ("to", body, kind, sensitive, status, attempts,'
                " next_attempt_at, created_at) VALUES"
                " ('+989121234567', 'code 493817', 'otp', true, 'pending', 0,"
                "  '2026-01-01 10:00:00', '2026-01-01 10:00:00'),"
                " ('+989121234567', 'reminder', 'text', false, 'sent', 1,"
                "  '2026-01-01 10:00:00', '2026-01-01 10:00:00')"
            )
        )
    migrate.upgrade_in_thread(make_settings(url), "head")
    async with engine.connect() as conn:
        found = (
            await conn.execute(
                text("SELECT kind, body, status, urgent, lease_token FROM sms_messages ORDER BY id")
            )
        ).all()
    await engine.dispose()
    assert [(k, b, s, bool(u), t) for k, b, s, u, t in found] == [
        ("otp", "code 493817", "pending", True, None),
        ("text", "reminder", "sent", False, None),
    ]
