"""What comes in on a line: stored once (Kavenegar's `messageid`), then answered here,
by the storing process's intake (`sms_codes.intake`) or, if it stopped first, by the
worker. Processing a message: the sender becomes a contact; 11 or «لغو» opt out of the
line and 12 opts back in; otherwise the code the message names does its action and
the line answers, within the per-number throttle and the line's daily budget."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from customers import services as customers
from customers.models import Customer
from sms_codes.models import (
    Code,
    CodeAction,
    Contact,
    Coupon,
    Inbound,
    Keyword,
    Line,
    Outcome,
    Suppression,
)
from sms_codes.text import (
    OPT_IN_KEYS,
    OPT_OUT_KEYS,
    fill,
    in_language,
    keyword_key,
    language_of,
    with_footer,
)
from vafa.calendar import local_day
from vafa.database import insert_new, rowcount, utcnow
from vafa.errors import UserError
from vafa.events import member_facts
from vafa.i18n import N_, translate
from vafa.i18n.normalize import InvalidPhone, normalize_phone, to_ascii_digits
from vafa.security import ratelimit
from vafa.settings import Settings
from vafa.sms import outbox
from vafa.sms.gateway import Received, SmsGateway

log = logging.getLogger("vafa")

TEXT_MAX = 2000  # characters kept of an incoming message (a long SMS is a few parts)
# Auto-replies to one number on one line: two auto-responders answering each other, or
# a flood, stop here instead of draining the SMS credit.
REPLY_BUCKET = "sms_code_reply"
REPLIES_PER_NUMBER = 5
REPLY_WINDOW = timedelta(minutes=10)
COUPON_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

OPTED_OUT = N_("You will get no more advertising from this number. Send 12 to subscribe again.")
OPTED_IN = N_("You are subscribed again. Send 11 to stop.")
SOLD_OUT = N_("Sorry, all the coupons have been given out.")
NAMELESS = N_("Member")


def clean(*, messageid: str, sender: str, to: str, text: str) -> Received:
    """An incoming message as Kavenegar sends it, checked; a refusal stores nothing."""
    messageid = messageid.strip()
    if not messageid or len(messageid) > 64 or not messageid.isprintable():
        raise UserError(N_("The message has no valid message id."))
    line = "".join(ch for ch in to_ascii_digits(to) if ch.isascii() and ch.isdigit())
    if not line or len(line) > 20:
        raise UserError(N_("The message does not name a valid line."))
    try:
        phone = normalize_phone(sender)
    except InvalidPhone:
        # Kept as sent (a short code, an operator's name): stored, never answered.
        phone = sender.strip()[:32]
    if not phone:
        raise UserError(N_("The message has no sender."))
    return Received(messageid, phone, line, text[:TEXT_MAX])


async def receive_many(
    session: AsyncSession, messages: list[Received], *, source: str
) -> dict[str, int]:
    """Store the messages that did not come before, in one statement: their new ids
    by messageid (a message sent again, or twice in the list, is stored once)."""
    now = utcnow()
    rows = {
        m.messageid: {
            "messageid": m.messageid,
            "line_number": m.line,
            "sender": m.sender,
            "text": m.text,
            "source": source,
            "received_at": now,
        }
        for m in messages
    }
    if not rows:
        return {}
    stored = await insert_new(
        session,
        Inbound,
        list(rows.values()),
        unique=["messageid"],
        returning=(Inbound.messageid, Inbound.id),
    )
    return dict(stored)


async def pull(session: AsyncSession, gateway: SmsGateway) -> int:
    """For setups without a public URL: read each active line's unread messages at the
    gateway into the same pipeline as the webhook's. How many were new."""
    stored = 0
    numbers = (await session.scalars(select(Line.number).where(Line.active.is_(True)))).all()
    for number in numbers:
        readable: list[Received] = []
        for message in await gateway.inbox(number):
            try:
                readable.append(
                    clean(
                        messageid=message.messageid,
                        sender=message.sender,
                        to=message.line or number,
                        text=message.text,
                    )
                )
            except UserError:
                log.warning("skipped an unreadable message from the %s inbox", number)
        stored += len(await receive_many(session, readable, source="pull"))
    return stored


async def waiting(session: AsyncSession, limit: int, *, before: datetime) -> list[int]:
    """Messages not answered yet, oldest first: those a web process stored before
    `before` (it answers its own right after storing them), and every pulled one (no
    web process answers those)."""
    return list(
        (
            await session.scalars(
                select(Inbound.id)
                .where(
                    Inbound.processed_at.is_(None),
                    or_(Inbound.received_at < before, Inbound.source == "pull"),
                )
                .order_by(Inbound.id)
                .limit(limit)
            )
        ).all()
    )


@dataclass
class Answer:
    outcome: Outcome
    replies: dict[str, str] | None = None  # the template per language, or none
    text: str | None = None  # a fixed (translatable) message instead of a template
    values: dict[str, str] | None = None
    marketing: bool = False
    member_id: int | None = None  # the member this message made


