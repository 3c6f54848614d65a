"""Staff's writes: lines and the codes on them. Keyword-only; each writes its audit
row; a refusal is a `UserError` before anything is written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from sms_codes.models import Code, CodeAction, Coupon, Keyword, Line
from sms_codes.text import KEY_MAX, OPT_IN_KEYS, OPT_OUT_KEYS, keyword_key
from vafa import audit
from vafa.actor import Actor
from vafa.database import utcnow
from vafa.errors import NotFound, UserError
from vafa.i18n import N_
from vafa.i18n.normalize import tidy_text, to_ascii_digits
from vafa.settings import LANGUAGES

REPLY_MAX = 670  # ten UCS-2 parts
KEYWORDS_MAX = 10


def clean_number(raw: str) -> str:
    number = "".join(ch for ch in to_ascii_digits(raw) if ch.isascii() and ch.isdigit())
    if not 3 <= len(number) <= 20:
        raise UserError(N_("Enter the line's number (3 to 20 digits)."))
    return number


def clean_replies(replies: dict[str, str]) -> dict[str, str]:
    """A reply per language, as typed (half-space kept); empty ones dropped."""
    cleaned = {}
    for language in LANGUAGES:
        text = "\n".join(tidy_text(line) for line in replies.get(language, "").splitlines())
        text = text.strip()
        if len(text) > REPLY_MAX:
            raise UserError(N_("A reply can have up to %(max)s characters."), max=REPLY_MAX)
        if text:
            cleaned[language] = text
    return cleaned


def clean_keywords(raw: list[str]) -> list[tuple[str, str]]:
    """Each keyword as typed and as matched; the opt-out words are the line's own."""
    found: dict[str, str] = {}
    for typed in raw:
        text = tidy_text(typed)
        key = keyword_key(text)
        if not key:
            continue
        if len(key) >= KEY_MAX or len(text) > KEY_MAX:
            raise UserError(N_("A keyword can have up to %(max)s letters."), max=KEY_MAX - 1)
        if key in OPT_OUT_KEYS or key in OPT_IN_KEYS:
            raise UserError(
                N_("«%(word)s» is kept for opting out and in (11, 12, «لغو»)."), word=text
            )
        found.setdefault(key, text)
    if not found:
        raise UserError(N_("Give the code at least one keyword."))
    if len(found) > KEYWORDS_MAX:
        raise UserError(N_("A code can have up to %(max)s keywords."), max=KEYWORDS_MAX)
    return [(text, key) for key, text in found.items()]


LINE_REPLIES = ("unknown_reply", "repeat_reply", "invite_reply")


def _line_values(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(values)
    cleaned["name"] = tidy_text(values.get("name", ""))[:120]
    for name in LINE_REPLIES:
        cleaned[name] = clean_replies(values.get(name) or {})
    return cleaned


async def create_line(
    session: AsyncSession, *, actor: Actor, number: str, values: dict[str, Any]
) -> Line:
    """A line (its name, daily budget and the replies for unknown words, a repeated
    code and non-members asking for members' codes)."""
    number = clean_number(number)
    cleaned = _line_values(values)
    if await session.scalar(select(Line.id).where(Line.number == number)) is not None:
        raise UserError(N_("This line is already set up."), status=409)
    line = Line(number=number, **cleaned)
    session.add(line)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="sms_line.create",
        object_type="sms_line",
        object_id=line.id,
        details={"number": number},
    )
    return line


async def update_line(
    session: AsyncSession, *, actor: Actor, line_id: int, values: dict[str, Any]
) -> Line:
    cleaned = _line_values(values)
    line = await session.get(Line, line_id, with_for_update=True, populate_existing=True)
    if line is None:
        raise NotFound()
    for name, value in cleaned.items():
        setattr(line, name, value)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="sms_line.update",
        object_type="sms_line",
        object_id=line.id,
        details={"number": line.number, "daily_budget": line.daily_budget},
    )
    return line


async def save_code(
    session: AsyncSession,
    *,
    actor: Actor,
    line_id: int,
    code_id: int | None,
    name: str,
    action: CodeAction,
    keywords: list[str],
    replies: dict[str, str],
    marketing: bool = False,
    active: bool = True,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    coupon_pool: int | None = None,
) -> Code:
    """A new code, or an edit of one (applies to the next message). A keyword another
    code of the line already answers to is refused."""
    line = await session.get(Line, line_id)
    if line is None:
        raise NotFound()
    name = tidy_text(name)
    if not name or len(name) > 120:
        raise UserError(N_("Give the code a name (up to 120 letters)."))
    words = clean_keywords(keywords)
    texts = clean_replies(replies)
    if not texts:
        raise UserError(N_("Write the reply in at least one language."))
    if action == CodeAction.COUPON and not coupon_pool:
        raise UserError(N_("Say how many coupons the code may give."))
    if starts_at and ends_at and ends_at <= starts_at:
        raise UserError(N_("The last day must come after the first."))
    clash = await session.scalar(
        select(Keyword.text).where(
            Keyword.line_id == line_id,
            Keyword.key.in_([key for _, key in words]),
            Keyword.code_id != (code_id or 0),
        )
    )
    if clash is not None:
        raise UserError(N_("Another code on this line already answers to «%(word)s»."), word=clash)
    if code_id is None:
        code = Code(line_id=line_id, coupons_issued=0)
        session.add(code)
    else:
        found = await session.get(Code, code_id, with_for_update=True, populate_existing=True)
        if found is None or found.line_id != line_id:
            raise NotFound()
        code = found
    code.name, code.action, code.replies = name, action, texts
    code.marketing, code.active = marketing, active
    code.starts_at, code.ends_at = starts_at, ends_at
    code.coupon_pool = coupon_pool if action == CodeAction.COUPON else None
    await session.flush()
    await session.execute(delete(Keyword).where(Keyword.code_id == code.id))
    session.add_all(Keyword(line_id=line_id, code_id=code.id, text=t, key=k) for t, k in words)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="sms_code.create" if code_id is None else "sms_code.update",
        object_type="sms_code",
        object_id=code.id,
        details={"name": name, "action": str(action), "keywords": ", ".join(t for t, _ in words)},
    )
    return code


def coupon_key(raw: str) -> str:
    """A coupon as typed at the counter: any digits, any case, spaces and dashes."""
    return "".join(ch for ch in to_ascii_digits(raw).upper() if ch.isascii() and ch.isalnum())[:16]


async def use_coupon(session: AsyncSession, *, actor: Actor, coupon: str) -> Coupon:
    """Staff accept an SMS coupon at the till, once: the row is locked and read as
    locked, so two tills accepting it at once find it used the second time."""
    found = await session.scalar(
        select(Coupon)
        .where(Coupon.coupon == coupon_key(coupon))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise UserError(N_("No coupon has this code."))
    if found.used_at is not None:
        raise UserError(N_("This coupon was already used."), status=409)
    code = await session.get(Code, found.code_id)
    if code is not None and code.ends_at is not None and code.ends_at <= utcnow():
        raise UserError(N_("This coupon is no longer valid."))
    found.used_at = utcnow()
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="sms_coupon.use",
        object_type="sms_coupon",
        object_id=found.id,
        details={"code": found.coupon},
    )
    return found
