"""For a setup Kavenegar cannot reach by webhook: the lines' inboxes read through the
real `kavenegar` package (its HTTP answered at the `requests` layer) feed the same
pipeline, and replies leave from the line through `sms/send`."""

from __future__ import annotations

from urllib.parse import parse_qs

import responses
from sqlalchemy import func, select

from sms_codes import inbound, jobs
from sms_codes.models import Inbound
from tests.sms_codes.test_inbound import CARD, E164, LINE, replies, set_up_line
from tests.vafa.test_sms import ANYTIME, BASE, kavenegar, ok
from vafa.models import SmsMessage
from vafa.sms.worker import deliver_due


@responses.activate
async def test_the_inbox_is_read_once_and_answered_from_the_line(sessionmaker, settings):
    await set_up_line(sessionmaker)
    entries = [
        {"messageid": 501, "message": "۱۰۰", "sender": "09121234567", "receptor": LINE},
        {"messageid": 502, "message": "سلام", "sender": "00989351112233", "receptor": LINE},
    ]
    receive = responses.post(f"{BASE}/sms/receive.json", json=ok(entries))
    for _ in range(2):  # the same messages read twice are stored once
        async with sessionmaker() as s, s.begin():
            await inbound.pull(s, kavenegar())
    asked = parse_qs(receive.calls[0].request.body)
    assert asked == {"linenumber": [LINE], "isread": ["0"]}
    async with sessionmaker() as s, s.begin():
        assert await s.scalar(select(func.count()).select_from(Inbound)) == 2
        assert set((await s.scalars(select(Inbound.source))).all()) == {"pull"}
        # Pulled messages are answered at once (no web process answers them).
        assert await jobs.answer_waiting(s, settings) == 2
    assert await replies(sessionmaker) == [CARD["fa"]]
    assert await replies(sessionmaker, "+989351112233") == ["کد نامعتبر"]

    send = responses.post(
        f"{BASE}/sms/send.json", json=ok([{"messageid": 9001, "status": 1}])
    )
    assert await deliver_due(sessionmaker, kavenegar(), rules=ANYTIME) == 2
    sent = [parse_qs(call.request.body) for call in send.calls]
    assert {tuple(body["sender"]) for body in sent} == {(LINE,)}
    assert {body["receptor"][0] for body in sent} == {"09121234567", "09351112233"}
    async with sessionmaker() as s:
        card = await s.scalar(select(SmsMessage).where(SmsMessage.to == E164))
    assert card.provider_message_id == "9001"