async def process(session: AsyncSession, inbound_id: int, settings: Settings) -> str | None:
    """Answer one stored message, once: the row is locked and marked in this
    transaction, so a second worker (or the request) finds it done."""
    # The message's own columns are written once, with the first write that follows.
    with session.no_autoflush:
        inbound = await session.get(
            Inbound, inbound_id, with_for_update=True, populate_existing=True
        )
        if inbound is None or inbound.processed_at is not None:
            return None
        now = utcnow()
        inbound.processed_at = now
        line = await session.scalar(select(Line).where(Line.number == inbound.line_number))
        inbound.line_id = line.id if line is not None else None
        if not inbound.sender.startswith("+"):
            inbound.outcome = Outcome.INVALID
            return inbound.outcome
        _, customer = await _contact(session, inbound, now)
        if line is None or not line.active:
            inbound.outcome = Outcome.NO_REPLY
            return inbound.outcome
    language = (
        customer.language
        if customer is not None
        else language_of(inbound.text, settings.default_language)
    )
    answer = await _answer(session, inbound, line, customer, settings, now)
    inbound.outcome = answer.outcome
    if customer is None and answer.member_id is not None:  # joined by this message
        customer = await session.get(Customer, answer.member_id)
    template = (
        in_language(answer.replies, language, settings.default_language)
        if answer.replies
        else (translate(language, answer.text) if answer.text else "")
    )
    if not template:
        return inbound.outcome
    values = {"link": settings.public_url, **(answer.values or {})}
    if customer is not None:
        # A member who never gave a name is greeted as "member" ("Dear member, ...").
        values.setdefault("name", customer.name or translate(language, NAMELESS))
        for name, value in (await member_facts(session, customer.id, language)).items():
            values.setdefault(name, value)
    body = with_footer(fill(template, values), answer.marketing)
    reply = await outbox.queue_text(
        session, to=inbound.sender, body=body, urgent=True, sender=line.number
    )
    inbound.reply_id = reply.id
    return inbound.outcome


async def _contact(
    session: AsyncSession, inbound: Inbound, now: datetime
) -> tuple[int, Customer | None]:
    """The sender as a contact (new on their first message), linked to their member
    record when they have one."""
    inbound.new_contact = bool(
        await insert_new(
            session,
            Contact,
            {"phone": inbound.sender, "first_seen_at": now, "last_seen_at": now, "messages": 0},
            unique=["phone"],
        )
    )
    contact_id, linked = (
        await session.execute(
            update(Contact)
            .where(Contact.phone == inbound.sender)
            .values(last_seen_at=now, messages=Contact.messages + 1)
            .returning(Contact.id, Contact.customer_id)
        )
    ).one()
    customer = await customers.get_by_phone(session, inbound.sender)
    member_id = customer.id if customer is not None else None
    if member_id != linked:
        await _link(session, contact_id, member_id)
    inbound.contact_id = contact_id
    return contact_id, customer


async def _link(session: AsyncSession, contact_id: int, customer_id: int | None) -> None:
    await session.execute(
        update(Contact).where(Contact.id == contact_id).values(customer_id=customer_id)
    )


async def _answer(
    session: AsyncSession,
    inbound: Inbound,
    line: Line,
    customer: Customer | None,
    settings: Settings,
    now: datetime,
) -> Answer:
    key = keyword_key(inbound.text)
    # Opting out and in are answered whatever the throttle and budget say.
    if key in OPT_OUT_KEYS:
        return await _opt_out(session, inbound, line, customer)
    if key in OPT_IN_KEYS:
        return await _opt_in(session, inbound, line)
    code = await _code(session, line.id, key, now)
    if code is None:
        if not line.unknown_reply:
            return Answer(Outcome.UNKNOWN)
        refusal = await _refused(session, line, inbound.sender, settings, now)
        return Answer(refusal) if refusal else Answer(Outcome.UNKNOWN, replies=line.unknown_reply)
    inbound.code_id = code.id
    if code.marketing and await _suppressed(session, line.id, inbound.sender):
        return Answer(Outcome.SUPPRESSED)
    # Checked (and the reply counted) before an action that cannot be undone by staying
    # silent (a coupon, a new member): over the throttle or budget, nothing happens.
    refusal = await _refused(session, line, inbound.sender, settings, now)
    if refusal is not None:
        return Answer(refusal)
    replies, marketing = code.replies, code.marketing
    if code.action == CodeAction.BALANCE:
        if customer is None:
            return Answer(Outcome.INVITED, replies=line.invite_reply)
        return Answer(Outcome.REPLIED, replies=replies, marketing=marketing)
    if code.action == CodeAction.JOIN:
        return await _join(session, inbound, line, customer, code, settings)
    if code.action == CodeAction.COUPON:
        return await _coupon(session, inbound, line, code)
    return Answer(Outcome.REPLIED, replies=replies, marketing=marketing)


async def _code(session: AsyncSession, line_id: int, key: str, now: datetime) -> Code | None:
    """The active code this word names on this line, today."""
    if not key:
        return None
    code = await session.scalar(
        select(Code)
        .join(Keyword, Keyword.code_id == Code.id)
        .where(Keyword.line_id == line_id, Keyword.key == key, Code.active.is_(True))
    )
    if code is None:
        return None
    if (code.starts_at is not None and now < code.starts_at) or (
        code.ends_at is not None and now >= code.ends_at
    ):
        return None
    return code


async def _suppressed(session: AsyncSession, line_id: int, phone: str) -> bool:
    return await session.get(Suppression, (line_id, phone)) is not None


async def _opt_out(
    session: AsyncSession, inbound: Inbound, line: Line, customer: Customer | None
) -> Answer:
    """On the line's suppression list, confirmed once; a member also withdraws their
    marketing consent, with this message as the evidence."""
    added = await insert_new(
        session,
        Suppression,
        {"line_id": line.id, "phone": inbound.sender, "since": utcnow(), "inbound_id": inbound.id},
        unique=["line_id", "phone"],
    )
    if not added:
        return Answer(Outcome.NO_REPLY)
    if customer is not None and customer.marketing_consent:
        await customers.record_consent(
            session, customer, given=False, source=f"sms:{line.number}"
        )
    # Asked for: it goes even though the number now refuses advertising.
    return Answer(Outcome.OPT_OUT, text=OPTED_OUT)


async def _opt_in(session: AsyncSession, inbound: Inbound, line: Line) -> Answer:
    suppression = await session.get(Suppression, (line.id, inbound.sender))
    if suppression is None:
        return Answer(Outcome.NO_REPLY)
    await session.delete(suppression)
    return Answer(Outcome.OPT_IN, text=OPTED_IN)


async def _join(
    session: AsyncSession,
    inbound: Inbound,
    line: Line,
    customer: Customer | None,
    code: Code,
    settings: Settings,
) -> Answer:
    """A member, with consent given by this SMS (when, from which line) and the signup
    bonus through the points engine; someone already a member gets the repeat reply."""
    source = f"sms:{line.number}"
    if customer is not None:
        if not customer.marketing_consent:
            await customers.record_consent(session, customer, given=True, source=source)
        return Answer(Outcome.REPEAT, replies=line.repeat_reply)
    language = language_of(inbound.text, settings.default_language)
    member, created = await customers.join(
        session, phone=inbound.sender, language=language, source="sms"
    )
    await customers.record_consent(session, member, given=True, source=source)
    assert inbound.contact_id is not None
    await _link(session, inbound.contact_id, member.id)
    inbound.new_member = created
    return Answer(
        Outcome.REPLIED, replies=code.replies, marketing=code.marketing, member_id=member.id
    )


async def _coupon(session: AsyncSession, inbound: Inbound, line: Line, code: Code) -> Answer:
    """One coupon per number from the code's pool; the pool is counted by a conditional
    update, so two numbers at once never take the last one both."""
    existing = await session.scalar(
        select(Coupon.coupon).where(Coupon.code_id == code.id, Coupon.phone == inbound.sender)
    )
    if existing is not None:
        return Answer(Outcome.REPEAT, replies=line.repeat_reply, values={"coupon": existing})
    taken = await session.execute(
        update(Code)
        .where(
            Code.id == code.id,
            (Code.coupon_pool.is_(None)) | (Code.coupons_issued < Code.coupon_pool),
        )
        .values(coupons_issued=Code.coupons_issued + 1)
    )
    if rowcount(taken) != 1:
        return Answer(Outcome.SOLD_OUT, text=SOLD_OUT)
    coupon = "".join(secrets.choice(COUPON_ALPHABET) for _ in range(8))
    session.add(Coupon(code_id=code.id, phone=inbound.sender, coupon=coupon, issued_at=utcnow()))
    await session.flush()
    return Answer(
        Outcome.REPLIED, replies=code.replies, values={"coupon": coupon}, marketing=code.marketing
    )


async def _refused(
    session: AsyncSession, line: Line, phone: str, settings: Settings, now: datetime
) -> Outcome | None:
    """THROTTLED or OVER_BUDGET when the line may not answer this number now; else
    None, and the reply is counted against both."""
    allowed = await ratelimit.hit(
        session,
        bucket=REPLY_BUCKET,
        key=f"{line.id}:{phone}",
        limit=REPLIES_PER_NUMBER,
        window=REPLY_WINDOW,
    )
    if not allowed:
        return Outcome.THROTTLED
    today = local_day(now, settings.timezone)
    counted = await session.execute(
        update(Line)
        .where(
            Line.id == line.id,
            # Today's count (none yet on a new day) is under the budget; a budget of 0
            # answers nothing.
            case((Line.replies_on == today, Line.replies_today), else_=0) < Line.daily_budget,
        )
        .values(
            replies_today=case((Line.replies_on == today, Line.replies_today + 1), else_=1),
            replies_on=today,
        )
        .execution_options(synchronize_session=False)
    )
    if rowcount(counted) == 1:
        return None
    if line.budget_alerted_on != today:
        line.budget_alerted_on = today
        log.warning("SMS line %s reached its daily budget of %s", line.number, line.daily_budget)
    return Outcome.OVER_BUDGET
